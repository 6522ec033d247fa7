/**
 * goss's retry_count / retry_delay (resource/retry.go), for the types that
 * take them (command, dns, package). A resource whose checks did not all pass
 * is probed again, up to retry_count more times, retry_delay apart (a bare
 * number is milliseconds, a string a Go duration such as 250ms or 2s; zero or
 * less means goss's default, one second). Each retry is one more round trip
 * with only the resources still retrying; a command's results are those of
 * its last run (goss reruns the whole command), a dns or package attribute
 * keeps the first run that passed (goss retries attribute by attribute).
 */
import type { ResourceSpec } from './types.js';

export const RETRY_OPTIONS = ['retry_count', 'retry_delay'] as const;

const UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** retry_delay in milliseconds, as goss's parseRetryDelay reads it; undefined when it cannot be read. */
export function retryDelayMs(v: unknown): number | undefined {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v !== 'string') return undefined;
  const s = v.trim();
  if (s === '') return 0;
  // Go's time.ParseDuration: a sequence of decimal numbers with units, optionally signed.
  const m = /^([+-]?)((?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$/.exec(s);
  if (m) {
    let total = 0;
    for (const [, n, u] of s.replace(/^[+-]/, '').matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g)) total += Number(n) * UNITS[u!]!;
    return m[1] === '-' ? -total : total;
  }
  if (s === '0') return 0;
  const n = Number(s);
  return /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(s) && Number.isFinite(n) ? n : undefined;
}

/** Why the resource's retry options are not what goss reads, or undefined. */
export function retryProblem(r: ResourceSpec): string | undefined {
  const c = r.options.retry_count;
  if (c !== undefined && (typeof c !== 'number' || !Number.isInteger(c))) return `retry_count must be a whole number, found ${JSON.stringify(c)}`;
  if (retryDelayMs(r.options.retry_delay) === undefined) return `invalid retry_delay value ${JSON.stringify(r.options.retry_delay)} (milliseconds, or a duration such as 500ms or 2s)`;
  return undefined;
}

/** How many more runs, and how far apart (ms). */
export function retryPlan(r: ResourceSpec): { retries: number; delayMs: number } {
  const c = typeof r.options.retry_count === 'number' && r.options.retry_count > 0 ? r.options.retry_count : 0;
  const d = retryDelayMs(r.options.retry_delay) ?? 0;
  return { retries: c, delayMs: d > 0 ? d : 1000 };
}
