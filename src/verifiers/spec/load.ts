/**
 * Loads gossfiles into ResourceSpecs: template substitution, YAML with
 * positions, `gossfile:` includes, and strict validation. Every unknown
 * resource type, attribute or matcher is a ConfigError naming file and line;
 * nothing is silently ignored. Loading has no side effects beyond reading files.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { isMap, isScalar, LineCounter, parseDocument, type Node, type Pair } from 'yaml';
import { ConfigError, type ConfigProblem } from '../../kernel/errors.js';
import { compileMatcher, MatcherSyntaxError, suggest } from './matchers.js';
import { compilePatterns } from './patterns.js';
import { COMMON_ATTRS, RESOURCE_DEFS } from './resources/index.js';
import { normalizeMode } from './resources/file.js';
import { renderTemplate } from './template.js';
import type { AttrCheck, Pos, ResourceSpec } from './types.js';

export interface LoadOptions {
  vars?: Record<string, unknown>;
}

const TYPES = [...RESOURCE_DEFS.keys(), 'gossfile'];

interface Ctx {
  problems: ConfigProblem[];
  seen: Set<string>;
  vars: Record<string, unknown>;
  /**
   * Resources by `file\0type\0key`. Within a file YAML forbids duplicate keys;
   * across files both definitions are kept (goss would let the later one replace
   * the earlier, so a profile could silently drop a suite's check).
   */
  out: Map<string, ResourceSpec>;
}

/** Loads and validates gossfiles; throws ConfigError listing every problem. */
export async function loadSpecFiles(files: string[], opts: LoadOptions = {}): Promise<ResourceSpec[]> {
  const ctx: Ctx = { problems: [], seen: new Set(), vars: opts.vars ?? {}, out: new Map() };
  for (const f of files) await loadFile(path.resolve(f), ctx);
  if (ctx.problems.length) throw new ConfigError(ctx.problems, { hint: 'see src/verifiers/spec/README.md for the supported gossfile subset' });
  return [...ctx.out.values()];
}

/** Parses one gossfile given as text (includes resolve relative to `file`). */
export async function parseSpecText(text: string, file: string, opts: LoadOptions = {}): Promise<ResourceSpec[]> {
  const ctx: Ctx = { problems: [], seen: new Set([path.resolve(file)]), vars: opts.vars ?? {}, out: new Map() };
  await parseInto(text, path.resolve(file), ctx);
  if (ctx.problems.length) throw new ConfigError(ctx.problems);
  return [...ctx.out.values()];
}

async function loadFile(file: string, ctx: Ctx): Promise<void> {
  if (ctx.seen.has(file)) return; // an include cycle or a file named twice
  ctx.seen.add(file);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    ctx.problems.push({ file, path: '', message: `cannot read gossfile: ${(err as Error).message}` });
    return;
  }
  await parseInto(text, file, ctx);
}

async function parseInto(raw: string, file: string, ctx: Ctx): Promise<void> {
  const { text, problems } = renderTemplate(raw, file, ctx.vars);
  ctx.problems.push(...problems);
  if (problems.length) return;
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, uniqueKeys: true, prettyErrors: false });
  const at = (node: Node | null | undefined): Pos => {
    const off = node?.range?.[0];
    if (off === undefined) return { file };
    const p = lc.linePos(off);
    return { file, line: p.line, column: p.col };
  };
  for (const e of doc.errors) {
    const p = lc.linePos(e.pos[0]);
    ctx.problems.push({ file, line: p.line, column: p.col, path: '', message: `invalid YAML: ${e.message.split('\n')[0]}` });
  }
  if (doc.errors.length) return;
  if (doc.contents === null) return; // an empty file has no checks
  if (!isMap(doc.contents)) {
    ctx.problems.push({ ...at(doc.contents), path: '', message: 'a gossfile must be a map of resource types', found: typeof doc.toJS() });
    return;
  }
  for (const typePair of doc.contents.items as Pair<Node, Node>[]) {
    const type = String(isScalar(typePair.key) ? typePair.key.value : typePair.key);
    const typePos = at(typePair.key);
    if (!TYPES.includes(type)) {
      ctx.problems.push({ ...typePos, path: type, message: `unknown resource type "${type}"${suggest(type, TYPES)}`, expected: TYPES.join(', ') });
      continue;
    }
    if (typePair.value === null || (isScalar(typePair.value) && typePair.value.value === null)) continue;
    if (!isMap(typePair.value)) {
      ctx.problems.push({ ...typePos, path: type, message: `${type} must be a map of resources` });
      continue;
    }
    for (const resPair of typePair.value.items as Pair<Node, Node>[]) {
      const key = String(isScalar(resPair.key) ? resPair.key.value : resPair.key);
      const pos = at(resPair.key);
      const body = resPair.value && !(isScalar(resPair.value) && resPair.value.value === null) ? resPair.value : undefined;
      if (body && !isMap(body)) {
        ctx.problems.push({ ...pos, path: `${type}.${key}`, message: 'a resource must be a map of attributes', found: String(resPair.value) });
        continue;
      }
      const attrs = (body && isMap(body) ? body.items : []) as Pair<Node, Node>[];
      if (type === 'gossfile') await include(key, attrs, file, pos, ctx);
      else {
        const r = buildResource(type, key, attrs, pos, at, ctx);
        if (r) ctx.out.set(`${file}\0${type}\0${key}`, r);
      }
    }
  }
}

function buildResource(type: string, key: string, attrs: Pair<Node, Node>[], pos: Pos, at: (n: Node | null | undefined) => Pos, ctx: Ctx): ResourceSpec | undefined {
  const def = RESOURCE_DEFS.get(type)!;
  const r: ResourceSpec = { type, key, probeId: '', checks: [], options: {}, skip: false, pos };
  const before = ctx.problems.length;
  const known = [...Object.keys(def.attrs), ...def.options, ...COMMON_ATTRS];
  for (const a of attrs) {
    const name = String(isScalar(a.key) ? a.key.value : a.key);
    const apos = at(a.key);
    const value: unknown = a.value && typeof (a.value as { toJSON?: unknown }).toJSON === 'function' ? (a.value as unknown as { toJSON(): unknown }).toJSON() : null;
    const where = `${type}.${key}.${name}`;
    const problem = (message: string, extra: Partial<ConfigProblem> = {}) => ctx.problems.push({ ...apos, path: where, message, ...extra });
    if (name === 'skip') {
      if (typeof value !== 'boolean') problem('skip must be true or false', { found: JSON.stringify(value) });
      else r.skip = value;
    } else if (name === 'title') {
      if (typeof value !== 'string') problem('title must be a string');
      else r.title = value;
    } else if (name === 'meta') {
      if (!value || typeof value !== 'object' || Array.isArray(value)) problem('meta must be a map');
      else r.meta = value as Record<string, unknown>;
    } else if (def.options.includes(name)) {
      r.options[name] = value;
    } else if (name in def.attrs) {
      const v = type === 'file' && name === 'mode' ? normalizeMode(value) : value;
      try {
        const matcher = def.attrs[name] === 'patterns' ? compilePatterns(v) : compileMatcher(v);
        const check: AttrCheck = { name, value: v, matcher, pos: apos };
        r.checks.push(check);
      } catch (err) {
        if (!(err instanceof MatcherSyntaxError)) throw err;
        problem(err.message);
      }
    } else {
      problem(`unknown attribute "${name}" for ${type}${suggest(name, known)}`, { expected: `one of ${known.join(', ')}` });
    }
  }
  for (const req of def.required ?? []) {
    if (!r.checks.some((c) => c.name === req)) ctx.problems.push({ ...pos, path: `${type}.${key}`, message: `${req} is required for ${type} (as in goss)` });
  }
  if (!r.skip && r.checks.length === 0 && ctx.problems.length === before) {
    ctx.problems.push({ ...pos, path: `${type}.${key}`, message: `nothing to check: give at least one of ${Object.keys(def.attrs).join(', ')}` });
  }
  const bad = ctx.problems.length === before ? def.validate?.(r) : undefined;
  if (bad) ctx.problems.push({ ...pos, path: `${type}.${key}`, message: bad });
  return ctx.problems.length === before ? r : undefined;
}

/** `gossfile:` includes: key (or `file`) is a path relative to this file; `*` globs in the last component. */
async function include(key: string, attrs: Pair<Node, Node>[], from: string, pos: Pos, ctx: Ctx): Promise<void> {
  const opts: Record<string, unknown> = {};
  for (const a of attrs) opts[String(isScalar(a.key) ? a.key.value : a.key)] = isScalar(a.value) ? a.value.value : undefined;
  for (const k of Object.keys(opts)) {
    if (!['file', 'skip'].includes(k)) ctx.problems.push({ ...pos, path: `gossfile.${key}.${k}`, message: `unknown attribute "${k}" for gossfile`, expected: 'file, skip' });
  }
  if (opts.skip === true) return;
  const target = path.resolve(path.dirname(from), typeof opts.file === 'string' ? opts.file : key);
  const base = path.basename(target);
  if (!base.includes('*')) return loadFile(target, ctx);
  const re = new RegExp(`^${base.replace(/[.+^${}()|[\]\\?]/g, '\\$&').replace(/\*/g, '.*')}$`);
  let names: string[] = [];
  try {
    names = (await readdir(path.dirname(target))).filter((n) => re.test(n)).sort();
  } catch {
    /* no directory: no matches, as a shell glob */
  }
  for (const n of names) await loadFile(path.join(path.dirname(target), n), ctx);
}
