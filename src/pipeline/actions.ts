import { randomBytes } from 'node:crypto';
import type { InstanceEntry, Project } from '../config/index.js';
import { apiCallsOf } from '../drivers/api-calls.js';
import { buildProblems } from '../config/build-rules.js';
import { ConfigError, HallmarkError, UsageError, toHallmarkError } from '../kernel/errors.js';
import type { EventBus } from '../kernel/events.js';
import { InstanceLock, Journal } from '../kernel/journal.js';
import type { CleanupOutcome, Step } from './runner.js';
import type { BuildRun, CapturedRun, Distributed, DriverRun, InstanceRun, LoadedRun } from './context.js';
import { Chain } from './chain.js';
import { missingCapabilities } from './plan.js';
import {
  bootTestStep,
  captureStep,
  convergeStep,
  createStep,
  destroyMachine,
  distributeStep,
  loadPluginsStep,
  prepareStep,
  setupStep,
  verifyStep,
} from './steps.js';
import type { BuildOutcome } from './publish.js';
import { commitActions, runCommit, COMMIT, type CommitAction, type CommitContext, type ProvenInstance } from './commit.js';
import { TimelineRecorder } from './report/timeline.js';
import { planReports, writeReports, type WrittenReports } from './report/write.js';

export const ACTIONS = ['create', 'converge', 'setup', 'verify', 'destroy', 'test', 'build'] as const;
export type Action = (typeof ACTIONS)[number];
export type DestroyStrategy = 'passing' | 'always' | 'never';

export interface RunActionOptions {
  project: Project;
  entries: InstanceEntry[];
  action: Action;
  events: EventBus;
  signal: AbortSignal;
  concurrency?: number;
  failFast?: boolean;
  /** For `test`: when to destroy the machine afterwards (Kitchen's --destroy). */
  destroy?: DestroyStrategy;
  buildId?: string;
  /**
   * build: commit each passing instance alone (--keep-passing, or
   * `build.atomic: false`), instead of the whole build or nothing.
   */
  keepPassing?: boolean;
  /** build: the commit actions, in order (default: commitActions()). */
  commitActions?: CommitAction[];
}

export interface InstanceResult {
  instance: string;
  ok: boolean;
  error?: HallmarkError;
  outcome?: BuildOutcome;
  /** build: the instance's images were committed (shared, tagged, in the outputs). */
  published?: boolean;
}

export interface ActionResult {
  results: InstanceResult[];
  /** Output files written (build only): they list exactly the published instances. */
  outputs: string[];
  buildId: string;
  /** build: instances whose images were published. */
  published: string[];
  /** build: why the commit did not hold (an instance failed, a commit action failed, cancel), when it did not. */
  commitError?: HallmarkError;
  /** build, verify, test: the HTML report (publish.html) and CI summary written, whether the run passed or not. */
  reports: WrittenReports;
}

/** The name report warnings carry in place of an instance name. */
const REPORT = 'report';

const destroyStep: Step<DriverRun> = {
  name: 'destroy',
  async run(run, signal) {
    await destroyMachine(run, signal);
  },
};

/** The steps of a lifecycle action (every action but build): load, then machine work. */
function stepsFor(action: Exclude<Action, 'build'>, run: InstanceRun, destroy: DestroyStrategy): Chain<InstanceRun, LoadedRun> {
  const s = run.journal.state;
  const keep = createStep({ destroyAfter: false });
  const loaded = Chain.of<InstanceRun>().yields(loadPluginsStep);
  switch (action) {
    case 'create':
      return loaded.then(keep);
    case 'converge':
      return loaded.then(keep).then(convergeStep);
    case 'setup':
      return (s.converged ? loaded.then(keep) : loaded.then(keep).then(convergeStep)).then(setupStep);
    case 'verify': {
      const converged = s.converged ? loaded.then(keep) : loaded.then(keep).then(convergeStep);
      return (s.setUp ? converged : converged.then(setupStep)).then(verifyStep);
    }
    case 'destroy':
      return loaded.then(destroyStep);
    case 'test':
      return loaded.then(destroyStep).then(createStep({ destroyAfter: destroy === 'always' })).then(convergeStep).then(setupStep).then(verifyStep);
  }
}

/** A build's run once every step passed. */
type BuiltRun = CapturedRun & Distributed;

/** A build's steps: each gets what the earlier ones made (the compiler checks the order). */
function buildSteps(): Chain<InstanceRun, BuiltRun> {
  return Chain.of<InstanceRun>()
    .yields(loadPluginsStep)
    .yields(prepareStep)
    .then(createStep({ destroyAfter: true }))
    .then(convergeStep)
    .then(setupStep)
    .then(verifyStep)
    .yields(captureStep)
    .then(bootTestStep)
    .yields(distributeStep);
}

/**
 * Runs one action on the selected instances, `concurrency` at a time. Each
 * instance is locked, journaled and cleaned up on its own; a failure in one
 * does not stop the others unless `failFast`.
 */
export async function runAction(opts: RunActionOptions): Promise<ActionResult> {
  if (opts.action === 'build') {
    const [conflict] = buildProblems(opts.entries.filter((e) => e.problems.length === 0).map((e) => e.config));
    if (conflict) throw new UsageError(`${conflict.message}; nothing was started`, { hint: conflict.hint });
  }
  // What the action needs of each driver, resolved once: an instance whose driver lacks it fails as a config problem before it starts.
  opts = { ...opts, entries: opts.entries.map((e) => (e.problems.length > 0 ? e : { ...e, problems: missingCapabilities(opts.action, e.config) })) };
  const buildId = opts.buildId ?? newBuildId();
  const plan = planReports(opts.action, opts.entries, opts.project.projectDir);
  const timeline = plan.html || plan.stepSummary ? new TimelineRecorder(opts.events) : undefined;
  let result: Omit<ActionResult, 'reports'>;
  try {
    result = await runInstances(opts, buildId);
  } finally {
    timeline?.stop();
  }
  if (!timeline) return { ...result, reports: {} };
  // A report that cannot be written is a warning: the build's own result stands.
  const reports = await writeReports(plan, {
    action: opts.action,
    buildId: opts.action === 'build' ? buildId : undefined,
    projectDir: opts.project.projectDir,
    lanes: timeline.lanes(),
    outputs: result.outputs,
    commitError: result.commitError?.message,
    instances: result.results.map((r, i) => ({
      name: r.instance,
      ok: r.ok,
      error: r.error?.message,
      outcome: r.outcome,
      config: opts.entries[i]?.config,
      ...(opts.action === 'build' ? { published: r.published === true } : {}),
    })),
  }).catch((err: unknown) => {
    opts.events.logger(REPORT).warn(`could not write the report: ${(err as Error).message}`);
    return {};
  });
  return { ...result, reports };
}

async function runInstances(opts: RunActionOptions, buildId: string): Promise<Omit<ActionResult, 'reports'>> {
  const concurrency = Math.max(1, opts.concurrency ?? 1);
  const stop = new AbortController();
  const signal = AbortSignal.any([opts.signal, stop.signal]);
  const results: InstanceResult[] = new Array(opts.entries.length);
  const proven: (Proven | undefined)[] = new Array(opts.entries.length);
  let next = 0;

  const worker = async () => {
    while (next < opts.entries.length) {
      const index = next++;
      const entry = opts.entries[index]!;
      if (signal.aborted && !opts.signal.aborted) {
        results[index] = { instance: entry.config.name, ok: false, error: new HallmarkError('not run: an earlier instance failed (--fail-fast)') };
        continue;
      }
      const attempt = await runInstance(entry, { ...opts, signal, buildId });
      results[index] = attempt.result;
      proven[index] = attempt.proven;
      if (!results[index].ok && opts.failFast) stop.abort();
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, opts.entries.length) }, worker));

  if (opts.action !== 'build') return { results, outputs: [], buildId, published: [] };
  const held = proven.filter((p): p is Proven => p !== undefined);
  try {
    return await commitBuild(opts, buildId, results, held);
  } finally {
    for (const p of held) await p.unlock();
  }
}

/** A proven instance whose lock is still held and whose image cleanup waits for the commit. */
interface Proven extends ProvenInstance {
  result: InstanceResult;
  /** The capture step's held cleanup: removes the images when called with failed. */
  release: (outcome: CleanupOutcome) => Promise<HallmarkError | undefined>;
  unlock: () => Promise<void>;
}

/**
 * The build level: one commit for every proven instance (atomic, the
 * default), or one per passing instance (keepPassing / build.atomic: false).
 * Whatever does not commit is rolled back: its images and copies removed.
 */
async function commitBuild(opts: RunActionOptions, buildId: string, results: InstanceResult[], proven: Proven[]): Promise<Omit<ActionResult, 'reports'>> {
  const atomic = !opts.keepPassing && opts.project.build?.atomic !== false;
  const actions = opts.commitActions ?? commitActions();
  const failed = results.filter((r) => !r.ok).map((r) => r.instance);
  const ctx = (instances: Proven[], committed: Proven[]): CommitContext => ({
    buildId,
    projectDir: opts.project.projectDir,
    events: opts.events,
    log: opts.events.logger(COMMIT),
    instances,
    committed,
    outcomes: results.map((r) => r.outcome).filter((o): o is BuildOutcome => o !== undefined),
    outputs: [],
  });
  const rollBack = async (p: Proven, why: HallmarkError | undefined) => {
    const log = opts.events.logger(p.result.instance);
    const err = await p.release({ failed: true, cancelled: why?.exitCode === 130 });
    if (!err) {
      log.info(`rolled back, not published: ${why?.message.split('\n')[0] ?? 'not committed'}`);
      return;
    }
    // The images could not all be removed: they stay journaled for `hallmark cleanup`, and the build fails.
    p.result.ok = false;
    p.result.error ??= err;
    if (p.result.error !== err) p.result.error.cleanupErrors.push(err);
  };

  const committed: Proven[] = [];
  let outputs: string[] = [];
  let commitError: HallmarkError | undefined;
  const blocked =
    atomic && failed.length > 0
      ? new HallmarkError(`nothing was committed: ${failed.join(', ')} failed, and the build is all-or-nothing`, {
          hint: 'fix the failure and build again; --keep-passing (or build.atomic: false) publishes the instances that pass',
        })
      : undefined;
  // One transaction for the build, or one per passing instance; at least one, so that every `finish` sees the build.
  const groups = atomic || proven.length === 0 ? [proven] : proven.map((p) => [p]);
  for (const group of groups) {
    const c = ctx(group, [...committed]);
    const outcome = await runCommit(c, actions, opts.signal, blocked ?? (group.length === 0 ? new HallmarkError('nothing to commit: no instance passed') : undefined));
    if (outcome.committed) {
      committed.push(...group);
      outputs = c.outputs;
      for (const p of group) {
        p.result.published = true;
        await p.release({ failed: false, cancelled: false });
      }
      continue;
    }
    if (group.length === 0) continue;
    if (atomic) {
      // An instance's own failure says why already; a failed commit is the build's error.
      if (!blocked) commitError = outcome.error;
    } else {
      // --keep-passing: this instance alone did not commit.
      for (const p of group) Object.assign(p.result, { ok: false, error: outcome.error });
    }
    for (const p of group) await rollBack(p, outcome.error);
  }
  return { results, outputs, buildId, published: committed.map((p) => p.result.instance), commitError };
}

/**
 * One instance's pipeline. In a build, an instance that passed comes back
 * proven: its lock still held and its capture cleanup waiting for the commit.
 */
async function runInstance(entry: InstanceEntry, opts: RunActionOptions & { buildId: string }): Promise<{ result: InstanceResult; proven?: Proven }> {
  const instance = entry.config;
  const name = instance.name;
  const { events } = opts;
  const t0 = Date.now();
  events.emit({ type: 'action-start', instance: name, action: opts.action });
  const finish = (r: InstanceResult): InstanceResult => {
    events.emit({ type: 'action-end', instance: name, action: opts.action, ok: r.ok, error: r.error?.message, durationMs: Date.now() - t0 });
    return r;
  };
  if (entry.problems.length > 0) return { result: finish({ instance: name, ok: false, error: new ConfigError(entry.problems) }) };

  let lock: InstanceLock;
  try {
    lock = await InstanceLock.acquire(opts.project.stateDir, name);
  } catch (err) {
    return { result: finish({ instance: name, ok: false, error: toHallmarkError(err) }) };
  }
  let keepLock = false;
  let journal: Journal | undefined;
  const timings: Record<string, number> = {};
  const offTimings = events.on((e) => {
    if (e.type === 'step-end' && e.instance === name) timings[e.step] = e.durationMs;
  });
  try {
    journal = await Journal.open(opts.project.stateDir, name);
    if (opts.action === 'build' && journal.state.created) {
      throw new UsageError(`instance ${name} already has a machine (from an earlier create/converge)`, {
        hint: `a build starts from a fresh machine: run "hallmark destroy ${name}" first`,
      });
    }
    const run: InstanceRun = {
      instance,
      journal,
      events,
      log: events.logger(name),
      buildId: opts.buildId,
      stateDir: opts.project.stateDir,
      signal: opts.signal,
      plugins: {},
    };
    await journal.update((s) => {
      s.lastAction = opts.action;
      s.lastError = null;
    });
    const destroy = opts.destroy ?? 'passing';
    const build = opts.action === 'build';
    const stepOptions = { instance: name, events, signal: opts.signal, holdOutputs: build };
    const r = opts.action === 'build' ? await buildSteps().run(run, stepOptions) : await stepsFor(opts.action, run, destroy).run(run, stepOptions);
    const built = opts.action === 'build' ? (r.completed as BuiltRun | undefined) : undefined;
    let error = r.error;
    if (opts.action === 'test' && destroy === 'passing' && r.completed) {
      try {
        await destroyMachine(r.completed, AbortSignal.timeout(15 * 60_000));
      } catch (err) {
        error = toHallmarkError(err);
      }
    }
    await journal.update((s) => {
      s.lastError = error ? error.message.split('\n')[0]! : null;
      s.timings = { ...s.timings, ...timings };
    });
    const made: BuildRun = run;
    const outcome: BuildOutcome = {
      instance,
      buildId: opts.buildId,
      imageName: made.imageName,
      image: made.image,
      copies: made.copies ?? [],
      report: run.report,
      bootTest: run.bootTest,
      timings,
      // The ledger is the implementation's (Driver.machines), whatever capabilities it has.
      apiCalls: [run.plugins.driver?.machines, run.bootTestDriver?.machines].map(apiCallsOf).filter((l) => l !== undefined),
      ok: !error,
      error: error?.message,
    };
    const result = finish({ instance: name, ok: !error, error, outcome });
    if (error || !built) return { result };
    keepLock = true;
    const release = r.release ?? (async () => undefined);
    return { result, proven: { run: built, image: built.image, copies: built.copies, outcome, result, release, unlock: () => lock.release() } };
  } catch (err) {
    const e = toHallmarkError(err);
    await journal
      ?.update((s) => {
        s.lastError = e.message.split('\n')[0]!;
      })
      .catch(() => {});
    return { result: finish({ instance: name, ok: false, error: e }) };
  } finally {
    offTimings();
    if (!keepLock) await lock.release();
  }
}

export function newBuildId(): string {
  const d = new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return `${d}-${randomBytes(3).toString('hex')}`;
}
