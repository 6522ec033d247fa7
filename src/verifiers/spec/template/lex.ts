/**
 * The lexer of Go's text/template (Go 1.22 `text/template/parse/lex.go`):
 * text and actions between `{{` and `}}`, `{{-`/`-}}` trim markers (a dash
 * next to the delimiter with a space on its other side), `{{/* comments *\/}}`,
 * and inside actions: fields, variables, identifiers, keywords, quoted and raw
 * strings, character constants, numbers, `(`, `)`, `|`, `:=`, `=` and `,`.
 * Newlines are allowed inside actions (Go 1.16 on), not inside quoted strings.
 */

export type TokKind =
  | 'text'
  | 'left'
  | 'right'
  | 'space'
  | 'pipe'
  | 'declare'
  | 'assign'
  | 'comma'
  | 'lparen'
  | 'rparen'
  | 'string'
  | 'rawstring'
  | 'char'
  | 'number'
  | 'bool'
  | 'nil'
  | 'dot'
  | 'field'
  | 'variable'
  | 'identifier'
  | 'keyword'
  | 'eof';

export interface Token {
  kind: TokKind;
  /** The token's text (for `text`, after trimming). */
  val: string;
  /** Byte offset in the template. */
  pos: number;
}

export const KEYWORDS = new Set(['block', 'break', 'continue', 'define', 'else', 'end', 'if', 'range', 'nil', 'template', 'with']);

/** A template problem with the offset it concerns (turned into file:line by the caller). */
export class TemplateError extends Error {
  constructor(
    message: string,
    readonly pos: number,
  ) {
    super(message);
  }
}

const isSpace = (c: string | undefined) => c === ' ' || c === '\t' || c === '\r' || c === '\n';
const isAlnum = (c: string | undefined) => c !== undefined && /^[\p{L}\p{Nd}_]$/u.test(c);

export function lex(input: string): Token[] {
  const out: Token[] = [];
  let pos = 0;
  let trimNext = false; // a `-}}` asks the following text to lose its leading spaces
  while (pos < input.length) {
    const open = input.indexOf('{{', pos);
    let textEnd = open < 0 ? input.length : open;
    let start = pos;
    if (trimNext) while (start < textEnd && isSpace(input[start])) start++;
    let after = open + 2;
    const trimLeft = open >= 0 && input[after] === '-' && isSpace(input[after + 1]);
    if (trimLeft) {
      while (textEnd > start && isSpace(input[textEnd - 1])) textEnd--;
      after += 2;
    }
    if (textEnd > start) out.push({ kind: 'text', val: input.slice(start, textEnd), pos: start });
    if (open < 0) break;
    pos = after;
    // A comment: {{/* ... */}}, with trim markers allowed around it.
    if (input.startsWith('/*', pos)) {
      const close = input.indexOf('*/', pos + 2);
      if (close < 0) throw new TemplateError('unclosed comment', open);
      pos = close + 2;
      const r = atRight(input, pos);
      if (!r) throw new TemplateError('comment ends before closing delimiter', open);
      trimNext = r.trim;
      pos = r.end;
      continue;
    }
    out.push({ kind: 'left', val: '{{', pos: open });
    pos = lexAction(input, pos, out, open);
    const r = atRight(input, pos)!;
    trimNext = r.trim;
    out.push({ kind: 'right', val: '}}', pos });
    pos = r.end;
  }
  out.push({ kind: 'eof', val: '', pos: input.length });
  return out;
}

/** At a right delimiter (`}}` or ` -}}`)? Its end, and whether it trims. */
function atRight(input: string, pos: number): { end: number; trim: boolean } | undefined {
  if (isSpace(input[pos]) && input[pos + 1] === '-' && input.startsWith('}}', pos + 2)) return { end: pos + 4, trim: true };
  if (input.startsWith('}}', pos)) return { end: pos + 2, trim: false };
  return undefined;
}

/** Lexes one action's insides from `pos`; returns the offset of its right delimiter. */
function lexAction(input: string, pos: number, out: Token[], open: number): number {
  let depth = 0;
  const emit = (kind: TokKind, start: number, end: number) => out.push({ kind, val: input.slice(start, end), pos: start });
  const atTerminator = (p: number) => {
    const c = input[p];
    return c === undefined || isSpace(c) || '.,|:)(='.includes(c) || input.startsWith('}}', p);
  };
  for (;;) {
    if (atRight(input, pos)) {
      if (depth > 0) throw new TemplateError('unclosed left paren', pos);
      return pos;
    }
    const start = pos;
    const c = input[pos];
    if (c === undefined) throw new TemplateError('unclosed action', open);
    if (isSpace(c)) {
      while (isSpace(input[pos]) && !atRight(input, pos)) pos++;
      emit('space', start, pos);
      continue;
    }
    pos++;
    if (c === ':') {
      if (input[pos] !== '=') throw new TemplateError('expected :=', start);
      pos++;
      emit('declare', start, pos);
    } else if (c === '=') emit('assign', start, pos);
    else if (c === ',') emit('comma', start, pos);
    else if (c === '|') emit('pipe', start, pos);
    else if (c === '(') {
      depth++;
      emit('lparen', start, pos);
    } else if (c === ')') {
      depth--;
      if (depth < 0) throw new TemplateError(`unexpected right paren`, start);
      emit('rparen', start, pos);
    } else if (c === '"') {
      for (;;) {
        const d = input[pos++];
        if (d === '\\') {
          if (input[pos] === undefined || input[pos] === '\n') throw new TemplateError('unterminated quoted string', start);
          pos++;
        } else if (d === undefined || d === '\n') throw new TemplateError('unterminated quoted string', start);
        else if (d === '"') break;
      }
      emit('string', start, pos);
    } else if (c === '`') {
      const close = input.indexOf('`', pos);
      if (close < 0) throw new TemplateError('unterminated raw quoted string', start);
      pos = close + 1;
      emit('rawstring', start, pos);
    } else if (c === "'") {
      for (;;) {
        const d = input[pos++];
        if (d === '\\') {
          if (input[pos] === undefined || input[pos] === '\n') throw new TemplateError('unterminated character constant', start);
          pos++;
        } else if (d === undefined || d === '\n') throw new TemplateError('unterminated character constant', start);
        else if (d === "'") break;
      }
      emit('char', start, pos);
    } else if (c === '$' || (c === '.' && !/[0-9]/.test(input[pos] ?? ''))) {
      while (isAlnum(input[pos])) pos++;
      if (!atTerminator(pos)) throw new TemplateError(`bad character ${JSON.stringify(input[pos])}`, pos);
      emit(c === '$' ? 'variable' : pos === start + 1 ? 'dot' : 'field', start, pos);
    } else if (c === '.' || c === '+' || c === '-' || /[0-9]/.test(c)) {
      pos = start;
      const m = /^[+-]?(?:0[xX][0-9a-fA-F_]*(?:\.[0-9a-fA-F_]*)?(?:[pP][+-]?[0-9_]+)?|0[bBoO][0-9_]*|[0-9_]*(?:\.[0-9_]*)?(?:[eE][+-]?[0-9_]+)?)i?/.exec(input.slice(pos))!;
      pos += m[0].length;
      if (m[0] === '' || isAlnum(input[pos]) || input[pos] === '.') throw new TemplateError(`bad number syntax: ${JSON.stringify(input.slice(start, pos + 1))}`, start);
      emit('number', start, pos);
    } else if (isAlnum(c)) {
      while (isAlnum(input[pos])) pos++;
      if (!atTerminator(pos)) throw new TemplateError(`bad character ${JSON.stringify(input[pos])}`, pos);
      const word = input.slice(start, pos);
      emit(word === 'true' || word === 'false' ? 'bool' : word === 'nil' ? 'nil' : KEYWORDS.has(word) ? 'keyword' : 'identifier', start, pos);
    } else {
      throw new TemplateError(`unrecognized character in action: ${JSON.stringify(c)}`, start);
    }
  }
}
