import { loadPlugin } from '../plugins.js';
import { EventBus, type Logger } from '../kernel/events.js';
import { InstanceLock, Journal, listStateFiles } from '../kernel/journal.js';
import { driverContext, type InstanceRun } from '../pipeline/context.js';
import { bootTestInstanceName, deleteBuildImages } from '../pipeline/steps.js';
import { HallmarkError, UsageError, type ExitCode } from '../kernel/errors.js';
import type { Connection } from '../transports/transport.js';
import { attachRenderer, chooseMode } from './render.js';
import { printError } from './print-error.js';
import { out, selected, type GlobalOptions } from './context.js';
import type { InstanceEntry, Project } from '../config/index.js';
import path from 'node:path';

async function openRun(project: Project, entry: InstanceEntry, events: EventBus, signal: AbortSignal): Promise<InstanceRun> {
  const journal = await Journal.open(project.stateDir, entry.config.name);
  const transport = { ...entry.config.transport };
  if (typeof transport.ssh_key === 'string') transport.ssh_key = path.resolve(entry.config.projectDir, transport.ssh_key);
  return {
    instance: entry.config,
    journal,
    events,
    log: events.logger(entry.config.name),
    buildId: journal.state.buildId ?? 'adhoc',
    stateDir: project.stateDir,
    signal,
    plugins: { driver: await loadPlugin('driver', entry.config.driver), transport: await loadPlugin('transport', transport) },
    copies: [],
  };
}

async function connectTo(g: GlobalOptions, name: string, signal: AbortSignal): Promise<{ conn: Connection; log: Logger }> {
  const { project, entries } = await selected(g, name);
  if (entries.length !== 1) throw new UsageError(`"${name}" matches ${entries.length} instances (${entries.map((e) => e.config.name).join(', ')}); name exactly one`);
  const events = new EventBus();
  attachRenderer(events, chooseMode(g), { verbose: g.verbose });
  const run = await openRun(project, entries[0]!, events, signal);
  if (!run.journal.state.created) throw new UsageError(`instance ${entries[0]!.config.name} has no machine`, { hint: `run: hallmark create ${entries[0]!.config.name}` });
  const target = await run.plugins.driver!.connectionTarget(driverContext(run, signal));
  const conn = await run.plugins.transport!.connect({ ...target, maxWaitUntilReadyMs: 30_000 }, { signal, log: run.log });
  return { conn, log: run.log };
}

/** `hallmark exec NAME -c CMD`: runs one command; exits with its exit code. */
export async function execCommand(name: string, command: string, g: GlobalOptions): Promise<number> {
  const { conn } = await connectTo(g, name, AbortSignal.timeout(24 * 3600_000));
  try {
    const r = await conn.exec(command, { onStdout: (s) => process.stdout.write(s), onStderr: (s) => process.stderr.write(s) });
    return r.exitCode ?? 255;
  } finally {
    await conn.close();
  }
}

/** `hallmark login NAME`: an interactive shell over the pinned SSH connection. */
export async function login(name: string, g: GlobalOptions): Promise<number> {
  const { conn } = await connectTo(g, name, AbortSignal.timeout(24 * 3600_000));
  const shell = (conn as { shell?: () => Promise<number> }).shell;
  if (!shell) {
    await conn.close();
    throw new HallmarkError('this transport has no interactive shell');
  }
  try {
    return await shell.call(conn);
  } finally {
    await conn.close();
  }
}

/**
 * `hallmark cleanup [REGEX]`: removes what crashed or killed runs left
 * behind, from the state files alone: machines still recorded, and images a
 * failed build recorded but never published.
 */
export async function cleanup(pattern: string | undefined, g: GlobalOptions): Promise<ExitCode> {
  const { project, entries } = await selected(g, pattern);
  const known = new Set(await listStateFiles(project.stateDir));
  const events = new EventBus();
  const stop = attachRenderer(events, chooseMode(g), { verbose: g.verbose });
  let failed = 0;
  try {
    for (const entry of entries) {
      // The instance, and the machine its build's boot test (image.boot_test) launched, under the instance's lock.
      const names = [entry.config.name, bootTestInstanceName(entry.config.name)].filter((n) => known.has(n));
      if (names.length === 0) continue;
      const lock = await InstanceLock.acquire(project.stateDir, entry.config.name);
      try {
        for (const name of names) {
          try {
            const run = await openRun(project, { ...entry, config: { ...entry.config, name } }, events, AbortSignal.timeout(30 * 60_000));
            const s = run.journal.state;
            if (s.images.length) {
              await deleteBuildImages(run, run.signal);
            }
            if (s.created || Object.keys(s.driver).length) {
              await run.plugins.driver!.destroy(driverContext(run, run.signal));
              await run.journal.resetMachine();
              run.log.info('machine destroyed');
            }
          } catch (err) {
            failed++;
            printError(err, name);
          }
        }
      } finally {
        await lock.release();
      }
    }
  } finally {
    stop();
  }
  out(failed ? `cleanup: ${failed} instance(s) could not be cleaned` : 'cleanup: nothing left behind');
  return failed ? 4 : 0;
}
