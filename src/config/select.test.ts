import { describe, expect, it } from 'vitest';
import { UsageError } from '../kernel/errors.js';
import type { InstanceEntry, Project } from './index.js';
import { selectInstances } from './select.js';

const project = (names: string[]): Project => ({
  file: '/p/kitchen.yml',
  projectDir: '/p',
  stateDir: '/p/.hallmark',
  instances: names.map((name) => ({ config: { name } as InstanceEntry['config'], problems: [] })),
});
const names = (es: InstanceEntry[]) => es.map((e) => e.config.name);

describe('selectInstances (kitchen list REGEX)', () => {
  const p = project(['default-centos-7', 'default-centos-79', 'web-ubuntu-2204', 'web-centos-7']);

  it('selects everything with no pattern or "all"', () => {
    expect(names(selectInstances(p))).toHaveLength(4);
    expect(names(selectInstances(p, 'all'))).toHaveLength(4);
  });

  it('prefers an exact name over a regexp match', () => {
    expect(names(selectInstances(p, 'default-centos-7'))).toEqual(['default-centos-7']);
  });

  it('matches an unanchored regular expression otherwise', () => {
    expect(names(selectInstances(p, 'centos'))).toEqual(['default-centos-7', 'default-centos-79', 'web-centos-7']);
    expect(names(selectInstances(p, '^web'))).toEqual(['web-ubuntu-2204', 'web-centos-7']);
    expect(names(selectInstances(p, 'centos-7$'))).toEqual(['default-centos-7', 'web-centos-7']);
  });

  it('throws a UsageError listing the instances when nothing matches', () => {
    expect(() => selectInstances(p, 'windows')).toThrow(UsageError);
    try {
      selectInstances(p, 'windows');
    } catch (e) {
      expect((e as UsageError).hint).toBe('instances: default-centos-7, default-centos-79, web-ubuntu-2204, web-centos-7');
      expect((e as UsageError).exitCode).toBe(2);
    }
  });

  it('throws a UsageError for an invalid regular expression', () => {
    expect(() => selectInstances(p, 'web-(')).toThrow(/invalid regular expression/);
  });

  it('throws when there are no instances at all', () => {
    expect(() => selectInstances(project([]), 'all')).toThrow(UsageError);
  });
});
