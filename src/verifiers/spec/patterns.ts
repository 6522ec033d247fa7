/**
 * goss's streamed attributes (file contents, command stdout/stderr, http
 * body and headers: goss's io.Readers), as `resource/validate.go` and
 * `matchers/have_patterns.go` treat them:
 * - a **list** is a list of line patterns, all of which must hold
 *   (HavePatterns); an empty list asserts nothing, and goss reports no
 *   result for it at all;
 * - **anything else** (a string, a number, a matcher map) is matched against
 *   the whole text: `stdout: ""` asserts empty output, `contents: "root"`
 *   asserts the file is exactly `root`, `{contain-element: x}` looks at
 *   the text split on "\n".
 *
 * Line patterns: `foo` some line contains foo; `!foo` no line does;
 * `/re/` some line matches the Go (RE2) regexp re, `/re/i`, `/re/m`,
 * `/re/s` with flags; `!/re/` no line matches. As in goss's code, every
 * leading `\`, `/` and `!` is trimmed from a plain pattern (so `\\!foo`
 * looks for `foo`), and `""` always holds. Lines are split as Go's
 * bufio.Scanner does (a trailing `\r` dropped; a line over 1 MiB is an error).
 */
import { goRegexp, MatchError } from './go-values.js';
import { compileMatcher, MatcherSyntaxError, show, type Matcher } from './matchers.js';

const MAX_LINE = 1024 * 1024;

interface Pattern {
  source: string;
  inverse: boolean;
  test(line: string): boolean;
}

/** goss's isRegexPattern: `/.../` or `!/.../`, optionally followed by flags i, m, s only. */
function isRegexPattern(s: string): boolean {
  const core = s.startsWith('!') ? s.slice(1) : s;
  if (!core.startsWith('/')) return false;
  const closing = core.slice(1).lastIndexOf('/');
  if (closing < 0) return false;
  return /^[ims]*$/.test(core.slice(1).slice(closing + 1));
}

function compilePattern(p: string): Pattern {
  const inverse = p.startsWith('!');
  if (isRegexPattern(p)) {
    let s = inverse ? p.slice(1) : p;
    s = s.slice(1); // the opening "/"
    const idx = s.lastIndexOf('/');
    const flags = s.slice(idx + 1);
    s = s.slice(0, idx);
    const source = flags ? `(?${flags})${s}` : s;
    try {
      return { source: p, inverse, test: goRegexp(source) };
    } catch (err) {
      throw new MatcherSyntaxError(`invalid regular expression in pattern ${show(p)} (Go RE2 syntax): ${(err as Error).message}`);
    }
  }
  const clean = p.replace(/^[\\/!]+/, '');
  return { source: p, inverse, test: (l) => l.includes(clean) };
}

/** Lines as Go's bufio.Scanner (ScanLines) yields them. */
export function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = (text.endsWith('\n') ? text.slice(0, -1) : text).split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  if (lines.some((l) => l.length > MAX_LINE)) throw new MatchError('bufio.Scanner: token too long (a line over 1 MiB)');
  return lines;
}

/** goss HavePatterns over a text: every pattern found (an inverse pattern: found on no line). */
export function havePatterns(items: unknown[]): Matcher {
  const pats = items.map((v) => {
    if (typeof v !== 'string') throw new MatcherSyntaxError(`patterns must be strings ("foo", "!foo", "/regex/"), found ${show(v)}`);
    return compilePattern(v);
  });
  const failing = (text: string) => {
    const lines = splitLines(text);
    return pats.filter((p) => {
      const hit = lines.some((l) => p.test(l));
      return p.inverse ? hit : !hit && p.source !== '';
    });
  };
  return {
    describe: () => `have patterns ${show(pats.map((p) => p.source))}`,
    match: (actual) => failing(String(actual)).length === 0,
    explain: (actual) => {
      const bad = failing(String(actual));
      const missing = bad.filter((p) => !p.inverse).map((p) => p.source);
      const present = bad.filter((p) => p.inverse).map((p) => p.source);
      const parts = [];
      if (missing.length) parts.push(`not found: ${show(missing)}`);
      if (present.length) parts.push(`found but negated: ${show(present)}`);
      return parts.join('; ') || undefined;
    },
  };
}

/**
 * The matcher of a streamed attribute; undefined for an empty list, which
 * goss does not check at all (it warns that it asserts nothing).
 */
export function compileReader(value: unknown): Matcher | undefined {
  if (Array.isArray(value)) return value.length === 0 ? undefined : havePatterns(value);
  const m = compileMatcher(value);
  return { describe: () => m.describe(), match: (a) => m.match(String(a)), explain: (a) => m.explain?.(String(a)) };
}
