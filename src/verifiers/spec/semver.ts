/**
 * goss's `semver-constraint` (blang/semver v4): versions are parsed strictly
 * (`semver.Parse`: MAJOR.MINOR.PATCH, optional -pre-release and +build, no
 * leading `v`); a range is comparators separated by spaces (all must hold)
 * and groups separated by `||` (any may hold); an operator may be followed
 * by a space (`< 1.5.0`). Comparators: `>`, `>=`, `<`, `<=`, `=`, `==`,
 * `!=` or none (equal); `1.x`-style wildcards as blang expands them.
 *
 * Ordering and pre-release precedence come from the `semver` package
 * (SemVer 2.0: `1.0.0-rc.10` > `1.0.0-rc.9`); the range syntax is parsed
 * here because blang's (`!=`, `==`) is not npm's.
 */
import semver from 'semver';

type Cmp = { op: '>' | '>=' | '<' | '<=' | '=' | '!='; v: string };
export type Constraint = Cmp[][];

/** blang's strict Parse: the version as it is, or undefined. */
export function parseVersion(s: string): string | undefined {
  if (!/^\d/.test(s)) return undefined; // npm accepts a leading "v" or "="; blang does not
  const v = semver.parse(s, { loose: false });
  return v && v.raw === s ? v.version : undefined;
}

/** blang's splitAndTrim: split on spaces, except a space right after an operator character. */
function splitParts(s: string): string[] {
  const parts: string[] = [];
  let cur = '';
  let last = '';
  for (const ch of s) {
    if (ch === ' ' && !['>', '<', '='].includes(last)) {
      if (cur !== '') parts.push(cur);
      cur = '';
    } else if (ch !== ' ') {
      cur += ch;
      last = ch;
    }
  }
  if (cur !== '') parts.push(cur);
  return parts;
}

/** blang's wildcard expansion of one comparator (`1.x`, `>=1.2.x`, ...) into plain comparators. */
function expandWildcard(op: string, ver: string): Cmp[] | undefined {
  const m = /^(\d+)\.(\d+|[xX*])(?:\.([xX*]))?$/.exec(ver);
  if (!m || (/\d/.test(m[2]!) && m[3] === undefined)) return undefined;
  const major = Number(m[1]);
  const minorWild = /[xX*]/.test(m[2]!);
  const minor = minorWild ? 0 : Number(m[2]);
  const lo = `${major}.${minor}.0`;
  const hi = minorWild ? `${major + 1}.0.0` : `${major}.${minor + 1}.0`;
  switch (op) {
    case '':
    case '=':
    case '==':
      return [
        { op: '>=', v: lo },
        { op: '<', v: hi },
      ];
    case '>':
      return [{ op: '>=', v: hi }];
    case '>=':
      return [{ op: '>=', v: lo }];
    case '<':
      return [{ op: '<', v: lo }];
    case '<=':
      return [{ op: '<', v: hi }];
    default:
      return undefined; // blang: "!=" cannot take a wildcard
  }
}

/** Parses a blang range; throws Error naming what is wrong. */
export function parseConstraint(s: string): Constraint {
  const parts = splitParts(s);
  const groups: string[][] = [[]];
  for (const p of parts) {
    if (p === '||') groups.push([]);
    else groups[groups.length - 1]!.push(p);
  }
  return groups.map((g) => {
    if (g.length === 0) throw new Error(`empty range in ${JSON.stringify(s)}`);
    return g.flatMap((tok): Cmp[] => {
      const m = /^(>=|<=|!=|==|>|<|=)?(.*)$/.exec(tok)!;
      const op = m[1] ?? '';
      const ver = m[2]!;
      if (/[xX*]/.test(ver)) {
        const w = expandWildcard(op, ver);
        if (!w) throw new Error(`invalid wildcard ${JSON.stringify(tok)} in ${JSON.stringify(s)}`);
        return w;
      }
      const v = parseVersion(ver);
      if (!v) throw new Error(`invalid version ${JSON.stringify(ver)} in ${JSON.stringify(s)} (expected MAJOR.MINOR.PATCH, as blang/semver parses it)`);
      return [{ op: op === '' || op === '==' ? '=' : (op as Cmp['op']), v }];
    });
  });
}

function holds(v: string, { op, v: w }: Cmp): boolean {
  const r = semver.compare(v, w);
  switch (op) {
    case '>':
      return r > 0;
    case '>=':
      return r >= 0;
    case '<':
      return r < 0;
    case '<=':
      return r <= 0;
    case '!=':
      return r !== 0;
    default:
      return r === 0;
  }
}

/** Whether a strictly parsed version satisfies the range; undefined when the version does not parse. */
export function satisfiesConstraint(version: string, c: Constraint): boolean | undefined {
  const v = parseVersion(version);
  if (!v) return undefined;
  return c.some((group) => group.every((cmp) => holds(v, cmp)));
}
