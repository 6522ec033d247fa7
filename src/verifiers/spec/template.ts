/**
 * goss's gossfile templates, rendered on the controller before a gossfile is
 * parsed (goss `template.go`): every file (each included one too) is a Go
 * text/template executed with `.Vars` (the vars files and inline vars) and
 * `.Env` (the environment), goss's functions, sprig's, and the option
 * `missingkey=error`. Nothing of a template runs on the target.
 *
 * The engine is ours (template/): no npm package implements Go's
 * text/template with a function map (@ctrl/golang-template has no eq,
 * variables or $; @evertdespiegeleer/go-template, Go's engine in wasm, takes
 * no functions; @mdfriday/text-template is unlicensed and obfuscated).
 */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import type { ConfigProblem } from '../../kernel/errors.js';
import { Executor } from './template/exec.js';
import { goFuncs, UNAVAILABLE } from './template/funcs.js';
import { TemplateError } from './template/lex.js';
import { parseTemplate } from './template/parse.js';
import { fromJS, TmplVars, type GoValue } from './template/values.js';

export type TemplateVars = Map<string, GoValue>;

export interface RenderOptions {
  vars: TemplateVars | Record<string, unknown>;
  env?: Record<string, string | undefined>;
  /** Where readFile's relative paths start (goss: its working directory). Default: process.cwd(). */
  baseDir?: string;
}

function lineOf(text: string, offset: number): number {
  let n = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) n++;
  return n;
}

/** Config values (numbers from YAML): integral numbers are Go ints, as goss's YAML decoder gives them. */
export function varsFromConfig(v: Record<string, unknown>): TemplateVars {
  const conv = (x: unknown): unknown => {
    if (typeof x === 'number' && Number.isSafeInteger(x)) return BigInt(x);
    if (Array.isArray(x)) return x.map(conv);
    if (x && typeof x === 'object' && !(x instanceof Date)) return Object.fromEntries(Object.entries(x).map(([k, y]) => [k, conv(y)]));
    return x;
  };
  return fromJS(conv(v)) as TemplateVars;
}

/** One vars document, as goss reads it (store.go varsFromString): JSON if it parses as JSON (numbers are float64), else YAML. */
export function parseVarsText(text: string, where: string): TemplateVars {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    try {
      data = parseYaml(text, { intAsBigInt: true, merge: true });
    } catch (e) {
      throw new Error(`${where}: invalid YAML: ${(e as Error).message.split('\n')[0]}`, { cause: e });
    }
  }
  if (data === null || data === undefined) return new Map();
  if (typeof data !== 'object' || Array.isArray(data)) throw new Error(`${where}: vars must be a map of names to values`);
  return fromJS(data) as TemplateVars;
}

/** mergo.Merge(WithOverride): maps merge key by key, a non-empty later value replaces an earlier one. */
function mergeOver(dst: TemplateVars, src: TemplateVars): void {
  for (const [k, v] of src) {
    const cur = dst.get(k);
    if (cur instanceof Map && v instanceof Map) mergeOver(cur, v);
    else if (!dst.has(k) || !(v === null || v === '' || v === false || v === 0n || v === 0 || (Array.isArray(v) && v.length === 0) || (v instanceof Map && v.size === 0))) dst.set(k, v);
  }
}

/**
 * goss's loadVars: vars files merged in order (a later file's non-empty
 * values win, maps merged key by key), then the inline vars replace whole
 * top-level keys.
 */
export async function loadVars(files: string[], inline?: TemplateVars | string): Promise<TemplateVars> {
  const merged: TemplateVars = new Map();
  for (const f of files) {
    let text: string;
    try {
      text = await readFile(f, 'utf8');
    } catch (e) {
      throw new Error(`cannot read vars file ${f}: ${(e as Error).message}`, { cause: e });
    }
    mergeOver(merged, parseVarsText(text, f));
  }
  const extra = typeof inline === 'string' ? parseVarsText(inline, 'inline vars') : (inline ?? new Map());
  for (const [k, v] of extra) merged.set(k, v);
  return merged;
}

/**
 * Renders one gossfile. A template that does not parse or fails while
 * running is a problem naming the file and line (exit 2), never a
 * half-rendered file: a check that lost its condition could pass by accident.
 */
export function renderTemplate(text: string, file: string, opts: RenderOptions): { text: string; problems: ConfigProblem[] } {
  if (!text.includes('{{')) return { text, problems: [] };
  const env = opts.env ?? process.env;
  const funcs = goFuncs({ env, baseDir: opts.baseDir ?? process.cwd() });
  const vars = opts.vars instanceof Map ? opts.vars : varsFromConfig(opts.vars);
  const problem = (e: TemplateError, phase: string): ConfigProblem => ({
    file,
    line: lineOf(text, e.pos),
    path: '',
    message: `template: ${e.message}`,
    hint: `the gossfile is a Go text/template (${phase}); see src/verifiers/spec/README.md, Templates`,
  });
  let parsed;
  try {
    parsed = parseTemplate(text, (name) => funcs.has(name) || name === 'and' || name === 'or');
  } catch (e) {
    if (!(e instanceof TemplateError)) throw e;
    const fn = /^function "(.*)" not defined$/.exec(e.message)?.[1];
    const why = fn && fn in UNAVAILABLE ? new TemplateError(`function "${fn}" is not available in hallmark: ${UNAVAILABLE[fn]}`, e.pos) : e;
    return { text, problems: [problem(why, 'parse')] };
  }
  try {
    // A deep copy: sprig's set/unset change maps in place, and each file starts from the same vars.
    const out = new Executor(parsed, funcs).run(new TmplVars(structuredClone(vars), env));
    return { text: out, problems: [] };
  } catch (e) {
    if (!(e instanceof TemplateError)) throw e;
    return { text, problems: [problem(e, 'execute')] };
  }
}
