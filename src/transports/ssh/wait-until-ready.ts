import { readFile } from 'node:fs/promises';
import { sleep, throwIfAborted } from '../../kernel/abort.js';
import { CancelledError, HallmarkError, TimeoutError, isAbortError, lastLines } from '../../kernel/errors.js';
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

async function consoleTail(path: string | undefined): Promise<string> {
  if (!path) return '';
  try {
    const text = await readFile(path, 'utf8');
    const tail = lastLines(text, 30);
    return tail ? `\n--- last 30 lines of the console log (${path}) ---\n${tail}` : `\n(the console log ${path} is empty)`;
  } catch (err) {
    return `\n(could not read the console log ${path}: ${(err as Error).message})`;
  }
}

/**
 * Calls `attempt` until it succeeds, with exponential backoff, within
 * `maxWaitMs` overall. `attempt` receives the time it may take at most.
 * Gives up with TimeoutError naming the last error and the console log tail;
 * rethrows non-retryable errors at once; observes the signal at every wait.
 */
export async function waitUntilReady<T>(attempt: (timeLeftMs: number) => Promise<T>, opts: WaitOptions): Promise<T> {
  const start = Date.now();
  let delay = opts.baseDelayMs;
  let sawAuthFailure = false;
  for (let n = 1; ; n++) {
    throwIfAborted(opts.signal);
    const left = opts.maxWaitMs - (Date.now() - start);
    try {
      const r = await attempt(Math.max(1000, left));
      if (n > 1) opts.log.info(`SSH to ${opts.where} is ready after ${Math.round((Date.now() - start) / 1000)}s`);
      return r;
    } catch (err) {
      if (isAbortError(err) || opts.signal?.aborted) throw err instanceof CancelledError ? err : new CancelledError('interrupted', { cause: err });
      if (!isRetryable(err)) throw err;
      if ((err as SshError)?.level === 'client-authentication') sawAuthFailure = true;
      const elapsed = Date.now() - start;
      const described = describeAttemptError(err, opts.where);
      if (elapsed + Math.min(delay, 250) >= opts.maxWaitMs) {
        throw new TimeoutError(
          `SSH to ${opts.where} was not ready after ${Math.round(elapsed / 1000)}s (${n} attempt${n === 1 ? '' : 's'}); last error: ${described}` +
            (await consoleTail(opts.consoleLogPath)),
          {
            cause: err,
            hint: sawAuthFailure
              ? 'the server answered but refused the login: check the username and key, and that the image installs the key (cloud-init)'
              : 'check that the machine boots (console log) and that the address, port and firewall are right; raise max_wait_until_ready for slow boots',
          },
        );
      }
      if (n === 1) opts.log.info(`waiting for SSH on ${opts.where} (${described})`);
      else opts.log.debug(`SSH attempt ${n} to ${opts.where} failed: ${described}; retrying in ${delay}ms`);
      await sleep(Math.min(delay, Math.max(0, opts.maxWaitMs - elapsed)), opts.signal);
      delay = Math.min(delay * 2, opts.maxDelayMs);
    }
  }
}
