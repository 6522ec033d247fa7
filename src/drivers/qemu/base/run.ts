import { execa } from 'execa';
import { throwIfAborted } from '../../../kernel/abort.js';
import { CancelledError, CommandFailedError } from '../../../kernel/errors.js';
import type { Logger } from '../../../kernel/events.js';

export interface RunOptions {
  signal?: AbortSignal;
  log?: Logger;
  /** Stream output to log.output (long commands); otherwise it is kept for the error only. */
  stream?: boolean;
  input?: string;
  env?: Record<string, string>;
  /** What failed, for the error message ("debootstrap", "grub-install"). */
  what?: string;
}

/**
 * Runs a controller-side command; rejects with CommandFailedError (with the
 * output tail) on a non-zero exit and with CancelledError when `signal` fires
 * (execa then terminates the child). Returns stdout.
 */
export async function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<string> {
  throwIfAborted(opts.signal);
  const child = execa(cmd, args, {
    cancelSignal: opts.signal,
    forceKillAfterDelay: 5000,
    reject: false,
    all: true,
    input: opts.input,
    stdin: opts.input === undefined ? 'ignore' : undefined,
    env: opts.env,
    extendEnv: true,
  });
  if (opts.stream && opts.log) {
    const log = opts.log;
    child.stdout?.on('data', (c: Buffer) => log.output('stdout', c.toString()));
    child.stderr?.on('data', (c: Buffer) => log.output('stderr', c.toString()));
  }
  const r = await child;
  if (r.isCanceled || opts.signal?.aborted) throw new CancelledError('interrupted', { cause: opts.signal?.reason });
  if (r.failed) {
    throw new CommandFailedError([cmd, ...args].join(' '), r.exitCode ?? null, String(r.all ?? ''), {
      what: opts.what ?? cmd,
      cause: r.cause ?? undefined,
    });
  }
  return String(r.stdout);
}
