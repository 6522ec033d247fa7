/**
 * goss's value model in JavaScript: the transforms of goss's
 * `matchers/type_conversion.go` (ToString, ToNumeric, ToArray) and Go's
 * `reflect.DeepEqual` as gomega's Equal uses it. A transform that goss
 * answers with an error throws MatchError; the check then fails with that
 * message, as in goss (and `not` does not turn it into a pass).
 *
 * Numbers: YAML and the target give JavaScript numbers; an integer stands
 * for a Go int, anything else for a float64 (formatted as Go's %v does).
 */
import { RE2JS } from 're2js';

/** goss could not apply a matcher to the value (wrong type, not a number, bad JSON): a failure, never a pass. */
export class MatchError extends Error {}

export function isMap(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

/** Go's %v of a number: an integer as a Go int; other numbers as a float64 (shortest digits, exponent form below 1e-4 and from 1e6 on). */
export function goNumber(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (!Number.isFinite(n)) return n > 0 ? '+Inf' : '-Inf';
  if (Number.isInteger(n) && Math.abs(n) < 1e21) return String(n);
  const [mant, e] = n.toExponential().split('e') as [string, string];
  const exp = Number(e);
  if (exp < -4 || exp >= 6) return `${mant}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  return String(n);
}

/** Go's fmt %v. */
export function goString(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return goNumber(v);
  if (typeof v === 'boolean') return String(v);
  if (v === null || v === undefined) return '<nil>';
  if (Array.isArray(v)) return `[${v.map(goString).join(' ')}]`;
  if (isMap(v)) {
    return `map[${Object.keys(v)
      .sort()
      .map((k) => `${k}:${goString(v[k])}`)
      .join(' ')}]`;
  }
  return String(v);
}

/** goss ToString: a list joins its elements (%v each) with newlines; anything else is %v. */
export function toStr(v: unknown): string {
  if (Array.isArray(v)) return v.map(goString).join('\n');
  return goString(v);
}

/** Go's strconv.ParseFloat for the decimal forms (and Inf/NaN). */
const FLOAT = /^[+-]?(?:\d+(?:_\d+)*\.?(?:\d+(?:_\d+)*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)$/;
const SPECIAL = /^[+-]?(?:inf|infinity|nan)$/i;

function parseFloat64(s: string): number {
  const t = s.trim();
  if (SPECIAL.test(t)) return /nan/i.test(t) ? NaN : t.startsWith('-') ? -Infinity : Infinity;
  if (!FLOAT.test(t) || t.includes('_')) throw new MatchError(`strconv.ParseFloat: parsing ${JSON.stringify(t)}: invalid syntax`);
  return Number(t);
}

/** goss ToNumeric: numbers as they are; a string (trimmed) or a list of strings (joined) is parsed as a float. */
export function toNum(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') return parseFloat64(v);
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return parseFloat64(v.join('\n'));
  throw new MatchError(`Expected numeric, Got: ${goString(v)}`);
}

/** goss ToArray: a string is split on "\n" (a trailing newline gives a last, empty element); anything else is unchanged. */
export function toArray(v: unknown): unknown {
  return typeof v === 'string' ? v.split('\n') : v;
}

/** The elements gomega's collection matchers look at: a list's items, a map's values; anything else is an error. */
export function elementsOf(v: unknown, matcher: string): unknown[] {
  if (Array.isArray(v)) return v;
  if (isMap(v)) return Object.values(v);
  throw new MatchError(`${matcher} matcher expects an array/slice/map. Got: ${goString(v)}`);
}

/**
 * Lists the target reported: Go's `[]string` in goss (a user's groups, a
 * package's versions, a mount's opts, ...), where a gossfile's list is a
 * `[]interface{}`. A list from the gossfile or from JSON (matching content,
 * gjson) is not one of them.
 */
const goTypedLists = new WeakSet<object>();

/** Marks a list as one the target reported (see goTypedLists); returns it. */
export function goTyped<T>(v: T): T {
  if (Array.isArray(v)) goTypedLists.add(v);
  return v;
}

/**
 * reflect.DeepEqual: types must agree (the string "true" is not the bool
 * true, "1" is not 1, and a `[]string` the target reported is never a
 * gossfile's `[]interface{}`: goss's `equal: [a, b]` on a user's groups
 * never passes, whatever the groups).
 */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b) && goTypedLists.has(a) !== goTypedLists.has(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isMap(a) && isMap(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => k in b && deepEqual(a[k], b[k]));
  }
  return false;
}

/** Length as Go's len(): bytes of a string, items of a list, keys of a map. */
export function goLen(v: unknown): number {
  if (typeof v === 'string') return Buffer.byteLength(v, 'utf8');
  if (Array.isArray(v)) return v.length;
  if (isMap(v)) return Object.keys(v).length;
  throw new MatchError(`HaveLen matcher expects a string/array/map/channel/slice. Got: ${goString(v)}`);
}

/** A Go (RE2) regular expression; goss compiles every regexp with Go's regexp package. Throws SyntaxError-like errors from re2js. */
export function goRegexp(source: string): (s: string) => boolean {
  const re = RE2JS.compile(source);
  return (s) => re.matcher(s).find();
}
