/**
 * goss's matchers, compiled from the YAML expectation at load time (an
 * unknown matcher or a wrong argument is a load error with file:line, never
 * a silent pass) and evaluated locally against the values the target
 * reported. This follows goss's `resource/gomega.go` and `matchers/*.go`
 * exactly: a string expectation compares the value as a string (ToString),
 * a number numerically (ToNumeric), a bool by Go equality (the string
 * "true" is not true), a list means "contains each element, each matched by
 * a different element", and a one-key map names a matcher. Where goss's
 * matcher returns an error (wrong type, not a number) `match` throws
 * MatchError: the check fails with that message, also under `not`.
 */
import { deepEqual, elementsOf, Float64, goLen, goNumber, goRegexp, goString, goType, isFloat, isGeneralMap, isGoNumber, isMap, MatchError, numberOf, toArray, toNum, toStr, type GoNumber } from './go-values.js';
import { gjsonGet } from './gjson.js';
import { havePatterns } from './patterns.js';
import { parseConstraint, satisfiesConstraint } from './semver.js';

export { MatchError, toStr, toNum, toArray };

export interface Matcher {
  /** Human form of the expectation, used in `expected` and failure messages. */
  describe(): string;
  /** true/false, or throws MatchError where goss's matcher returns an error (a failure). */
  match(actual: unknown): boolean;
  /** Extra detail on a failure (missing patterns, ...). */
  explain?(actual: unknown): string | undefined;
}

export class MatcherSyntaxError extends Error {}

/** goss's matcher names (resource/gomega.go), except `xml` (see README). */
export const MATCHER_NAMES = [
  'equal',
  'have-prefix',
  'have-suffix',
  'match-regexp',
  'contain-substring',
  'have-len',
  'have-patterns',
  'have-key',
  'contain-element',
  'contain-elements',
  'not',
  'consist-of',
  'and',
  'or',
  'gt',
  'ge',
  'lt',
  'le',
  'semver-constraint',
  'gjson',
] as const;

/** An expectation or value in words; a float64 keeps a decimal point (`3.0`) so that it reads apart from the int 3. */
export function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (isGoNumber(v)) {
    const t = goNumber(v);
    return isFloat(v) && /^-?\d+$/.test(t) ? `${t}.0` : t;
  }
  if (Array.isArray(v)) return `[${v.map(show).join(', ')}]`;
  if (v && typeof v === 'object') return `{${Object.entries(v).map(([k, x]) => `${k}: ${show(x)}`).join(', ')}}`;
  return String(v);
}

function badArg(name: string, expected: string, v: unknown): MatcherSyntaxError {
  return new MatcherSyntaxError(`invalid '${name}' argument: expected ${expected} value, but received ${goType(v)} ${show(v)}`);
}

function strArg(name: string, v: unknown): string {
  if (typeof v !== 'string') throw badArg(name, 'string', v);
  return v;
}

function listArg(name: string, v: unknown): unknown[] {
  if (!Array.isArray(v)) throw badArg(name, 'array', v);
  return v;
}

/** Runs a sub-matcher where gomega treats an error as "no match" (the bipartite collection matchers). */
function quietly(m: Matcher, x: unknown): boolean {
  try {
    return m.match(x);
  } catch (err) {
    if (err instanceof MatchError) return false;
    throw err;
  }
}

/**
 * gomega's BeNumerically after goss's ToNumeric: when either side is a
 * float64 both compare as float64s, else as ints; so an int and a float64
 * compare by value (`exit-status: 0.0` passes on 0), unlike `equal`.
 * JavaScript numbers hold both exactly (integers beyond 2^53 are refused at
 * load), so one comparison serves both cases.
 */
function numeric(op: 'gt' | 'ge' | 'lt' | 'le' | 'eq', expected: unknown): Matcher {
  if (!isGoNumber(expected)) throw badArg(op, 'numeric', expected);
  const n = numberOf(expected);
  const sym = { gt: '>', ge: '>=', lt: '<', le: '<=', eq: '==' }[op];
  const f = { gt: (a: number) => a > n, ge: (a: number) => a >= n, lt: (a: number) => a < n, le: (a: number) => a <= n, eq: (a: number) => a === n }[op];
  return {
    describe: () => (op === 'eq' ? `equal ${show(expected)}` : `be ${sym} ${show(expected)}`),
    match: (actual) => f(numberOf(toNum(actual))),
  };
}

/** Why `equal` failed when the values differ in Go type only (reflect.DeepEqual compares types first). */
function equalNote(actual: unknown, expected: unknown): string | undefined {
  const [ta, te] = [goType(actual), goType(expected)];
  if (ta === te) return undefined;
  const numbers = isGoNumber(actual) && isGoNumber(expected);
  const fix = numbers
    ? `; write ${show(isFloat(actual as GoNumber) ? new Float64(numberOf(expected as GoNumber)) : numberOf(expected as GoNumber))}, or a plain number (no equal:), which compares an int and a float64 by value`
    : '';
  return `goss's equal is reflect.DeepEqual: found the ${ta} ${show(actual)}, expected the ${te} ${show(expected)}, and values of different Go types are never equal${fix}`;
}

/** gomega ContainElements / ConsistOf: a matching in which each matcher takes a different element. */
function assign(values: unknown[], subs: Matcher[], all: boolean): boolean {
  if (all && values.length !== subs.length) return false;
  const edges = subs.map((m) => values.map((v) => quietly(m, v)));
  const owner = new Array<number>(values.length).fill(-1);
  const augment = (i: number, seen: boolean[]): boolean => {
    for (let j = 0; j < values.length; j++) {
      if (!edges[i]![j] || seen[j]) continue;
      seen[j] = true;
      if (owner[j] === -1 || augment(owner[j]!, seen)) {
        owner[j] = i;
        return true;
      }
    }
    return false;
  };
  return subs.every((_, i) => augment(i, new Array<boolean>(values.length).fill(false)));
}

function containElements(subs: Matcher[], transform: boolean): Matcher {
  return {
    describe: () => `contain elements [${subs.map((s) => s.describe()).join(', ')}]`,
    match: (actual) => assign(elementsOf(transform ? toArray(actual) : actual, 'ContainElements'), subs, false),
    explain: (actual) => {
      const values = elementsOf(transform ? toArray(actual) : actual, 'ContainElements');
      const missing = subs.filter((s) => !values.some((v) => quietly(s, v)));
      return missing.length ? `no element matches: ${missing.map((s) => s.describe()).join(', ')}` : undefined;
    },
  };
}

/** Compiles one expectation. Throws MatcherSyntaxError for anything goss would reject. */
export function compileMatcher(value: unknown): Matcher {
  if (typeof value === 'string') return { describe: () => `equal ${show(value)}`, match: (a) => toStr(a) === value };
  if (isGoNumber(value)) return numeric('eq', value);
  if (typeof value === 'boolean') return { describe: () => `equal ${value}`, match: (a) => a === value };
  if (Array.isArray(value)) return containElements(value.map(compileMatcher), false);
  if (value === null || value === undefined) throw new MatcherSyntaxError('missing expectation (empty value)');
  if (!isMap(value) || isGeneralMap(value)) throw badArg('matcher', 'map', value);
  const entries = Object.entries(value);
  if (entries.length !== 1) {
    throw new MatcherSyntaxError(`only one matcher is allowed at a given nesting level, found ${entries.length} (${entries.map(([k]) => k).join(', ')})`);
  }
  const [name, arg] = entries[0]!;
  switch (name) {
    case 'equal':
      if (arg === null || arg === undefined) throw new MatcherSyntaxError('equal: refusing to compare to nothing (nil)');
      return { describe: () => `equal ${show(arg)}`, match: (a) => deepEqual(a, arg), explain: (a) => equalNote(a, arg) };
    case 'have-prefix': {
      const s = strArg(name, arg);
      return { describe: () => `have prefix ${show(s)}`, match: (a) => toStr(a).startsWith(s) };
    }
    case 'have-suffix': {
      const s = strArg(name, arg);
      return { describe: () => `have suffix ${show(s)}`, match: (a) => toStr(a).endsWith(s) };
    }
    case 'contain-substring': {
      const s = strArg(name, arg);
      return { describe: () => `contain substring ${show(s)}`, match: (a) => toStr(a).includes(s) };
    }
    case 'match-regexp': {
      const s = strArg(name, arg);
      let test: (x: string) => boolean;
      try {
        test = goRegexp(s);
      } catch (err) {
        throw new MatcherSyntaxError(`match-regexp: invalid regular expression ${show(s)} (Go RE2 syntax): ${(err as Error).message}`);
      }
      return { describe: () => `match regexp ${show(s)}`, match: (a) => test(toStr(a)) };
    }
    case 'have-len': {
      if (!isGoNumber(arg)) throw badArg(name, 'numeric', arg);
      const n = Math.trunc(numberOf(arg));
      return { describe: () => `have length ${n}`, match: (a) => goLen(a) === n };
    }
    case 'have-patterns': {
      const pats = havePatterns(listArg(name, arg));
      return { describe: pats.describe, match: (a) => pats.match(toStr(a)), explain: (a) => pats.explain?.(toStr(a)) };
    }
    case 'have-key': {
      const sub = compileMatcher(arg);
      return {
        describe: () => `have key ${sub.describe()}`,
        match: (a) => {
          if (!isMap(a)) throw new MatchError(`HaveKey matcher expects a map. Got: ${goString(a)}`);
          return Object.keys(a).some((k) => sub.match(k));
        },
      };
    }
    case 'contain-element': {
      if (!(typeof arg === 'string' || isGoNumber(arg) || isMap(arg))) throw badArg(name, 'matcher, string or numeric', arg);
      const sub = compileMatcher(arg);
      return {
        describe: () => `contain element ${sub.describe()}`,
        match: (actual) => {
          let last: unknown;
          for (const x of elementsOf(toArray(actual), 'ContainElement')) {
            try {
              if (sub.match(x)) return true;
            } catch (err) {
              if (!(err instanceof MatchError)) throw err;
              last = err;
            }
          }
          if (last) throw last;
          return false;
        },
      };
    }
    case 'contain-elements':
      return containElements(listArg('contains-elements', arg).map(compileMatcher), true);
    case 'consist-of': {
      const subs = listArg(name, arg).map(compileMatcher);
      return {
        describe: () => `consist of [${subs.map((s) => s.describe()).join(', ')}]`,
        match: (actual) => assign(elementsOf(actual, 'ConsistOf'), subs, true),
      };
    }
    case 'gt':
    case 'ge':
    case 'lt':
    case 'le':
      return numeric(name, arg);
    case 'semver-constraint': {
      const s = strArg(name, arg);
      let c: ReturnType<typeof parseConstraint>;
      try {
        c = parseConstraint(s);
      } catch (err) {
        throw new MatcherSyntaxError(`semver-constraint: ${(err as Error).message}`);
      }
      return {
        describe: () => `satisfy semver constraint ${show(s)}`,
        // goss: one version or a list; every version must parse and satisfy; an empty list fails.
        match: (a) => {
          const vs = typeof a === 'string' ? [a] : Array.isArray(a) ? a : undefined;
          const ok = vs?.map((v) => (typeof v === 'string' ? satisfiesConstraint(v, c) : undefined));
          if (!ok || ok.length === 0 || ok.includes(undefined)) throw new MatchError(`Expected a single or list of semver valid version(s). Got: ${goString(a)}`);
          return ok.every(Boolean);
        },
      };
    }
    case 'not': {
      const sub = compileMatcher(arg);
      return { describe: () => `not ${sub.describe()}`, match: (a) => !sub.match(a) };
    }
    case 'and': {
      const subs = listArg(name, arg).map(compileMatcher);
      return {
        describe: () => `and(${subs.map((s) => s.describe()).join(', ')})`,
        match: (a) => subs.every((s) => s.match(a)),
        explain: (a) => {
          const first = subs.find((s) => !quietly(s, a));
          return first ? `first failing: ${first.describe()}` : undefined;
        },
      };
    }
    case 'or': {
      const subs = listArg(name, arg).map(compileMatcher);
      return { describe: () => `or(${subs.map((s) => s.describe()).join(', ')})`, match: (a) => subs.some((s) => s.match(a)) };
    }
    case 'gjson': {
      if (!isMap(arg) || isGeneralMap(arg)) throw badArg(name, 'map', arg);
      const subs = Object.entries(arg).map(([p, v]): Matcher => {
        const m = compileMatcher(v);
        return {
          describe: () => `gjson ${show(p)} ${m.describe()}`,
          match: (a) => m.match(gjsonGet(a, p)),
          explain: (a) => {
            const x = gjsonGet(a, p);
            const why = m.explain?.(x);
            return `gjson ${show(p)} is the ${goType(x)} ${show(x)}${why ? `: ${why}` : ''}`;
          },
        };
      });
      return {
        describe: () => subs.map((s) => s.describe()).join(' and '),
        match: (a) => subs.every((s) => s.match(a)),
        explain: (a) => {
          const first = subs.find((s) => !quietly(s, a));
          return first?.explain?.(a);
        },
      };
    }
    case 'xml':
      throw new MatcherSyntaxError('the xml matcher (XPath) is not supported by hallmark; use gjson, match-regexp or have-patterns');
    default:
      throw new MatcherSyntaxError(`unknown matcher "${name}"${suggest(name)}; supported: ${MATCHER_NAMES.join(', ')}`);
  }
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
