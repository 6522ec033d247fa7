/**
 * Go's fmt.Sprint, Sprintln and Sprintf for the template builtins print,
 * println and printf: verbs v, s, q, d, t, f, F, e, E, g, G, x, X, o, b, c
 * and %%, with flags `-+# 0`, width and precision (also `*`). A verb that
 * does not fit its operand prints as Go prints it: `%!d(string=x)`.
 */
import { formatFloat, formatValue, typeName, type GoValue } from './values.js';

/** fmt.Sprint: a space between operands when neither is a string. */
export function sprint(args: GoValue[]): string {
  let out = '';
  args.forEach((a, i) => {
    if (i > 0 && typeof a !== 'string' && typeof args[i - 1] !== 'string') out += ' ';
    out += formatValue(a);
  });
  return out;
}

export function sprintln(args: GoValue[]): string {
  return `${args.map((a) => formatValue(a)).join(' ')}\n`;
}

/** Go's %q: a double-quoted Go string literal (non-printable runes escaped). */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\x07') out += '\\a';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    else if (ch === '\v') out += '\\v';
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else if (/[\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Zl}\p{Zp}]/u.test(ch) || c === 0xfffd) out += c > 0xffff ? `\\U${c.toString(16).padStart(8, '0')}` : `\\u${c.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

interface Spec {
  minus: boolean;
  plus: boolean;
  sharp: boolean;
  space: boolean;
  zero: boolean;
  width?: number;
  prec?: number;
}

function pad(s: string, f: Spec, numeric: boolean): string {
  if (f.width === undefined || s.length >= f.width) return s;
  if (f.minus) return s.padEnd(f.width);
  if (f.zero && numeric) {
    const sign = /^[+\- ]/.test(s) ? s[0]! : '';
    return sign + s.slice(sign.length).padStart(f.width - sign.length, '0');
  }
  return s.padStart(f.width);
}

function signed(s: string, negative: boolean, f: Spec): string {
  return (negative ? '-' : f.plus ? '+' : f.space ? ' ' : '') + s;
}

function formatInt(n: bigint, verb: string, f: Spec): string {
  const neg = n < 0n;
  const abs = neg ? -n : n;
  const base = verb === 'x' || verb === 'X' ? 16 : verb === 'o' ? 8 : verb === 'b' ? 2 : 10;
  let digits = abs.toString(base);
  if (verb === 'X') digits = digits.toUpperCase();
  if (f.prec !== undefined) digits = f.prec === 0 && abs === 0n ? '' : digits.padStart(f.prec, '0');
  if (f.sharp) digits = (verb === 'x' ? '0x' : verb === 'X' ? '0X' : verb === 'o' && !digits.startsWith('0') ? '0' : verb === 'b' ? '0b' : '') + digits;
  return signed(digits, neg, f);
}

function formatFloatVerb(x: number, verb: string, f: Spec): string {
  if (!Number.isFinite(x)) return signed(Number.isNaN(x) ? 'NaN' : 'Inf', x < 0, f.plus || Number.isNaN(x) ? f : { ...f, plus: true });
  const neg = x < 0 || Object.is(x, -0);
  const a = Math.abs(x);
  let s: string;
  const expo = (t: string) => t.replace(/e([+-])(\d)$/, 'e$10$2');
  switch (verb) {
    case 'f':
    case 'F':
      s = a.toFixed(f.prec ?? 6);
      break;
    case 'e':
    case 'E':
      s = expo(a.toExponential(f.prec ?? 6));
      break;
    default: {
      // %g / %v: shortest without a precision, else that many significant digits.
      if (f.prec === undefined) s = formatFloat(a);
      else {
        const p = f.prec === 0 ? 1 : f.prec;
        const exp = Math.floor(Math.log10(a || 1));
        s = exp < -4 || exp >= p ? expo(a.toExponential(p - 1)).replace(/\.?0+e/, 'e') : a.toPrecision(p).replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '');
      }
    }
  }
  if (verb === 'E' || verb === 'G') s = s.toUpperCase();
  return signed(s, neg, f);
}

function bad(verb: string, v: GoValue): string {
  return `%!${verb}(${typeName(v)}=${formatValue(v)})`;
}

function formatOne(verb: string, v: GoValue, f: Spec): string {
  const numeric = typeof v === 'bigint' || typeof v === 'number';
  let s: string;
  switch (verb) {
    case 'v':
      s = typeof v === 'number' ? formatFloatVerb(v, 'g', f) : typeof v === 'bigint' ? formatInt(v, 'd', f) : formatValue(v);
      break;
    case 's':
      if (typeof v !== 'string' && (typeof v !== 'object' || v === null)) return pad(bad(verb, v), f, false);
      s = formatValue(v);
      if (f.prec !== undefined) s = [...s].slice(0, f.prec).join('');
      break;
    case 'q':
      if (typeof v === 'string') s = goQuote(v);
      else if (typeof v === 'bigint') s = `'${String.fromCodePoint(Number(v))}'`;
      else return bad(verb, v);
      break;
    case 't':
      if (typeof v !== 'boolean') return bad(verb, v);
      s = String(v);
      break;
    case 'd':
    case 'o':
    case 'b':
      if (typeof v !== 'bigint') return bad(verb, v);
      s = formatInt(v, verb, f);
      break;
    case 'x':
    case 'X':
      if (typeof v === 'bigint') s = formatInt(v, verb, f);
      else if (typeof v === 'string') s = (f.sharp ? (verb === 'x' ? '0x' : '0X') : '') + Buffer.from(v, 'utf8').toString('hex')[verb === 'X' ? 'toUpperCase' : 'toLowerCase']();
      else return bad(verb, v);
      break;
    case 'c':
      if (typeof v !== 'bigint') return bad(verb, v);
      s = String.fromCodePoint(Number(v));
      break;
    case 'f':
    case 'F':
    case 'e':
    case 'E':
    case 'g':
    case 'G':
      if (typeof v !== 'number') return bad(verb, v);
      s = formatFloatVerb(v, verb, f);
      break;
    default:
      return `%!${verb}(${typeName(v)}=${formatValue(v)})`;
  }
  return pad(s, f, numeric);
}

export function sprintf(format: string, args: GoValue[]): string {
  let out = '';
  let argi = 0;
  let i = 0;
  while (i < format.length) {
    const c = format[i]!;
    if (c !== '%') {
      out += c;
      i++;
      continue;
    }
    i++;
    const f: Spec = { minus: false, plus: false, sharp: false, space: false, zero: false };
    for (; i < format.length && '-+# 0'.includes(format[i]!); i++) {
      const fl = format[i]!;
      if (fl === '-') f.minus = true;
      else if (fl === '+') f.plus = true;
      else if (fl === '#') f.sharp = true;
      else if (fl === ' ') f.space = true;
      else f.zero = !f.minus;
    }
    const num = (): number | undefined => {
      if (format[i] === '*') {
        i++;
        const a = args[argi++];
        return typeof a === 'bigint' ? Number(a) : undefined;
      }
      const m = /^\d+/.exec(format.slice(i));
      if (!m) return undefined;
      i += m[0].length;
      return Number(m[0]);
    };
    f.width = num();
    if (format[i] === '.') {
      i++;
      f.prec = num() ?? 0;
    }
    const verb = format[i++];
    if (verb === undefined) {
      out += '%!(NOVERB)';
      break;
    }
    if (verb === '%') {
      out += '%';
      continue;
    }
    if (argi >= args.length) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    out += formatOne(verb, args[argi++]!, f);
  }
  if (argi < args.length) out += `%!(EXTRA ${args.slice(argi).map((a) => `${typeName(a)}=${formatValue(a)}`).join(', ')})`;
  return out;
}
