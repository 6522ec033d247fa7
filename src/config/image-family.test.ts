import { describe, expect, it } from 'vitest';
import { deprecationTime, durationProblem, parseDuration } from './duration.js';
import { imageFamily } from './image-family.js';

const inst = (name: string, family?: string) => ({
  name: 'web-debian-12',
  suite: 'web',
  platform: 'debian-12',
  image: { name, tags: {}, boot_test: false, ...(family ? { family } : {}) },
});

describe('imageFamily', () => {
  it('is the rendered name template without its time parts', () => {
    expect(imageFamily(inst('{{suite}}-{{platform}}-{{timestamp}}'))).toBe('web-debian-12');
    expect(imageFamily(inst('golden/{{instance}}-{{build_id}}'))).toBe('golden/web-debian-12');
    expect(imageFamily(inst('{{timestamp}}_{{platform}}__v2'))).toBe('debian-12_v2');
    expect(imageFamily(inst('{{ platform }} base {{ timestamp }}'))).toBe('debian-12 base');
  });
  it('is the whole rendered name when the template has no time parts, and the configured family when set', () => {
    expect(imageFamily(inst('app-{{platform}}'))).toBe('app-debian-12');
    expect(imageFamily(inst('{{suite}}-{{timestamp}}', 'web'))).toBe('web');
    expect(imageFamily(inst('{{timestamp}}'))).toBe('web-debian-12');
  });
});

describe('durations', () => {
  it('reads hours, days and weeks', () => {
    expect(parseDuration('12h')).toBe(12 * 3_600_000);
    expect(parseDuration('90d')).toBe(90 * 86_400_000);
    expect(parseDuration('2w')).toBe(14 * 86_400_000);
  });
  it('refuses zero, more than EC2 allows, and other shapes, saying what fits', () => {
    expect(durationProblem('0d')).toMatch(/above 0/);
    expect(durationProblem('3651d')).toMatch(/3650d/);
    expect(durationProblem('90')).toMatch(/such as 90d/);
    expect(durationProblem('1y')).toMatch(/such as 90d/);
    expect(durationProblem('3650d')).toBeUndefined();
  });
  it('puts the deprecation time on the next whole minute', () => {
    expect(deprecationTime(new Date('2026-01-01T10:00:30.5Z'), '30d').toISOString()).toBe('2026-01-31T10:01:00.000Z');
    expect(deprecationTime(new Date('2026-01-01T10:00:00Z'), '1h').toISOString()).toBe('2026-01-01T11:00:00.000Z');
  });
});
