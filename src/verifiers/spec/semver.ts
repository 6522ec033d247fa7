/**
 * The part of semver ranges goss's `semver-constraint` uses (blang/semver
 * syntax): comparators `>`, `>=`, `<`, `<=`, `=`, `==`, `!=` or a bare version,
 * separated by spaces (all must hold) and `||` (any group may hold).
 * Versions are parsed tolerantly, as package versions are not strict semver:
 * a dpkg epoch (`1:`) is dropped, a leading `v` too, missing minor/patch are 0,
 * and anything after the numeric part (`-1+deb12u1`) is a pre-release tag.
 */
export interface Version {
  nums: [number, number, number];
  pre: string;
}

type Cmp = { op: string; v: Version };
export type Constraint = Cmp[][];

export function parseVersion(s: string): Version | undefined {
  const m = /^\s*(?:\d+:)?v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:[.\d]*)([-+~].*)?\s*$/.exec(s);
  if (!m) return undefined;
  const pre = m[4] && m[4].startsWith('-') ? m[4].slice(1).split('+')[0]! : '';
  return { nums: [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)], pre };
}

export function compareVersions(a: Version, b: Version): number {
  for (let i = 0; i < 3; i++) if (a.nums[i] !== b.nums[i]) return a.nums[i]! < b.nums[i]! ? -1 : 1;
  if (a.pre === b.pre) return 0;
  if (a.pre === '') return 1; // a release sorts after its pre-releases
  if (b.pre === '') return -1;
  return a.pre < b.pre ? -1 : 1;
}

export function parseConstraint(s: string): Constraint {
  const groups = s.split('||').map((g) => g.trim());
  return groups.map((g) => {
    if (g === '') throw new Error(`empty range in ${JSON.stringify(s)}`);
    return g
      .replace(/(>=|<=|!=|==|>|<|=)\s+/g, '$1')
      .split(/\s+/)
      .map((tok) => {
        const m = /^(>=|<=|!=|==|>|<|=)?(.+)$/.exec(tok)!;
        const v = parseVersion(m[2]!);
        if (!v) throw new Error(`invalid version ${JSON.stringify(m[2])} in ${JSON.stringify(s)}`);
        return { op: m[1] ?? '=', v };
      });
  });
}

export function satisfiesConstraint(version: string, c: Constraint): boolean {
  const v = parseVersion(version);
  if (!v) return false;
  return c.some((group) =>
    group.every(({ op, v: w }) => {
      const r = compareVersions(v, w);
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
    }),
  );
}
