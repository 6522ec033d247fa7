import { poll } from '../../kernel/abort.js';
import { consoleTail } from '../../kernel/log-file.js';
import { CancelledError, HallmarkError, TimeoutError, isAbortError } from '../../kernel/errors.js';
import type { Logger } from '../../kernel/events.js';
import { HostKeyMismatchError, SshSetupError } from './errors.js';

export interface WaitOptions {
  /** `user@host:port`, for messages. */
  where: string;
  maxWaitMs: number;
  /** First pause between attempts; doubles up to maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
  consoleLogPath?: string;
  signal?: AbortSignal;
  log: Logger;
}

type SshError = Error & { level?: string; code?: string };

/**
 * Whether a failed attempt may succeed later. A booting machine refuses TCP,
 * resets it, times out, sends no banner, or, until cloud-init has installed
 * the key, refuses authentication: all of these are waited out. A changed
 * host key, a local setup problem or an abort never are.
 */
export function isRetryable(err: unknown): boolean {
  if (isAbortError(err)) return false;
  if (err instanceof HostKeyMismatchError || err instanceof SshSetupError) return false;
  if (err instanceof HallmarkError) return false;
  return true;
}

/** One line for a failed attempt, saying plainly when authentication was refused. */
export function describeAttemptError(err: unknown, where: string): string {
  const e = err as SshError;
  const msg = e?.message ?? String(err);
  if (e?.level === 'client-authentication') {
    return `authentication failed for ${where} (${msg}): the key may not be installed yet, or the username or key is wrong`;
  }
  if (e?.level === 'client-timeout') return `no SSH handshake from ${where} in time (${msg})`;
  return e?.code && !msg.includes(e.code) ? `${e.code}: ${msg}` : msg;
}

/**
 * Calls `attempt` until it succeeds, with exponential backoff, within
 * `maxWaitMs` overall. `attempt` receives the time it may take at most.
 * Gives up with TimeoutError naming the last error and the console log tail;
 * rethrows non-retryable errors at once; observes the signal at every wait.
 */
export async function waitUntilReady<T>(attempt: (timeLeftMs: number) => Promise<T>, opts: WaitOptions): Promise<T> {
  const start = Date.now();
  let sawAuthFailure = false;
  let last: unknown;
  let n = 0;
  const ready = await poll(
    async () => {
      n++;
      try {
        const value = await attempt(Math.max(1000, opts.maxWaitMs - (Date.now() - start)));
        if (n > 1) opts.log.info(`SSH to ${opts.where} is ready after ${Math.round((Date.now() - start) / 1000)}s`);
        return { value };
      } catch (err) {
        if (isAbortError(err) || opts.signal?.aborted) throw err instanceof CancelledError ? err : new CancelledError('interrupted', { cause: err });
        if (!isRetryable(err)) throw err;
        if ((err as SshError)?.level === 'client-authentication') sawAuthFailure = true;
        last = err;
        const described = describeAttemptError(err, opts.where);
        if (n === 1) opts.log.info(`waiting for SSH on ${opts.where} (${described})`);
        else opts.log.debug(`SSH attempt ${n} to ${opts.where} failed: ${described}; retrying`);
        return undefined;
      }
    },
    { delayMs: opts.baseDelayMs, maxDelayMs: opts.maxDelayMs, maxWaitMs: opts.maxWaitMs, signal: opts.signal },
  );
  if (ready) return ready.value;
  throw new TimeoutError(
    `SSH to ${opts.where} was not ready after ${Math.round((Date.now() - start) / 1000)}s (${n} attempt${n === 1 ? '' : 's'}); last error: ${describeAttemptError(last, opts.where)}` +
      (await consoleTail(opts.consoleLogPath)),
    {
      cause: last,
      hint: sawAuthFailure
        ? 'the server answered but refused the login: check the username and key, and that the image installs the key (cloud-init)'
        : 'check that the machine boots (console log) and that the address, port and firewall are right; raise max_wait_until_ready for slow boots',
    },
  );
}
