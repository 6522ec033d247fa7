import { sleep } from '../../kernel/abort.js';
import type { Logger } from '../../kernel/events.js';

/**
 * Kitchen's retry on exit code (Kitchen::Transport::Base::Connection#execute_with_retry):
 * a command whose exit code is in `retryOnExitCode` is run again, up to
 * `maxRetries` more times, `waitForRetryMs` apart. Shared by the shell, file
 * and ansible_playbook provisioners.
 */
export interface ExitRetryOptions {
  retryOnExitCode: readonly number[];
  /** Retries after the first attempt (Kitchen's max_retries; default 1). */
  maxRetries: number;
  waitForRetryMs: number;
  signal?: AbortSignal;
  log: Logger;
  /** What is being run, for the retry message. */
  what: string;
}

/** Kitchen's defaults: max_retries 1, wait_for_retry 30 seconds, no exit code retried. */
export const KITCHEN_RETRY_DEFAULTS = { max_retries: 1, wait_for_retry: 30 } as const;

/**
 * Runs `run` until its exit code is 0 or not retryable, or the retries are
 * used up, and returns the last result: deciding what a failure means is the
 * caller's job. A killed command (exitCode null) is never retried; the wait
 * between attempts ends at once when `signal` fires (CancelledError).
 */
// Not kernel/retry: what is retried here is a result (an exit code), not a thrown error.
export async function runWithExitRetry<R extends { exitCode: number | null }>(
  run: (attempt: number) => Promise<R>,
  opts: ExitRetryOptions,
): Promise<R> {
  for (let attempt = 1; ; attempt++) {
    const result = await run(attempt);
    const code = result.exitCode;
    if (code === 0 || code === null || !opts.retryOnExitCode.includes(code) || attempt > opts.maxRetries) {
      return result;
    }
    opts.log.warn(
      `${opts.what} exited with code ${code}, which retry_on_exit_code lists; ` +
        `retrying in ${Math.round(opts.waitForRetryMs / 1000)}s (retry ${attempt} of ${opts.maxRetries})`,
    );
    await sleep(opts.waitForRetryMs, opts.signal);
  }
}

/** Options shared by every provisioner block that retries (Kitchen's names, seconds). */
export interface RetryConfig {
  retry_on_exit_code?: number[];
  max_retries?: number;
  wait_for_retry?: number;
}

export function retryOptions(cfg: RetryConfig, what: string, log: Logger, signal?: AbortSignal): ExitRetryOptions {
  return {
    retryOnExitCode: cfg.retry_on_exit_code ?? [],
    maxRetries: cfg.max_retries ?? KITCHEN_RETRY_DEFAULTS.max_retries,
    waitForRetryMs: (cfg.wait_for_retry ?? KITCHEN_RETRY_DEFAULTS.wait_for_retry) * 1000,
    signal,
    log,
    what,
  };
}
