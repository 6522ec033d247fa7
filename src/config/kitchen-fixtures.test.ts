import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError, formatProblem } from '../kernel/errors.js';
import { loadProject } from './index.js';

/**
 * Kitchen projects shaped like public ones (several suites, includes/excludes,
 * ERB forms, overlays, KITCHEN_* variables, a global file, legacy keys). Each
 * expected-instances.txt was written by Test Kitchen's own loader and
 * Instance.name_for (scripts/kitchen-oracle.rb): hallmark must list exactly
 * those instances, in that order.
 */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../test/fixtures/kitchen');
const FIXTURES = readdirSync(ROOT).filter((d) => existsSync(path.join(ROOT, d, 'expected-instances.txt')));
/** Fixtures that wait for another part of issue 10; each says which. */
const PENDING: Record<string, string> = {};

function fixture(name: string) {
  const dir = path.join(ROOT, name);
  const envFile = path.join(dir, 'env.json');
  const env = { ...(existsSync(envFile) ? (JSON.parse(readFileSync(envFile, 'utf8')) as Record<string, string>) : {}), HOME: path.join(dir, 'home') };
  const lines = readFileSync(path.join(dir, 'expected-instances.txt'), 'utf8').split('\n');
  return { dir, env, expected: lines.filter((l) => l !== '' && !l.startsWith('#')), header: lines[0]!.startsWith('#') ? lines[0] : undefined };
}

describe('Kitchen projects list the instances Kitchen lists, in its order', () => {
  it('has the fixtures', () => {
    expect(FIXTURES.length).toBeGreaterThanOrEqual(10);
  });

  it.each(FIXTURES.filter((f) => !PENDING[f]))('%s', async (name) => {
    const { dir, env, expected } = fixture(name);
    const p = await loadProject({ cwd: dir, env }).catch((e: unknown) => {
      throw e instanceof ConfigError ? new Error(e.problems.map(formatProblem).join('\n')) : e;
    });
    expect(p.instances.map((i) => i.config.name)).toEqual(expected);
  });

  for (const [name, reason] of Object.entries(PENDING)) it.skip(`${name} (pending: ${reason})`, () => {});

  it('seed-no-suites (kitchen-ec2 + ansible_playbook + inspec, no suites): default-<platform> per platform, with a note', async () => {
    const { dir, env, header } = fixture('seed-no-suites');
    expect(header).toContain('no suites');
    const p = await loadProject({ cwd: dir, env });
    expect(p.instances.map((i) => [i.config.name, i.config.driver.name, i.config.provisioner.name, i.config.verifier.name])).toEqual([
      ['default-ubuntu-2204', 'ec2', 'ansible_playbook', 'inspec'],
      ['default-amazon2023', 'ec2', 'ansible_playbook', 'inspec'],
      ['default-rhel-9', 'ec2', 'ansible_playbook', 'inspec'],
    ]);
    expect(p.notes).toEqual([expect.objectContaining({ level: 'note', path: 'suites', message: expect.stringContaining('one suite named "default"') })]);
  });

  it('erb-forms: the values Ruby computes reach the config, and the unset variable that became "" is noted', async () => {
    const { dir, env } = fixture('erb-forms');
    const p = await loadProject({ cwd: dir, env });
    expect(p.instances[0]!.config.driver).toMatchObject({
      region: 'us-east-1',
      instance_type: 't3.micro',
      tags: { ci: 'true', build: '41', branch: 'main-41', owner: '' },
    });
    expect(p.instances[0]!.config.driver.spot_price ?? null).toBeNull();
    expect(p.notes!.map((n) => [n.line, n.message.split(':')[0]])).toEqual([[5, `ENV['AWS_SSH_KEY_ID'] is not set`]]);
  });

  it('dokken: KITCHEN_YAML picks the file and its own overlay; an excludes entry for a platform that is gone is a note', async () => {
    const { dir, env } = fixture('dokken');
    const p = await loadProject({ cwd: dir, env });
    expect([path.basename(p.file), path.basename(p.localFile!)]).toEqual(['kitchen.dokken.yml', 'kitchen.dokken.local.yml']);
    expect(p.notes!.map((n) => n.found)).toEqual(['"centos-6"']);
  });
});
