/**
 * goss's gomega-style matchers, compiled from the YAML expectation at load
 * time (so an unknown matcher is a load error with file:line, never a silent
 * pass) and evaluated locally against the values the target reported.
 *
 * Semantics follow goss (resource/gomega.go): a string compares as a string,
 * a number numerically (the observed value is converted), a list means "contains
 * each element", a one-key map names a matcher.
 */
import { satisfiesConstraint, parseConstraint } from './semver.js';

export interface Matcher {
  /** Human form of the expectation, used in `expected` and failure messages. */
  describe(): string;
  match(actual: unknown): boolean;
  /** Extra detail on a failure (missing patterns, ...). */
  explain?(actual: unknown): string | undefined;
}

export class MatcherSyntaxError extends Error {}

export const MATCHER_NAMES = [
  'equal',
  'have-prefix',
  'have-suffix',
  'contain-substring',
  'match-regexp',
  'have-len',
  'have-key',
  'have-key-with-value',
  'contain-element',
  'contain-elements',
  'consist-of',
  'be-numerically',
  'gt',
  'ge',
  'lt',
  'le',
  'semver-constraint',
  'not',
  'and',
  'or',
] as const;

export function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(show).join(', ')}]`;
  if (v && typeof v === 'object') return `{${Object.entries(v).map(([k, x]) => `${k}: ${show(x)}`).join(', ')}}`;
  return String(v);
}

/** goss's ToString transform. */
export function toStr(v: unknown): string {
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return v.map(toStr).join('\n');
  return String(v);
}

/** goss's ToFloat64 transform; NaN when not numeric. */
export function toNum(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '') return Number(v.trim());
  return NaN;
}

/** Arrays as they are; a multi-line string is split on newlines (goss's array transform). */
export function toArray(v: unknown): unknown[] {
  if (Array.isArray(v)) return v;
  if (typeof v === 'string') return v === '' ? [] : v.replace(/\n$/, '').split('\n');
  if (v === undefined || v === null) return [];
  return [v];
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
  }
  return false;
}

/** Equality with goss's transforms: strings compare as strings, numbers numerically. */
function scalarEqual(expected: string | number | boolean): Matcher {
  return {
    describe: () => `equal ${show(expected)}`,
    match(actual) {
      if (typeof expected === 'string') return toStr(actual) === expected;
      if (typeof expected === 'number') return toNum(actual) === expected;
      if (typeof actual === 'string') return actual === String(expected);
      return actual === expected;
    },
  };
}

function containElement(sub: Matcher): Matcher {
  return {
    describe: () => `contain element ${sub.describe()}`,
    match: (actual) => toArray(actual).some((x) => sub.match(x)),
  };
}

function all(subs: Matcher[], label = 'and'): Matcher {
  return {
    describe: () => (subs.length === 1 ? subs[0]!.describe() : `${label}(${subs.map((s) => s.describe()).join(', ')})`),
    match: (actual) => subs.every((s) => s.match(actual)),
    explain: (actual) => {
      const failed = subs.filter((s) => !s.match(actual));
      return failed.length && subs.length > 1 ? `not satisfied: ${failed.map((s) => s.describe()).join(', ')}` : undefined;
    },
  };
}

function numeric(op: string, n: number): Matcher {
  const ops: Record<string, (a: number) => boolean> = {
    '>': (a) => a > n,
    '>=': (a) => a >= n,
    '<': (a) => a < n,
    '<=': (a) => a <= n,
    '==': (a) => a === n,
    '=': (a) => a === n,
    '!=': (a) => a !== n,
  };
  const f = ops[op];
  if (!f) throw new MatcherSyntaxError(`be-numerically: unknown comparator ${show(op)}, expected one of > >= < <= == !=`);
  return {
    describe: () => `be ${op} ${n}`,
    match: (actual) => {
      const a = toNum(actual);
      return !Number.isNaN(a) && f(a);
    },
  };
}

function list(value: unknown, name: string): unknown[] {
  if (!Array.isArray(value)) throw new MatcherSyntaxError(`${name} expects a list, found ${show(value)}`);
  return value;
}

function str(value: unknown, name: string): string {
  if (typeof value === 'number') return String(value);
  if (typeof value !== 'string') throw new MatcherSyntaxError(`${name} expects a string, found ${show(value)}`);
  return value;
}

function num(value: unknown, name: string): number {
  if (typeof value !== 'number') throw new MatcherSyntaxError(`${name} expects a number, found ${show(value)}`);
  return value;
}

/** Compiles one expectation. Throws MatcherSyntaxError for anything goss would reject. */
export function compileMatcher(value: unknown): Matcher {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return scalarEqual(value);
  if (Array.isArray(value)) return all(value.map((v) => containElement(compileMatcher(v))));
  if (value === null || value === undefined) throw new MatcherSyntaxError('missing expectation (empty value)');
  if (typeof value !== 'object') throw new MatcherSyntaxError(`unexpected expectation ${show(value)}`);
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length !== 1) {
    throw new MatcherSyntaxError(`a matcher map must have exactly one key, found ${entries.length} (${entries.map(([k]) => k).join(', ')})`);
  }
  const [name, arg] = entries[0]!;
  switch (name) {
    case 'equal':
      return {
        describe: () => `equal ${show(arg)}`,
        match: (actual) =>
          Array.isArray(arg) ? deepEqual(toArray(actual).map((x) => (typeof arg[0] === 'string' ? toStr(x) : x)), arg) : compileMatcher(arg).match(actual),
      };
    case 'have-prefix': {
      const s = str(arg, name);
      return { describe: () => `have prefix ${show(s)}`, match: (a) => toStr(a).startsWith(s) };
    }
    case 'have-suffix': {
      const s = str(arg, name);
      return { describe: () => `have suffix ${show(s)}`, match: (a) => toStr(a).endsWith(s) };
    }
    case 'contain-substring': {
      const s = str(arg, name);
      return { describe: () => `contain substring ${show(s)}`, match: (a) => toStr(a).includes(s) };
    }
    case 'match-regexp': {
      const s = str(arg, name);
      let re: RegExp;
      try {
        re = new RegExp(s);
      } catch (err) {
        throw new MatcherSyntaxError(`match-regexp: invalid regular expression ${show(s)}: ${(err as Error).message}`);
      }
      return { describe: () => `match regexp /${s}/`, match: (a) => re.test(toStr(a)) };
    }
    case 'have-len': {
      const n = num(arg, name);
      return {
        describe: () => `have length ${n}`,
        match: (a) => (typeof a === 'string' ? a.length : Array.isArray(a) ? a.length : a && typeof a === 'object' ? Object.keys(a).length : -1) === n,
      };
    }
    case 'have-key': {
      const sub = compileMatcher(arg);
      return {
        describe: () => `have key ${sub.describe()}`,
        match: (a) => !!a && typeof a === 'object' && !Array.isArray(a) && Object.keys(a).some((k) => sub.match(k)),
      };
    }
    case 'have-key-with-value': {
      if (!arg || typeof arg !== 'object' || Array.isArray(arg)) throw new MatcherSyntaxError('have-key-with-value expects a map of key: matcher');
      const subs = Object.entries(arg as Record<string, unknown>)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]): Matcher => {
          const m = compileMatcher(v);
          return {
            describe: () => `have key ${show(k)} with value ${m.describe()}`,
            match: (a) => !!a && typeof a === 'object' && k in (a as object) && m.match((a as Record<string, unknown>)[k]),
          };
        });
      return all(subs);
    }
    case 'contain-element':
      return containElement(compileMatcher(arg));
    case 'contain-elements':
      return all(list(arg, name).map((v) => containElement(compileMatcher(v))));
    case 'consist-of': {
      const subs = list(arg, name).map(compileMatcher);
      return {
        describe: () => `consist of [${subs.map((s) => s.describe()).join(', ')}]`,
        match: (actual) => consistOf(toArray(actual), subs),
      };
    }
    case 'be-numerically': {
      // gomega's BeNumerically(">", 3): `[">", 3]` or `">= 3"`.
      if (Array.isArray(arg) && arg.length === 2) return numeric(str(arg[0], name), num(arg[1], name));
      const m = typeof arg === 'string' ? /^\s*(>=|<=|==|!=|>|<|=)\s*(-?[\d.]+)\s*$/.exec(arg) : null;
      if (!m) throw new MatcherSyntaxError(`be-numerically expects [comparator, number] or "comparator number", found ${show(arg)}`);
      return numeric(m[1]!, Number(m[2]));
    }
    case 'gt':
      return numeric('>', num(arg, name));
    case 'ge':
      return numeric('>=', num(arg, name));
    case 'lt':
      return numeric('<', num(arg, name));
    case 'le':
      return numeric('<=', num(arg, name));
    case 'semver-constraint': {
      const s = str(arg, name);
      let c: ReturnType<typeof parseConstraint>;
      try {
        c = parseConstraint(s);
      } catch (err) {
        throw new MatcherSyntaxError(`semver-constraint: ${(err as Error).message}`);
      }
      return {
        describe: () => `satisfy semver constraint ${show(s)}`,
        // goss: every version must satisfy the constraint; no version is a failure.
        match: (a) => {
          const vs = toArray(a).map(toStr);
          return vs.length > 0 && vs.every((v) => satisfiesConstraint(v, c));
        },
      };
    }
    case 'not': {
      const sub = compileMatcher(arg);
      return { describe: () => `not ${sub.describe()}`, match: (a) => !sub.match(a) };
    }
    case 'and':
      return all(list(arg, name).map(compileMatcher), 'and');
    case 'or': {
      const subs = list(arg, name).map(compileMatcher);
      return { describe: () => `or(${subs.map((s) => s.describe()).join(', ')})`, match: (a) => subs.some((s) => s.match(a)) };
    }
    default:
      throw new MatcherSyntaxError(`unknown matcher "${name}"${suggest(name)}; supported: ${MATCHER_NAMES.join(', ')}`);
  }
}

/** Every element matched by a distinct matcher and every matcher used (order-free, gomega ConsistOf). */
function consistOf(actual: unknown[], subs: Matcher[]): boolean {
  if (actual.length !== subs.length) return false;
  const used = new Array<boolean>(subs.length).fill(false);
  const assign = (i: number): boolean => {
    if (i === actual.length) return true;
    for (let j = 0; j < subs.length; j++) {
      if (!used[j] && subs[j]!.match(actual[i])) {
        used[j] = true;
        if (assign(i + 1)) return true;
        used[j] = false;
      }
    }
    return false;
  };
  return assign(0);
}

export function suggest(name: string, names: readonly string[] = MATCHER_NAMES): string {
  const close = names.find((n) => editDistance(n, name) <= 2);
  return close ? ` (did you mean "${close}"?)` : '';
}

function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++)
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
  return d[a.length]![b.length]!;
}
