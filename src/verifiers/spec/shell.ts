/**
 * How a probe receives values (see README.md, "How a probe receives values").
 *
 * A probe is shell code written by us; a value is anything that came from a
 * gossfile (a path, a name, a URL, a header, ...). The two never mix as text:
 * - every value is bound to a variable (`HM_V<n>`) in the script's data
 *   section, the only place a value is written into the script, quoted by
 *   the one POSIX quoter (`shQuote`, transports/ssh/quote.ts);
 * - a probe is an `Sh` fragment built with the `sh` tag; its interpolations
 *   can only be other fragments, finite numbers, or value references
 *   (`"$HM_V<n>"`), and only where the shell reads a whole word: a value
 *   interpolated inside quotes or arithmetic is refused when the script is
 *   built. A plain string cannot be interpolated (a type error, and a
 *   run-time error too).
 * So a value reaches the target's shell as the expansion of a double-quoted
 * variable: one word, never split, never globbed, never parsed as code.
 */
import { shQuote } from '../../transports/ssh/quote.js';

/** A fragment of shell code that hallmark wrote. Made only by `sh` (and the ValueTable). */
export interface Sh {
  readonly text: string;
}

const genuine = new WeakSet<Sh>();

function make(text: string): Sh {
  const s: Sh = Object.freeze({ text });
  genuine.add(s);
  return s;
}

/** What a `sh` template may interpolate. */
export type ShPart = Sh | number | readonly Sh[];

/** The empty fragment: a resource without a probe returns it. */
export const NOTHING: Sh = make('');

/**
 * Where an interpolation sits in the literal shell text before it: refused
 * inside '...', "...", `...`, after a backslash, and inside $((...)).
 */
function contextAt(text: string, state: { q: '' | "'" | '"' | '`'; arith: number; esc: boolean }): void {
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (state.esc) {
      state.esc = false;
      continue;
    }
    if (state.q === "'") {
      if (c === "'") state.q = '';
      continue;
    }
    if (c === '\\') {
      state.esc = true;
      continue;
    }
    if (state.q === '"' || state.q === '`') {
      if (c === state.q) state.q = '';
      continue;
    }
    if (c === "'" || c === '"' || c === '`') state.q = c;
    else if (c === '$' && text.startsWith('$((', i)) {
      state.arith++;
      i += 2;
    } else if (c === ')' && state.arith > 0 && text.startsWith('))', i)) {
      state.arith--;
      i += 1;
    }
  }
}

/**
 * Shell text written in a template literal: taken raw (as String.raw: `\n`
 * stays a backslash and an n, for printf), with `$\{` standing for `${`,
 * which JavaScript would read as an interpolation.
 */
function literal(raw: string): string {
  return raw.replace(/\$\\\{/g, '${');
}

/** Constant shell code (helpers, no interpolation): `code\`...\``. */
export function code(strings: TemplateStringsArray): string {
  return strings.raw.map(literal).join('');
}

/** Tagged template for probe code (literal text as in `code`). */
export function sh(strings: TemplateStringsArray, ...parts: ShPart[]): Sh {
  const state = { q: '' as '' | "'" | '"' | '`', arith: 0, esc: false };
  let out = '';
  strings.raw.map(literal).forEach((lit, i) => {
    if (/(^|[^A-Za-z0-9_])eval([^A-Za-z0-9_]|$)/.test(lit)) throw new Error(`sh: probe code must not use eval: ${JSON.stringify(lit)}`);
    out += lit;
    contextAt(lit, state);
    if (i >= parts.length) return;
    if (state.q || state.esc || state.arith > 0) {
      throw new Error(`sh: interpolation #${i} is inside ${state.q ? `${state.q}-quotes` : state.esc ? 'a backslash escape' : '$((...))'}: ${JSON.stringify(out.slice(-60))}`);
    }
    out += partText(parts[i]!);
  });
  return make(out);
}

function partText(p: ShPart): string {
  if (typeof p === 'number') {
    const s = String(p);
    if (!Number.isFinite(p) || /e/i.test(s)) throw new Error(`sh: number ${s} cannot be written as a shell word`);
    return s;
  }
  if (Array.isArray(p)) return (p as readonly Sh[]).map(partText).join(' ');
  if (!genuine.has(p as Sh)) throw new Error(`sh: only Sh fragments, numbers and values can be interpolated, found ${JSON.stringify(p)}`);
  return (p as Sh).text;
}

/** Joins fragments with a separator (default: a newline). */
export function joinSh(parts: readonly Sh[], sep = '\n'): Sh {
  return make(
    parts
      .map((p) => partText(p))
      .filter((t) => t !== '')
      .join(sep),
  );
}

/** A probe id or other word of ours (letters, digits, `_`); never a value. */
export function word(w: string): Sh {
  if (!/^[A-Za-z0-9_]+$/.test(w)) throw new Error(`sh: ${JSON.stringify(w)} is not a plain word`);
  return make(w);
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why a value cannot be carried by the script, or undefined when it can. */
export function unsendable(value: string): string | undefined {
  if (value.includes('\0')) return 'contains a NUL character, which no shell value can hold';
  if (LONE_SURROGATE.test(value)) return 'contains a lone UTF-16 surrogate (not valid Unicode text)';
  return undefined;
}

/**
 * The values of one script. `bind` returns the reference a probe
 * interpolates; `section` is the script's data section. Equal values share
 * a variable.
 */
export class ValueTable {
  private readonly names = new Map<string, string>();

  bind(value: string): Sh {
    const bad = unsendable(value);
    if (bad) throw new Error(`a value ${bad}: ${JSON.stringify(value.slice(0, 80))}`);
    let name = this.names.get(value);
    if (!name) this.names.set(value, (name = `HM_V${this.names.size}`));
    return make(`"$${name}"`);
  }

  /** `HM_V0='...'` lines: the only place values are written into the script. */
  section(): string {
    return [...this.names].map(([value, name]) => `${name}=${shQuote(value)}`).join('\n');
  }

  get size(): number {
    return this.names.size;
  }
}

/** What a resource's probe gets besides its ResourceSpec. */
export interface ProbeContext {
  /** The probe id (`r3`): the first argument of every helper call. */
  id: Sh;
  /** Binds a gossfile value into the data section; returns `"$HM_V<n>"`. */
  val(value: string): Sh;
}
