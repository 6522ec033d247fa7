import type { ConfigProblem } from '../kernel/errors.js';
import { TextPositions, type Replacement } from './text-position.js';

/**
 * The ERB subset that real kitchen.yml files use, applied to the raw text
 * before YAML parsing (as Test Kitchen does):
 *
 *   <%= ENV['X'] %>   <%= ENV["X"] %>   <%= ENV.fetch('X') %>   <%= ENV.fetch('X', 'default') %>
 *
 * A variable that is not set (and has no default) is a problem, not an empty
 * string: Ruby would silently insert nothing. Any other ERB (`<% if %>`,
 * `<%= 1 + 1 %>`, `<%= File.read(...) %>`) is reported as unsupported and
 * never passed through. ERB comments `<%# ... %>` are dropped, as ERB does.
 * `<%%` is ERB's escape for a literal `<%`.
 *
 * The value is inserted verbatim (no YAML quoting), exactly like ERB; the
 * returned replacements let positions be mapped back to the original text.
 */
export interface ErbResult {
  text: string;
  replacements: Replacement[];
  problems: ConfigProblem[];
}

const STR = String.raw`(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")`;
const ENV_INDEX = new RegExp(String.raw`^ENV\s*\[\s*${STR}\s*\]$`);
const ENV_FETCH = new RegExp(String.raw`^ENV\s*\.\s*fetch\s*\(\s*${STR}\s*(?:,\s*${STR}\s*)?\)$`);

function unescape(single: string | undefined, double: string | undefined): string | undefined {
  if (single !== undefined) return single.replace(/\\(['\\])/g, '$1');
  if (double === undefined) return undefined;
  const map: Record<string, string> = { n: '\n', t: '\t', '"': '"', '\\': '\\' };
  return double.replace(/\\(.)/g, (_, c: string) => map[c] ?? c);
}

export function expandErb(file: string, text: string, env: Record<string, string | undefined>): ErbResult {
  const pos = new TextPositions(text);
  const problems: ConfigProblem[] = [];
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

  for (;;) {
    const start = text.indexOf('<%', i);
    if (start < 0) break;
    if (text[start + 2] === '%') {
      replace(start, start + 3, '<%');
      continue;
    }
    const close = text.indexOf('%>', start + 2);
    if (close < 0) {
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
    const body = text.slice(start + (kind === '=' ? 3 : 2), close).trim();
    const m = kind === '=' ? (ENV_INDEX.exec(body) ?? ENV_FETCH.exec(body)) : null;
    if (!m) {
      problem(start, 'unsupported ERB', {
        expected: `<%= ENV['NAME'] %> or <%= ENV.fetch('NAME', 'default') %>`,
        found: tag.length > 60 ? `${tag.slice(0, 57)}...` : tag,
        hint: 'hallmark understands only ERB that reads environment variables; compute other values outside the config',
      });
      replace(start, end, '');
      continue;
    }
    const name = unescape(m[1], m[2])!;
    const fallback = unescape(m[3], m[4]);
    const value = env[name] ?? fallback;
    if (value === undefined) {
      problem(start, `environment variable ${name} is not set`, {
        hint: `set ${name}, or give a default: <%= ENV.fetch('${name}', 'value') %>`,
      });
      replace(start, end, '');
      continue;
    }
    replace(start, end, value);
  }
  out += text.slice(i);
  return { text: out, replacements, problems };
}
