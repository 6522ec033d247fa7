import { afterEach, describe, expect, it, vi } from 'vitest';
import { abortable, poll, sleep, throwIfAborted, waitFor, withTimeout } from './abort.js';
import { CancelledError, TimeoutError } from './errors.js';

const abortAfter = (ms: number) => {
  const ac = new AbortController();
  setTimeout(() => ac.abort(), ms);
  return ac.signal;
};

// The clock is vi's fake one here: a sleep that ends only when its time is advanced, or
// without any advance when it is aborted, proves the behaviour without measuring a host.
describe('sleep', () => {
  afterEach(() => {
    vi.useRealTimers();
  });
  it('waits the time, and not less', async () => {
    vi.useFakeTimers();
    let done = false;
    const p = sleep(50).then(() => (done = true));
    await vi.advanceTimersByTimeAsync(49);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await p;
    expect(done).toBe(true);
  });
  it('stops at once on abort with CancelledError, and removes its timer', async () => {
    vi.useFakeTimers();
    const ac = new AbortController();
    const p = sleep(60_000, ac.signal);
    expect(vi.getTimerCount()).toBe(1);
    ac.abort();
    // No time has passed on the clock: only the abort can have ended the sleep.
    await expect(p).rejects.toBeInstanceOf(CancelledError);
    expect(vi.getTimerCount()).toBe(0);
  });
  it('rejects at once when already aborted', async () => {
    await expect(sleep(60_000, AbortSignal.abort())).rejects.toMatchObject({ exitCode: 130 });
  });
});

describe('throwIfAborted / abortable / withTimeout', () => {
  it('throwIfAborted throws only after abort', () => {
    expect(() => throwIfAborted(undefined)).not.toThrow();
    expect(() => throwIfAborted(new AbortController().signal)).not.toThrow();
    expect(() => throwIfAborted(AbortSignal.abort())).toThrow(CancelledError);
  });
  it('abortable leaves the caller as soon as the signal fires', async () => {
    const never = new Promise<never>(() => {});
    await expect(abortable(never, abortAfter(20))).rejects.toBeInstanceOf(CancelledError);
    await expect(abortable(Promise.resolve(7), new AbortController().signal)).resolves.toBe(7);
    await expect(abortable(Promise.reject(new Error('x')), new AbortController().signal)).rejects.toThrow('x');
  });
  it('withTimeout fires on the timeout or on the parent', async () => {
    const s = withTimeout(undefined, 30);
    await expect(sleep(5_000, s)).rejects.toBeInstanceOf(CancelledError);
    const parent = new AbortController();
    const s2 = withTimeout(parent.signal, 60_000);
    parent.abort();
    expect(s2.aborted).toBe(true);
  });
});

describe('waitFor', () => {
  it('returns the first defined value', async () => {
    let n = 0;
    const v = await waitFor('three polls', async () => (++n >= 3 ? n : undefined), { delayMs: 5, maxWaitMs: 5_000 });
    expect(v).toBe(3);
  });
  // "At once" without a clock: a wait that did not end would outlast the test's timeout.
  it('stops at once on abort', async () => {
    await expect(waitFor('never', async () => undefined, { delayMs: 600_000, maxWaitMs: 3_600_000, signal: abortAfter(30) })).rejects.toBeInstanceOf(CancelledError);
  });
  it('stops at once on an error from the check', async () => {
    let calls = 0;
    await expect(
      waitFor(
        'denied',
        async () => {
          calls++;
          throw new Error('access denied');
        },
        { delayMs: 600_000, maxWaitMs: 3_600_000 },
      ),
    ).rejects.toThrow('access denied');
    expect(calls).toBe(1);
  });
  it('times out with TimeoutError naming what it waited for', async () => {
    const polls: number[] = [];
    const err = await waitFor('the moon', async () => undefined, { delayMs: 20, maxWaitMs: 120, onPoll: (e) => polls.push(e) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as Error).message).toContain('the moon');
    expect(polls.every((e) => e < 120)).toBe(true); // progress only while there was time left
  });
});

describe('poll', () => {
  it('resolves undefined when the time is up, and backs off up to maxDelayMs', async () => {
    vi.useFakeTimers();
    try {
      const at: number[] = [];
      const t0 = Date.now();
      const p = poll(
        async () => {
          at.push(Date.now() - t0);
          return undefined;
        },
        { delayMs: 10, maxDelayMs: 40, maxWaitMs: 200 },
      );
      await vi.runAllTimersAsync();
      expect(await p).toBeUndefined();
      // Waits of 10, 20, 40, 40, ... ms on the fake clock: doubling, then capped; the last wait is cut to the time left.
      expect(at).toEqual([0, 10, 30, 70, 110, 150, 190, 200]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('ends at once with the error a check throws', async () => {
    let n = 0;
    await expect(
      poll(
        async () => {
          if (++n === 2) throw new Error('access denied');
          return undefined;
        },
        { delayMs: 1, maxWaitMs: 60_000 },
      ),
    ).rejects.toThrow('access denied');
    expect(n).toBe(2);
  });
});
