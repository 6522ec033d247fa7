import { execa } from 'execa';
import { throwIfAborted } from '../../../kernel/abort.js';
import { CancelledError, CommandFailedError } from '../../../kernel/errors.js';
import type { Logger } from '../../../kernel/events.js';
import { endGroupOnAbort } from '../../../kernel/process-group.js';

/** Cleanup commands get their own deadline: the build's signal may be the reason we are cleaning up. */
export function cleanupSignal(): AbortSignal {
  return AbortSignal.timeout(60_000);
}

export interface RunOptions {
  signal?: AbortSignal;
  log?: Logger;
  /** Stream output to log.output (long commands); otherwise it is kept for the error only. */
  stream?: boolean;
  input?: string;
  env?: Record<string, string>;
  /** What failed, for the error message ("debootstrap", "grub-install"). */
  what?: string;
  /** After a cancel, how long the command's processes get between SIGTERM and SIGKILL. */
  killGraceMs?: number;
}

/**
 * Runs a controller-side command; rejects with CommandFailedError (with the
 * output tail) on a non-zero exit and with CancelledError when `signal` fires.
 * The command runs in its own process group, and a cancel ends the whole
 * group (SIGTERM, SIGKILL after `killGraceMs`): debootstrap and `chroot
 * apt-get` leave their work to dpkg and maintainer scripts, which would
 * otherwise keep running in the image tree. Returns stdout.
 */
export async function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<string> {
  throwIfAborted(opts.signal);
  const grace = opts.killGraceMs ?? 5000;
  const child = execa(cmd, args, {
    detached: true,
    reject: false,
    all: true,
    input: opts.input,
    stdin: opts.input === undefined ? 'ignore' : undefined,
    env: opts.env,
    extendEnv: true,
  });
  if (child.pid === undefined) {
    // Could not start (ENOENT, EACCES): execa reports it as a failed result.
    const r = await child;
    throw new CommandFailedError([cmd, ...args].join(' '), null, String(r.all ?? ''), { what: opts.what ?? cmd, cause: r.cause ?? undefined });
  }
  const group = endGroupOnAbort(child.pid, opts.signal, grace);
  // A process that left the group (setsid) may still hold the output pipes
  // after a cancel; stop reading them then, so the cancel cannot hang here.
  let stopReading: NodeJS.Timeout | undefined;
  const onAbort = () => {
    stopReading = setTimeout(() => {
      child.stdout?.destroy();
      child.stderr?.destroy();
      child.all?.destroy();
    }, grace + 2000).unref();
  };
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  if (opts.stream && opts.log) {
    const log = opts.log;
    child.stdout?.on('data', (c: Buffer) => log.output('stdout', c.toString()));
    child.stderr?.on('data', (c: Buffer) => log.output('stderr', c.toString()));
  }
  let r;
  try {
    r = await child;
  } finally {
    group.done();
    clearTimeout(stopReading);
    opts.signal?.removeEventListener('abort', onAbort);
  }
  if (group.cancelled || opts.signal?.aborted) throw new CancelledError('interrupted', { cause: opts.signal?.reason });
  if (r.failed) {
    throw new CommandFailedError([cmd, ...args].join(' '), r.exitCode ?? null, String(r.all ?? ''), {
      what: opts.what ?? cmd,
      cause: r.cause ?? undefined,
    });
  }
  return String(r.stdout);
}
