import type { ScalarTag, Tags } from 'yaml';

/**
 * Plain (unquoted) scalars as Ruby's YAML reads them (Psych's
 * ScalarScanner#tokenize, which is what Test Kitchen's YAML.safe_load uses):
 * YAML 1.1 truth words in any case (`yes`, `On`, `OFF`; but `y`/`n` stay
 * strings), `~`/`null`, integers with `_`/`,` separators, `0644` octal,
 * `0b`/`0x`, Psych's base-60 `1:30`, floats only with a dot (`1e3` is a
 * string), `.inf`/`.nan`, `:sym` as its name. Quoted and block scalars stay
 * strings, as everywhere. Dates and times, which Kitchen refuses to load, stay
 * strings. Checked against Psych itself: scripts/psych-oracle.rb.
 */
const ALPHA_LIKE = /^[^\d.:-]?[\p{L}_\s!@#$%^&*(){}<>|/\\~;=]+/u;
const FLOAT = /^(?:[-+]?([0-9][0-9_,]*)?\.[0-9]*([eE][-+][0-9]+)?)$/;
const INTEGER = /^(?:[-+]?0b[0-1_,]+|[-+]?0[0-7_,]+|[-+]?(?:0|[1-9](?:[0-9]|,[0-9]|_[0-9])*)|[-+]?0x[0-9a-fA-F_,]+)$/;
const BASE60_INT = /^[-+]?[0-9][0-9_]*(:[0-5]?[0-9]){1,2}$/;
const BASE60_FLOAT = /^[-+]?[0-9][0-9_]*(:[0-5]?[0-9]){1,2}\.[0-9_]*$/;

/** Ruby's String#to_i / #to_f on one base-60 part: leading number, underscores allowed. */
const partToNumber = (s: string, float: boolean) => {
  const m = (float ? /^[-+]?\d[\d_]*(?:\.[\d_]*)?/ : /^[-+]?\d[\d_]*/).exec(s);
  return m ? Number(m[0].replace(/_/g, '').replace(/\.$/, '')) : 0;
};

/** Ruby's Integer(): `0b`, `0x`, a leading `0` means octal. NaN when Ruby would raise. */
function rubyInteger(text: string): number {
  const m = /^([-+]?)(.*)$/.exec(text)!;
  const sign = m[1] === '-' ? -1 : 1;
  const rest = m[2]!;
  const [digits, base] = /^0b/i.test(rest) ? [rest.slice(2), 2] : /^0x/i.test(rest) ? [rest.slice(2), 16] : rest.length > 1 && rest[0] === '0' ? [rest.slice(1), 8] : [rest, 10];
  const valid = { 2: /^[01]+$/, 8: /^[0-7]+$/, 10: /^\d+$/, 16: /^[0-9a-fA-F]+$/ }[base]!;
  return valid.test(digits) ? sign * parseInt(digits, base) + 0 : NaN; // + 0: Ruby has no -0
}

export function psychScalar(s: string): unknown {
  if (s === '') return null;
  if (ALPHA_LIKE.test(s) || s.includes('\n')) {
    if (s.length > 5 || /^[^ytonf~]/i.test(s)) return s;
    if (s === '~' || /^null$/i.test(s)) return null;
    if (/^(yes|true|on)$/i.test(s)) return true;
    if (/^(no|false|off)$/i.test(s)) return false;
    return s;
  }
  if (/^\+?\.inf$/i.test(s)) return Infinity;
  if (/^-\.inf$/i.test(s)) return -Infinity;
  if (/^\.nan$/i.test(s)) return NaN;
  if (/^:./.test(s)) {
    const q = /^:(["'])(.*)\1/.exec(s);
    return q ? q[2]!.replace(/^:/, '') : s.slice(1);
  }
  for (const [re, float] of [[BASE60_INT, false], [BASE60_FLOAT, true]] as const) {
    if (re.test(s)) {
      const parts = s.split(':');
      return parts.reduce((sum, n, e) => sum + partToNumber(n, float) * 60 ** Math.abs(e - 2), 0);
    }
  }
  if (FLOAT.test(s)) return /^[-+]?\.$/.test(s) ? s : Number(s.replace(/[,_]|\.([Ee]|$)/g, '$1'));
  if (INTEGER.test(s)) {
    const n = rubyInteger(s.replace(/[,_]/g, ''));
    return Number.isNaN(n) ? s : n;
  }
  return s;
}

/** One tag that resolves every plain scalar the way Psych does. */
const psychPlain: ScalarTag = {
  tag: 'tag:hallmark.dev,2024:psych-plain',
  default: true,
  test: /[\s\S]*/,
  resolve: (s: string) => psychScalar(s) as never,
  identify: () => false,
};

/** `customTags` for parseDocument: the core schema's map, seq and str, then Psych's plain scalars. */
export function psychTags(tags: Tags): Tags {
  const keep = new Set(['tag:yaml.org,2002:map', 'tag:yaml.org,2002:seq', 'tag:yaml.org,2002:str']);
  return [...tags.filter((t) => typeof t !== 'string' && keep.has(t.tag)), psychPlain];
}
