import { describe, expect, it, vi } from 'vitest';
import { CancelledError, TimeoutError } from '../../kernel/errors.js';
import { silentLogger } from '../../kernel/events.js';
import { HostKeyMismatchError, SshSetupError } from './errors.js';
import { describeAttemptError, isRetryable, waitUntilReady } from './wait-until-ready.js';

const sshErr = (message: string, level?: string, code?: string) => Object.assign(new Error(message), { level, code });
const base = { where: 'u@h:22', baseDelayMs: 20, maxDelayMs: 80, log: silentLogger };

describe('isRetryable', () => {
  it('waits out what a booting machine does, not what will not change', () => {
    expect(isRetryable(sshErr('connect ECONNREFUSED', 'client-socket', 'ECONNREFUSED'))).toBe(true);
    expect(isRetryable(sshErr('Timed out while waiting for handshake', 'client-timeout'))).toBe(true);
    expect(isRetryable(sshErr('All configured authentication methods failed', 'client-authentication'))).toBe(true);
    expect(isRetryable(new HostKeyMismatchError('m', 'SHA256:a', 'SHA256:b'))).toBe(false);
    expect(isRetryable(new SshSetupError('no key'))).toBe(false);
    expect(isRetryable(new CancelledError())).toBe(false);
  });

  it('names authentication failures as such', () => {
    expect(describeAttemptError(sshErr('All configured authentication methods failed', 'client-authentication'), 'u@h:22')).toMatch(
      /^authentication failed for u@h:22/,
    );
    expect(describeAttemptError(sshErr('connect refused', 'client-socket', 'ECONNREFUSED'), 'x')).toBe('ECONNREFUSED: connect refused');
  });
});

describe('waitUntilReady', () => {
  it('retries with growing pauses until an attempt succeeds', async () => {
    // On vi's fake clock the pauses are exact: 20, 40, then 80 ms (doubling, capped at maxDelayMs).
    vi.useFakeTimers();
    try {
      const times: number[] = [];
      const p = waitUntilReady(async () => {
        times.push(Date.now());
        if (times.length < 5) throw sshErr('refused', 'client-socket');
        return 'ok';
      }, { ...base, maxWaitMs: 5000 });
      await vi.runAllTimersAsync();
      expect(await p).toBe('ok');
      expect(times.slice(1).map((t, i) => t - times[i]!)).toEqual([20, 40, 80, 80]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('stops at once on a non-retryable error', async () => {
    let n = 0;
    const err = new HostKeyMismatchError('m', 'SHA256:a', 'SHA256:b');
    await expect(waitUntilReady(async () => {
      n++;
      throw err;
    }, { ...base, maxWaitMs: 5000 })).rejects.toBe(err);
    expect(n).toBe(1);
  });

  it('gives up with a TimeoutError that says the last error and mentions a missing console log', async () => {
    const e = await waitUntilReady(async () => {
      throw sshErr('connect ECONNREFUSED 1.2.3.4:22', 'client-socket', 'ECONNREFUSED');
    }, { ...base, maxWaitMs: 200, consoleLogPath: '/nonexistent/console.log' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(TimeoutError);
    expect((e as Error).message).toMatch(/last error: connect ECONNREFUSED/);
    expect((e as Error).message).toMatch(/no console log at \/nonexistent\/console.log/);
  });

  it('is cancelled by the signal during a pause', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    await expect(waitUntilReady(async () => {
      throw sshErr('refused', 'client-socket');
    }, { ...base, baseDelayMs: 10_000, maxDelayMs: 10_000, maxWaitMs: 60_000, signal: ac.signal })).rejects.toBeInstanceOf(CancelledError);
  });
});
