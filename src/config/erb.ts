import type { ConfigProblem } from '../kernel/errors.js';
import type { ConfigNote } from './problems.js';
import { evalRuby, parseRuby, RubyRaise, RubySyntaxError, rubyToS, type EvalContext } from './ruby-expr.js';
import { TextPositions, type Replacement } from './text-position.js';

/**
 * ERB as Test Kitchen applies it to the raw text before YAML parsing
 * (`ERB.new(text).result`, no trim mode), for the part of Ruby that real
 * kitchen.yml files use there: reading the environment (see ruby-expr.ts for
 * the exact subset). `<%= expr %>` is replaced by the value's `to_s`, so an
 * unset `ENV['X']` inserts an empty string, as in Ruby, with a note;
 * `ENV.fetch('X')` with no default is an error, as Ruby raises KeyError.
 *
 * ERB that runs other Ruby (`<% if %>`, `each`, `require`, `File.read`,
 * `Time.now`) is refused with its line and a suggested rewrite: hallmark
 * never runs Ruby and never passes a tag through. `<%# %>` comments are
 * dropped and `<%%` is a literal `<%`, as in ERB.
 *
 * A tag on a YAML comment line (`#  key: <%= !ENV['CI'] %>`, common in
 * public files) never blocks anything: its text is replaced when it can be
 * computed and dropped silently otherwise, because YAML ignores the line.
 *
 * The value is inserted verbatim (no YAML quoting), exactly like ERB; the
 * returned replacements let positions be mapped back to the original text.
 */
export interface ErbResult {
  text: string;
  replacements: Replacement[];
  problems: ConfigProblem[];
  notes: ConfigNote[];
}

/**
 * True when the text before a tag on its line makes the tag part of a YAML
 * comment: a line that starts with `#`, or ` #` after plain (unquoted) text.
 * A `#` line inside a block scalar looks the same; there the tag's value is
 * still inserted whenever it can be computed.
 */
function inYamlComment(linePrefix: string): boolean {
  if (/^\s*#/.test(linePrefix)) return true;
  const hash = linePrefix.search(/\s#/);
  return hash >= 0 && !/['"]/.test(linePrefix.slice(0, hash));
}

/** A rewrite for ERB that runs Ruby other than ENV lookups, chosen by what the tag does. */
export function suggestRewrite(body: string): string {
  const b = body.trim();
  if (/^(if|unless|elsif|else|end|case|when)\b/.test(b) || /\bif\b|\bunless\b/.test(b)) {
    return 'put the variants in kitchen.yml and an overlay (kitchen.local.yml, or a file named by KITCHEN_LOCAL_YAML), or choose a value with <%= ENV[\'X\'] || \'default\' %>';
  }
  if (/\.each\b|\.map\b|\.times\b|\bdo\b|\bfor\b/.test(b)) return 'write the repeated entries out in the YAML';
  if (/^(require|require_relative|load)\b/.test(b)) return 'remove it: nothing is loaded; compute the value outside the file and pass it in an environment variable, <%= ENV[\'X\'] %>';
  if (/\b(File|IO|Dir)\s*\.|`|%x/.test(b)) return 'write the value into the file, or pass it in an environment variable: <%= ENV[\'X\'] %>';
  if (/\b(Time|Date|DateTime)\s*\.|\bTime\b/.test(b)) return 'image names take {{timestamp}} (image.name: "web-{{timestamp}}"); or pass the time in an environment variable';
  if (/^[a-z_]\w*\s*=[^=]/.test(b)) return 'write the value where it is used, or read it from an environment variable there';
  return 'write the value itself, or read it with <%= ENV[\'X\'] %>, <%= ENV[\'X\'] || \'default\' %> or <%= ENV.fetch(\'X\', \'default\') %>';
}

export function expandErb(file: string, text: string, env: Record<string, string | undefined>): ErbResult {
  const pos = new TextPositions(text);
  const problems: ConfigProblem[] = [];
  const notes: ConfigNote[] = [];
  const replacements: Replacement[] = [];
  let out = '';
  let i = 0;
  const replace = (start: number, end: number, value: string) => {
    out += text.slice(i, start);
    replacements.push({ outStart: out.length, outEnd: out.length + value.length, inStart: start, inEnd: end });
    out += value;
    i = end;
  };
  const problem = (offset: number, message: string, extra: Partial<ConfigProblem> = {}) => {
    problems.push({ file, ...pos.at(offset), path: '', message, ...extra });
  };
  const short = (tag: string) => (tag.length > 60 ? `${tag.slice(0, 57)}...` : tag);

  for (;;) {
    const start = text.indexOf('<%', i);
    if (start < 0) break;
    if (text[start + 2] === '%') {
      replace(start, start + 3, '<%');
      continue;
    }
    const close = text.indexOf('%>', start + 2);
    const lineStart = text.lastIndexOf('\n', start - 1) + 1;
    const comment = inYamlComment(text.slice(lineStart, start));
    const eolAt = text.indexOf('\n', start);
    if (close < 0 || (comment && eolAt >= 0 && close > eolAt)) {
      if (comment) {
        // YAML ignores the rest of the comment line; what follows it is still the file.
        replace(start, eolAt < 0 ? text.length : eolAt, '');
        continue;
      }
      problem(start, 'ERB tag is not closed', { expected: '"%>"', found: 'end of file' });
      replace(start, text.length, '');
      break;
    }
    const end = close + 2;
    const tag = text.slice(start, end);
    const kind = text[start + 2];
    if (kind === '#') {
      replace(start, end, '');
      continue;
    }
    const body = text.slice(start + (kind === '=' ? 3 : 2), close);
    if (kind !== '=') {
      if (!comment) {
        problem(start, 'unsupported ERB: hallmark does not run Ruby', { found: short(tag), hint: suggestRewrite(body) });
      }
      replace(start, end, '');
      continue;
    }
    const ctx: EvalContext = { env, unsetUsed: new Set() };
    let value: string;
    try {
      value = rubyToS(evalRuby(parseRuby(body), ctx), ctx);
    } catch (err) {
      if (!comment) {
        if (err instanceof RubySyntaxError) {
          problem(start, 'unsupported ERB: hallmark evaluates only environment lookups', { found: short(tag), hint: suggestRewrite(body) });
        } else if (err instanceof RubyRaise) {
          problem(start, `ERB raises ${err.message}`, { found: short(tag), ...(err.hint ? { hint: err.hint } : {}) });
        } else {
          throw err;
        }
      }
      replace(start, end, '');
      continue;
    }
    if (!comment && ctx.unsetUsed.size > 0) {
      const names = [...ctx.unsetUsed];
      notes.push({
        level: 'note',
        file,
        ...pos.at(start),
        path: '',
        message: `${names.map((n) => `ENV['${n}']`).join(', ')} ${names.length === 1 ? 'is' : 'are'} not set: ${short(tag)} gives ${JSON.stringify(value)}, as in Ruby`,
        hint: `set ${names.join(', ')}, or give a default: <%= ENV['${names[0]}'] || 'value' %>`,
      });
    }
    replace(start, end, value);
  }
  out += text.slice(i);
  return { text: out, replacements, problems, notes };
}
