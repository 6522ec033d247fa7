import { EventBus } from '../kernel/events.js';
import { HallmarkError, UsageError } from '../kernel/errors.js';
import type { Connection } from '../transports/transport.js';
import { connectToMachine } from '../pipeline/machines.js';
import { attachRenderer, chooseMode } from './render.js';
import { selected, type GlobalOptions } from './context.js';

async function connectTo(g: GlobalOptions, name: string, signal: AbortSignal): Promise<{ conn: Connection }> {
  const { project, entries } = await selected(g, name);
  if (entries.length !== 1) throw new UsageError(`"${name}" matches ${entries.length} instances (${entries.map((e) => e.config.name).join(', ')}); name exactly one`);
  const events = new EventBus();
  await attachRenderer(events, chooseMode(g), { verbose: g.verbose });
  return { conn: await connectToMachine(project, entries[0]!, events, signal) };
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

