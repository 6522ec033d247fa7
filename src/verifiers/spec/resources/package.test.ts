import { describe, expect, test } from 'vitest';
import type { ResourceSpec } from '../types.js';
import { compileMatcher } from '../matchers.js';
import { derived } from './common.js';
import { packageDef } from './package.js';

function pkg(name: string, attrs: Record<string, unknown>): ResourceSpec {
  return {
    type: 'package',
    key: name,
    probeId: 'r0',
    checks: Object.entries(attrs).map(([n, value]) => ({ name: n, value, matcher: compileMatcher(value), pos: { file: 'g.yml' } })),
    options: {},
    skip: false,
    pos: { file: 'g.yml' },
  };
}

// dpkg-query -W -f='${Package}\t${Status}\t${Version}\n', as the script runs it.
const DPKG = [
  'bash\tinstall ok installed\t5.2.15-2+b7',
  'bash-completion\tinstall ok installed\t1:2.11-6',
  'libc6\tinstall ok installed\t2.36-9+deb12u4',
  'libc6\tinstall ok installed\t2.36-9+deb12u7',
  'old\tdeinstall ok config-files\t1.0-1',
  '',
].join('\n');

const facts = () => new Map([['pkg', 'dpkg'], ['pkgs.rc', '0'], ['pkgs.out', DPKG], ['pkgs.err', '']]);

describe('package, answered from the one package list of the round trip', () => {
  test('installed and versions come from the lines of that name only (not a name it is a prefix of)', () => {
    const f = facts();
    expect(packageDef.observe(pkg('bash', { installed: true, versions: ['x'] }), { own: new Map(), facts: f })).toEqual({
      installed: { value: true },
      versions: { value: ['5.2.15-2+b7'] },
    });
    expect(packageDef.observe(pkg('libc6', { versions: ['x'] }), { own: new Map(), facts: f }).versions).toEqual({ value: ['2.36-9+deb12u4', '2.36-9+deb12u7'] });
  });

  test('a package that is absent, or removed with its config files kept, is not installed', () => {
    const f = facts();
    for (const name of ['nginx', 'old', 'bas']) {
      const o = packageDef.observe(pkg(name, { installed: false, versions: ['1'] }), { own: new Map(), facts: f });
      expect(o.installed, name).toEqual({ value: false });
      expect(o.versions, name).toEqual({ missing: `package ${name} is not installed` });
    }
  });

  test('the list is indexed once per round trip and the index is shared by every package resource', () => {
    const f = facts();
    packageDef.observe(pkg('bash', { installed: true }), { own: new Map(), facts: f });
    const index = derived(f, 'pkgs', () => new Map());
    expect(index).toBeInstanceOf(Map);
    expect((index as Map<string, string[]>).get('bash')).toEqual(['install ok installed\t5.2.15-2+b7']);
    // Another round trip (a retry) has its own facts and its own index.
    expect(derived(facts(), 'pkgs', () => 'fresh')).toBe('fresh');
  });

  test('a failed package listing is an error for every attribute, not "not installed"', () => {
    const f = new Map([['pkg', 'dpkg'], ['pkgs.rc', '2'], ['pkgs.out', ''], ['pkgs.err', 'dpkg-query: error\n']]);
    const o = packageDef.observe(pkg('bash', { installed: true }), { own: new Map(), facts: f });
    expect(o.installed).toEqual({ error: 'listing packages with dpkg failed (exit 2): dpkg-query: error' });
  });
});
