import type { Observation, ProbeData, ResourceSpec } from '../types.js';

/** The resource's target name: its `name`-like option when given, else the map key (goss: "defaults to hash key"). */
export function target(r: ResourceSpec, option: string): string {
  const v = r.options[option];
  return typeof v === 'string' || typeof v === 'number' ? String(v) : r.key;
}

export function wants(r: ResourceSpec, attr: string): boolean {
  return r.checks.some((c) => c.name === attr);
}

export function rc(data: ProbeData, prefix: string): number | undefined {
  const v = data.own.get(`${prefix}.rc`);
  return v === undefined || v === '' ? undefined : Number(v);
}

export function out(data: ProbeData, prefix: string): string {
  return data.own.get(`${prefix}.out`) ?? '';
}

export function err(data: ProbeData, prefix: string): string {
  return (data.own.get(`${prefix}.err`) ?? '').trim();
}

const derivedFacts = new WeakMap<Map<string, string>, Map<string, unknown>>();

/**
 * A value derived from the target-wide facts (an index of the package list, a
 * parsed /proc/net table), built once per set of facts and shared by every
 * resource that asks: the facts are the same map for all resources of a round
 * trip, so rescanning a 2,000-line package list per package is quadratic (it
 * was most of the controller's CPU for 100 package checks).
 */
export function derived<T>(facts: Map<string, string>, key: string, build: () => T): T {
  let cache = derivedFacts.get(facts);
  if (!cache) derivedFacts.set(facts, (cache = new Map()));
  if (!cache.has(key)) cache.set(key, build());
  return cache.get(key) as T;
}

/** The same observation for every checked attribute. */
export function every(r: ResourceSpec, o: Observation): Record<string, Observation> {
  return Object.fromEntries(r.checks.map((c) => [c.name, o]));
}

/** Fills attributes the resource's absence leaves without a value. */
export function absentFor(r: ResourceSpec, base: Record<string, Observation>, why: string): Record<string, Observation> {
  const res = { ...base };
  for (const c of r.checks) if (!(c.name in res)) res[c.name] = { missing: why };
  return res;
}

export function firstLine(s: string): string {
  return s.split('\n').find((l) => l.trim() !== '')?.trim() ?? '';
}

/** A batched query's result (see BATCHES in script.ts), read from the facts. */
export interface BatchResult {
  out: string;
  /** Exit status; undefined when the batch did not run (or did not report back). */
  rc?: number;
  err: string;
}

export function batchResult(data: ProbeData, kind: string): BatchResult {
  const code = data.facts.get(`${kind}.rc`);
  return {
    out: data.facts.get(`${kind}.out`) ?? '',
    ...(code === undefined || code === '' ? {} : { rc: Number(code) }),
    err: (data.facts.get(`${kind}.err`) ?? '').trim(),
  };
}

/** The stderr lines of a batch that name `arg` (what went wrong for this one), else all of it. */
export function errorFor(b: BatchResult, arg: string): string {
  const mine = b.err.split('\n').filter((l) => l.includes(arg));
  return (mine.length ? mine.join('; ') : b.err) || `exit ${b.rc}`;
}
