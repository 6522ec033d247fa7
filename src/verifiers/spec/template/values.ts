/**
 * Go's values as a template sees them, in JavaScript: a Go int is a bigint,
 * a float64 a number (so `eq 1 1.0` is an error and `1.0` prints as `1`, as
 * in Go), string, bool, nil (null), a slice an array, a map a Map (string
 * keys, ranged in sorted order as Go does). Printing follows fmt's %v, JSON
 * follows encoding/json (HTML-escaped unless raw), equality reflect.DeepEqual.
 */

export type GoValue = null | boolean | bigint | number | string | GoValue[] | Map<string, GoValue> | TmplVars;

/** Maps of string values (`map[string]string`: `.Env`, sprig's split) and slices of strings (`[]string`). */
export const STRING_TYPED = new WeakSet<object>();

export function stringMap(entries: Iterable<[string, string]>): Map<string, GoValue> {
  const m = new Map<string, GoValue>(entries);
  STRING_TYPED.add(m);
  return m;
}

export function stringList(items: string[]): GoValue[] {
  const l = [...items];
  STRING_TYPED.add(l);
  return l;
}

/** goss's template data (`*goss.TmplVars`): `.Vars` and the method `.Env`. */
export class TmplVars {
  constructor(
    readonly vars: Map<string, GoValue>,
    private readonly environ: Record<string, string | undefined>,
  ) {}
  env(): Map<string, GoValue> {
    return stringMap(Object.entries(this.environ).filter((e): e is [string, string] => e[1] !== undefined));
  }
}

/** Go's %T. */
export function typeName(v: GoValue): string {
  if (v === null) return '<nil>';
  if (typeof v === 'bigint') return 'int';
  if (typeof v === 'number') return 'float64';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (v instanceof TmplVars) return '*goss.TmplVars';
  if (Array.isArray(v)) return STRING_TYPED.has(v) ? '[]string' : '[]interface {}';
  return STRING_TYPED.has(v) ? 'map[string]string' : 'map[string]interface {}';
}

/** Go's reflect Kind name (sprig's kindOf). */
export function kindName(v: GoValue): string {
  if (v === null) return 'invalid';
  if (typeof v === 'bigint') return 'int';
  if (typeof v === 'number') return 'float64';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (v instanceof TmplVars) return 'ptr';
  return Array.isArray(v) ? 'slice' : 'map';
}

/** Go's %v of a float64: shortest digits, exponent form below 1e-4 and from 1e6 on (strconv 'g', -1: 1000000.0 is 1e+06). */
export function formatFloat(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (!Number.isFinite(n)) return n > 0 ? '+Inf' : '-Inf';
  if (n === 0) return Object.is(n, -0) ? '-0' : '0';
  const [mant, e] = n.toExponential().split('e') as [string, string];
  const exp = Number(e);
  if (exp < -4 || exp >= 6) return `${mant}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  const digits = mant.replace('-', '').replace('.', '');
  const sign = n < 0 ? '-' : '';
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  if (digits.length <= exp + 1) return sign + digits + '0'.repeat(exp + 1 - digits.length);
  return `${sign}${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
}

/** fmt's %v; `top` prints nil as the template does (`<no value>`), inside containers it is `<nil>`. */
export function formatValue(v: GoValue, top = false): string {
  if (v === null) return top ? '<no value>' : '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  if (typeof v === 'number') return formatFloat(v);
  if (v instanceof TmplVars) return `&{${formatValue(v.vars)}}`;
  if (Array.isArray(v)) return `[${v.map((x) => formatValue(x)).join(' ')}]`;
  return `map[${[...v.keys()]
    .sort()
    .map((k) => `${k}:${formatValue(v.get(k)!)}`)
    .join(' ')}]`;
}

/** text/template's truth: false, 0, nil and empty strings, slices and maps are false. */
export function truth(v: GoValue): boolean {
  if (v === null) return false;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'bigint') return v !== 0n;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'string') return v.length > 0;
  if (v instanceof TmplVars) return true;
  return Array.isArray(v) ? v.length > 0 : v.size > 0;
}

/** reflect.DeepEqual: types must match (an int is never a float64). */
export function deepEqual(a: GoValue, b: GoValue): boolean {
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return a === b;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && typeName(a) === typeName(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]!));
  }
  if (a instanceof TmplVars || b instanceof TmplVars) return a === b;
  return typeName(a) === typeName(b) && a.size === b.size && [...a].every(([k, x]) => b.has(k) && deepEqual(x, b.get(k)!));
}

/** JavaScript data (YAML with ints as bigint, or JSON) as Go values: objects become maps. */
export function fromJS(v: unknown): GoValue {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint' || typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v;
  if (Array.isArray(v)) return v.map(fromJS);
  if (v instanceof Map) return new Map([...v].map(([k, x]) => [String(k), fromJS(x)]));
  if (v instanceof Date) return v.toISOString();
  return new Map(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, fromJS(x)]));
}

function jsonString(s: string, html: boolean): string {
  let out = JSON.stringify(s).replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
  if (html) out = out.replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');
  return out;
}

/** encoding/json's float: shortest digits, plain from 1e-6 to 1e21, else exponent (the ES6 rule, as JavaScript prints numbers). */
function jsonFloat(n: number): string {
  if (!Number.isFinite(n)) throw new Error(`json: unsupported value: ${formatFloat(n)}`);
  return String(n);
}

/** encoding/json's Marshal (and MarshalIndent with `indent`); `html` escapes <, > and & as Go does by default. */
export function toJson(v: GoValue, opts: { html: boolean; indent?: string }, depth = 0): string {
  const nl = opts.indent === undefined ? '' : `\n${opts.indent.repeat(depth + 1)}`;
  const end = opts.indent === undefined ? '' : `\n${opts.indent.repeat(depth)}`;
  const colon = opts.indent === undefined ? ':' : ': ';
  if (v === null) return 'null';
  if (typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (typeof v === 'number') return jsonFloat(v);
  if (typeof v === 'string') return jsonString(v, opts.html);
  if (v instanceof TmplVars) return `{${nl}"Vars"${colon}${toJson(v.vars, opts, depth + 1)}${end}}`;
  if (Array.isArray(v)) return v.length === 0 ? '[]' : `[${v.map((x) => nl + toJson(x, opts, depth + 1)).join(',')}${end}]`;
  if (v.size === 0) return '{}';
  return `{${[...v.keys()]
    .sort()
    .map((k) => `${nl}${jsonString(k, opts.html)}${colon}${toJson(v.get(k)!, opts, depth + 1)}`)
    .join(',')}${end}}`;
}

/** encoding/json's Unmarshal into interface{}: numbers are float64, objects maps. */
export function fromJson(text: string): GoValue {
  return fromJS(JSON.parse(text) as unknown);
}

/** spf13/cast's ToInt64 as sprig uses it: errors become 0. */
export function toInt64(v: GoValue): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return Number.isFinite(v) ? BigInt(Math.trunc(v)) : 0n;
  if (typeof v === 'boolean') return v ? 1n : 0n;
  if (typeof v === 'string') {
    const s = v.replace(/\.0*$/, ''); // cast's trimZeroDecimal
    if (/^[+-]?(0[xX][0-9a-fA-F]+|0[bB][01]+|0[oO]?[0-7]+|[1-9][0-9]*|0)$/.test(s)) {
      const neg = s.startsWith('-');
      const body = s.replace(/^[+-]/, '');
      const n = BigInt(/^0[0-7]+$/.test(body) ? `0o${body.slice(1)}` : body);
      return neg ? -n : n;
    }
    return 0n;
  }
  return 0n;
}

/** spf13/cast's ToFloat64: errors become 0. */
export function toFloat64(v: GoValue): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string') {
    const n = Number(v.trim() === v ? v : Number.NaN);
    return v !== '' && Number.isFinite(n) ? n : 0;
  }
  return 0;
}
