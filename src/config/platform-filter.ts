/**
 * A suite's `includes`/`excludes` entry as Test Kitchen reads it
 * (lib/kitchen/platform_filter.rb): a string written `/pattern/` with
 * optional `i`/`x` options is a regular expression matched anywhere in the
 * platform name (`=~`); any other entry names one platform exactly.
 * The Ruby-only escapes real filters use (`\A`, `\z`, `\Z`, `\h`) are
 * translated; `x` drops unescaped whitespace and `#` comments, as Ruby does.
 */
const REGEXP_LIKE = /^\/(.*)\/([ix]*)$/;

export interface PlatformFilter {
  /** The entry as written. */
  text: string;
  regex?: RegExp;
  matches(platform: string): boolean;
}

/** Ruby regexp source -> JavaScript; throws SyntaxError for what JavaScript cannot compile. */
export function rubyRegExp(source: string, options: string): RegExp {
  let out = '';
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (c === '\\' && i + 1 < source.length) {
      const n = source[i + 1]!;
      i++;
      if (!inClass && n === 'A') out += '^';
      else if (!inClass && n === 'z') out += '$';
      else if (!inClass && n === 'Z') out += '(?=\\n?$)';
      else if (n === 'h') out += inClass ? '0-9a-fA-F' : '[0-9a-fA-F]';
      else out += c + n;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      out += c;
      continue;
    }
    if (c === '[') inClass = true;
    if (options.includes('x')) {
      if (/\s/.test(c)) continue;
      if (c === '#') {
        while (i + 1 < source.length && source[i + 1] !== '\n') i++;
        continue;
      }
    }
    out += c;
  }
  return new RegExp(out, options.includes('i') ? 'i' : '');
}

export function platformFilter(text: string): PlatformFilter {
  const m = REGEXP_LIKE.exec(text);
  if (!m) return { text, matches: (p) => p === text };
  const regex = rubyRegExp(m[1]!, m[2]!);
  return { text, regex, matches: (p) => regex.test(p) };
}
