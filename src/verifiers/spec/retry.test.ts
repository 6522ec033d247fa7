import { describe, expect, test } from 'vitest';
import { retryDelayMs } from './retry.js';

describe("retry_delay as goss reads it (parseRetryDelay)", () => {
  test('numbers are milliseconds, strings Go durations or numbers, empty is zero', () => {
    expect(retryDelayMs(500)).toBe(500);
    expect(retryDelayMs('250ms')).toBe(250);
    expect(retryDelayMs('2s')).toBe(2000);
    expect(retryDelayMs('1m30s')).toBe(90_000);
    expect(retryDelayMs('1.5s')).toBe(1500);
    expect(retryDelayMs('750')).toBe(750);
    expect(retryDelayMs(' ')).toBe(0);
    expect(retryDelayMs(undefined)).toBe(0);
    expect(retryDelayMs('soon')).toBeUndefined();
    expect(retryDelayMs(true)).toBeUndefined();
  });
});
