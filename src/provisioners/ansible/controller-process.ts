import { execa } from 'execa';
import { CancelledError } from '../../kernel/errors.js';

export interface ControllerRunOptions {
  cwd: string;
  env: Record<string, string>;
  signal: AbortSignal;
  onStdout: (chunk: string) => void;
  onStderr: (chunk: string) => void;
}

export interface ControllerRunResult {
  exitCode: number | null;
  signal?: string;
}

/** How long a cancelled process tree gets after SIGTERM before SIGKILL. */
const KILL_GRACE_MS = 3000;

/**
 * Runs a program on the controller (ansible-playbook) in its own process
 * group, streaming its output. When `signal` fires the whole group gets
 * SIGTERM, then SIGKILL after a grace period (Ansible's forked workers and
 * their ssh children would otherwise outlive it), and CancelledError is
 * thrown once the process has exited.
 */
export async function runOnController(file: string, args: string[], opts: ControllerRunOptions): Promise<ControllerRunResult> {
  if (opts.signal.aborted) throw new CancelledError('interrupted', { cause: opts.signal.reason });
  const child = execa(file, args, {
    cwd: opts.cwd,
    env: opts.env,
    extendEnv: false,
    reject: false,
    stdin: 'ignore',
    detached: true,
    encoding: 'utf8',
    buffer: false,
  });
  let cancelled = false;
  let killTimer: NodeJS.Timeout | undefined;
  const killGroup = (sig: NodeJS.Signals) => {
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, sig);
    } catch {
      /* already gone */
    }
  };
  const onAbort = () => {
    cancelled = true;
    killGroup('SIGTERM');
    killTimer = setTimeout(() => killGroup('SIGKILL'), KILL_GRACE_MS);
    killTimer.unref();
  };
  opts.signal.addEventListener('abort', onAbort, { once: true });
  child.stdout?.setEncoding('utf8').on('data', (s: string) => opts.onStdout(s));
  child.stderr?.setEncoding('utf8').on('data', (s: string) => opts.onStderr(s));
  try {
    const r = await child;
    if (cancelled) throw new CancelledError('interrupted', { cause: opts.signal.reason });
    if (r.failed && r.exitCode === undefined && !r.signal) {
      // Could not start at all (ENOENT, EACCES): the caller checked the binary, so this is unexpected.
      throw r;
    }
    return { exitCode: r.signal ? null : (r.exitCode ?? null), ...(r.signal ? { signal: r.signal } : {}) };
  } finally {
    // The SIGKILL timer, if any, stays: group members may outlive the leader.
    opts.signal.removeEventListener('abort', onAbort);
  }
}
