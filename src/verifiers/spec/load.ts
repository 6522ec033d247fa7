/**
 * Loads gossfiles into ResourceSpecs: template rendering, YAML with
 * positions (anchors, aliases and `<<` merges resolved everywhere),
 * `gossfile:` includes, and strict validation. Every unknown resource type,
 * attribute or matcher is a ConfigError naming file and line; nothing is
 * silently ignored. Loading has no side effects beyond reading files.
 *
 * As in goss (store.go `mergeJSONData`): a file's own resources come first,
 * then its includes in sorted key order, each include a Go-style glob
 * (`*`, `?`, `[...]` in any component) that must match at least one file;
 * when the same resource (type and key) is defined again, the later
 * definition replaces the earlier one. An empty gossfile, a glob that
 * matches nothing and a suite with zero checks are errors.
 *
 * Values keep goss's Go types (go-yaml.ts): a gossfile named `.json` is read
 * as JSON, with every number a float64, and so are all its includes (goss
 * reads every include in the format of the gossfile it was given); any
 * other is YAML as yaml.v3 reads it (`3` an int, `3.0` a float64, `0644`
 * the octal int 420).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { glob, isDynamicPattern } from 'tinyglobby';
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node, type Pair, type Scalar } from 'yaml';
import { ConfigError, type ConfigProblem } from '../../kernel/errors.js';
import { compileMatcher, MatcherSyntaxError, suggest } from './matchers.js';
import { Float64, goGeneralMap } from './go-values.js';
import { GoValueError, jsonScalar, resolvePlain, resolveTagged } from './go-yaml.js';
import { compileReader } from './patterns.js';
import { COMMON_ATTRS, RESOURCE_DEFS } from './resources/index.js';
import { renderTemplate, type TemplateVars } from './template.js';
import type { AttrCheck, Pos, ResourceSpec } from './types.js';

export interface LoadOptions {
  /** `.Vars` of the templates: config values, or vars already loaded (loadVars in template.ts). */
  vars?: Record<string, unknown> | TemplateVars;
  /** Environment for `{{ .Env.X }}` and getEnv (default: this process's). */
  env?: Record<string, string | undefined>;
  /** Where a template's readFile starts for a relative path (default: the working directory, as in goss). */
  baseDir?: string;
}

const TYPES = [...RESOURCE_DEFS.keys(), 'gossfile'];

/** goss's include depth limit (store.go). */
const MAX_DEPTH = 50;

/** Options goss declares as strings: a YAML scalar there is its text (`exec: true` runs `true`). */
const STRING_OPTIONS = new Set(['exec', 'path', 'name', 'username', 'groupname', 'url', 'resolve', 'server', 'address', 'local-address', 'comm', 'mountpoint', 'port', 'method', 'request-body', 'username', 'password', 'ca-file', 'cert-file', 'key-file', 'proxy']);

interface Ctx {
  problems: ConfigProblem[];
  vars: Record<string, unknown> | TemplateVars;
  env: Record<string, string | undefined>;
  baseDir?: string;
  /** Resources by `type\0key`: a later definition replaces an earlier one (goss). */
  out: Map<string, ResourceSpec>;
  /** The gossfile given (not an include) is `.json`: goss reads it and every include as JSON. */
  json: boolean;
}

function newCtx(opts: LoadOptions): Ctx {
  return { problems: [], vars: opts.vars ?? {}, env: opts.env ?? process.env, ...(opts.baseDir ? { baseDir: opts.baseDir } : {}), out: new Map(), json: false };
}

function finish(ctx: Ctx, where: string): ResourceSpec[] {
  const rs = [...ctx.out.values()];
  if (!ctx.problems.length && rs.every((r) => r.checks.length === 0)) {
    ctx.problems.push({ file: where, path: '', message: 'no checks: the gossfiles define no resource to check (zero checks never pass)' });
  }
  if (ctx.problems.length) throw new ConfigError(ctx.problems, { hint: 'see src/verifiers/spec/README.md for the gossfile semantics' });
  return rs;
}

/** Loads and validates gossfiles; throws ConfigError listing every problem. */
export async function loadSpecFiles(files: string[], opts: LoadOptions = {}): Promise<ResourceSpec[]> {
  const ctx = newCtx(opts);
  for (const f of files) {
    ctx.json = isJsonName(f);
    await loadFile(path.resolve(f), ctx, []);
  }
  return finish(ctx, files[0] ?? 'gossfile');
}

/** Parses one gossfile given as text (includes resolve relative to `file`). */
export async function parseSpecText(text: string, file: string, opts: LoadOptions = {}): Promise<ResourceSpec[]> {
  const ctx = newCtx(opts);
  ctx.json = isJsonName(file);
  await parseInto(text, path.resolve(file), ctx, [path.resolve(file)]);
  return finish(ctx, file);
}

async function loadFile(file: string, ctx: Ctx, stack: string[]): Promise<void> {
  if (stack.includes(file) || stack.length >= MAX_DEPTH) {
    ctx.problems.push({ file: stack[stack.length - 1] ?? file, path: 'gossfile', message: `include cycle or more than ${MAX_DEPTH} levels: ${[...stack, file].join(' -> ')}` });
    return;
  }
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    ctx.problems.push({ file, path: '', message: `cannot read gossfile: ${(err as Error).message}` });
    return;
  }
  await parseInto(text, file, ctx, [...stack, file]);
}

/** goss picks the format by the given gossfile's extension (store.go getStoreFormatFromFileName). */
function isJsonName(file: string): boolean {
  return path.extname(file) === '.json';
}

const YAML_TAG = 'tag:yaml.org,2002:';

/** A scalar as goss's decoder types it: yaml.v3 (resolvePlain) or encoding/json (every number a float64). */
function scalarValue(s: Scalar, json: boolean): unknown {
  if (json) return jsonScalar(s.value);
  const text = typeof s.source === 'string' ? s.source : String(s.value);
  const tag = s.tag;
  if (tag === `${YAML_TAG}int` || tag === `${YAML_TAG}float`) return resolveTagged(text, tag === `${YAML_TAG}int` ? 'int' : 'float');
  if (tag === `${YAML_TAG}str`) return typeof s.value === 'string' ? s.value : text;
  if ((tag === undefined || tag === '!') && s.type === 'PLAIN') return resolvePlain(text);
  return s.value;
}

/** A gossfile value (a matcher, a matching's content) with goss's Go types; aliases and merge keys resolved. Throws GoValueError. */
function goValue(node: unknown, doc: Document, json: boolean): unknown {
  const n = deref(node as Node | null | undefined, doc);
  if (n === null || n === undefined) return null;
  if (isMap(n)) {
    const pairs = pairsOf(n, doc);
    const m = Object.fromEntries(pairs.map((p) => [keyText(p.key, doc), goValue(p.value, doc, json)]));
    return !json && pairs.some((p) => !isStringKey(p.key, doc)) ? goGeneralMap(m) : m;
  }
  if (isSeq(n)) return n.items.map((x) => goValue(x, doc, json));
  if (isScalar(n)) return scalarValue(n, json);
  return toJS(n, doc);
}

/** Whether yaml.v3 decodes a map key as a string (else the map is a map[interface{}]interface{}). */
function isStringKey(key: unknown, doc: Document): boolean {
  const k = deref(key as Node | null | undefined, doc);
  if (!k || !isScalar(k)) return false;
  try {
    return typeof scalarValue(k, false) === 'string';
  } catch {
    return false;
  }
}

/** Attributes goss converts from a string with strconv.Atoi (resource.go deprecateAtoI): `exit-status: "0"` is the float64 0. */
const ATOI_ATTRS = new Set(['command.exit-status', 'user.uid', 'user.gid', 'group.gid']);

function deprecateAtoI(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  if (!/^[+-]?[0-9]+$/.test(v) || BigInt(v) > 2n ** 63n - 1n || BigInt(v) < -(2n ** 63n)) {
    throw new GoValueError(`goss converts a string here with strconv.Atoi and stops with a panic on ${JSON.stringify(v)}: write a number`);
  }
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw new GoValueError(`${v} is beyond ±2^53, which hallmark does not compare exactly: write a smaller number`);
  return new Float64(n);
}

/** yaml.v3 reads an unquoted 0644 as the octal int 420: say so where it is compared, since the file mode is text ("0644"). */
function octalNote(node: Node | null | undefined, value: unknown): string | undefined {
  if (!node || !isScalar(node) || node.type !== 'PLAIN' || node.tag !== undefined || typeof node.source !== 'string') return undefined;
  if (!/^[+-]?0[0-7]+$/.test(node.source) || typeof value !== 'number') return undefined;
  return `(goss reads the unquoted ${node.source} as the octal int ${value}; quote it, "${node.source}", to compare the text)`;
}

/** A node's value with aliases and merge keys resolved. */
function toJS(node: unknown, doc: Document): unknown {
  if (node === null || node === undefined) return null;
  return (node as { toJS(doc: Document): unknown }).toJS(doc);
}

function deref(node: Node | null | undefined, doc: Document): Node | null | undefined {
  return node && isAlias(node) ? (node.resolve(doc) as Node | undefined) : node;
}

/** A map's pairs with `<<` merge keys expanded (explicit keys win over merged ones, as YAML says). */
function pairsOf(map: { items: unknown[] }, doc: Document): Pair<Node, Node>[] {
  const merged: Pair<Node, Node>[] = [];
  const own: Pair<Node, Node>[] = [];
  for (const p of map.items as Pair<Node, Node>[]) {
    const k = p.key as unknown;
    const isMerge = (isScalar(k) && (typeof k.value === 'symbol' || k.source === '<<')) || k === '<<';
    if (!isMerge) {
      own.push(p);
      continue;
    }
    const v = deref(p.value, doc);
    const sources = v && isMap(v) ? [v] : v && 'items' in v ? (v.items as Node[]).map((x) => deref(x, doc)) : [];
    for (const src of sources) if (src && isMap(src)) merged.push(...pairsOf(src, doc));
  }
  const seen = new Set(own.map((p) => keyText(p.key, doc)));
  const out: Pair<Node, Node>[] = [];
  for (const p of merged) {
    const key = keyText(p.key, doc);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(p);
  }
  return [...out, ...own];
}

function keyText(node: unknown, doc: Document): string {
  const n = deref(node as Node, doc);
  return String(isScalar(n) ? n.value : toJS(n, doc));
}

async function parseInto(raw: string, file: string, ctx: Ctx, stack: string[]): Promise<void> {
  const { text, problems } = renderTemplate(raw, file, { vars: ctx.vars, env: ctx.env, ...(ctx.baseDir ? { baseDir: ctx.baseDir } : {}) });
  ctx.problems.push(...problems);
  if (problems.length) return;
  const lc = new LineCounter();
  if (ctx.json) {
    try {
      JSON.parse(text);
    } catch (err) {
      ctx.problems.push({ file, path: '', message: `invalid JSON: ${(err as Error).message}`, hint: 'goss reads a .json gossfile, and every gossfile it includes, as JSON' });
      return;
    }
  }
  const doc = parseDocument(text, { lineCounter: lc, uniqueKeys: true, prettyErrors: false, merge: true });
  const at = (node: Node | null | undefined): Pos => {
    const off = node?.range?.[0];
    if (off === undefined) return { file };
    const p = lc.linePos(off);
    return { file, line: p.line, column: p.col };
  };
  for (const e of doc.errors) {
    const p = lc.linePos(e.pos[0]);
    ctx.problems.push({ file, line: p.line, column: p.col, path: '', message: `invalid ${ctx.json ? 'JSON' : 'YAML'}: ${e.message.split('\n')[0]}` });
  }
  if (doc.errors.length) return;
  const top = deref(doc.contents as Node | null, doc);
  if (top === null || top === undefined || (isScalar(top) && top.value === null)) {
    ctx.problems.push({ file, path: '', message: 'empty gossfile: it defines no resources', hint: 'add resources, or remove the file (or its gossfile: include)' });
    return;
  }
  if (!isMap(top)) {
    ctx.problems.push({ ...at(top), path: '', message: 'a gossfile must be a map of resource types', found: typeof doc.toJS() });
    return;
  }
  const includes: { key: string; attrs: Pair<Node, Node>[]; pos: Pos }[] = [];
  for (const typePair of pairsOf(top, doc)) {
    const type = keyText(typePair.key, doc);
    const typePos = at(typePair.key);
    if (!TYPES.includes(type)) {
      ctx.problems.push({ ...typePos, path: type, message: `unknown resource type "${type}"${suggest(type, TYPES)}`, expected: TYPES.join(', ') });
      continue;
    }
    const typeVal = deref(typePair.value, doc);
    if (typeVal === null || typeVal === undefined || (isScalar(typeVal) && typeVal.value === null)) continue;
    if (!isMap(typeVal)) {
      ctx.problems.push({ ...typePos, path: type, message: `${type} must be a map of resources` });
      continue;
    }
    for (const resPair of pairsOf(typeVal, doc)) {
      const key = keyText(resPair.key, doc);
      const pos = at(resPair.key);
      const rv = deref(resPair.value, doc);
      const body = rv && !(isScalar(rv) && rv.value === null) ? rv : undefined;
      if (body && !isMap(body)) {
        ctx.problems.push({ ...pos, path: `${type}.${key}`, message: 'a resource must be a map of attributes', found: String(resPair.value) });
        continue;
      }
      const attrs = body && isMap(body) ? pairsOf(body, doc) : [];
      if (type === 'gossfile') includes.push({ key, attrs, pos });
      else {
        const r = buildResource(type, key, attrs, pos, at, doc, ctx);
        if (r) {
          const id = `${type}\0${key}`;
          ctx.out.delete(id);
          ctx.out.set(id, r);
        }
      }
    }
  }
  includes.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  for (const inc of includes) await include(inc.key, inc.attrs, file, inc.pos, doc, ctx, stack);
}

function buildResource(type: string, key: string, attrs: Pair<Node, Node>[], pos: Pos, at: (n: Node | null | undefined) => Pos, doc: Document, ctx: Ctx): ResourceSpec | undefined {
  const def = RESOURCE_DEFS.get(type)!;
  const r: ResourceSpec = { type, key, probeId: '', checks: [], options: {}, skip: false, pos };
  const before = ctx.problems.length;
  const known = [...Object.keys(def.attrs), ...Object.keys(def.aliases ?? {}), ...def.options, ...COMMON_ATTRS];
  // goss's matching with `as-reader: true` treats its content as a stream (line patterns for a list).
  const asReader = type === 'matching' && attrs.some((a) => keyText(a.key, doc) === 'as-reader' && toJS(deref(a.value, doc), doc) === true);
  const written = new Set(attrs.map((a) => keyText(a.key, doc)));
  for (const a of attrs) {
    const spelled = keyText(a.key, doc);
    const name = def.aliases?.[spelled] ?? spelled;
    const apos = at(a.key);
    if (name !== spelled && written.has(name)) {
      ctx.problems.push({ ...apos, path: `${type}.${key}.${spelled}`, message: `${spelled} is goss's old spelling of ${name}: give one of them (goss would silently ignore ${spelled})` });
      continue;
    }
    const node = deref(a.value, doc);
    const value: unknown = toJS(node, doc);
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
    } else if (type === 'matching' && name === 'content') {
      // goss's Matching.Content is an interface{}: its Go types matter (`content: 3.0` is a float64).
      try {
        r.options[name] = goValue(node, doc, ctx.json);
      } catch (err) {
        if (!(err instanceof GoValueError)) throw err;
        problem(err.message);
      }
    } else if (def.options.includes(name)) {
      r.options[name] = STRING_OPTIONS.has(name) && isScalar(node) && value !== null && typeof value !== 'string' ? String(node.source ?? value) : value;
    } else if (name in def.attrs) {
      try {
        const typed = goValue(node, doc, ctx.json);
        const v = ATOI_ATTRS.has(`${type}.${name}`) ? deprecateAtoI(typed) : typed;
        // A streamed attribute given an empty list asserts nothing: goss reports no result for it.
        const compiled = def.attrs[name] === 'patterns' || asReader ? compileReader(v) : compileMatcher(v);
        const note = octalNote(node, v);
        const matcher = compiled && note ? { ...compiled, describe: () => `${compiled.describe()} ${note}` } : compiled;
        if (matcher) {
          const check: AttrCheck = { name, value: v, matcher, pos: apos };
          r.checks.push(check);
        }
      } catch (err) {
        if (!(err instanceof MatcherSyntaxError) && !(err instanceof GoValueError)) throw err;
        problem(err.message);
      }
    } else {
      problem(`unknown attribute "${name}" for ${type}${suggest(name, known)}`, { expected: `one of ${known.join(', ')}` });
    }
  }
  // goss checks a type's first attribute (its gate) whether or not it is written, and fails the
  // resource without it ("Missing required attribute"); a skipped resource is not looked at.
  for (const req of r.skip ? [] : [...(def.gate ? [def.gate] : []), ...(def.required ?? [])]) {
    if (!r.checks.some((c) => c.name === req)) {
      ctx.problems.push({ ...pos, path: `${type}.${key}`, message: `${req} is required for ${type}: goss fails a ${type} without it ("Missing required attribute")`, hint: req === def.gate ? `add ${req}: true (or ${req}: false)` : undefined });
    }
  }
  if (!r.skip && r.checks.length === 0 && ctx.problems.length === before) {
    ctx.problems.push({ ...pos, path: `${type}.${key}`, message: `nothing to check: give at least one of ${Object.keys(def.attrs).join(', ')}` });
  }
  const bad = ctx.problems.length === before ? def.validate?.(r) : undefined;
  if (bad) ctx.problems.push({ ...pos, path: `${type}.${key}`, message: bad });
  return ctx.problems.length === before ? r : undefined;
}

/** `gossfile:` includes: key (or `file`) is a path relative to this file's directory, or absolute; a Go-style glob. */
async function include(key: string, attrs: Pair<Node, Node>[], from: string, pos: Pos, doc: Document, ctx: Ctx, stack: string[]): Promise<void> {
  const opts: Record<string, unknown> = {};
  for (const a of attrs) opts[keyText(a.key, doc)] = toJS(deref(a.value, doc), doc);
  for (const k of Object.keys(opts)) {
    if (!['file', 'skip'].includes(k)) ctx.problems.push({ ...pos, path: `gossfile.${key}.${k}`, message: `unknown attribute "${k}" for gossfile`, expected: 'file, skip' });
  }
  if (opts.skip === true) return;
  const pattern = path.resolve(path.dirname(from), typeof opts.file === 'string' && opts.file !== '' ? opts.file : key);
  let matches = [pattern];
  if (isDynamicPattern(pattern)) {
    const root = path.parse(pattern).root;
    matches = (
      await glob(path.relative(root, pattern), { cwd: root, absolute: true, dot: true, onlyFiles: false, expandDirectories: false, braceExpansion: false, extglob: false, globstar: false })
    ).sort();
  } else {
    matches = matches.filter((m) => existsSync(m));
  }
  if (matches.length === 0) {
    ctx.problems.push({ ...pos, path: `gossfile.${key}`, message: `no matched files were found: ${JSON.stringify(pattern)}`, hint: 'a gossfile include must match at least one file (as in goss); use skip: true to leave it out' });
    return;
  }
  for (const m of matches) await loadFile(m, ctx, stack);
}
