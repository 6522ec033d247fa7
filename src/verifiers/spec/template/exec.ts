/**
 * Executes a parsed template as Go's text/template does (`exec.go`), with
 * goss's option `missingkey=error`: a missing map key (`.Vars.nope`,
 * `.Env.UNSET`) is an error, never an empty string. Functions are called
 * with Go's argument rules: a string parameter takes only a string, an int
 * parameter only an integer, a constant becomes an int or a float64 as Go's
 * ideal constants do, and a function that fails stops the template.
 */
import { TemplateError } from './lex.js';
import type { Arg, Command, Node, Parsed, Pipe, RangeNode } from './parse.js';
import { formatValue, STRING_TYPED, TmplVars, truth, typeName, type GoValue } from './values.js';

export type ParamType = 'any' | 'string' | 'int' | 'float' | 'bool' | 'map';

export interface GoFunc {
  params: ParamType[];
  /** The type of `...rest` parameters, if the function is variadic. */
  variadic?: ParamType;
  /** Throws to fail (Go's error result, or a panic the template package recovers). */
  fn: (...args: never[]) => GoValue;
}

export type FuncMap = Map<string, GoFunc>;

/** A lazily evaluated argument of `and`/`or`. */
type Lazy = () => GoValue;

const MAX_DEPTH = 10000;

class Break {}
class Continue {}

const GO_TYPE: Record<ParamType, string> = { any: 'interface {}', string: 'string', int: 'int', float: 'float64', bool: 'bool', map: 'map[string]interface {}' };

export class Executor {
  private out: string[] = [];
  private vars: { name: string; value: GoValue }[] = [];
  private depth = 0;

  constructor(
    private readonly parsed: Parsed,
    private readonly funcs: FuncMap,
  ) {}

  run(data: GoValue): string {
    this.vars = [{ name: '$', value: data }];
    this.walkList(this.parsed.root, data);
    return this.out.join('');
  }

  private walkList(list: Node[], dot: GoValue): void {
    for (const n of list) this.walk(n, dot);
  }

  private walk(n: Node, dot: GoValue): void {
    switch (n.k) {
      case 'text':
        this.out.push(n.text);
        return;
      case 'action': {
        const v = this.pipeline(n.pipe, dot);
        if (n.pipe.decl.length === 0) this.out.push(this.printable(v, n.pos));
        return;
      }
      case 'if':
      case 'with': {
        const mark = this.vars.length;
        const v = this.pipeline(n.pipe, dot);
        if (truth(v)) this.walkList(n.list, n.k === 'with' ? v : dot);
        else if (n.elseList) this.walkList(n.elseList, dot);
        this.vars.length = mark;
        return;
      }
      case 'range':
        return this.range(n, dot);
      case 'template': {
        const def = this.parsed.defs.get(n.name);
        if (!def) throw new TemplateError(`no such template ${JSON.stringify(n.name)}`, n.pos);
        if (++this.depth > MAX_DEPTH) throw new TemplateError('exceeded maximum template depth', n.pos);
        const saved = this.vars;
        const d = n.pipe ? this.pipeline(n.pipe, dot) : null;
        this.vars = [{ name: '$', value: d }];
        this.walkList(def, d);
        this.vars = saved;
        this.depth--;
        return;
      }
      case 'break':
        throw new Break();
      case 'continue':
        throw new Continue();
    }
  }

  private range(n: RangeNode, dot: GoValue): void {
    const mark = this.vars.length;
    const v = this.pipeline(n.pipe, dot);
    // The pipeline declared its variables with the whole value; range sets them per element.
    this.vars.length = mark;
    const items: [GoValue, GoValue][] = [];
    if (v === null) {
      // Go: an invalid value (nil) ranges over nothing.
    } else if (Array.isArray(v)) v.forEach((x, i) => items.push([BigInt(i), x]));
    else if (v instanceof Map) for (const k of [...v.keys()].sort()) items.push([k, v.get(k)!]);
    else if (typeof v === 'bigint') for (let i = 0n; i < v; i++) items.push([i, i]);
    else throw new TemplateError(`range can't iterate over ${formatValue(v)}`, n.pos);
    if (items.length === 0) {
      if (n.elseList) this.walkList(n.elseList, dot);
      return;
    }
    for (const [k, x] of items) {
      const m = this.vars.length;
      if (n.pipe.decl.length === 1) this.setVar(n.pipe.decl[0]!, typeof v === 'bigint' ? k : x, n.pipe.isAssign);
      else if (n.pipe.decl.length === 2) {
        if (typeof v === 'bigint') throw new TemplateError("can't use two variables to range over an integer", n.pos);
        this.setVar(n.pipe.decl[0]!, k, n.pipe.isAssign);
        this.setVar(n.pipe.decl[1]!, x, n.pipe.isAssign);
      }
      try {
        this.walkList(n.list, x);
      } catch (e) {
        if (e instanceof Break) {
          this.vars.length = m;
          break;
        }
        if (!(e instanceof Continue)) throw e;
      }
      this.vars.length = m;
    }
    this.vars.length = mark;
  }

  private setVar(name: string, value: GoValue, assign: boolean): void {
    if (!assign) {
      this.vars.push({ name, value });
      return;
    }
    for (let i = this.vars.length - 1; i >= 0; i--) {
      if (this.vars[i]!.name === name) {
        this.vars[i]!.value = value;
        return;
      }
    }
    throw new Error(`undefined variable: ${name}`);
  }

  private printable(v: GoValue, pos: number): string {
    if (v instanceof TmplVars) throw new TemplateError(`can't print ${typeName(v)}`, pos);
    return formatValue(v, true);
  }

  private pipeline(p: Pipe, dot: GoValue): GoValue {
    let value: GoValue | undefined;
    for (const c of p.cmds) value = this.command(c, dot, value);
    for (const d of p.decl) this.setVar(d, value!, p.isAssign);
    return value!;
  }

  private command(c: Command, dot: GoValue, final: GoValue | undefined): GoValue {
    const first = c.args[0]!;
    switch (first.k) {
      case 'field':
        return this.fieldChain(dot, first.idents, first.pos, c.args.length > 1 || final !== undefined);
      case 'chain':
        return this.fieldChain(this.arg(first.node, dot), first.fields, first.pos, c.args.length > 1 || final !== undefined);
      case 'identifier':
        return this.call(first.name, c.args.slice(1), dot, final, first.pos);
      case 'variable':
        return this.variable(first.idents, first.pos);
      case 'pipe':
        return this.pipeline(first.pipe, dot);
      default:
        if (c.args.length > 1 || final !== undefined) throw new TemplateError(`can't give argument to non-function ${describeArg(first)}`, first.pos);
        return first.k === 'dot' ? dot : this.constant(first, 'any');
    }
  }

  private variable(idents: string[], pos: number): GoValue {
    const [name, ...fields] = idents;
    const v = [...this.vars].reverse().find((x) => x.name === name);
    if (!v) throw new TemplateError(`undefined variable: ${name}`, pos);
    return fields.length ? this.fieldChain(v.value, fields, pos, false) : v.value;
  }

  private fieldChain(receiver: GoValue, idents: string[], pos: number, hasArgs: boolean): GoValue {
    let v = receiver;
    idents.forEach((name, i) => {
      v = this.field(v, name, pos, hasArgs && i === idents.length - 1);
    });
    return v;
  }

  private field(receiver: GoValue, name: string, pos: number, hasArgs: boolean): GoValue {
    const at = `<.${name}>`;
    if (receiver instanceof TmplVars) {
      if (name === 'Vars') return receiver.vars;
      if (name === 'Env') {
        if (hasArgs) throw new TemplateError(`executing at ${at}: wrong number of args for Env: want 0 got 1`, pos);
        return receiver.env();
      }
      throw new TemplateError(`executing at ${at}: can't evaluate field ${name} in type *goss.TmplVars`, pos);
    }
    if (receiver instanceof Map) {
      if (hasArgs) throw new TemplateError(`executing at ${at}: ${name} is not a method but has arguments`, pos);
      if (!receiver.has(name)) throw new TemplateError(`executing at ${at}: map has no entry for key ${JSON.stringify(name)}`, pos);
      return receiver.get(name)!;
    }
    if (receiver === null) throw new TemplateError(`executing at ${at}: nil data; no entry for key ${JSON.stringify(name)}`, pos);
    throw new TemplateError(`executing at ${at}: can't evaluate field ${name} in type ${typeName(receiver)}`, pos);
  }

  /** An argument's value, untyped (as for an `interface{}` parameter). */
  private arg(a: Arg, dot: GoValue): GoValue {
    switch (a.k) {
      case 'dot':
        return dot;
      case 'field':
        return this.fieldChain(dot, a.idents, a.pos, false);
      case 'variable':
        return this.variable(a.idents, a.pos);
      case 'pipe':
        return this.pipeline(a.pipe, dot);
      case 'chain':
        return this.fieldChain(this.arg(a.node, dot), a.fields, a.pos, false);
      case 'identifier':
        return this.call(a.name, [], dot, undefined, a.pos);
      default:
        return this.constant(a, 'any');
    }
  }

  /** A literal for a parameter of type `t` (Go's evalArg on constant nodes). */
  private constant(a: Arg, t: ParamType): GoValue {
    const bad = (): never => {
      if (t === 'map') throw new TemplateError(`can't handle ${describeArg(a)} for arg of type ${GO_TYPE[t]}`, a.pos);
      throw new TemplateError(`expected ${({ string: 'string', int: 'integer', float: 'float', bool: 'bool' } as Record<string, string>)[t]}; found ${describeArg(a)}`, a.pos);
    };
    switch (a.k) {
      case 'nil':
        if (t === 'any' || t === 'map') return t === 'map' ? new Map() : null;
        throw new TemplateError(`cannot assign nil to ${GO_TYPE[t]}`, a.pos);
      case 'bool':
        return t === 'any' || t === 'bool' ? a.v : bad();
      case 'string':
        return t === 'any' || t === 'string' ? a.v : bad();
      case 'number':
        if (t === 'int') return a.int !== undefined ? a.int : bad();
        if (t === 'float') return a.float!;
        if (t !== 'any') return bad();
        if (a.isFloat) return a.float!;
        if (a.int === undefined) throw new TemplateError(`${a.text} overflows int`, a.pos);
        return a.int;
      default:
        throw new Error(`not a constant: ${a.k}`);
    }
  }

  /** A computed value passed to a parameter of type `t` (Go's validateType). */
  private typed(v: GoValue, t: ParamType, pos: number): GoValue {
    if (t === 'any') return v;
    if (v === null) {
      if (t === 'map') return new Map();
      throw new TemplateError(`invalid value; expected ${GO_TYPE[t]}`, pos);
    }
    const ok =
      (t === 'string' && typeof v === 'string') ||
      (t === 'int' && typeof v === 'bigint') ||
      (t === 'float' && typeof v === 'number') ||
      (t === 'bool' && typeof v === 'boolean') ||
      (t === 'map' && v instanceof Map && !STRING_TYPED.has(v));
    if (!ok) throw new TemplateError(`wrong type for value; expected ${GO_TYPE[t]}; got ${typeName(v)}`, pos);
    return v;
  }

  private call(name: string, args: Arg[], dot: GoValue, final: GoValue | undefined, pos: number): GoValue {
    const n = args.length + (final === undefined ? 0 : 1);
    if (name === 'and' || name === 'or') {
      if (n < 1) throw new TemplateError(`wrong number of args for ${name}: want at least 1 got 0`, pos);
      const lazies: Lazy[] = args.map((a) => () => this.arg(a, dot));
      if (final !== undefined) lazies.push(() => final);
      let v: GoValue = null;
      for (const l of lazies) {
        v = l();
        if (truth(v) === (name === 'or')) return v;
      }
      return v;
    }
    const f = this.funcs.get(name);
    if (!f) throw new TemplateError(`${JSON.stringify(name)} is not a defined function`, pos);
    const want = f.params.length;
    if (f.variadic ? n < want : n !== want) throw new TemplateError(`wrong number of args for ${name}: want ${f.variadic ? 'at least ' : ''}${want} got ${n}`, pos);
    const typeOf = (i: number): ParamType => (i < want ? f.params[i]! : f.variadic!);
    const values: GoValue[] = args.map((a, i) => {
      const t = typeOf(i);
      if (['nil', 'bool', 'string', 'number'].includes(a.k)) return this.constant(a, t);
      return this.typed(this.arg(a, dot), t, a.pos);
    });
    if (final !== undefined) values.push(this.typed(final, typeOf(args.length), pos));
    try {
      return (f.fn as (...a: GoValue[]) => GoValue)(...values);
    } catch (e) {
      if (e instanceof TemplateError) throw e;
      throw new TemplateError(`error calling ${name}: ${(e as Error).message}`, pos);
    }
  }
}

function describeArg(a: Arg): string {
  switch (a.k) {
    case 'string':
      return JSON.stringify(a.v);
    case 'number':
      return a.text;
    case 'bool':
      return String(a.v);
    case 'nil':
      return 'nil';
    case 'dot':
      return '.';
    default:
      return a.k;
  }
}
