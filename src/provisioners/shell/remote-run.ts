import { CommandFailedError } from '../../kernel/errors.js';
import type { Logger } from '../../kernel/events.js';
import type { Connection, ExecResult } from '../../transports/transport.js';
import { runWithExitRetry, type ExitRetryOptions } from './exit-retry.js';

export interface RemoteRunOptions {
  connection: Connection;
  log: Logger;
  signal: AbortSignal;
  sudo: boolean;
  env?: Record<string, string>;
  timeoutMs?: number;
  /** Bytes for the command's stdin (a file being written). */
  stdin?: Buffer;
  /** What to call it in messages: `script setup.sh`, `inline command`. */
  what: string;
  /** Retry on exit code; omitted: one attempt. */
  retry?: Omit<ExitRetryOptions, 'what' | 'log' | 'signal'>;
  hint?: string;
}

/** An ExecResult with stdout and stderr interleaved as they arrived. */
export interface RemoteRunResult extends ExecResult {
  output: string;
}

/**
 * Runs one command on the machine, streaming its output to the log, retrying
 * on the listed exit codes, and throws CommandFailedError (command, exit code,
 * last lines of the interleaved output) unless it finally exits 0.
 */
export async function runRemote(command: string, opts: RemoteRunOptions): Promise<RemoteRunResult> {
  const once = async (): Promise<RemoteRunResult> => {
    let output = '';
    const r = await opts.connection.exec(command, {
      signal: opts.signal,
      sudo: opts.sudo,
      env: opts.env,
      timeoutMs: opts.timeoutMs || undefined,
      ...(opts.stdin ? { stdin: opts.stdin } : {}),
      onStdout: (s) => {
        output += s;
        opts.log.output('stdout', s);
      },
      onStderr: (s) => {
        output += s;
        opts.log.output('stderr', s);
      },
    });
    return { ...r, output };
  };
  const result = opts.retry
    ? await runWithExitRetry(once, { ...opts.retry, what: opts.what, log: opts.log, signal: opts.signal })
    : await once();
  if (result.exitCode !== 0) {
    const why = result.timedOut
      ? `timed out after ${Math.round((opts.timeoutMs ?? 0) / 1000)}s`
      : result.signal
        ? `killed by signal ${result.signal}`
        : undefined;
    throw new CommandFailedError(command, result.exitCode, result.output + (why ? `\n(${why})` : ''), {
      what: opts.what,
      hint: opts.hint,
    });
  }
  return result;
}
