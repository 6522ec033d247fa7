import type { z } from 'zod';
import type { ConfigProblem } from '../kernel/errors.js';
import { suggestionHint } from './did-you-mean.js';
import { formatPath, originAt, toPlain } from './merge.js';
import { describeValue, type Origin, type PathSeg, type ValueNode } from './source.js';

/**
 * Validates a (merged) node with a zod schema and turns every zod issue into
 * a ConfigProblem that points at the file, line and column that set the
 * offending value (or key), with what was expected and what was found.
 */
export interface Validated<T> {
  data?: T;
  problems: ConfigProblem[];
}

export function validateNode<S extends z.ZodType>(
  schema: S,
  node: ValueNode | undefined,
  /** Where to point when the node is absent altogether. */
  fallback: Origin,
  input: unknown = toPlain(node),
): Validated<z.output<S>> {
  // jitless: zod would otherwise compile a parser (new Function) for each
  // object schema on its first parse, which costs more than the one or two
  // parses a config gets (bench/cli: ~8 ms of `hallmark list`).
  const r = schema.safeParse(input, { jitless: true });
  if (r.success) return { data: r.data, problems: [] };
  const problems: ConfigProblem[] = [];
  for (const issue of r.error.issues) {
    for (const p of issueProblems(schema, input, issue as Issue, [])) {
      problems.push(place(node, fallback, p));
    }
  }
  return { problems: sortProblems(problems) };
}

interface Issue {
  code: string;
  path: PathSeg[];
  message: string;
  expected?: string;
  values?: unknown[];
  keys?: string[];
  errors?: Issue[][];
  origin?: string;
  minimum?: number | bigint;
  maximum?: number | bigint;
  inclusive?: boolean;
  format?: string;
  pattern?: string;
}

/** A problem before it is placed: its path is relative to the validated value. */
interface Draft {
  path: PathSeg[];
  atKey: boolean;
  message: string;
  expected?: string;
  found?: string;
  hint?: string;
}

function place(node: ValueNode | undefined, fallback: Origin, d: Draft): ConfigProblem {
  const origin = node ? originAt(node, d.path) : { source: fallback.source, path: [...fallback.path, ...d.path] };
  const loc = origin.source.locate(origin.path, d.atKey);
  return {
    file: origin.source.file,
    ...(loc ?? {}),
    path: formatPath(origin.path),
    message: d.message,
    ...(d.expected !== undefined ? { expected: d.expected } : {}),
    ...(d.found !== undefined ? { found: d.found } : {}),
    ...(d.hint !== undefined ? { hint: d.hint } : {}),
  };
}

function valueAt(input: unknown, path: readonly PathSeg[]): unknown {
  let v = input;
  for (const seg of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[seg as string];
  }
  return v;
}

const TYPE_NAMES: Record<string, string> = {
  object: 'a map',
  array: 'a list',
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  record: 'a map',
};

function issueProblems(schema: z.ZodType, input: unknown, issue: Issue, prefix: PathSeg[]): Draft[] {
  const path = [...prefix, ...issue.path];
  const value = valueAt(input, path);
  const found = describeValue(value);
  switch (issue.code) {
    case 'unrecognized_keys':
      return (issue.keys ?? []).map((k) => ({
        path: [...path, k],
        atKey: true,
        message: `unknown key "${k}"`,
        hint: suggestionHint(k, knownKeys(schema, path)) ?? keysHint(knownKeys(schema, path)),
      }));
    case 'invalid_type':
      if (value === undefined) {
        return [{ path, atKey: true, message: `missing required key "${String(path[path.length - 1] ?? '')}"`, expected: TYPE_NAMES[issue.expected ?? ''] ?? issue.expected }];
      }
      return [{ path, atKey: false, message: 'wrong type', expected: TYPE_NAMES[issue.expected ?? ''] ?? issue.expected, found }];
    case 'invalid_value':
      return [{ path, atKey: false, message: 'not an allowed value', expected: oneOf(issue.values ?? []), found }];
    case 'too_small':
    case 'too_big':
      return [{ path, atKey: false, message: issue.code === 'too_small' ? 'too small' : 'too large', expected: bound(issue), found }];
    case 'invalid_format':
      return [{ path, atKey: false, message: 'wrong format', expected: customText(issue.message) ?? (issue.pattern ? `a string matching ${issue.pattern}` : issue.format), found }];
    case 'invalid_union':
      return unionProblems(schema, input, issue, path, found);
    default:
      return [{ path, atKey: false, message: issue.message, found: value === undefined ? undefined : found }];
  }
}

/**
 * A union fails as a whole. When exactly one alternative got past the type
 * check (the value is a map and one alternative is a map), its own issues
 * are the useful ones; otherwise list what each alternative expected.
 */
function unionProblems(schema: z.ZodType, input: unknown, issue: Issue, path: PathSeg[], found: string): Draft[] {
  const branches = issue.errors ?? [];
  if (valueAt(input, path) === undefined) {
    return [{ path, atKey: true, message: `missing required key "${String(path[path.length - 1] ?? '')}"` }];
  }
  const shallow = (b: Issue[]) => b.every((i) => i.path.length === 0 && (i.code === 'invalid_type' || i.code === 'invalid_value'));
  const deep = branches.filter((b) => !shallow(b));
  if (deep.length === 1) return deep[0]!.flatMap((i) => issueProblems(schema, input, i, path));
  const expected = branches
    .flatMap((b) => b.map((i) => (i.code === 'invalid_value' ? oneOf(i.values ?? []) : (TYPE_NAMES[i.expected ?? ''] ?? i.expected ?? ''))))
    .filter((s, i, all) => s && all.indexOf(s) === i);
  return [{ path, atKey: false, message: 'wrong type', expected: expected.join(' or '), found }];
}

function oneOf(values: unknown[]): string {
  const shown = values.map((v) => (typeof v === 'string' ? `"${v}"` : String(v)));
  return shown.length === 1 ? shown[0]! : `one of ${shown.join(', ')}`;
}

function bound(i: Issue): string {
  const n = String(i.code === 'too_small' ? i.minimum : i.maximum);
  const cmp = i.code === 'too_small' ? (i.inclusive === false ? '>' : '>=') : i.inclusive === false ? '<' : '<=';
  if (i.origin === 'string') return `${i.code === 'too_small' ? 'at least' : 'at most'} ${n} characters`;
  if (i.origin === 'array' || i.origin === 'set') return `${i.code === 'too_small' ? 'at least' : 'at most'} ${n} items`;
  return `a number ${cmp} ${n}`;
}

/** Schemas give their own description of a format (`.regex(re, 'an AWS region')`); zod's defaults start with "Invalid". */
function customText(message: string): string | undefined {
  return /^(Invalid|Too )/.test(message) ? undefined : message;
}

function keysHint(keys: string[]): string | undefined {
  return keys.length > 0 ? `known keys: ${keys.join(', ')}` : undefined;
}

interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  in?: z.ZodType;
  element?: z.ZodType;
  valueType?: z.ZodType;
  options?: z.ZodType[];
  getter?: () => z.ZodType;
}

const defOf = (s: z.ZodType): Def => (s as unknown as { _zod: { def: Def } })._zod.def;

/** The schemas reachable at `path` (unions fan out). */
function schemasAt(schema: z.ZodType, path: readonly PathSeg[]): z.ZodType[] {
  const d = defOf(schema);
  if (d.innerType) return schemasAt(d.innerType, path);
  if (d.type === 'pipe' && d.in) return schemasAt(d.in, path);
  if (d.type === 'lazy' && d.getter) return schemasAt(d.getter(), path);
  if (d.type === 'union') return (d.options ?? []).flatMap((o) => schemasAt(o, path));
  if (path.length === 0) return [schema];
  const [head, ...rest] = path;
  if (d.type === 'object' && d.shape && typeof head === 'string' && d.shape[head]) return schemasAt(d.shape[head], rest);
  if (d.type === 'array' && d.element) return schemasAt(d.element, rest);
  if (d.type === 'record' && d.valueType) return schemasAt(d.valueType, rest);
  return [];
}

/** The keys the map schema at `path` knows, for "did you mean". */
export function knownKeys(schema: z.ZodType, path: readonly PathSeg[]): string[] {
  const keys = new Set<string>();
  for (const s of schemasAt(schema, path)) {
    const d = defOf(s);
    if (d.type === 'object' && d.shape) for (const k of Object.keys(d.shape)) keys.add(k);
  }
  return [...keys].sort();
}

/** File, then line, then column: the order a reader fixes them in. */
export function sortProblems(problems: ConfigProblem[]): ConfigProblem[] {
  return [...problems].sort(
    (a, b) => a.file.localeCompare(b.file) || (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0),
  );
}
