import { execa } from 'execa';
import { CancelledError } from '../../kernel/errors.js';
import { endGroupOnAbort } from '../../kernel/process-group.js';

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
  // pid is undefined only when it could not start; execa then reports that as the result below.
  const group = child.pid === undefined ? undefined : endGroupOnAbort(child.pid, opts.signal, KILL_GRACE_MS);
  child.stdout?.setEncoding('utf8').on('data', (s: string) => opts.onStdout(s));
  child.stderr?.setEncoding('utf8').on('data', (s: string) => opts.onStderr(s));
  try {
    const r = await child;
    if (group?.cancelled) throw new CancelledError('interrupted', { cause: opts.signal.reason });
    if (r.failed && r.exitCode === undefined && !r.signal) {
      // Could not start at all (ENOENT, EACCES): the caller checked the binary, so this is unexpected.
      throw r;
    }
    return { exitCode: r.signal ? null : (r.exitCode ?? null), ...(r.signal ? { signal: r.signal } : {}) };
  } finally {
    // After a cancel, group members that outlived the leader get SIGKILL now.
    group?.done();
  }
}
