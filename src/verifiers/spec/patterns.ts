/**
 * goss's line patterns for streamed attributes (file contents, command
 * stdout/stderr, http body and headers):
 *   "foo"      some line contains foo        "!foo"      no line contains foo
 *   "/re/"     some line matches re          "!/re/"     no line matches re
 *   "\\!foo"   some line contains "!foo" (escape; also "\\/")
 * A list means every pattern must hold. A single string is one pattern.
 * A matcher map (`{contain-element: ...}`, `{and: [...]}`) is applied to the
 * list of lines instead, as goss v4 does.
 */
import { compileMatcher, MatcherSyntaxError, show, type Matcher } from './matchers.js';

interface Pattern {
  source: string;
  negate: boolean;
  test(line: string): boolean;
}

function compilePattern(p: string): Pattern {
  let s = p;
  let negate = false;
  if (s.startsWith('!')) {
    negate = true;
    s = s.slice(1);
  }
  if (s.startsWith('\\!') || s.startsWith('\\/')) {
    const lit = s.slice(1);
    return { source: p, negate, test: (l) => l.includes(lit) };
  }
  if (s.length >= 2 && s.startsWith('/') && s.endsWith('/')) {
    let re: RegExp;
    try {
      re = new RegExp(s.slice(1, -1));
    } catch (err) {
      throw new MatcherSyntaxError(`invalid regular expression in pattern ${show(p)}: ${(err as Error).message}`);
    }
    return { source: p, negate, test: (l) => re.test(l) };
  }
  return { source: p, negate, test: (l) => l.includes(s) };
}

export function splitLines(text: string): string[] {
  if (text === '') return [];
  return text.replace(/\r?\n$/, '').split(/\r?\n/);
}

export function compilePatterns(value: unknown): Matcher {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const m = compileMatcher(value);
    return {
      describe: () => m.describe(),
      match: (actual) => m.match(splitLines(String(actual))),
      explain: (actual) => m.explain?.(splitLines(String(actual))),
    };
  }
  const items = Array.isArray(value) ? value : [value];
  const pats = items.map((v) => {
    if (typeof v !== 'string' && typeof v !== 'number') {
      throw new MatcherSyntaxError(`patterns must be strings ("foo", "!foo", "/regex/"), found ${show(v)}`);
    }
    return compilePattern(String(v));
  });
  const failing = (text: string) => {
    const lines = splitLines(text);
    return pats.filter((p) => (p.negate ? lines.some((l) => p.test(l)) : !lines.some((l) => p.test(l))));
  };
  return {
    describe: () => `contain patterns ${show(pats.map((p) => p.source))}`,
    match: (actual) => failing(String(actual)).length === 0,
    explain: (actual) => {
      const bad = failing(String(actual));
      const missing = bad.filter((p) => !p.negate).map((p) => p.source);
      const present = bad.filter((p) => p.negate).map((p) => p.source);
      const parts = [];
      if (missing.length) parts.push(`not found: ${show(missing)}`);
      if (present.length) parts.push(`found but negated: ${show(present)}`);
      return parts.join('; ') || undefined;
    },
  };
}
