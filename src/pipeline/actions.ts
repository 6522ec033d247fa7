import { randomBytes } from 'node:crypto';
import type { InstanceEntry, Project } from '../config/index.js';
import { buildProblems } from '../config/build-rules.js';
import { ConfigError, HallmarkError, UsageError, toHallmarkError } from '../kernel/errors.js';
import type { EventBus } from '../kernel/events.js';
import { InstanceLock, Journal } from '../kernel/journal.js';
import { runSteps, type Step } from './runner.js';
import { driverContext, type InstanceRun } from './context.js';
import {
  bootTestStep,
  captureStep,
  convergeStep,
  createStep,
  destroyMachine,
  distributeStep,
  loadPluginsStep,
  prepareStep,
  publishStep,
  setupStep,
  verifyStep,
} from './steps.js';
import { writeOutputs, type BuildOutcome } from './publish.js';

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
}

export interface InstanceResult {
  instance: string;
  ok: boolean;
  error?: HallmarkError;
  outcome?: BuildOutcome;
}

export interface ActionResult {
  results: InstanceResult[];
  /** Output files written (build only, and only when every instance passed). */
  outputs: string[];
  buildId: string;
}

const destroyStep: Step<InstanceRun> = {
  name: 'destroy',
  async run(run, signal) {
    await destroyMachine(run, signal);
  },
};

function stepsFor(action: Action, run: InstanceRun, destroy: DestroyStrategy): Step<InstanceRun>[] {
  const s = run.journal.state;
  const keep = createStep({ destroyAfter: false });
  switch (action) {
    case 'create':
      return [loadPluginsStep, keep];
    case 'converge':
      return [loadPluginsStep, keep, convergeStep];
    case 'setup':
      return [loadPluginsStep, keep, ...(s.converged ? [] : [convergeStep]), setupStep];
    case 'verify':
      return [loadPluginsStep, keep, ...(s.converged ? [] : [convergeStep]), ...(s.setUp ? [] : [setupStep]), verifyStep];
    case 'destroy':
      return [loadPluginsStep, destroyStep];
    case 'test':
      return [loadPluginsStep, destroyStep, createStep({ destroyAfter: destroy === 'always' }), convergeStep, setupStep, verifyStep];
    case 'build':
      return [
        loadPluginsStep,
        prepareStep,
        createStep({ destroyAfter: true }),
        convergeStep,
        setupStep,
        verifyStep,
        captureStep,
        bootTestStep,
        distributeStep,
        ...(run.instance.publish.ssm_parameter !== undefined ? [publishStep] : []),
      ];
  }
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
  const buildId = opts.buildId ?? newBuildId();
  const concurrency = Math.max(1, opts.concurrency ?? 1);
  const stop = new AbortController();
  const signal = AbortSignal.any([opts.signal, stop.signal]);
  const results: InstanceResult[] = new Array(opts.entries.length);
  let next = 0;

  const worker = async () => {
    while (next < opts.entries.length) {
      const index = next++;
      const entry = opts.entries[index]!;
      if (signal.aborted && !opts.signal.aborted) {
        results[index] = { instance: entry.config.name, ok: false, error: new HallmarkError('not run: an earlier instance failed (--fail-fast)') };
        continue;
      }
      results[index] = await runInstance(entry, { ...opts, signal, buildId });
      if (!results[index].ok && opts.failFast) stop.abort();
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, opts.entries.length) }, worker));

  let outputs: string[] = [];
  if (opts.action === 'build' && results.length > 0 && results.every((r) => r.ok)) {
    outputs = await writeOutputs(
      opts.project.projectDir,
      results.map((r) => r.outcome!),
    );
  }
  return { results, outputs, buildId };
}

async function runInstance(entry: InstanceEntry, opts: RunActionOptions & { buildId: string }): Promise<InstanceResult> {
  const instance = entry.config;
  const name = instance.name;
  const { events } = opts;
  const t0 = Date.now();
  events.emit({ type: 'action-start', instance: name, action: opts.action });
  const finish = (r: InstanceResult): InstanceResult => {
    events.emit({ type: 'action-end', instance: name, action: opts.action, ok: r.ok, error: r.error?.message, durationMs: Date.now() - t0 });
    return r;
  };
  if (entry.problems.length > 0) return finish({ instance: name, ok: false, error: new ConfigError(entry.problems) });

  let lock: InstanceLock;
  try {
    lock = await InstanceLock.acquire(opts.project.stateDir, name);
  } catch (err) {
    return finish({ instance: name, ok: false, error: toHallmarkError(err) });
  }
  const journal = await Journal.open(opts.project.stateDir, name);
  const timings: Record<string, number> = {};
  const offTimings = events.on((e) => {
    if (e.type === 'step-end' && e.instance === name) timings[e.step] = e.durationMs;
  });
  try {
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
      copies: [],
    };
    await journal.update((s) => {
      s.lastAction = opts.action;
      s.lastError = null;
    });
    const destroy = opts.destroy ?? 'passing';
    const r = await runSteps(stepsFor(opts.action, run, destroy), run, { instance: name, events, signal: opts.signal });
    let error = r.error;
    if (opts.action === 'test' && destroy === 'passing' && r.ok) {
      try {
        await destroyMachine(run, AbortSignal.timeout(15 * 60_000));
      } catch (err) {
        error = toHallmarkError(err);
      }
    }
    await journal.update((s) => {
      s.lastError = error ? error.message.split('\n')[0]! : null;
      s.timings = { ...s.timings, ...timings };
      // Published images are outputs now (in the manifest), not leftovers for `hallmark cleanup`.
      if (opts.action === 'build' && !error) {
        s.images = [];
        delete s.parameters;
      }
    });
    let artifacts: Record<string, unknown> | undefined;
    const driver = run.plugins.driver;
    if (opts.action === 'build' && !error && run.image && driver?.describeImages) {
      // For the manifest: where the image is and its checksum. Best effort: the image is already proven.
      artifacts = await driver.describeImages(driverContext(run, AbortSignal.timeout(60_000)), [run.image, ...run.copies]).catch((err: unknown) => {
        run.log.warn(`could not describe the images for the manifest: ${(err as Error).message}`);
        return undefined;
      });
    }
    const outcome: BuildOutcome = {
      instance,
      artifacts,
      buildId: opts.buildId,
      imageName: run.imageName,
      parameters: run.parameters,
      image: run.image,
      copies: run.copies,
      report: run.report,
      bootTest: run.bootTest,
      timings,
      ok: !error,
      error: error?.message,
    };
    return finish({ instance: name, ok: !error, error, outcome });
  } catch (err) {
    const e = toHallmarkError(err);
    await journal.update((s) => {
      s.lastError = e.message.split('\n')[0]!;
    }).catch(() => {});
    return finish({ instance: name, ok: false, error: e });
  } finally {
    offTimings();
    await lock.release();
  }
}

export function newBuildId(): string {
  const d = new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return `${d}-${randomBytes(3).toString('hex')}`;
}
