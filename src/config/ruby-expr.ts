/**
 * The Ruby that real kitchen.yml files put in `<%= %>` to read the
 * environment, evaluated with Ruby's semantics and nothing more:
 *
 *   ENV['X']   ENV["X"]   ENV.fetch('X')   ENV.fetch('X', 'd')   ENV.fetch('X') { 'd' }   ENV.key?('X')
 *   a || b   a && b   !a   a == b   a != b   c ? a : b   (a)
 *   'single'  "double #{interpolated}"  123  nil  true  false
 *   .to_s  .to_i  .strip  .downcase  .upcase  .chomp  .empty?  .nil?
 *
 * Ruby's truth: only nil and false are false (an empty string is true).
 * `ENV['X']` for an unset variable is nil; `ENV.fetch('X')` raises KeyError;
 * a string method on nil raises NoMethodError. Anything else is not parsed:
 * hallmark never runs Ruby, so it cannot keep a value it cannot compute.
 */

export type RubyValue =
  | { t: 'nil'; /** Set when the nil is an unset ENV variable. */ env?: string }
  | { t: 'str'; v: string }
  | { t: 'int'; v: number }
  | { t: 'bool'; v: boolean };

/** The expression is not in the subset (its text is Ruby that hallmark does not run). */
export class RubySyntaxError extends Error {}
/** Ruby would raise this at run time (KeyError, NoMethodError). */
export class RubyRaise extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

type Tok = { k: 'str'; parts: (string | Node)[] } | { k: 'int'; v: number } | { k: 'id'; v: string } | { k: 'op'; v: string };

type Node =
  | { n: 'lit'; v: RubyValue }
  | { n: 'str'; parts: (string | Node)[] }
  | { n: 'env'; key: Node }
  | { n: 'fetch'; key: Node; fallback?: Node }
  | { n: 'has'; key: Node }
  | { n: 'call'; recv: Node; name: string }
  | { n: 'not'; a: Node }
  | { n: 'bin'; op: '||' | '&&' | '==' | '!='; a: Node; b: Node }
  | { n: 'if'; c: Node; a: Node; b: Node };

const METHODS = new Set(['to_s', 'to_i', 'strip', 'downcase', 'upcase', 'chomp', 'empty?', 'nil?']);
const OPS = ['||', '&&', '==', '!=', '!', '?', ':', '(', ')', '[', ']', '{', '}', ',', '.'];

function unescapeDouble(c: string): string {
  const map: Record<string, string> = { n: '\n', t: '\t', s: ' ', r: '\r', e: '\x1b', '0': '\0', a: '\x07', b: '\b', f: '\f', v: '\v' };
  return map[c] ?? c;
}

function tokenize(src: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === "'") {
      let s = '';
      i++;
      for (;;) {
        if (i >= src.length) throw new RubySyntaxError('unterminated string');
        const d = src[i]!;
        if (d === "'") break;
        if (d === '\\' && (src[i + 1] === "'" || src[i + 1] === '\\')) {
          s += src[i + 1];
          i += 2;
          continue;
        }
        s += d;
        i++;
      }
      i++;
      toks.push({ k: 'str', parts: [s] });
      continue;
    }
    if (c === '"') {
      const parts: (string | Node)[] = [];
      let s = '';
      i++;
      for (;;) {
        if (i >= src.length) throw new RubySyntaxError('unterminated string');
        const d = src[i]!;
        if (d === '"') break;
        if (d === '\\') {
          s += unescapeDouble(src[i + 1] ?? '');
          i += 2;
          continue;
        }
        if (d === '#' && src[i + 1] === '{') {
          // The interpolated expression ends at the matching brace (strings inside it may hold braces).
          let depth = 1;
          let j = i + 2;
          let quote: string | undefined;
          for (; j < src.length && depth > 0; j++) {
            const e = src[j]!;
            if (quote) {
              if (e === '\\') j++;
              else if (e === quote) quote = undefined;
            } else if (e === "'" || e === '"') quote = e;
            else if (e === '{') depth++;
            else if (e === '}') depth--;
          }
          if (depth > 0) throw new RubySyntaxError('unterminated #{');
          if (s) parts.push(s);
          s = '';
          parts.push(parseRuby(src.slice(i + 2, j - 1)));
          i = j;
          continue;
        }
        s += d;
        i++;
      }
      i++;
      if (s || parts.length === 0) parts.push(s);
      toks.push({ k: 'str', parts });
      continue;
    }
    if (/\d/.test(c)) {
      const m = /^\d[\d_]*/.exec(src.slice(i))![0];
      if (/^[.\w]/.test(src.slice(i + m.length)) && !/^\.[a-z_]/.test(src.slice(i + m.length))) throw new RubySyntaxError(`number ${m}${src[i + m.length]}`);
      toks.push({ k: 'int', v: Number(m.replace(/_/g, '')) });
      i += m.length;
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      let m = /^[A-Za-z_]\w*/.exec(src.slice(i))![0];
      const prev = toks[toks.length - 1];
      // `empty?`, `key?`: a method name may end in `?` (only after a `.`, where it cannot be a ternary).
      if (prev?.k === 'op' && prev.v === '.' && src[i + m.length] === '?') m += '?';
      toks.push({ k: 'id', v: m });
      i += m.length;
      continue;
    }
    const op = OPS.find((o) => src.startsWith(o, i));
    if (!op) throw new RubySyntaxError(`unexpected "${c}"`);
    toks.push({ k: 'op', v: op });
    i += op.length;
  }
  return toks;
}

class Parser {
  private i = 0;
  constructor(private readonly toks: Tok[]) {}

  private peek(): Tok | undefined {
    return this.toks[this.i];
  }
  private isOp(v: string): boolean {
    const t = this.peek();
    return t?.k === 'op' && t.v === v;
  }
  private expectOp(v: string): void {
    if (!this.isOp(v)) throw new RubySyntaxError(`expected "${v}"`);
    this.i++;
  }

  parse(): Node {
    const e = this.ternary();
    if (this.i < this.toks.length) throw new RubySyntaxError('unexpected text after the expression');
    return e;
  }

  private ternary(): Node {
    const c = this.or();
    if (!this.isOp('?')) return c;
    this.i++;
    const a = this.ternary();
    this.expectOp(':');
    return { n: 'if', c, a, b: this.ternary() };
  }
  private or(): Node {
    let a = this.and();
    while (this.isOp('||')) {
      this.i++;
      a = { n: 'bin', op: '||', a, b: this.and() };
    }
    return a;
  }
  private and(): Node {
    let a = this.eq();
    while (this.isOp('&&')) {
      this.i++;
      a = { n: 'bin', op: '&&', a, b: this.eq() };
    }
    return a;
  }
  private eq(): Node {
    const a = this.unary();
    for (const op of ['==', '!='] as const) {
      if (this.isOp(op)) {
        this.i++;
        return { n: 'bin', op, a, b: this.unary() };
      }
    }
    return a;
  }
  private unary(): Node {
    if (this.isOp('!')) {
      this.i++;
      return { n: 'not', a: this.unary() };
    }
    return this.postfix();
  }
  private postfix(): Node {
    let e = this.primary();
    while (this.isOp('.')) {
      this.i++;
      const t = this.peek();
      if (t?.k !== 'id' || !METHODS.has(t.v)) throw new RubySyntaxError(`method ${t?.k === 'id' ? t.v : '?'}`);
      this.i++;
      if (this.isOp('(')) {
        this.i++;
        this.expectOp(')');
      }
      e = { n: 'call', recv: e, name: t.v };
    }
    return e;
  }
  private primary(): Node {
    const t = this.peek();
    if (!t) throw new RubySyntaxError('missing value');
    this.i++;
    if (t.k === 'str') return t.parts.length === 1 && typeof t.parts[0] === 'string' ? { n: 'lit', v: { t: 'str', v: t.parts[0] } } : { n: 'str', parts: t.parts };
    if (t.k === 'int') return { n: 'lit', v: { t: 'int', v: t.v } };
    if (t.k === 'op' && t.v === '(') {
      const e = this.ternary();
      this.expectOp(')');
      return e;
    }
    if (t.k !== 'id') throw new RubySyntaxError(`unexpected "${t.v}"`);
    if (t.v === 'nil') return { n: 'lit', v: { t: 'nil' } };
    if (t.v === 'true' || t.v === 'false') return { n: 'lit', v: { t: 'bool', v: t.v === 'true' } };
    if (t.v !== 'ENV') throw new RubySyntaxError(t.v);
    if (this.isOp('[')) {
      this.i++;
      const key = this.ternary();
      this.expectOp(']');
      return { n: 'env', key };
    }
    this.expectOp('.');
    const m = this.peek();
    this.i++;
    if (m?.k === 'id' && (m.v === 'key?' || m.v === 'has_key?' || m.v === 'include?')) {
      this.expectOp('(');
      const key = this.ternary();
      this.expectOp(')');
      return { n: 'has', key };
    }
    if (m?.k !== 'id' || m.v !== 'fetch') throw new RubySyntaxError(`ENV.${m?.k === 'id' ? m.v : '?'}`);
    this.expectOp('(');
    const key = this.ternary();
    let fallback: Node | undefined;
    if (this.isOp(',')) {
      this.i++;
      fallback = this.ternary();
    }
    this.expectOp(')');
    if (this.isOp('{')) {
      if (fallback) throw new RubySyntaxError('both a default and a block');
      this.i++;
      fallback = this.ternary();
      this.expectOp('}');
    }
    return fallback ? { n: 'fetch', key, fallback } : { n: 'fetch', key };
  }
}

/** Parses one expression of the subset; throws RubySyntaxError for anything else. */
export function parseRuby(src: string): Node {
  return new Parser(tokenize(src)).parse();
}

export type RubyExpr = Node;

export interface EvalContext {
  env: Record<string, string | undefined>;
  /** Unset variables whose nil became text without an explicit `.to_s` (in the output or in "#{}"). */
  unsetUsed: Set<string>;
}

const truthy = (v: RubyValue) => !(v.t === 'nil' || (v.t === 'bool' && !v.v));

function inspect(v: RubyValue): string {
  return v.t === 'nil' ? 'nil' : v.t === 'str' ? JSON.stringify(v.v) : String(v.v);
}

/** Ruby's `to_s`, noting an unset variable that turns into "". */
export function rubyToS(v: RubyValue, ctx: EvalContext): string {
  if (v.t === 'nil') {
    if (v.env !== undefined) ctx.unsetUsed.add(v.env);
    return '';
  }
  return String(v.v);
}

function keyOf(node: Node, ctx: EvalContext): string {
  const k = evalRuby(node, ctx);
  if (k.t !== 'str') throw new RubyRaise(`TypeError: no implicit conversion of ${k.t === 'nil' ? 'nil' : k.t === 'int' ? 'Integer' : k.v} into String`);
  return k.v;
}

/** A method call. An explicit `.to_s`/`.to_i` on an unset variable is the writer's choice of "" or 0: no note. */
function call(recv: RubyValue, name: string, ctx: EvalContext): RubyValue {
  if (name === 'to_s') return { t: 'str', v: recv.t === 'nil' ? '' : rubyToS(recv, ctx) };
  if (name === 'nil?') return { t: 'bool', v: recv.t === 'nil' };
  if (name === 'to_i') {
    if (recv.t === 'int') return recv;
    if (recv.t === 'nil') return { t: 'int', v: 0 };
    if (recv.t === 'str') {
      // String#to_i: leading whitespace, an optional sign, digits (underscores between them); otherwise 0.
      const m = /^\s*([+-]?\d+(?:_\d+)*)/.exec(recv.v);
      return { t: 'int', v: m ? Number(m[1]!.replace(/_/g, '')) : 0 };
    }
  }
  if (recv.t === 'str') {
    const s = recv.v;
    switch (name) {
      case 'strip':
        return { t: 'str', v: s.replace(/^[\s\0]+|[\s\0]+$/g, '') };
      case 'downcase':
        return { t: 'str', v: s.toLowerCase() };
      case 'upcase':
        return { t: 'str', v: s.toUpperCase() };
      case 'chomp':
        return { t: 'str', v: s.replace(/\r?\n$|\r$/, '') };
      case 'empty?':
        return { t: 'bool', v: s.length === 0 };
    }
  }
  const cls = recv.t === 'nil' ? 'nil' : recv.t === 'int' ? 'an instance of Integer' : recv.v ? 'true' : 'false';
  throw new RubyRaise(
    `NoMethodError: undefined method '${name}' for ${cls}`,
    recv.t === 'nil' && recv.env !== undefined ? `${recv.env} is not set; set it, or give a default: (ENV['${recv.env}'] || '').${name}` : undefined,
  );
}

export function evalRuby(node: Node, ctx: EvalContext): RubyValue {
  switch (node.n) {
    case 'lit':
      return node.v;
    case 'str':
      return { t: 'str', v: node.parts.map((p) => (typeof p === 'string' ? p : rubyToS(evalRuby(p, ctx), ctx))).join('') };
    case 'env': {
      const name = keyOf(node.key, ctx);
      const v = ctx.env[name];
      return v === undefined ? { t: 'nil', env: name } : { t: 'str', v };
    }
    case 'has':
      return { t: 'bool', v: ctx.env[keyOf(node.key, ctx)] !== undefined };
    case 'fetch': {
      const name = keyOf(node.key, ctx);
      const v = ctx.env[name];
      if (v !== undefined) return { t: 'str', v };
      if (node.fallback) return evalRuby(node.fallback, ctx);
      throw new RubyRaise(`KeyError: key not found: ${JSON.stringify(name)}`, `set ${name}, or give a default: <%= ENV.fetch('${name}', 'value') %>`);
    }
    case 'call':
      return call(evalRuby(node.recv, ctx), node.name, ctx);
    case 'not':
      return { t: 'bool', v: !truthy(evalRuby(node.a, ctx)) };
    case 'if':
      return truthy(evalRuby(node.c, ctx)) ? evalRuby(node.a, ctx) : evalRuby(node.b, ctx);
    case 'bin': {
      const a = evalRuby(node.a, ctx);
      if (node.op === '||') return truthy(a) ? a : evalRuby(node.b, ctx);
      if (node.op === '&&') return truthy(a) ? evalRuby(node.b, ctx) : a;
      const b = evalRuby(node.b, ctx);
      const same = inspect(a) === inspect(b) && a.t === b.t;
      return { t: 'bool', v: node.op === '==' ? same : !same };
    }
  }
}
