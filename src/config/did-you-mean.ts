/**
 * "Did you mean: X" suggestions for misspelt keys and plugin names, in the
 * spirit of Test Kitchen's plugin.rb. Uses the optimal-string-alignment
 * variant of the Damerau-Levenshtein distance, so a swap of two neighbouring
 * letters (`regoin` -> `region`) costs one edit like a typo does.
 */

/** Edit distance with insertions, deletions, substitutions and adjacent swaps. */
export function editDistance(a: string, b: string): number {
  const m = a.length;
  const n = b.length;
  if (m === 0) return n;
  if (n === 0) return m;
  // d[i][j]: distance between a[0..i) and b[0..j); rows kept as flat arrays.
  const d: number[][] = [];
  for (let i = 0; i <= m; i++) {
    const row = new Array<number>(n + 1).fill(0);
    row[0] = i;
    d.push(row);
  }
  for (let j = 0; j <= n; j++) d[0]![j] = j;
  for (let i = 1; i <= m; i++) {
    for (let j = 1; j <= n; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        v = Math.min(v, d[i - 2]![j - 2]! + 1);
      }
      d[i]![j] = v;
    }
  }
  return d[m]![n]!;
}

/**
 * The candidates close enough to `input` to be what was meant, best first
 * (at most `max`). The allowed distance grows with the length of the word:
 * one edit for short words, up to a third of the letters for long ones.
 * Case and `-`/`_` differences count as no edit at all.
 */
export function didYouMean(input: string, candidates: Iterable<string>, max = 3): string[] {
  const norm = (s: string) => s.toLowerCase().replace(/-/g, '_');
  const x = norm(input);
  const limit = Math.max(1, Math.floor(x.length / 3));
  const scored: { c: string; d: number }[] = [];
  for (const c of new Set(candidates)) {
    if (c === input) continue;
    const d = editDistance(x, norm(c));
    if (d <= limit) scored.push({ c, d });
  }
  scored.sort((p, q) => p.d - q.d || p.c.localeCompare(q.c));
  return scored.slice(0, max).map((s) => s.c);
}

/** `did you mean: a, b` or undefined when nothing is close. */
export function suggestionHint(input: string, candidates: Iterable<string>): string | undefined {
  const s = didYouMean(input, candidates);
  return s.length > 0 ? `did you mean: ${s.join(', ')}` : undefined;
}
