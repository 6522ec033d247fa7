/**
 * Working on one instance's recorded machine outside an action: the run that
 * `login`/`exec` connect through, and `cleanup` from the state files alone.
 * The CLI calls these; it does no pipeline work of its own.
 */
import { loadPlugin } from '../plugins.js';
import type { EventBus } from '../kernel/events.js';
import { InstanceLock, Journal, listStateFiles } from '../kernel/journal.js';
import { UsageError, toHallmarkError, type HallmarkError } from '../kernel/errors.js';
import type { Connection } from '../transports/transport.js';
import type { InstanceEntry, Project } from '../config/index.js';
import { driverContext, type InstanceRun, type Plugins } from './context.js';
import { bootTestInstanceName, deleteBuildImages, withAbsoluteKey } from './steps.js';
import { sweepBuild } from './orphans.js';
import { renderParameterName } from '../config/parameter-name.js';

/** A run with the driver and transport of an instance loaded. */
export type RecordedRun = InstanceRun & { plugins: Pick<Plugins, 'driver' | 'transport'> };

/** The run of an instance's recorded machine, with its driver and transport loaded (keys resolved as a build does). */
export async function openInstanceRun(project: Project, entry: InstanceEntry, events: EventBus, signal: AbortSignal): Promise<RecordedRun> {
  const journal = await Journal.open(project.stateDir, entry.config.name);
  return {
    instance: entry.config,
    journal,
    events,
    log: events.logger(entry.config.name),
    buildId: journal.state.buildId ?? 'adhoc',
    stateDir: project.stateDir,
    signal,
    plugins: {
      driver: await loadPlugin('driver', entry.config.driver),
      transport: await loadPlugin('transport', withAbsoluteKey(entry.config.transport, entry.config.projectDir)),
    },
  };
}

/** A connection to the instance's machine (login, exec); a usage error when it has none. */
export async function connectToMachine(project: Project, entry: InstanceEntry, events: EventBus, signal: AbortSignal): Promise<Connection> {
  const run = await openInstanceRun(project, entry, events, signal);
  const name = entry.config.name;
  if (!run.journal.state.created) throw new UsageError(`instance ${name} has no machine`, { hint: `run: hallmark create ${name}` });
  const target = await run.plugins.driver.machines.connectionTarget(driverContext(run, signal));
  return run.plugins.transport.connect({ ...target, maxWaitUntilReadyMs: 30_000 }, { signal, log: run.log });
}

/**
 * After the journal's own records are removed: what the killed build made for
 * this instance and never journaled (the answer of its last create call was
 * cut off), found by the build id and instance tags (Driver.findLeftovers).
 */
async function sweepLostIds(run: RecordedRun, entry: InstanceEntry, buildId: string, name: string, stateDir: string): Promise<void> {
  const p = entry.config.publish.ssm_parameter;
  const removals = await sweepBuild(run.plugins.driver, {
    buildId,
    instance: name,
    regions: entry.config.distribute.regions,
    parameterNames: p === undefined ? [] : [renderParameterName(p, { suite: entry.config.suite, platform: entry.config.platform, instance: entry.config.name })],
    stateDir,
    log: run.log,
    signal: run.signal,
  });
  const failed = removals.filter((r) => r.error);
  for (const r of removals) if (!r.error) run.log.info(`removed ${r.leftover.kind} ${r.leftover.id} (${r.leftover.where}), which the journal had lost track of`);
  if (failed.length === 1) throw failed[0]!.error;
  if (failed.length > 1) throw new AggregateError(failed.map((r) => r.error), `could not remove ${failed.length} resource(s) of build ${buildId}`);
}

export interface CleanupFailure {
  instance: string;
  error: HallmarkError;
}

/**
 * Removes what crashed or killed runs left behind, from the state files
 * alone: machines still recorded, and images a failed build recorded but
 * never published. Each instance (and its boot test machine) is cleaned on
 * its own: one that fails, a damaged state file included, never stops the others.
 */
export async function cleanupInstances(project: Project, entries: InstanceEntry[], events: EventBus): Promise<CleanupFailure[]> {
  const known = new Set(await listStateFiles(project.stateDir));
  const failures: CleanupFailure[] = [];
  for (const entry of entries) {
    // The instance, and the machine its build's boot test (image.boot_test) launched, under the instance's lock.
    const names = [entry.config.name, bootTestInstanceName(entry.config.name)].filter((n) => known.has(n));
    if (names.length === 0) continue;
    let lock: InstanceLock;
    try {
      lock = await InstanceLock.acquire(project.stateDir, entry.config.name);
    } catch (err) {
      failures.push({ instance: entry.config.name, error: toHallmarkError(err) });
      continue;
    }
    try {
      for (const name of names) {
        try {
          const run = await openInstanceRun(project, { ...entry, config: { ...entry.config, name } }, events, AbortSignal.timeout(30 * 60_000));
          const s = run.journal.state;
          const killed = s.images.length > 0 || (s.parameters ?? []).length > 0 || s.created || Object.keys(s.driver).length > 0;
          const buildId = s.buildId;
          if (s.images.length) await deleteBuildImages(run, run.signal);
          if (s.created || Object.keys(s.driver).length) {
            await run.plugins.driver.machines.destroy(driverContext(run, run.signal));
            await run.journal.resetMachine();
            run.log.info('machine destroyed');
          }
          if (killed && buildId) await sweepLostIds(run, entry, buildId, name, project.stateDir);
        } catch (err) {
          failures.push({ instance: name, error: toHallmarkError(err) });
        }
      }
    } finally {
      await lock.release();
    }
  }
  return failures;
}
