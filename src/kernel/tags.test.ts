import { describe, expect, it } from 'vitest';
import { buildStartedAt, parseDuration } from './tags.js';

describe('parseDuration', () => {
  it('reads the units and sums', () => {
    expect(parseDuration('0s')).toBe(0);
    expect(parseDuration('6h')).toBe(6 * 3_600_000);
    expect(parseDuration('90m')).toBe(90 * 60_000);
    expect(parseDuration('1h30m')).toBe(90 * 60_000);
    expect(parseDuration('2d')).toBe(2 * 86_400_000);
    expect(parseDuration('1.5h')).toBe(90 * 60_000);
    expect(parseDuration('250ms')).toBe(250);
  });
  it('refuses what is not a duration', () => {
    for (const bad of ['', '6', 'h', '-1h', '6 hours', '6H', '1h 30m', 'abc']) expect(parseDuration(bad), bad).toBeUndefined();
  });
});

describe('buildStartedAt', () => {
  it('reads newBuildId()\'s UTC timestamp', () => {
    expect(buildStartedAt('20261202013005-a1b2c3')?.toISOString()).toBe('2026-12-02T01:30:05.000Z');
  });
  it('is undefined for ids of another form', () => {
    expect(buildStartedAt('adhoc')).toBeUndefined();
    expect(buildStartedAt(undefined)).toBeUndefined();
    expect(buildStartedAt('2026-abc')).toBeUndefined();
  });
});
