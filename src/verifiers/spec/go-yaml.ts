/**
 * A gossfile's scalars typed as goss's YAML decoder (gopkg.in/yaml.v3,
 * `resolve.go`) types them into `interface{}`, because goss's matchers see
 * those Go types: `3` is an int, `3.0` a float64, and `equal` never finds
 * them equal. The npm `yaml` library follows YAML 1.2 instead, which
 * differs exactly where it matters: yaml.v3 reads `0644` as the octal int
 * 420 (YAML 1.2: 644), `1_000` as 1000, `08` as the float64 8, and an
 * unquoted `2024-01-02` as a time.Time. So the loader resolves the source
 * text of every plain, untagged scalar here.
 *
 * A JSON gossfile is read by encoding/json instead: every number a float64
 * (`jsonScalar`).
 *
 * Integers beyond ±2^53 (yaml.v3: int64 or uint64) and timestamps are
 * refused (GoValueError): hallmark cannot compare the former exactly, and
 * no goss matcher takes a time.Time as text. Both are load errors, never
 * a pass.
 */
import { Float64 } from './go-values.js';

/** A scalar goss would read into a Go type hallmark does not model; the loader reports it with file:line. */
export class GoValueError extends Error {}

const MAPPED: Record<string, unknown> = {
  true: true,
  True: true,
  TRUE: true,
  false: false,
  False: false,
  FALSE: false,
  '': null,
  '~': null,
  null: null,
  Null: null,
  NULL: null,
  '.nan': new Float64(NaN),
  '.NaN': new Float64(NaN),
  '.NAN': new Float64(NaN),
  '.inf': new Float64(Infinity),
  '.Inf': new Float64(Infinity),
  '.INF': new Float64(Infinity),
  '+.inf': new Float64(Infinity),
  '+.Inf': new Float64(Infinity),
  '+.INF': new Float64(Infinity),
  '-.inf': new Float64(-Infinity),
  '-.Inf': new Float64(-Infinity),
  '-.INF': new Float64(-Infinity),
};

/** yaml.v3's yamlStyleFloat: the only float syntax it tries after the integers. */
const YAML_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;
/** strconv.ParseInt(s, 0, 64) syntax (underscores already removed): 0x, 0o, 0b, a leading 0 is octal. */
const GO_INT = /^([+-]?)(?:0[xX]([0-9a-fA-F]+)|0[oO]([0-7]+)|0[bB]([01]+)|(0[0-7]*)|([1-9][0-9]*))$/;
/** yaml.v3's timestamp formats (time.Parse layouts 2006-1-2T15:4:5.999999999Z07:00, 2006-1-2 15:4:5.999999999, 2006-1-2). */
const TIMESTAMP = /^(\d{4})-(\d{1,2})-(\d{1,2})(?:(?:[Tt](\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2}))|(?: (\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.\d+)?))?$/;

const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

function isTimestamp(text: string): boolean {
  const m = TIMESTAMP.exec(text);
  if (!m) return false;
  const [mo, d] = [Number(m[2]), Number(m[3])];
  const [h, mi, s] = [m[4] ?? m[7], m[5] ?? m[8], m[6] ?? m[9]].map((x) => Number(x ?? 0)) as [number, number, number];
  return mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h < 24 && mi < 60 && s < 60;
}

/** A Go integer as goss holds it: a JavaScript number when exact; beyond ±2^53 a GoValueError. */
function goInt(v: bigint, text: string, type: string): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new GoValueError(`${text} is the ${type} ${v} to goss; hallmark compares integers only within ±2^53 (9007199254740991): write a smaller number, or a float (${text}.0) if that is what you mean`);
  }
  return Number(v);
}

function parseGoInt(plain: string, text: string): number | undefined {
  const m = GO_INT.exec(plain);
  if (!m) return undefined;
  const [, sign, hex, oct, bin, oct0, dec] = m;
  const abs = hex !== undefined ? BigInt(`0x${hex}`) : oct !== undefined ? BigInt(`0o${oct}`) : bin !== undefined ? BigInt(`0b${bin}`) : oct0 !== undefined ? BigInt(`0o${oct0}`) : BigInt(dec!);
  const v = sign === '-' ? -abs : abs;
  if (v >= -INT64_MAX - 1n && v <= INT64_MAX) return goInt(v, text, 'int');
  // ParseUint takes no sign.
  if (sign === '' && v <= UINT64_MAX) return goInt(v, text, 'uint64');
  return undefined;
}

/**
 * yaml.v3's resolve() of a plain scalar without a tag: bool, null, int,
 * float64 (a Float64) or string; a timestamp is a GoValueError.
 */
export function resolvePlain(text: string): unknown {
  if (Object.prototype.hasOwnProperty.call(MAPPED, text)) return MAPPED[text];
  const c = text[0]!;
  if (c === '.') {
    // strconv.ParseFloat of the whole text; out of range is an error, so the text stays a string.
    if (!/^\.[0-9]+([eE][-+]?[0-9]+)?$/.test(text)) return text;
    const f = Number(text);
    return Number.isFinite(f) ? new Float64(f) : text;
  }
  if (!/[0-9+-]/.test(c)) return text;
  if (isTimestamp(text)) {
    throw new GoValueError(`the unquoted ${text} is a timestamp (time.Time) to goss, which no matcher compares as text (goss: a syntax error, or never equal): quote it`);
  }
  const plain = text.replaceAll('_', '');
  const i = parseGoInt(plain, text);
  if (i !== undefined) return i;
  if (YAML_FLOAT.test(plain)) {
    const f = Number(plain);
    if (Number.isFinite(f)) return new Float64(f);
  }
  return text;
}

/** A scalar with yaml.v3's `!!int` or `!!float` tag (`!!float 1` is the float64 1; `!!int 1.5` is an error in goss). */
export function resolveTagged(text: string, tag: 'int' | 'float'): unknown {
  const v = isTimestamp(text) ? text : resolvePlain(text);
  if (tag === 'int' && typeof v === 'number') return v;
  if (tag === 'float' && typeof v === 'number') return new Float64(v);
  if (tag === 'float' && v instanceof Float64) return v;
  throw new GoValueError(`cannot decode ${JSON.stringify(text)} as a !!${tag} (goss: yaml: unmarshal errors)`);
}

/** encoding/json into interface{}: every number a float64. */
export function jsonScalar(v: unknown): unknown {
  return typeof v === 'number' ? new Float64(v) : v;
}
