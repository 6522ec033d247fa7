import { CancelledError, TimeoutError } from './errors.js';

/** Throws CancelledError when the signal has fired. Call between awaits. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new CancelledError('interrupted', { cause: signal.reason });
}

/**
 * Sleeps `ms` milliseconds, rejecting with CancelledError as soon as `signal`
 * fires. The abort listener is removed when the sleep ends either way.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new CancelledError('interrupted', { cause: signal.reason }));
    const onAbort = () => {
      clearTimeout(timer);
      reject(new CancelledError('interrupted', { cause: signal?.reason }));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Races `promise` against `signal`: rejects with CancelledError when the
 * signal fires first. The underlying work should also observe the signal;
 * this only guarantees the caller is not left waiting.
 */
export function abortable<T>(promise: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(new CancelledError('interrupted', { cause: signal.reason }));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new CancelledError('interrupted', { cause: signal.reason }));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

/**
 * A signal that fires when `parent` fires or after `ms` milliseconds, whichever
 * is first. Used for per-operation timeouts under the run's signal.
 */
export function withTimeout(parent: AbortSignal | undefined, ms: number): AbortSignal {
  const timeout = AbortSignal.timeout(ms);
  return parent ? AbortSignal.any([parent, timeout]) : timeout;
}

export interface PollOptions {
  /** Wait between checks; with `maxDelayMs`, doubles after each check up to it. */
  delayMs: number;
  maxDelayMs?: number;
  /** Overall limit (Infinity: until the value comes or the signal fires). */
  maxWaitMs: number;
  signal?: AbortSignal;
  /** Called before each wait with the time spent so far (progress lines). */
  onPoll?: (elapsedMs: number) => void;
}

/**
 * The one poll loop: calls `check` until it returns a value other than
 * undefined, and resolves with it; resolves undefined once `maxWaitMs` has
 * passed without one; rejects with CancelledError when `signal` fires (also
 * during a wait). Errors thrown by `check` end the wait at once: a waiter
 * must not burn its whole timeout on an error that will not go away.
 */
export async function poll<T>(check: () => Promise<T | undefined>, opts: PollOptions): Promise<T | undefined> {
  const start = Date.now();
  let delay = opts.delayMs;
  for (;;) {
    throwIfAborted(opts.signal);
    const v = await check();
    if (v !== undefined) return v;
    throwIfAborted(opts.signal);
    const elapsed = Date.now() - start;
    if (elapsed >= opts.maxWaitMs) return undefined;
    opts.onPoll?.(elapsed);
    await sleep(Math.min(delay, Math.max(0, opts.maxWaitMs - elapsed)), opts.signal);
    if (opts.maxDelayMs !== undefined) delay = Math.min(delay * 2, opts.maxDelayMs);
  }
}

/** `poll`, with a TimeoutError naming `what` when the time is up. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, opts: PollOptions): Promise<T> {
  const start = Date.now();
  const v = await poll(check, opts);
  if (v !== undefined) return v;
  throw new TimeoutError(`timed out after ${Math.round((Date.now() - start) / 1000)}s waiting for ${what}`);
}
