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
import { driverContext, type InstanceRun } from './context.js';
import { bootTestInstanceName, deleteBuildImages, withAbsoluteKey } from './steps.js';

/** The run of an instance's recorded machine, with its driver and transport loaded (keys resolved as a build does). */
export async function openInstanceRun(project: Project, entry: InstanceEntry, events: EventBus, signal: AbortSignal): Promise<InstanceRun> {
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
    copies: [],
  };
}

/** A connection to the instance's machine (login, exec); a usage error when it has none. */
export async function connectToMachine(project: Project, entry: InstanceEntry, events: EventBus, signal: AbortSignal): Promise<Connection> {
  const run = await openInstanceRun(project, entry, events, signal);
  const name = entry.config.name;
  if (!run.journal.state.created) throw new UsageError(`instance ${name} has no machine`, { hint: `run: hallmark create ${name}` });
  const target = await run.plugins.driver!.connectionTarget(driverContext(run, signal));
  return run.plugins.transport!.connect({ ...target, maxWaitUntilReadyMs: 30_000 }, { signal, log: run.log });
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
          if (s.images.length) await deleteBuildImages(run, run.signal);
          if (s.created || Object.keys(s.driver).length) {
            await run.plugins.driver!.destroy(driverContext(run, run.signal));
            await run.journal.resetMachine();
            run.log.info('machine destroyed');
          }
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
