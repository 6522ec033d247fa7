/**
 * goss's `gjson` transform (matchers/type_conversion.go): the value must be
 * a string of valid JSON, the path must exist, and the matcher gets what the
 * path selects. The path syntax is the part of tidwall/gjson that selects
 * values: `a.b.c`, `\.` for a literal dot, array indexes (`arr.0`), `#`
 * (an array's length), `arr.#.key` (that key of every element), `*` and `?`
 * wildcards in a key, and `@this`. Other gjson syntax (queries `#(...)`,
 * modifiers other than @this, multipaths) is a MatchError naming the path.
 * No npm package implements gjson paths, hence this small reader.
 *
 * Every number gjson selects is a float64 (gjson's Result.Value(), also a
 * `#` count and the numbers inside a selected array or object), so
 * `{equal: 3}` (an int) never equals one, as in goss; `3`, `{equal: 3.0}`
 * and `{gt: 2}` do.
 */
import { isMap, jsonFloats, MatchError } from './go-values.js';

function splitPath(path: string): string[] {
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < path.length; i++) {
    const c = path[i]!;
    if (c === '\\' && i + 1 < path.length) cur += path[++i];
    else if (c === '.') {
      parts.push(cur);
      cur = '';
    } else cur += c;
  }
  parts.push(cur);
  return parts;
}

function wildcard(pattern: string): RegExp {
  return new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 's');
}

const MISSING = Symbol('missing');

function step(v: unknown, key: string, rest: string[]): unknown {
  if (key === '@this') return walk(v, rest);
  if (key.startsWith('@') || key.startsWith('#(') || /[|{}[\]]/.test(key)) throw new MatchError(`gjson path syntax not supported by hallmark: ${JSON.stringify(key)}`);
  if (Array.isArray(v)) {
    if (key === '#') {
      if (rest.length === 0) return v.length;
      const out = v.map((x) => walk(x, rest)).filter((x) => x !== MISSING);
      return out;
    }
    if (/^\d+$/.test(key)) return Number(key) < v.length ? walk(v[Number(key)], rest) : MISSING;
    return MISSING;
  }
  if (isMap(v)) {
    if (/[*?]/.test(key)) {
      const re = wildcard(key);
      const k = Object.keys(v).find((x) => re.test(x));
      return k === undefined ? MISSING : walk(v[k], rest);
    }
    return Object.prototype.hasOwnProperty.call(v, key) ? walk(v[key], rest) : MISSING;
  }
  return MISSING;
}

function walk(v: unknown, parts: string[]): unknown {
  if (parts.length === 0) return v;
  return step(v, parts[0]!, parts.slice(1));
}

/** The value at `path` in the JSON text `actual` (goss's Gjson transform). */
export function gjsonGet(actual: unknown, path: string): unknown {
  if (typeof actual !== 'string') throw new MatchError(`Expected string, Got: ${typeof actual}`);
  let doc: unknown;
  try {
    doc = JSON.parse(actual);
  } catch {
    throw new MatchError('Invalid json');
  }
  const v = walk(doc, splitPath(path));
  if (v === MISSING) throw new MatchError(`Path not found: ${path}`);
  return jsonFloats(v);
}
