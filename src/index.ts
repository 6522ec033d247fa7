/**
 * hallmark as a library: load a project, run its actions (build above all),
 * verify a machine. The CLI is one user of the same pipeline; nothing here
 * prints. Progress reaches you as events (`onEvent`), failures of a machine as
 * results, and misuse or a broken config as the error classes exported below.
 *
 * ```ts
 * import { loadProject, build, verify } from 'hallmark';
 * const project = await loadProject({ cwd: 'images/web' });
 * const result = await build({ project, instances: 'debian', onEvent: (e) => console.log(e) });
 * const report = await verify({ target: 'ssh://admin@10.0.0.5', spec: ['goss.yaml'], key: 'id_ed25519' });
 * ```
 */
import { EventBus, type HallmarkEvent } from './kernel/events.js';
import { loadProject as loadConfig, selectInstances, type InstanceEntry, type Project as ConfigProject } from './config/index.js';
import { runProjectAction } from './pipeline/facade.js';
import type { Action, ActionResult, DestroyStrategy } from './pipeline/actions.js';
import { summarize, type CheckResult } from './verifiers/verifier.js';

export {
  HallmarkError,
  UsageError,
  ConfigError,
  PluginError,
  CommandFailedError,
  VerificationFailedError,
  CancelledError,
  TimeoutError,
  LockedError,
  StateFileError,
  type ConfigProblem,
  type ExitCode,
} from './kernel/errors.js';
export type { HallmarkEvent } from './kernel/events.js';
export type { InstanceConfig, ImageConfig, DistributeConfig, PublishConfig, PluginBlock } from './config/index.js';
export type { Action, ActionResult, InstanceResult, DestroyStrategy } from './pipeline/actions.js';
export type { CheckResult, CheckStatus, VerifyReport } from './verifiers/verifier.js';
export type { ImageRecord } from './kernel/journal.js';

/** One instance of a project (`<suite>-<platform>`), as `hallmark list` shows it. */
export interface Instance extends InstanceEntry {
  name: string;
  suite: string;
  platform: string;
}

export interface Project extends ConfigProject {
  instances: Instance[];
}

export interface LoadProjectOptions {
  /** Directory to look for the config file in (default: the process's). */
  cwd?: string;
  /** A config file to use instead of discovery (hallmark.yml, kitchen.yml, ...). */
  configFile?: string;
  /** Environment for ERB and `KITCHEN_*` lookups (default: process.env). */
  env?: Record<string, string | undefined>;
}

/**
 * Reads and validates the project's configuration; nothing is launched.
 * Throws ConfigError (every problem, with file and line) when the files are
 * unusable; problems of one instance stay on that instance (`problems`).
 */
export async function loadProject(opts: LoadProjectOptions = {}): Promise<Project> {
  const p = await loadConfig({ cwd: opts.cwd ?? process.cwd(), configFile: opts.configFile, env: opts.env ?? process.env });
  return {
    ...p,
    instances: p.instances.map((e) => ({ ...e, name: e.config.name, suite: e.config.suite, platform: e.config.platform })),
  };
}

export interface RunOptions {
  project: Project;
  /** An instance name or a regular expression, as on the command line (default: all). */
  instances?: string;
  /** Cancels the run as Ctrl-C does: machines are destroyed, nothing is published. */
  signal?: AbortSignal;
  /** Every event of the run: steps, log lines, checks, resources. */
  onEvent?: (event: HallmarkEvent) => void;
  /** Instances run at once (default 1). */
  concurrency?: number;
  failFast?: boolean;
  /** `test`: when to destroy the machine afterwards (default: passing). */
  destroy?: DestroyStrategy;
  /** `build`: commit each passing instance alone instead of all or nothing. */
  keepPassing?: boolean;
}

export interface RunResult extends ActionResult {
  /** Every instance passed (and, for build, the commit held). */
  ok: boolean;
}

/** Runs one action (create, converge, setup, verify, destroy, test, build) on the selected instances. */
export async function runAction(action: Action, opts: RunOptions): Promise<RunResult> {
  const events = new EventBus();
  const off = opts.onEvent ? events.on(opts.onEvent) : () => undefined;
  try {
    const result = await runProjectAction({
      project: opts.project,
      entries: selectInstances(opts.project, opts.instances),
      action,
      events,
      signal: opts.signal ?? new AbortController().signal,
      concurrency: opts.concurrency,
      failFast: opts.failFast,
      destroy: opts.destroy,
      keepPassing: opts.keepPassing,
    });
    return { ...result, ok: result.results.every((r) => r.ok) && !result.commitError };
  } finally {
    off();
  }
}

/**
 * Builds images: every instance is launched, provisioned and verified, and
 * only if every check passes its image is captured, tested, distributed and
 * published; the machines are always destroyed.
 */
export function build(opts: RunOptions): Promise<RunResult> {
  return runAction('build', opts);
}

export interface VerifyOptions {
  /** `local`, or `ssh://USER@HOST[:PORT]`. */
  target: string;
  /** Gossfiles (paths). */
  spec?: string[];
  /** Shipped profiles, e.g. `baseline`. */
  profiles?: string[];
  /** Template variables for the gossfiles (`{{ .Vars.name }}`). */
  vars?: Record<string, string>;
  /** Private key for an ssh target. */
  key?: string;
  /** Expected host key (`SHA256:...`); otherwise trust on first use in the known-hosts file. */
  hostKey?: string;
  signal?: AbortSignal;
  onEvent?: (event: HallmarkEvent) => void;
}

export interface VerifyResult {
  target: string;
  results: CheckResult[];
  summary: { total: number; passed: number; failed: number; errors: number; skipped: number };
  /** At least one check ran and none failed or errored. */
  passed: boolean;
  durationMs: number;
}

/**
 * Verifies a machine hallmark did not make, with no config file. Failed
 * checks are results (`passed: false`), not exceptions; an unreadable
 * gossfile is a ConfigError, an unreachable target a HallmarkError.
 */
export async function verify(opts: VerifyOptions): Promise<VerifyResult> {
  const { verifyTarget } = await import('./verifiers/target.js');
  const events = new EventBus();
  const off = opts.onEvent ? events.on(opts.onEvent) : () => undefined;
  try {
    const report = await verifyTarget({
      target: opts.target,
      key: opts.key,
      hostKey: opts.hostKey,
      specFiles: opts.spec ?? [],
      profiles: opts.profiles ?? [],
      vars: opts.vars,
      signal: opts.signal,
      log: events.logger(opts.target),
    });
    const summary = summarize(report.results);
    return {
      target: report.instance,
      results: report.results,
      summary,
      passed: summary.total > 0 && summary.failed + summary.errors === 0,
      durationMs: report.durationMs,
    };
  } finally {
    off();
  }
}
