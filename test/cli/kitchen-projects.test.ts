/**
 * `hallmark list` on the Kitchen projects of test/fixtures/kitchen/, run as
 * users run it (bin/hallmark, the fixture as the working directory, its
 * env.json as the environment): exactly the instances Test Kitchen lists
 * (expected-instances.txt, written by scripts/kitchen-oracle.rb), exit 0, and
 * the loader's notes on stderr, never on stdout.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ROOT, assertBuilt, hallmark } from './run-cli.js';

vi.setConfig({ testTimeout: 90_000 });
// HOME is the fixture's home/ (for ~/.kitchen/config.yml); what the CLI keeps
// under ~/.cache (bin/hallmark's compile cache) goes to a temp dir instead of the repo.
let cacheHome: string;
beforeAll(async () => {
  assertBuilt();
  cacheHome = await mkdtemp(path.join(tmpdir(), 'hallmark-kitchen-cache-'));
});
afterAll(() => rm(cacheHome, { recursive: true, force: true }));

const KITCHEN = path.join(ROOT, 'test/fixtures/kitchen');

function run(name: string, args: string[]) {
  const dir = path.join(KITCHEN, name);
  const envFile = path.join(dir, 'env.json');
  const env = existsSync(envFile) ? (JSON.parse(readFileSync(envFile, 'utf8')) as Record<string, string>) : {};
  // The variables the fixtures do not set must not leak in from the test's own environment.
  const unset = Object.fromEntries(['KITCHEN_YAML', 'KITCHEN_YML', 'KITCHEN_LOCAL_YAML', 'KITCHEN_LOCAL_YML', 'KITCHEN_GLOBAL_YAML', 'KITCHEN_GLOBAL_YML', 'AWS_SSH_KEY_ID', 'AWS_REGION', 'USER', 'CI'].map((k) => [k, undefined]));
  return hallmark(args, { cwd: dir, env: { ...unset, XDG_CACHE_HOME: cacheHome, ...env, HOME: path.join(dir, 'home') } });
}

const expected = (name: string) => readFileSync(path.join(KITCHEN, name, 'expected-instances.txt'), 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));

describe('hallmark list on Kitchen projects', () => {
  const names = readdirSync(KITCHEN).filter((d) => existsSync(path.join(KITCHEN, d, 'expected-instances.txt')));

  it.each(names)('%s: the instances Kitchen lists, in its order', async (name) => {
    const r = await run(name, ['list', '--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { instance: string }[]).map((i) => i.instance)).toEqual(expected(name));
  });

  it('no platforms: an empty table, exit 0, and a one-line note on stderr', async () => {
    const r = await run('no-platforms', ['list']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual([expect.stringMatching(/^Instance\s+Driver/)]);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^note: .*kitchen\.yml: platforms: not given: there are no instances/)]);
  });

  it('no suites (the seed-style file): default-<platform> for each platform, and the note about the default suite', async () => {
    const r = await run('seed-no-suites', ['list']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^default-ubuntu-2204\s+ec2\s+ansible_playbook\s+inspec/m);
    expect(r.stderr).toMatch(/^note: .*suites: not given: using one suite named "default"/m);
  });

  it('a regex that selects nothing is still a usage error', async () => {
    const r = await run('kitchen-ec2', ['list', 'centos']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('no instances for regex "centos"');
  });

  // validate: passes where hallmark runs every plugin the file names, and
  // names each plugin it does not run on the others (one problem per plugin).
  const runsAll = ['erb-forms', 'seed-no-suites'];
  const notRun: Record<string, string[]> = {
    'ansible-role': ['driver `docker`'],
    'chef-cookbook': ['driver `vagrant`', 'provisioner `chef_zero`'],
    dokken: ['driver `dokken`', 'transport `dokken`', 'provisioner `dokken`'],
    'global-config': ['driver `vagrant`'],
    'global-env': ['driver `vagrant`'],
    'kitchen-ec2': ['transport `winrm`'],
    'legacy-keys': ['provisioner `chef_solo`', 'verifier `busser`'],
  };
  it.each(runsAll)('validate %s: valid, exit 0', async (name) => {
    const r = await run(name, ['validate']);
    expect(r.exitCode, r.all).toBe(0);
    expect(r.stdout).toMatch(/instance\(s\) valid/);
  });
  it.each(Object.keys(notRun))('validate %s: exit 2, naming the Kitchen plugins hallmark does not run', async (name) => {
    const r = await run(name, ['validate']);
    expect(r.exitCode, r.all).toBe(2);
    for (const what of notRun[name]!) {
      const [kind, plugin] = what.split(' ');
      expect(r.all).toContain(`${plugin} is a Test Kitchen ${kind} that hallmark does not run`);
    }
    expect(r.all).not.toMatch(/unknown (driver|provisioner|transport|verifier)/);
  });
});
