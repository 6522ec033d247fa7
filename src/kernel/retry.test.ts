import { describe, expect, it } from 'vitest';
import { retry } from './retry.js';
import { CancelledError } from './errors.js';

class Flaky extends Error {}

describe('retry', () => {
  it('retries retryable errors until success, with doubling backoff capped at maxDelayMs', async () => {
    const delays: number[] = [];
    const v = await retry(
      async (attempt) => {
        if (attempt < 4) throw new Flaky(`try ${attempt}`);
        return attempt;
      },
      { attempts: 5, baseDelayMs: 5, maxDelayMs: 12, retryable: (e) => e instanceof Flaky, onRetry: (_e, _a, d) => delays.push(d) },
    );
    expect(v).toBe(4);
    expect(delays).toEqual([5, 10, 12]);
  });

  it('throws the last error when attempts are used up', async () => {
    let calls = 0;
    await expect(
      retry(
        async (a) => {
          calls++;
          throw new Flaky(`try ${a}`);
        },
        { attempts: 3, baseDelayMs: 1, retryable: () => true },
      ),
    ).rejects.toThrow('try 3');
    expect(calls).toBe(3);
  });

  it('does not retry non-retryable errors', async () => {
    let calls = 0;
    await expect(
      retry(
        async () => {
          calls++;
          throw new Error('denied');
        },
        { attempts: 5, baseDelayMs: 1, retryable: (e) => e instanceof Flaky },
      ),
    ).rejects.toThrow('denied');
    expect(calls).toBe(1);
  });

  it('jitter keeps delays within [0, backoff]', async () => {
    const delays: number[] = [];
    await retry(
      async (a) => {
        if (a < 5) throw new Flaky();
        return a;
      },
      { attempts: 5, baseDelayMs: 8, jitter: true, retryable: () => true, onRetry: (_e, _a, d) => delays.push(d) },
    );
    expect(delays).toHaveLength(4);
    delays.forEach((d, i) => {
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThanOrEqual(8 * 2 ** i);
    });
  });

  it('stops during the backoff when aborted, and never retries an abort', async () => {
    const ac = new AbortController();
    let calls = 0;
    // Aborted when the first backoff of a minute starts: only the abort can end it within the test's timeout.
    await expect(
      retry(
        async () => {
          calls++;
          throw new Flaky();
        },
        { attempts: 10, baseDelayMs: 60_000, signal: ac.signal, retryable: () => true, onRetry: () => queueMicrotask(() => ac.abort()) },
      ),
    ).rejects.toBeInstanceOf(CancelledError);
    expect(calls).toBe(1);

    let calls2 = 0;
    await expect(
      retry(
        async () => {
          calls2++;
          throw new CancelledError();
        },
        { attempts: 10, baseDelayMs: 1, retryable: () => true },
      ),
    ).rejects.toBeInstanceOf(CancelledError);
    expect(calls2).toBe(1);
  });
});
