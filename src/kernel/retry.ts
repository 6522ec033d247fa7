import { sleep, throwIfAborted } from './abort.js';
import { isAbortError } from './errors.js';

export interface RetryOptions {
  /** Total attempts, including the first. */
  attempts: number;
  /** Delay before the 2nd attempt; doubles each time up to maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs?: number;
  /** Full jitter (AWS's recommendation): a random delay in [0, backoff]. */
  jitter?: boolean;
  signal?: AbortSignal;
  /** Only errors for which this returns true are retried. */
  retryable: (err: unknown) => boolean;
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
}

/**
 * Runs `fn` until it succeeds, a non-retryable error is thrown, or the
 * attempts are used up. Nothing is retried after an abort.
 */
export async function retry<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    throwIfAborted(opts.signal);
    try {
      return await fn(attempt);
    } catch (err) {
      if (isAbortError(err) || opts.signal?.aborted) throw err;
      if (attempt >= opts.attempts || !opts.retryable(err)) throw err;
      const backoff = Math.min(opts.baseDelayMs * 2 ** (attempt - 1), opts.maxDelayMs ?? Infinity);
      const delay = opts.jitter ? Math.round(Math.random() * backoff) : backoff;
      opts.onRetry?.(err, attempt, delay);
      await sleep(delay, opts.signal);
    }
  }
}
