/**
 * The functions a goss template can call, as goss registers them
 * (goss `template.go`: `Funcs(sprig.TxtFuncMap()).Funcs(funcMap)`): text/
 * template's builtins, Masterminds/sprig v3's functions, then goss's own
 * (mkSlice, readFile, getEnv, regexMatch, toUpper, toLower,
 * findStringSubmatch), which win over sprig's of the same name.
 *
 * Sprig functions whose result would differ from run to run or reach
 * outside the controller's files and environment (dates, random values,
 * UUIDs, key and certificate generation, encryption, DNS lookups) are not
 * available: a template that calls one fails to parse, naming it (README:
 * differences from goss).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { RE2JS } from 're2js';
import type { FuncMap, GoFunc, ParamType } from './exec.js';
import { sprint, sprintf, sprintln, goQuote } from './sprintf.js';
import {
  deepEqual,
  formatValue,
  fromJson,
  kindName,
  stringList,
  stringMap,
  toFloat64,
  toInt64,
  toJson,
  truth,
  typeName,
  STRING_TYPED,
  type GoValue,
} from './values.js';

/** Sprig functions hallmark does not provide, and why (parse error naming them). */
export const UNAVAILABLE: Record<string, string> = Object.fromEntries([
  ...['now', 'date', 'dateInZone', 'date_in_zone', 'dateModify', 'date_modify', 'mustDateModify', 'must_date_modify', 'ago', 'duration', 'durationRound', 'htmlDate', 'htmlDateInZone', 'toDate', 'mustToDate', 'unixEpoch'].map((n) => [n, 'dates depend on when the checks are rendered']),
  ...['randAlphaNum', 'randAlpha', 'randAscii', 'randNumeric', 'randInt', 'randBytes', 'shuffle', 'uuidv4'].map((n) => [n, 'random values give different checks on every run']),
  ...['bcrypt', 'htpasswd', 'genPrivateKey', 'derivePassword', 'buildCustomCert', 'genCA', 'genCAWithKey', 'genSelfSignedCert', 'genSelfSignedCertWithKey', 'genSignedCert', 'genSignedCertWithKey', 'encryptAES', 'decryptAES'].map((n) => [
    n,
    'key, certificate and encryption functions have no place in a check',
  ]),
  ['getHostByName', 'goss resolves it on the target; hallmark renders on the controller, so use a dns check instead'],
]);

const re2Cache = new Map<string, RE2JS>();
/** A Go (RE2) regular expression. */
function goRe(src: string): RE2JS {
  let re = re2Cache.get(src);
  if (!re) {
    try {
      re = RE2JS.compile(src);
    } catch (e) {
      throw new Error(`error parsing regexp: ${(e as Error).message}`, { cause: e });
    }
    re2Cache.set(src, re);
  }
  return re;
}

function findAll(re: RE2JS, s: string, n: bigint): RegExpMatchArray[] {
  if (n === 0n) return [];
  const out: RegExpMatchArray[] = [];
  for (const m of re.matchAll(s)) {
    out.push(m);
    if (n > 0n && BigInt(out.length) >= n) break;
  }
  return out;
}

/** Go's Regexp.Expand template: `$1`, `${1}`, `$name`, `${name}`, `$$`. */
function expand(repl: string, m: RegExpMatchArray, names: Record<string, number>): string {
  return repl.replace(/\$(\$|\{([A-Za-z0-9_]*)\}|([A-Za-z0-9_]+))/g, (_w, all: string, braced?: string, bare?: string) => {
    if (all === '$') return '$';
    const name = braced ?? bare ?? '';
    const idx = /^[0-9]+$/.test(name) ? Number(name) : names[name];
    return idx === undefined ? '' : (m[idx] ?? '');
  });
}

function regexSplit(re: RE2JS, s: string, n: bigint): string[] {
  if (n === 0n) return [];
  if (re.pattern() !== '' && s === '') return [''];
  const out: string[] = [];
  let beg = 0;
  let end = 0;
  for (const m of re.matchAll(s)) {
    if (n > 0n && BigInt(out.length) === n - 1n) break;
    const start = m.index!;
    const stop = start + m[0].length;
    if (stop === 0) continue;
    end = start;
    out.push(s.slice(beg, end));
    beg = stop;
  }
  if (end !== s.length) out.push(s.slice(beg));
  return out;
}

const list = (v: GoValue): GoValue[] => {
  if (!Array.isArray(v)) throw new Error(`Cannot handle type ${kindName(v)} as a list`);
  return v;
};

/** sprig's strval: fmt's %v. */
const strval = (v: GoValue): string => formatValue(v);

/** sprig's strslice (toStrings, join): nil elements dropped, others as %v. */
function strslice(v: GoValue): GoValue[] {
  if (Array.isArray(v)) return stringList(v.filter((x) => x !== null).map(strval));
  return stringList(v === null ? [] : [strval(v)]);
}

/** sprig's empty(): the zero value of its type. */
const empty = (v: GoValue): boolean => !truth(v);

function untilStep(start: bigint, stop: bigint, step: bigint): GoValue[] {
  const v: GoValue[] = [];
  if (stop < start) {
    if (step >= 0n) return v;
    for (let i = start; i > stop; i += step) v.push(i);
    return v;
  }
  if (step <= 0n) return v;
  for (let i = start; i < stop; i += step) v.push(i);
  return v;
}

function title(s: string): string {
  // strings.Title: the first letter of every word (a word follows anything but a letter, digit, _ or ').
  return s.replace(/(^|[^\p{L}\p{Nd}_'])(\p{L})/gu, (_m, sep: string, ch: string) => sep + ch.toUpperCase());
}

function htmlEscape(s: string): string {
  return s.replace(/[&'<>"\0]/g, (c) => ({ '&': '&amp;', "'": '&#39;', '<': '&lt;', '>': '&gt;', '"': '&#34;', '\0': '\uFFFD' })[c]!);
}

function jsEscape(s: string): string {
  let out = '';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '\\') out += '\\\\';
    else if (ch === "'") out += "\\'";
    else if (ch === '"') out += '\\"';
    else if ('<>&='.includes(ch)) out += `\\u${c.toString(16).toUpperCase().padStart(4, '0')}`;
    else if (c < 0x20 || c === 0x7f || /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u.test(ch)) out += `\\u${c.toString(16).toUpperCase().padStart(4, '0')}`;
    else out += ch;
  }
  return out;
}

function queryEscape(s: string): string {
  return [...Buffer.from(s, 'utf8')]
    .map((b) => {
      const c = String.fromCharCode(b);
      if (/[A-Za-z0-9\-_.~]/.test(c)) return c;
      if (c === ' ') return '+';
      return `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
    })
    .join('');
}

/** html/js/urlquery take any arguments: one string as is, else fmt.Sprint of them. */
const evalArgs = (args: GoValue[]): string => (args.length === 1 && typeof args[0] === 'string' ? args[0] : sprint(args));

type Kind = 'bool' | 'int' | 'float' | 'string' | 'other';
function basicKind(v: GoValue): Kind {
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'bigint') return 'int';
  if (typeof v === 'number') return 'float';
  if (typeof v === 'string') return 'string';
  return 'other';
}

function eq(a: GoValue, ...bs: GoValue[]): boolean {
  if (bs.length === 0) throw new Error('missing argument for comparison');
  const k1 = basicKind(a);
  for (const b of bs) {
    const k2 = basicKind(b);
    if (k1 !== k2) {
      if (a !== null && b !== null) throw new Error('incompatible types for comparison');
      continue;
    }
    if (k1 === 'other') {
      if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object') throw new Error(`non-comparable type ${formatValue(b)}: ${typeName(b)}`);
      if (a === b) return true;
      continue;
    }
    if (a === b) return true;
  }
  return false;
}

function lt(a: GoValue, b: GoValue): boolean {
  const k1 = basicKind(a);
  const k2 = basicKind(b);
  if (k1 === 'bool' || k1 === 'other' || k2 === 'bool' || k2 === 'other') throw new Error('invalid type for comparison');
  if (k1 !== k2) throw new Error('incompatible types for comparison');
  return (a as string) < (b as string);
}

function index(item: GoValue, ...keys: GoValue[]): GoValue {
  let v = item;
  for (const k of keys) {
    if (v === null) throw new Error('index of untyped nil');
    if (Array.isArray(v) || typeof v === 'string') {
      if (typeof k !== 'bigint') throw new Error(`cannot index slice/array with type ${typeName(k)}`);
      const len = typeof v === 'string' ? Buffer.byteLength(v) : v.length;
      if (k < 0n || k >= BigInt(len)) throw new Error(`index out of range: ${k}`);
      v = typeof v === 'string' ? BigInt(Buffer.from(v, 'utf8')[Number(k)]!) : v[Number(k)]!;
    } else if (v instanceof Map) {
      if (typeof k !== 'string') throw new Error(`value has type ${typeName(k)}; should be string`);
      v = v.has(k) ? v.get(k)! : STRING_TYPED.has(v) ? '' : null;
    } else throw new Error(`can't index item of type ${typeName(v)}`);
  }
  return v;
}

function len(v: GoValue): bigint {
  if (typeof v === 'string') return BigInt(Buffer.byteLength(v, 'utf8'));
  if (Array.isArray(v)) return BigInt(v.length);
  if (v instanceof Map) return BigInt(v.size);
  throw new Error(v === null ? 'len of nil pointer' : `len of type ${typeName(v)}`);
}

function mergeInto(dst: Map<string, GoValue>, src: Map<string, GoValue>, overwrite: boolean): void {
  for (const [k, v] of src) {
    const cur = dst.get(k);
    if (cur instanceof Map && v instanceof Map) mergeInto(cur, v, overwrite);
    else if (!dst.has(k) || empty(cur ?? null) || (overwrite && !empty(v))) dst.set(k, v);
  }
}

function deepCopy(v: GoValue): GoValue {
  if (Array.isArray(v)) return v.map(deepCopy);
  if (v instanceof Map) return new Map([...v].map(([k, x]) => [k, deepCopy(x)]));
  return v;
}

const f = (params: ParamType[], fn: GoFunc['fn'], variadic?: ParamType): GoFunc => ({ params, fn, ...(variadic ? { variadic } : {}) });
const S: ParamType = 'string';
const I: ParamType = 'int';
const A: ParamType = 'any';
const M: ParamType = 'map';

export interface FuncContext {
  env: Record<string, string | undefined>;
  /** Where a relative readFile path starts (goss: its working directory). */
  baseDir: string;
}

export function goFuncs(ctx: FuncContext): FuncMap {
  const getenv = (k: string) => ctx.env[k] ?? '';
  const fns: Record<string, GoFunc> = {
    // text/template's builtins (and/or are evaluated lazily by the executor)
    not: f([A], (v: GoValue) => !truth(v)),
    len: f([A], len),
    index: f([A], index, A),
    print: f([], (...a: GoValue[]) => sprint(a), A),
    println: f([], (...a: GoValue[]) => sprintln(a), A),
    printf: f([S], (fmt: string, ...a: GoValue[]) => sprintf(fmt, a), A),
    eq: f([A], eq, A),
    ne: f([A, A], (a: GoValue, b: GoValue) => !eq(a, b)),
    lt: f([A, A], lt),
    le: f([A, A], (a: GoValue, b: GoValue) => lt(a, b) || eq(a, b)),
    gt: f([A, A], (a: GoValue, b: GoValue) => !lt(a, b) && !eq(a, b)),
    ge: f([A, A], (a: GoValue, b: GoValue) => !lt(a, b)),
    html: f([], (...a: GoValue[]) => htmlEscape(evalArgs(a)), A),
    js: f([], (...a: GoValue[]) => jsEscape(evalArgs(a)), A),
    urlquery: f([], (...a: GoValue[]) => queryEscape(evalArgs(a)), A),
    call: f([A], () => {
      throw new Error('no function values in a gossfile template');
    }, A),

    // sprig: strings
    trim: f([S], (s: string) => s.trim()),
    upper: f([S], (s: string) => s.toUpperCase()),
    lower: f([S], (s: string) => s.toLowerCase()),
    title: f([S], title),
    untitle: f([S], (s: string) => (s ? s[0]!.toLowerCase() + s.slice(1) : s)),
    substr: f([I, I, S], (a: bigint, b: bigint, s: string) => {
      const buf = Buffer.from(s, 'utf8');
      const len = BigInt(buf.length);
      const cut = (x: bigint, y: bigint) => {
        if (x < 0n || y > len || x > y) throw new Error(`slice bounds out of range [${x}:${y}]`);
        return buf.subarray(Number(x), Number(y)).toString('utf8');
      };
      if (a < 0n) return cut(0n, b);
      if (b < 0n || b > len) return cut(a, len);
      return cut(a, b);
    }),
    repeat: f([I, S], (n: bigint, s: string) => {
      if (n < 0n) throw new Error('strings: negative Repeat count');
      return s.repeat(Number(n));
    }),
    trimAll: f([S, S], (cut: string, s: string) => trimSet(s, cut)),
    trimall: f([S, S], (cut: string, s: string) => trimSet(s, cut)),
    trimSuffix: f([S, S], (x: string, s: string) => (x && s.endsWith(x) ? s.slice(0, -x.length) : s)),
    trimPrefix: f([S, S], (x: string, s: string) => (s.startsWith(x) ? s.slice(x.length) : s)),
    nospace: f([S], (s: string) => s.replace(/\s/gu, '')),
    trunc: f([I, S], (c: bigint, s: string) => {
      const n = Number(c);
      if (n < 0 && s.length + n > 0) return s.slice(s.length + n);
      if (n >= 0 && s.length > n) return s.slice(0, n);
      return s;
    }),
    abbrev: f([I, S], (w: bigint, s: string) => (w < 4n || s.length <= Number(w) ? s : `${s.slice(0, Number(w) - 3)}...`)),
    contains: f([S, S], (sub: string, s: string) => s.includes(sub)),
    hasPrefix: f([S, S], (p: string, s: string) => s.startsWith(p)),
    hasSuffix: f([S, S], (p: string, s: string) => s.endsWith(p)),
    quote: f([], (...a: GoValue[]) => a.filter((x) => x !== null).map((x) => goQuote(strval(x))).join(' '), A),
    squote: f([], (...a: GoValue[]) => a.filter((x) => x !== null).map((x) => `'${formatValue(x)}'`).join(' '), A),
    cat: f([], (...a: GoValue[]) => a.filter((x) => x !== null).map((x) => formatValue(x)).join(' '), A),
    indent: f([I, S], (n: bigint, s: string) => ' '.repeat(Number(n)) + s.replace(/\n/g, `\n${' '.repeat(Number(n))}`)),
    nindent: f([I, S], (n: bigint, s: string) => `\n${' '.repeat(Number(n))}${s.replace(/\n/g, `\n${' '.repeat(Number(n))}`)}`),
    replace: f([S, S, S], (o: string, n: string, s: string) => s.split(o).join(n)),
    plural: f([S, S, I], (one: string, many: string, n: bigint) => (n === 1n ? one : many)),
    sha1sum: f([S], (s: string) => createHash('sha1').update(s, 'utf8').digest('hex')),
    sha256sum: f([S], (s: string) => createHash('sha256').update(s, 'utf8').digest('hex')),
    sha512sum: f([S], (s: string) => createHash('sha512').update(s, 'utf8').digest('hex')),
    adler32sum: f([S], (s: string) => {
      let a = 1;
      let b = 0;
      for (const byte of Buffer.from(s, 'utf8')) {
        a = (a + byte) % 65521;
        b = (b + a) % 65521;
      }
      return String(((b << 16) | a) >>> 0);
    }),
    toString: f([A], strval),
    atoi: f([S], (s: string) => (/^[+-]?[0-9]+$/.test(s) ? BigInt(s) : 0n)),
    int64: f([A], toInt64),
    int: f([A], toInt64),
    float64: f([A], toFloat64),
    split: f([S, S], (sep: string, s: string) => stringMap(goSplit(s, sep, -1).map((p, i) => [`_${i}`, p]))),
    splitList: f([S, S], (sep: string, s: string) => stringList(goSplit(s, sep, -1))),
    splitn: f([S, I, S], (sep: string, n: bigint, s: string) => stringMap(goSplit(s, sep, Number(n)).map((p, i) => [`_${i}`, p]))),
    toStrings: f([A], strslice),
    until: f([I], (n: bigint) => untilStep(0n, n, n < 0n ? -1n : 1n)),
    untilStep: f([I, I, I], untilStep),
    seq: f(
      [],
      (...p: bigint[]) => {
        let r: GoValue[] = [];
        if (p.length === 1) r = untilStep(1n, p[0]! + (p[0]! < 1n ? -1n : 1n), p[0]! < 1n ? -1n : 1n);
        else if (p.length === 2) r = untilStep(p[0]!, p[1]! + (p[1]! < p[0]! ? -1n : 1n), p[1]! < p[0]! ? -1n : 1n);
        else if (p.length === 3) {
          const [start, step, end] = p as [bigint, bigint, bigint];
          if (end < start && step > 0n) return '';
          r = untilStep(start, end + (end < start ? -1n : 1n), step);
        }
        return r.map((x) => String(x)).join(' ');
      },
      I,
    ),
    add1: f([A], (v: GoValue) => toInt64(v) + 1n),
    add: f([], (...v: GoValue[]) => v.reduce<bigint>((s, x) => s + toInt64(x), 0n), A),
    sub: f([A, A], (a: GoValue, b: GoValue) => toInt64(a) - toInt64(b)),
    div: f([A, A], (a: GoValue, b: GoValue) => {
      if (toInt64(b) === 0n) throw new Error('runtime error: integer divide by zero');
      return toInt64(a) / toInt64(b);
    }),
    mod: f([A, A], (a: GoValue, b: GoValue) => {
      if (toInt64(b) === 0n) throw new Error('runtime error: integer divide by zero');
      return toInt64(a) % toInt64(b);
    }),
    mul: f([A], (a: GoValue, ...v: GoValue[]) => v.reduce<bigint>((s, x) => s * toInt64(x), toInt64(a)), A),
    max: f([A], (a: GoValue, ...v: GoValue[]) => v.map(toInt64).reduce((m, x) => (x > m ? x : m), toInt64(a)), A),
    biggest: f([A], (a: GoValue, ...v: GoValue[]) => v.map(toInt64).reduce((m, x) => (x > m ? x : m), toInt64(a)), A),
    min: f([A], (a: GoValue, ...v: GoValue[]) => v.map(toInt64).reduce((m, x) => (x < m ? x : m), toInt64(a)), A),
    maxf: f([A], (a: GoValue, ...v: GoValue[]) => Math.max(toFloat64(a), ...v.map(toFloat64)), A),
    minf: f([A], (a: GoValue, ...v: GoValue[]) => Math.min(toFloat64(a), ...v.map(toFloat64)), A),
    floor: f([A], (v: GoValue) => Math.floor(toFloat64(v))),
    ceil: f([A], (v: GoValue) => Math.ceil(toFloat64(v))),
    round: f(
      [A, I],
      (v: GoValue, p: bigint, ...on: number[]) => {
        const pow = 10 ** Number(p);
        const digit = pow * toFloat64(v);
        const frac = digit - Math.trunc(digit);
        return (frac >= (on[0] ?? 0.5) ? Math.ceil(digit) : Math.floor(digit)) / pow;
      },
      'float',
    ),
    join: f([S, A], (sep: string, v: GoValue) => (strslice(v) as string[]).join(sep)),
    sortAlpha: f([A], (v: GoValue) => stringList((strslice(v) as string[]).sort())),

    // sprig: defaults, JSON, flow
    default: f([A], (d: GoValue, ...given: GoValue[]) => (given.length === 0 || empty(given[0]!) ? d : given[0]!), A),
    empty: f([A], empty),
    coalesce: f([], (...v: GoValue[]) => v.find((x) => !empty(x)) ?? null, A),
    all: f([], (...v: GoValue[]) => v.every((x) => !empty(x)), A),
    any: f([], (...v: GoValue[]) => v.some((x) => !empty(x)), A),
    compact: f([A], (v: GoValue) => list(v).filter((x) => !empty(x))),
    mustCompact: f([A], (v: GoValue) => list(v).filter((x) => !empty(x))),
    fromJson: f([S], (s: string) => {
      try {
        return fromJson(s);
      } catch {
        return null;
      }
    }),
    mustFromJson: f([S], fromJson),
    toJson: f([A], (v: GoValue) => safe(() => toJson(v, { html: true }))),
    mustToJson: f([A], (v: GoValue) => toJson(v, { html: true })),
    toPrettyJson: f([A], (v: GoValue) => safe(() => toJson(v, { html: true, indent: '  ' }))),
    mustToPrettyJson: f([A], (v: GoValue) => toJson(v, { html: true, indent: '  ' })),
    toRawJson: f([A], (v: GoValue) => toJson(v, { html: false })),
    mustToRawJson: f([A], (v: GoValue) => toJson(v, { html: false })),
    ternary: f([A, A, 'bool'], (t: GoValue, e: GoValue, c: boolean) => (c ? t : e)),
    deepCopy: f([A], deepCopy),
    mustDeepCopy: f([A], deepCopy),
    fail: f([S], (msg: string) => {
      throw new Error(msg);
    }),

    // sprig: reflection
    typeOf: f([A], typeName),
    typeIs: f([S, A], (t: string, v: GoValue) => t === typeName(v)),
    typeIsLike: f([S, A], (t: string, v: GoValue) => t === typeName(v) || t === `*${typeName(v)}`),
    kindOf: f([A], kindName),
    kindIs: f([S, A], (k: string, v: GoValue) => k === kindName(v)),
    deepEqual: f([A, A], deepEqual),

    // sprig: environment (of the controller: hallmark renders there)
    env: f([S], getenv),
    expandenv: f([S], (s: string) => s.replace(/\$\{([^}]*)\}|\$([A-Za-z0-9_]+|[*#$@!?-])/g, (_m, a?: string, b?: string) => getenv(a ?? b ?? ''))),

    // sprig: paths (slash-separated, as Go's path package)
    base: f([S], goBase),
    dir: f([S], goDir),
    clean: f([S], goClean),
    ext: f([S], goExt),
    isAbs: f([S], (p: string) => p.startsWith('/')),
    osBase: f([S], goBase),
    osDir: f([S], goDir),
    osClean: f([S], goClean),
    osExt: f([S], goExt),
    osIsAbs: f([S], (p: string) => p.startsWith('/')),

    // sprig: encoding
    b64enc: f([S], (s: string) => Buffer.from(s, 'utf8').toString('base64')),
    b64dec: f([S], (s: string) => {
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 !== 0) return `illegal base64 data at input byte ${s.search(/[^A-Za-z0-9+/=]/) < 0 ? s.length : s.search(/[^A-Za-z0-9+/=]/)}`;
      return Buffer.from(s, 'base64').toString('utf8');
    }),
    b32enc: f([S], (s: string) => base32(Buffer.from(s, 'utf8'))),

    // sprig: lists and dicts
    list: f([], (...v: GoValue[]) => v, A),
    tuple: f([], (...v: GoValue[]) => v, A),
    dict: f(
      [],
      (...v: GoValue[]) => {
        const m = new Map<string, GoValue>();
        for (let i = 0; i < v.length; i += 2) m.set(strval(v[i]!), i + 1 < v.length ? v[i + 1]! : '');
        return m;
      },
      A,
    ),
    get: f([M, S], (d: Map<string, GoValue>, k: string) => (d.has(k) ? d.get(k)! : '')),
    set: f([M, S, A], (d: Map<string, GoValue>, k: string, v: GoValue) => d.set(k, v)),
    unset: f([M, S], (d: Map<string, GoValue>, k: string) => (d.delete(k), d)),
    hasKey: f([M, S], (d: Map<string, GoValue>, k: string) => d.has(k)),
    pluck: f([S], (k: string, ...ds: Map<string, GoValue>[]) => ds.filter((d) => d.has(k)).map((d) => d.get(k)!), M),
    keys: f([], (...ds: Map<string, GoValue>[]) => stringList(ds.flatMap((d) => [...d.keys()].sort())), M),
    values: f([M], (d: Map<string, GoValue>) => [...d.keys()].sort().map((k) => d.get(k)!)),
    pick: f([M], (d: Map<string, GoValue>, ...ks: string[]) => new Map(ks.filter((k) => d.has(k)).map((k) => [k, d.get(k)!])), S),
    omit: f([M], (d: Map<string, GoValue>, ...ks: string[]) => new Map([...d].filter(([k]) => !ks.includes(k))), S),
    merge: f([M], (d: Map<string, GoValue>, ...srcs: Map<string, GoValue>[]) => (srcs.forEach((s) => mergeInto(d, s, false)), d), M),
    mustMerge: f([M], (d: Map<string, GoValue>, ...srcs: Map<string, GoValue>[]) => (srcs.forEach((s) => mergeInto(d, s, false)), d), M),
    mergeOverwrite: f([M], (d: Map<string, GoValue>, ...srcs: Map<string, GoValue>[]) => (srcs.forEach((s) => mergeInto(d, s, true)), d), M),
    mustMergeOverwrite: f([M], (d: Map<string, GoValue>, ...srcs: Map<string, GoValue>[]) => (srcs.forEach((s) => mergeInto(d, s, true)), d), M),
    dig: f(
      [A, A, A],
      (...ps: GoValue[]) => {
        const d = ps[ps.length - 1];
        const def = ps[ps.length - 2]!;
        if (!(d instanceof Map)) throw new Error(`interface conversion: interface {} is ${typeName(d ?? null)}, not map[string]interface {}`);
        let cur: GoValue = d;
        for (const k of ps.slice(0, -2)) {
          if (typeof k !== 'string') throw new Error(`interface conversion: interface {} is ${typeName(k)}, not string`);
          if (!(cur instanceof Map) || !cur.has(k)) return def;
          cur = cur.get(k)!;
        }
        return cur;
      },
      A,
    ),
    append: f([A, A], (l: GoValue, v: GoValue) => [...list(l), v]),
    push: f([A, A], (l: GoValue, v: GoValue) => [...list(l), v]),
    mustAppend: f([A, A], (l: GoValue, v: GoValue) => [...list(l), v]),
    mustPush: f([A, A], (l: GoValue, v: GoValue) => [...list(l), v]),
    prepend: f([A, A], (l: GoValue, v: GoValue) => [v, ...list(l)]),
    mustPrepend: f([A, A], (l: GoValue, v: GoValue) => [v, ...list(l)]),
    first: f([A], (l: GoValue) => list(l)[0] ?? null),
    mustFirst: f([A], (l: GoValue) => list(l)[0] ?? null),
    rest: f([A], (l: GoValue) => (list(l).length ? list(l).slice(1) : null)),
    mustRest: f([A], (l: GoValue) => (list(l).length ? list(l).slice(1) : null)),
    last: f([A], (l: GoValue) => list(l)[list(l).length - 1] ?? null),
    mustLast: f([A], (l: GoValue) => list(l)[list(l).length - 1] ?? null),
    initial: f([A], (l: GoValue) => (list(l).length ? list(l).slice(0, -1) : null)),
    mustInitial: f([A], (l: GoValue) => (list(l).length ? list(l).slice(0, -1) : null)),
    reverse: f([A], (l: GoValue) => [...list(l)].reverse()),
    mustReverse: f([A], (l: GoValue) => [...list(l)].reverse()),
    uniq: f([A], (l: GoValue) => list(l).filter((x, i, a) => a.findIndex((y) => deepEqual(x, y)) === i)),
    mustUniq: f([A], (l: GoValue) => list(l).filter((x, i, a) => a.findIndex((y) => deepEqual(x, y)) === i)),
    without: f([A], (l: GoValue, ...o: GoValue[]) => list(l).filter((x) => !o.some((y) => deepEqual(x, y))), A),
    mustWithout: f([A], (l: GoValue, ...o: GoValue[]) => list(l).filter((x) => !o.some((y) => deepEqual(x, y))), A),
    has: f([A, A], (n: GoValue, h: GoValue) => h !== null && list(h).some((x) => deepEqual(n, x))),
    mustHas: f([A, A], (n: GoValue, h: GoValue) => h !== null && list(h).some((x) => deepEqual(n, x))),
    slice: f([A], (l: GoValue, ...ix: GoValue[]) => goSlice(list(l), ix), A),
    mustSlice: f([A], (l: GoValue, ...ix: GoValue[]) => goSlice(list(l), ix), A),
    concat: f([], (...ls: GoValue[]) => (ls.length ? ls.flatMap((l) => list(l)) : null), A),
    chunk: f([I, A], (size: bigint, l: GoValue) => {
      const items = list(l);
      const out: GoValue[] = [];
      for (let i = 0; i < items.length; i += Number(size)) out.push(items.slice(i, i + Number(size)));
      return out;
    }),

    // sprig: regular expressions (Go RE2)
    regexFind: f([S, S], (re: string, s: string) => findAll(goRe(re), s, 1n)[0]?.[0] ?? ''),
    mustRegexFind: f([S, S], (re: string, s: string) => findAll(goRe(re), s, 1n)[0]?.[0] ?? ''),
    regexFindAll: f([S, S, I], (re: string, s: string, n: bigint) => stringList(findAll(goRe(re), s, n).map((m) => m[0]))),
    mustRegexFindAll: f([S, S, I], (re: string, s: string, n: bigint) => stringList(findAll(goRe(re), s, n).map((m) => m[0]))),
    regexReplaceAll: f([S, S, S], (re: string, s: string, repl: string) => replaceAll(goRe(re), s, (m) => expand(repl, m, goRe(re).namedGroups()))),
    mustRegexReplaceAll: f([S, S, S], (re: string, s: string, repl: string) => replaceAll(goRe(re), s, (m) => expand(repl, m, goRe(re).namedGroups()))),
    regexReplaceAllLiteral: f([S, S, S], (re: string, s: string, repl: string) => replaceAll(goRe(re), s, () => repl)),
    mustRegexReplaceAllLiteral: f([S, S, S], (re: string, s: string, repl: string) => replaceAll(goRe(re), s, () => repl)),
    regexSplit: f([S, S, I], (re: string, s: string, n: bigint) => stringList(regexSplit(goRe(re), s, n))),
    mustRegexSplit: f([S, S, I], (re: string, s: string, n: bigint) => stringList(regexSplit(goRe(re), s, n))),
    regexQuoteMeta: f([S], (s: string) => s.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&')),
    mustRegexMatch: f([S, S], (re: string, s: string) => goRe(re).test(s)),

    // sprig: semantic versions (Masterminds/semver constraints, as goss's semver-constraint matcher uses blang's)
    // not provided: see UNAVAILABLE and README.

    // goss's own (template.go funcMap): these win over sprig's.
    mkSlice: f([], (...a: GoValue[]) => a, A),
    readFile: f([S], (file: string) => readFileSync(path.resolve(ctx.baseDir, file), 'utf8').trim()),
    getEnv: f([S], (k: string, ...def: string[]) => (getenv(k) === '' && def.length ? def[0]! : getenv(k)), S),
    regexMatch: f([S, S], (re: string, s: string) => goRe(re).test(s)),
    toUpper: f([S], (s: string) => s.toUpperCase()),
    toLower: f([S], (s: string) => s.toLowerCase()),
    findStringSubmatch: f([S, S], (re: string, s: string) => {
      const r = goRe(re);
      const m = findAll(r, s, 1n)[0];
      const all = new Map<string, GoValue>();
      const named = new Map<string, GoValue>();
      const names = Object.entries(r.namedGroups());
      if (m) {
        for (let i = 0; i < m.length; i++) all.set(String(i), m[i] ?? '');
        for (const [name, i] of names) named.set(name, m[i] ?? '');
      }
      return named.size ? named : all;
    }),
  };
  return new Map(Object.entries(fns));
}

function safe(fn: () => string): string {
  try {
    return fn();
  } catch {
    return '';
  }
}

/** strings.Trim(s, cutset). */
function trimSet(s: string, cut: string): string {
  const set = new Set([...cut]);
  const cps = [...s];
  let a = 0;
  let b = cps.length;
  while (a < b && set.has(cps[a]!)) a++;
  while (b > a && set.has(cps[b - 1]!)) b--;
  return cps.slice(a, b).join('');
}

/** strings.SplitN (n < 0: all); an empty separator splits into UTF-8 sequences. */
function goSplit(s: string, sep: string, n: number): string[] {
  if (n === 0) return [];
  const parts = sep === '' ? [...s] : s.split(sep);
  if (n < 0 || parts.length <= n) return parts;
  return [...parts.slice(0, n - 1), parts.slice(n - 1).join(sep)];
}

function replaceAll(re: RE2JS, s: string, repl: (m: RegExpMatchArray) => string): string {
  let out = '';
  let last = 0;
  for (const m of re.matchAll(s)) {
    out += s.slice(last, m.index!) + repl(m);
    last = m.index! + m[0].length;
  }
  return out + s.slice(last);
}

function goSlice(l: GoValue[], ix: GoValue[]): GoValue {
  if (l.length === 0) return null;
  const start = ix.length > 0 ? Number(toInt64(ix[0]!)) : 0;
  const end = ix.length > 1 ? Number(toInt64(ix[1]!)) : l.length;
  if (start < 0 || end > l.length || start > end) throw new Error(`reflect: slice index out of range`);
  return l.slice(start, end);
}

function goClean(p: string): string {
  if (p === '') return '.';
  const abs = p.startsWith('/');
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length && out[out.length - 1] !== '..') out.pop();
      else if (!abs) out.push('..');
    } else out.push(part);
  }
  const s = (abs ? '/' : '') + out.join('/');
  return s === '' ? '.' : s;
}

function goBase(p: string): string {
  if (p === '') return '.';
  const t = p.replace(/\/+$/, '');
  if (t === '') return '/';
  return t.slice(t.lastIndexOf('/') + 1);
}

function goDir(p: string): string {
  return goClean(p.slice(0, p.lastIndexOf('/') + 1));
}

function goExt(p: string): string {
  for (let i = p.length - 1; i >= 0 && p[i] !== '/'; i--) if (p[i] === '.') return p.slice(i);
  return '';
}

function base32(buf: Buffer): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const b of buf) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  while (out.length % 8 !== 0) out += '=';
  return out;
}
