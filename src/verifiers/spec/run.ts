/**
 * Runs spec checks against any Connection: one generated script, one exec
 * (`sh -s` with the script on stdin), results evaluated locally. This is what
 * `hallmark verify --target` uses without a config file, and what the
 * verifier plugin calls.
 */
import { throwIfAborted } from '../../kernel/abort.js';
import { HallmarkError } from '../../kernel/errors.js';
import { silentLogger, type Logger } from '../../kernel/events.js';
import type { Connection } from '../../transports/transport.js';
import type { CheckResult } from '../verifier.js';
import { evaluate } from './evaluate.js';
import { parseFraming } from './framing.js';
import { loadSpecFiles, type LoadOptions } from './load.js';
import { RESOURCE_DEFS } from './resources/index.js';
import { buildScript, hasProbe } from './script.js';
import { retryPlan } from './retry.js';
import type { ResourceDef, ResourceSpec } from './types.js';

function dependsOnTarget(def: ResourceDef, r: ResourceSpec): boolean {
  return hasProbe(def, r) || (def.facts?.length ?? 0) > 0 || (def.batch?.(r).length ?? 0) > 0;
}

export interface RunSpecOptions extends LoadOptions {
  /** Run the script as root via `sudo -n` when the login user is not root (default true). */
  sudo?: boolean;
  /** Whole-script timeout in seconds (default 600). */
  timeoutSec?: number;
  signal?: AbortSignal;
  log?: Logger;
}

export interface SpecRun {
  results: CheckResult[];
  /** The generated script (for `--debug` and tests). */
  script: string;
  /** Wall time of the one round trip, and exit status of the script. */
  execMs: number;
  exitCode: number | null;
  stderr: string;
}

export async function runSpecChecks(connection: Connection, specs: string[] | ResourceSpec[], opts: RunSpecOptions = {}): Promise<SpecRun> {
  const resources = specs.length > 0 && typeof specs[0] === 'string' ? await loadSpecFiles(specs as string[], opts) : (specs as ResourceSpec[]);
  const first = await roundTrip(connection, resources, opts);
  let results = first.results;
  // goss's retry_count: resources whose checks did not all pass are probed again, retry_delay apart.
  const key = (type: string, k: string) => `${type}\0${k}`;
  const pending = new Map(resources.filter((r) => retryPlan(r).retries > 0).map((r) => [key(r.type, r.key), { r, left: retryPlan(r).retries, at: 0 }]));
  const failing = (r: ResourceSpec) => results.some((c) => c.resourceType === r.type && c.resource === r.key && c.status !== 'pass' && c.status !== 'skip');
  for (const [k, p] of pending) if (!failing(p.r)) pending.delete(k);
  let now = 0;
  while (pending.size > 0) {
    for (const p of pending.values()) if (p.at <= now) p.at = now + retryPlan(p.r).delayMs;
    const next = Math.min(...[...pending.values()].map((p) => p.at));
    await sleep(next - now, opts.signal);
    now = next;
    const due = [...pending.values()].filter((p) => p.at <= now);
    const again = await roundTrip(connection, due.map((p) => p.r), opts);
    results = results.flatMap((c) => {
      const p = pending.get(key(c.resourceType, c.resource));
      if (!p || !due.includes(p)) return [c];
      // A command is rerun whole (its last run counts); a dns or package attribute keeps a pass.
      if (p.r.type !== 'command' && c.status === 'pass') return [c];
      return again.results.filter((n) => n.resourceType === c.resourceType && n.resource === c.resource && n.property === c.property);
    });
    for (const p of due) {
      p.left--;
      p.at = 0;
      if (p.left <= 0 || !failing(p.r)) pending.delete(key(p.r.type, p.r.key));
    }
  }
  return { ...first, results };
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, Math.max(0, ms));
    const onAbort = () => {
      clearTimeout(t);
      reject(signal!.reason as Error);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** One script, one exec, results evaluated locally. */
async function roundTrip(connection: Connection, resources: ResourceSpec[], opts: RunSpecOptions): Promise<SpecRun> {
  const log = opts.log ?? silentLogger;
  const { script } = buildScript(resources, RESOURCE_DEFS);
  throwIfAborted(opts.signal);
  const nChecks = resources.reduce((n, r) => n + r.checks.length, 0);
  log.debug(`spec: ${nChecks} checks of ${resources.length} resources in one script (${script.length} bytes)`);
  const timeoutSec = opts.timeoutSec ?? 600;
  const res = await connection.exec('sh -s', { stdin: script, sudo: opts.sudo ?? true, signal: opts.signal, timeoutMs: timeoutSec * 1000 });
  throwIfAborted(opts.signal);
  const parsed = parseFraming(res.stdout);
  const running = resources.find((r) => r.probeId === parsed.running);
  const during = running ? ` while probing ${running.type} ${JSON.stringify(running.key)}` : '';
  let note: string | undefined;
  if (parsed.tampered) note = `the check script's output was altered on the target (${parsed.tampered}); no result of this run can be trusted`;
  else if (res.timedOut) note = `the check script hit its ${timeoutSec} s timeout (verifier.timeout)${during}`;
  else if (!parsed.done) note = `the check script ended early (exit ${res.exitCode ?? 'none'})${during}: ${res.stderr.trim().split('\n').slice(-3).join(' | ') || 'no output'}`;
  if (note) log.warn(`spec: ${note}`);
  if (!parsed.done && parsed.fields.size === 0 && res.exitCode !== 0 && !res.timedOut && !parsed.tampered) {
    // Nothing ran at all (no shell, sudo refused): one clear error instead of N errored checks.
    throw new HallmarkError(`spec verifier: the check script did not run: ${res.stderr.trim() || `exit ${res.exitCode}`}`, {
      hint: opts.sudo === false ? 'the target needs a POSIX sh' : 'the login user needs passwordless sudo, or set verifier.sudo: false',
    });
  }
  let results = evaluate(resources, parsed, RESOURCE_DEFS, note);
  if (note) {
    // Output that did not arrive whole, or was altered, decides nothing: every check that
    // depends on the target is an error (a `matching` check is decided by the gossfile alone).
    const local = new Set(resources.filter((r) => !dependsOnTarget(RESOURCE_DEFS.get(r.type)!, r)).map((r) => r.probeId));
    const byId = new Map(resources.map((r) => [`${r.type}\0${r.key}`, r.probeId]));
    results = results.map((c) =>
      c.status === 'skip' || local.has(byId.get(`${c.resourceType}\0${c.resource}`) ?? '') ? c : { ...c, status: 'error', found: '', message: `not evaluated: ${note}` },
    );
  }
  return { results, script, execMs: res.durationMs, exitCode: res.exitCode, stderr: res.stderr };
}
