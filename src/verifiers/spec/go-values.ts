/**
 * goss's value model in JavaScript: the transforms of goss's
 * `matchers/type_conversion.go` (ToString, ToNumeric, ToArray) and Go's
 * `reflect.DeepEqual` as gomega's Equal uses it. A transform that goss
 * answers with an error throws MatchError; the check then fails with that
 * message, as in goss (and `not` does not turn it into a pass).
 *
 * Numbers carry their Go type, because goss's `equal` (reflect.DeepEqual)
 * tells an int from a float64: a JavaScript number that is an integer is a
 * Go int (a gossfile's `3`, every number the target reports: exit-status,
 * size, uid, ...), a `Float64` is a float64 (a gossfile's `3.0`, every
 * number of a JSON gossfile or a gjson document, a string ToNumeric parsed).
 * A non-integral JavaScript number is a float64 too.
 */
import { RE2JS } from 're2js';
import { formatFloat } from './template/values.js';

/** goss could not apply a matcher to the value (wrong type, not a number, bad JSON): a failure, never a pass. */
export class MatchError extends Error {}

/** A Go float64 (see the top of this file); a plain JavaScript integer is a Go int. */
export class Float64 {
  constructor(readonly value: number) {}
  /** JSON reports (the check's `value`) show the number. */
  toJSON(): number {
    return this.value;
  }
}

/** A Go number: an int (an integral JavaScript number) or a float64. */
export type GoNumber = number | Float64;

export function isGoNumber(v: unknown): v is GoNumber {
  return typeof v === 'number' || v instanceof Float64;
}

/** Whether a Go number is a float64 (a Float64, or a JavaScript number that is no integer). */
export function isFloat(v: GoNumber): boolean {
  return v instanceof Float64 || !Number.isInteger(v);
}

/** The numeric value of a Go number. */
export function numberOf(v: GoNumber): number {
  return v instanceof Float64 ? v.value : v;
}

/** Go's type name of a value from a gossfile, JSON or the target (%T). */
export function goType(v: unknown): string {
  if (typeof v === 'string') return 'string';
  if (isGoNumber(v)) return isFloat(v) ? 'float64' : 'int';
  if (typeof v === 'boolean') return 'bool';
  if (Array.isArray(v)) return goTypedLists.has(v) ? '[]string' : '[]interface {}';
  if (isMap(v)) return generalMaps.has(v) ? 'map[interface {}]interface {}' : 'map[string]interface {}';
  return 'nil';
}

export function isMap(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Float64);
}

/** Go's %v of a number: an int in decimal; a float64 as strconv's shortest 'g' (`1.0` is `1`, 1e6 is `1e+06`). */
export function goNumber(n: GoNumber): string {
  return isFloat(n) ? formatFloat(numberOf(n)) : String(n);
}

/** Go's fmt %v. */
export function goString(v: unknown): string {
  if (typeof v === 'string') return v;
  if (isGoNumber(v)) return goNumber(v);
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

/**
 * goss ToNumeric: an int or a float64 as it is; a string (trimmed) or a
 * `[]string` the target reported (joined with newlines) parsed as a float64.
 * Anything else (a bool, a gossfile's or a JSON document's list) is an error.
 */
export function toNum(v: unknown): GoNumber {
  if (isGoNumber(v)) return v;
  if (typeof v === 'string') return new Float64(parseFloat64(v));
  if (Array.isArray(v) && goTypedLists.has(v)) return new Float64(parseFloat64(v.join('\n')));
  throw new MatchError(`Expected numeric, Got: ${goType(v)} ${goString(v)}`);
}

/** JSON numbers as goss's decoders give them (encoding/json into interface{}, gjson's Value()): every one a float64. */
export function jsonFloats(v: unknown): unknown {
  if (typeof v === 'number') return new Float64(v);
  if (Array.isArray(v)) return v.map(jsonFloats);
  if (isMap(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, jsonFloats(x)]));
  return v;
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

/**
 * Maps yaml.v3 decodes as `map[interface{}]interface{}` because a key is not
 * a string (`1:`, `true:`): goss takes none as a matcher (or gjson paths),
 * and DeepEqual never finds one equal to a `map[string]interface{}`.
 */
const generalMaps = new WeakSet<object>();

/** Marks a gossfile map as one with a key that is not a string (see generalMaps); returns it. */
export function goGeneralMap<T extends object>(m: T): T {
  generalMaps.add(m);
  return m;
}

export function isGeneralMap(v: unknown): boolean {
  return isMap(v) && generalMaps.has(v);
}

/** Marks a list as one the target reported (see goTypedLists); returns it. */
export function goTyped<T>(v: T): T {
  if (Array.isArray(v)) goTypedLists.add(v);
  return v;
}

/**
 * reflect.DeepEqual: types must agree (the string "true" is not the bool
 * true, "1" is not 1, the int 3 is not the float64 3.0, and a `[]string`
 * the target reported is never a gossfile's `[]interface{}`: goss's
 * `equal: [a, b]` on a user's groups never passes, whatever the groups).
 * Numbers compare with Go's == (NaN equals nothing).
 */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (isGoNumber(a) || isGoNumber(b)) return isGoNumber(a) && isGoNumber(b) && isFloat(a) === isFloat(b) && numberOf(a) === numberOf(b);
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b) && goTypedLists.has(a) !== goTypedLists.has(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isMap(a) && isMap(b)) {
    if (generalMaps.has(a) !== generalMaps.has(b)) return false;
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
  throw new MatchError(`HaveLen matcher expects a string/array/map/channel/slice. Got: ${goType(v)} ${goString(v)}`);
}

/** A Go (RE2) regular expression; goss compiles every regexp with Go's regexp package. Throws SyntaxError-like errors from re2js. */
export function goRegexp(source: string): (s: string) => boolean {
  const re = RE2JS.compile(source);
  return (s) => re.matcher(s).find();
}
