/**
 * The parser of Go's text/template (`text/template/parse/parse.go`): actions,
 * `if`/`else if`/`else`, `range` (with `$i, $v :=`, `else`, `break`,
 * `continue`), `with`/`else with`, `define`, `template`, `block`, variable
 * declaration and assignment, pipelines, parenthesized pipelines and field
 * chains. As in Go, an undefined variable or an unknown function is an error
 * at parse time, before anything runs.
 */
import { lex, TemplateError, type Token } from './lex.js';

export type Arg =
  | { k: 'field'; idents: string[]; pos: number }
  | { k: 'variable'; idents: string[]; pos: number }
  | { k: 'dot'; pos: number }
  | { k: 'nil'; pos: number }
  | { k: 'bool'; v: boolean; pos: number }
  | { k: 'number'; text: string; pos: number; int?: bigint; float?: number; isFloat: boolean }
  | { k: 'string'; v: string; pos: number }
  | { k: 'identifier'; name: string; pos: number }
  | { k: 'pipe'; pipe: Pipe; pos: number }
  | { k: 'chain'; node: Arg; fields: string[]; pos: number };

export interface Command {
  args: Arg[];
  pos: number;
}

export interface Pipe {
  pos: number;
  /** Variables declared (`:=`) or assigned (`=`) by this pipeline. */
  decl: string[];
  isAssign: boolean;
  cmds: Command[];
}

interface ControlBody {
  pipe: Pipe;
  list: Node[];
  elseList?: Node[];
  pos: number;
}
export type IfNode = ControlBody & { k: 'if' };
export type WithNode = ControlBody & { k: 'with' };
export type RangeNode = ControlBody & { k: 'range' };

export type Node =
  | { k: 'text'; text: string; pos: number }
  | { k: 'action'; pipe: Pipe; pos: number }
  | IfNode
  | WithNode
  | RangeNode
  | { k: 'template'; name: string; pipe?: Pipe; pos: number }
  | { k: 'break'; pos: number }
  | { k: 'continue'; pos: number };

/** `{{end}}` or `{{else}}` (with the `if`/`with` of an `{{else if ...}}` left to read). */
type End = { k: 'end'; pos: number } | { k: 'else'; pos: number; elseKind?: string };

export interface Parsed {
  root: Node[];
  /** `{{define}}`d and `{{block}}` templates by name. */
  defs: Map<string, Node[]>;
}

/** Go's strconv.Unquote for a "double-quoted" string. */
export function unquote(lit: string, pos: number): string {
  let out = '';
  const s = lit.slice(1, -1);
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const e = s[++i];
    const simple: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', '"': '"' };
    if (e !== undefined && e in simple) out += simple[e];
    else if (e === 'x' || e === 'u' || e === 'U') {
      const n = e === 'x' ? 2 : e === 'u' ? 4 : 8;
      const hex = s.slice(i + 1, i + 1 + n);
      if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(hex)) throw new TemplateError(`invalid syntax in string ${lit}`, pos);
      const code = Number.parseInt(hex, 16);
      if (e === 'x') out += Buffer.from([code]).toString('latin1');
      else if (code > 0x10ffff || (code >= 0xd800 && code < 0xe000)) throw new TemplateError(`invalid syntax in string ${lit}`, pos);
      else out += String.fromCodePoint(code);
      i += n;
    } else if (e !== undefined && /[0-7]/.test(e)) {
      const oct = s.slice(i, i + 3);
      if (!/^[0-7]{3}$/.test(oct) || Number.parseInt(oct, 8) > 255) throw new TemplateError(`invalid syntax in string ${lit}`, pos);
      out += String.fromCharCode(Number.parseInt(oct, 8));
      i += 2;
    } else throw new TemplateError(`invalid syntax in string ${lit}`, pos);
  }
  return out;
}

function numberArg(text: string, pos: number, isChar: boolean): Arg {
  if (isChar) {
    const body = text.slice(1, -1);
    const v = body.startsWith('\\') ? unquote(`"${body === "\\'" ? "'" : body}"`, pos) : body;
    const cps = [...v];
    if (cps.length !== 1) throw new TemplateError(`malformed character constant: ${text}`, pos);
    return { k: 'number', text, pos, int: BigInt(cps[0]!.codePointAt(0)!), isFloat: false };
  }
  if (text.endsWith('i')) throw new TemplateError(`complex numbers are not supported: ${text}`, pos);
  const t = text.replace(/_/g, '');
  const neg = t.startsWith('-');
  const body = t.replace(/^[+-]/, '');
  let int: bigint | undefined;
  let float: number | undefined;
  if (/^0[xX][0-9a-fA-F]+$|^0[bB][01]+$|^0[oO][0-7]+$|^[0-9]+$/.test(body)) {
    const digits = /^0[0-7]+$/.test(body) ? `0o${body.slice(1)}` : body; // a leading 0 means octal
    if (/^0[0-9]*[89]/.test(body) && !/^0[xXbBoO]/.test(body)) throw new TemplateError(`illegal number syntax: ${JSON.stringify(text)}`, pos);
    int = BigInt(digits) * (neg ? -1n : 1n);
    float = Number(int);
  } else {
    float = Number(t);
    if (/^0[xX]/.test(body)) float = Number.NaN; // hex floats are rare; refuse them
    if (Number.isNaN(float) || body === '' || body === '.') throw new TemplateError(`illegal number syntax: ${JSON.stringify(text)}`, pos);
    if (Number.isInteger(float) && Math.abs(float) < 2 ** 63) int = BigInt(float);
  }
  if (int !== undefined && (int >= 2n ** 63n || int < -(2n ** 63n))) throw new TemplateError(`${text} overflows int`, pos);
  // Go's idealConstant: a float when the text has '.', 'e' or 'p' (and is not hex), else an int.
  const isFloat = /[.eEpP]/.test(body) && !/^0[xX]/.test(body);
  return { k: 'number', text, pos, ...(int !== undefined ? { int } : {}), float, isFloat };
}

class Parser {
  private i = 0;
  private vars: string[] = ['$'];
  readonly defs = new Map<string, Node[]>();
  private rangeDepth = 0;

  constructor(
    private readonly toks: Token[],
    private readonly hasFunc: (name: string) => boolean,
  ) {}

  private peek(): Token {
    return this.toks[this.i]!;
  }
  private next(): Token {
    return this.toks[this.i++]!;
  }
  private nonSpace(): Token {
    let t = this.next();
    while (t.kind === 'space') t = this.next();
    return t;
  }
  private peekNonSpace(): Token {
    const save = this.i;
    const t = this.nonSpace();
    this.i = save;
    return t;
  }
  private expect(kind: Token['kind'], context: string): Token {
    const t = this.nonSpace();
    if (t.kind !== kind) throw new TemplateError(`unexpected ${describe(t)} in ${context}`, t.pos);
    return t;
  }

  parse(): Node[] {
    const list: Node[] = [];
    for (;;) {
      const t = this.peek();
      if (t.kind === 'eof') return list;
      if (t.kind === 'left') {
        const save = this.i;
        this.next();
        const k = this.peekNonSpace();
        if (k.kind === 'keyword' && k.val === 'define') {
          this.nonSpace();
          this.define();
          continue;
        }
        this.i = save;
      }
      const n = this.textOrAction();
      if (isEnd(n)) throw new TemplateError(`unexpected {{${n.k}}}`, n.pos);
      list.push(n);
    }
  }

  private define(): void {
    const nameTok = this.nonSpace();
    if (nameTok.kind !== 'string' && nameTok.kind !== 'rawstring') throw new TemplateError(`define: name must be a string, found ${describe(nameTok)}`, nameTok.pos);
    const name = nameTok.kind === 'string' ? unquote(nameTok.val, nameTok.pos) : nameTok.val.slice(1, -1);
    this.expect('right', 'define clause');
    const saved = this.vars;
    this.vars = ['$'];
    const [list, end] = this.itemList();
    this.vars = saved;
    if (end.k !== 'end') throw new TemplateError('unexpected {{else}} in define', end.pos);
    this.defs.set(name, list);
  }

  /** A list of nodes up to `{{end}}` or `{{else ...}}` (returned as the second item). */
  private itemList(): [Node[], End] {
    const list: Node[] = [];
    for (;;) {
      if (this.peek().kind === 'eof') throw new TemplateError('unexpected EOF', this.peek().pos);
      const n = this.textOrAction();
      if (isEnd(n)) return [list, n];
      list.push(n);
    }
  }

  private textOrAction(): Node | End {
    const t = this.next();
    if (t.kind === 'text') return { k: 'text', text: t.val, pos: t.pos };
    if (t.kind !== 'left') throw new TemplateError(`unexpected ${describe(t)}`, t.pos);
    const k = this.peekNonSpace();
    if (k.kind === 'keyword') {
      this.nonSpace();
      switch (k.val) {
        case 'end':
          this.expect('right', 'end');
          return { k: 'end', pos: k.pos };
        case 'else': {
          const n = this.peekNonSpace();
          if (n.kind === 'keyword' && (n.val === 'if' || n.val === 'with')) return { k: 'else', pos: k.pos, elseKind: n.val };
          this.expect('right', 'else');
          return { k: 'else', pos: k.pos };
        }
        case 'if':
        case 'with':
          return this.control(k.val, k.pos);
        case 'range':
          return this.control('range', k.pos);
        case 'template':
        case 'block':
          return this.templateCall(k.val, k.pos);
        case 'break':
        case 'continue':
          if (this.rangeDepth === 0) throw new TemplateError(`{{${k.val}}} outside {{range}}`, k.pos);
          this.expect('right', k.val);
          return { k: k.val === 'break' ? 'break' : 'continue', pos: k.pos };
        default:
          throw new TemplateError(`unexpected <${k.val}>${k.val === 'define' ? ': define only at the top level' : ''}`, k.pos);
      }
    }
    const pipe = this.pipeline('command', 'right');
    return { k: 'action', pipe, pos: t.pos };
  }

  private control(kind: 'if' | 'with' | 'range', pos: number): Node {
    const mark = this.vars.length;
    const pipe = this.pipeline(kind, 'right');
    if (kind === 'range') this.rangeDepth++;
    const [list, end] = this.itemList();
    if (kind === 'range') this.rangeDepth--;
    let elseList: Node[] | undefined;
    if (end.k === 'else') {
      if (end.elseKind && end.elseKind === kind) {
        // `{{else if ...}}` is `{{else}}{{if ...}}...{{end}}{{end}}` sharing the one {{end}}.
        this.nonSpace();
        elseList = [this.control(kind, end.pos)];
      } else {
        if (end.elseKind) throw new TemplateError(`unexpected else ${end.elseKind} in ${kind}`, end.pos);
        const [l, e2] = this.itemList();
        if (e2.k !== 'end') throw new TemplateError(`expected end; found {{else}}`, e2.pos);
        elseList = l;
      }
    }
    this.vars.length = mark;
    return { k: kind, pipe, list, ...(elseList ? { elseList } : {}), pos };
  }

  private templateCall(kind: 'template' | 'block', pos: number): Node {
    const nameTok = this.nonSpace();
    if (nameTok.kind !== 'string' && nameTok.kind !== 'rawstring') throw new TemplateError(`${kind}: name must be a string, found ${describe(nameTok)}`, nameTok.pos);
    const name = nameTok.kind === 'string' ? unquote(nameTok.val, nameTok.pos) : nameTok.val.slice(1, -1);
    let pipe: Pipe | undefined;
    if (this.peekNonSpace().kind !== 'right') pipe = this.pipeline(kind, 'right');
    else this.nonSpace();
    if (kind === 'block') {
      const saved = this.vars;
      this.vars = ['$'];
      const [list, end] = this.itemList();
      this.vars = saved;
      if (end.k !== 'end') throw new TemplateError('unexpected {{else}} in block', end.pos);
      this.defs.set(name, list);
    }
    return { k: 'template', name, ...(pipe ? { pipe } : {}), pos };
  }

  /** A pipeline up to `end` (consumed): optional declarations, then commands separated by `|`. */
  private pipeline(context: string, end: 'right' | 'rparen'): Pipe {
    const start = this.peekNonSpace();
    const pipe: Pipe = { pos: start.pos, decl: [], isAssign: false, cmds: [] };
    // Declarations: $x := / $x = / (range) $i, $v :=
    const save = this.i;
    const v = this.nonSpace();
    if (v.kind === 'variable') {
      const nxt = this.nonSpace();
      if (nxt.kind === 'declare' || nxt.kind === 'assign') {
        pipe.decl.push(v.val);
        pipe.isAssign = nxt.kind === 'assign';
      } else if (nxt.kind === 'comma' && context === 'range') {
        const v2 = this.nonSpace();
        const op = this.nonSpace();
        if (v2.kind !== 'variable' || (op.kind !== 'declare' && op.kind !== 'assign')) throw new TemplateError(`range can only initialize variables`, v2.pos);
        pipe.decl.push(v.val, v2.val);
        pipe.isAssign = op.kind === 'assign';
      } else this.i = save;
    } else this.i = save;
    for (const d of pipe.decl) {
      if (pipe.isAssign) this.checkVar(d, v.pos);
    }
    for (;;) {
      const t = this.peekNonSpace();
      if (t.kind === end) {
        this.nonSpace();
        break;
      }
      if (t.kind === 'eof' || t.kind === 'right' || t.kind === 'rparen') throw new TemplateError(`unexpected ${describe(t)} in ${context}`, t.pos);
      pipe.cmds.push(this.command(end));
    }
    if (pipe.cmds.length === 0) throw new TemplateError(`missing value for ${context}`, pipe.pos);
    for (let n = 1; n < pipe.cmds.length; n++) {
      const first = pipe.cmds[n]!.args[0]!;
      if (['bool', 'dot', 'nil', 'number', 'string'].includes(first.k)) throw new TemplateError(`non executable command in pipeline stage ${n + 1}`, first.pos);
    }
    if (!pipe.isAssign) this.vars.push(...pipe.decl);
    return pipe;
  }

  private command(end: 'right' | 'rparen'): Command {
    const cmd: Command = { args: [], pos: this.peekNonSpace().pos };
    for (;;) {
      const t = this.peekNonSpace();
      if (t.kind === end || t.kind === 'pipe' || t.kind === 'right' || t.kind === 'rparen') {
        if (t.kind === 'pipe') this.nonSpace();
        if (t.kind === 'rparen' && end !== 'rparen') throw new TemplateError('unexpected right paren', t.pos);
        if (cmd.args.length === 0) throw new TemplateError('empty command', t.pos);
        return cmd;
      }
      this.nonSpace();
      cmd.args.push(this.operand(t));
      // Operands are separated by spaces: `.a.b` is one, `.a .b` two.
      const after = this.peek();
      if (after.kind !== 'space' && after.kind !== end && after.kind !== 'pipe' && after.kind !== 'right' && after.kind !== 'rparen') {
        throw new TemplateError(`missing space? unexpected ${describe(after)}`, after.pos);
      }
    }
  }

  private operand(t: Token): Arg {
    let node = this.term(t);
    if (this.peek().kind === 'field') {
      const fields: string[] = [];
      while (this.peek().kind === 'field') fields.push(...this.next().val.slice(1).split('.'));
      if (node.k === 'field' || node.k === 'variable') node = { ...node, idents: [...node.idents, ...fields] };
      else if (['bool', 'string', 'number', 'nil', 'dot'].includes(node.k)) throw new TemplateError(`unexpected . after term ${JSON.stringify(t.val)}`, t.pos);
      else node = { k: 'chain', node, fields, pos: t.pos };
    }
    return node;
  }

  private term(t: Token): Arg {
    switch (t.kind) {
      case 'identifier':
        if (!this.hasFunc(t.val)) throw new TemplateError(`function ${JSON.stringify(t.val)} not defined`, t.pos);
        return { k: 'identifier', name: t.val, pos: t.pos };
      case 'dot':
        return { k: 'dot', pos: t.pos };
      case 'nil':
        return { k: 'nil', pos: t.pos };
      case 'variable': {
        const [name, ...rest] = t.val.split('.');
        this.checkVar(name!, t.pos);
        return { k: 'variable', idents: [name!, ...rest], pos: t.pos };
      }
      case 'field':
        return { k: 'field', idents: t.val.slice(1).split('.'), pos: t.pos };
      case 'bool':
        return { k: 'bool', v: t.val === 'true', pos: t.pos };
      case 'char':
        return numberArg(t.val, t.pos, true);
      case 'number':
        return numberArg(t.val, t.pos, false);
      case 'string':
        return { k: 'string', v: unquote(t.val, t.pos), pos: t.pos };
      case 'rawstring':
        return { k: 'string', v: t.val.slice(1, -1).replace(/\r/g, ''), pos: t.pos };
      case 'lparen':
        return { k: 'pipe', pipe: this.pipeline('parenthesized pipeline', 'rparen'), pos: t.pos };
      default:
        throw new TemplateError(`unexpected ${describe(t)} in operand`, t.pos);
    }
  }

  private checkVar(name: string, pos: number): void {
    if (!this.vars.includes(name)) throw new TemplateError(`undefined variable ${JSON.stringify(name)}`, pos);
  }
}

function isEnd(n: Node | End): n is End {
  return n.k === 'end' || n.k === 'else';
}

function describe(t: Token): string {
  if (t.kind === 'eof') return 'EOF';
  if (t.kind === 'right') return '"}}"';
  if (t.kind === 'keyword') return `<${t.val}>`;
  return JSON.stringify(t.val.length > 10 ? `${t.val.slice(0, 10)}...` : t.val);
}

export function parseTemplate(text: string, hasFunc: (name: string) => boolean): Parsed {
  const p = new Parser(lex(text), hasFunc);
  const root = p.parse();
  return { root, defs: p.defs };
}
