import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError, formatProblem, type ConfigProblem } from '../kernel/errors.js';
import { registerTestPlugins } from '../../test/fixtures/config/stand-in-plugins.js';
import { loadProject, selectInstances } from './index.js';
import { renderParameterName, sharedParameter } from './parameter-name.js';

registerTestPlugins();

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../test/fixtures/config');
const EC2 = path.join(FIXTURES, 'ec2-kitchen');
const BROKEN = path.join(FIXTURES, 'broken');

async function brokenProblems(name: string): Promise<ConfigProblem[]> {
  const err = await loadProject({ cwd: BROKEN, configFile: `${name}.yml`, env: {} }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ConfigError);
  return (err as ConfigError).problems;
}

describe('the realistic ec2 kitchen.yml', () => {
  it('loads with no problems into the filtered matrix', async () => {
    const p = await loadProject({ cwd: EC2, env: { HALLMARK_SSH_KEY: '/home/ci/.ssh/build', AWS_REGION: 'eu-west-1' } });
    expect(p.instances.map((i) => i.config.name)).toEqual(['base-amazonlinux-2023', 'base-rhel-9', 'nginx-amazonlinux-2023', 'nginx-ubuntu-2204']);
    for (const i of p.instances) expect(i.problems.map(formatProblem), i.config.name).toEqual([]);
    const nginxUbuntu = p.instances[3]!.config;
    expect(nginxUbuntu.driver).toMatchObject({
      name: 'ec2',
      region: 'eu-west-1',
      instance_type: 't3.medium',
      image_search: { 'owner-id': '099720109477', name: 'ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-*' },
    });
    expect(nginxUbuntu.transport).toMatchObject({ name: 'ssh', ssh_key: '/home/ci/.ssh/build' });
    expect(nginxUbuntu.provisioner).toMatchObject({
      name: 'ansible_playbook',
      playbook: 'ansible/nginx.yml',
      retry_on_exit_code: [2, 4],
      max_retries: 2,
      extra_vars: { web_port: 80, ntp_servers: ['169.254.169.123'], package_manager: 'apt' },
    });
    expect(nginxUbuntu.verifier).toMatchObject({ name: 'inspec', controls: ['os-01', 'ubuntu-01'], inspec_tests: ['test/integration/base', 'test/integration/nginx'] });
    expect(nginxUbuntu.image.tags).toEqual({ team: 'platform', pipeline: 'golden-images', role: 'nginx' });
    expect(nginxUbuntu.distribute).toMatchObject({ regions: ['us-east-1', 'eu-west-1', 'ap-southeast-2'], accounts: ['012345678901', '210987654321'] });
    const rhel = p.instances[1]!.config;
    expect(rhel.driver.region).toBe('eu-west-1');
    expect(rhel.provisioner.max_retries).toBe(4);
    expect(rhel.image.tags).toEqual({ team: 'platform', pipeline: 'golden-images', license: 'rhel' });
    expect(selectInstances(p, 'nginx').map((i) => i.config.name)).toEqual(['nginx-amazonlinux-2023', 'nginx-ubuntu-2204']);
  });

  it('uses the region default when AWS_REGION is unset, and notes an unset ssh key variable (empty, as in Ruby)', async () => {
    const p = await loadProject({ cwd: EC2, env: { HALLMARK_SSH_KEY: 'k' } });
    expect(p.instances[0]!.config.driver.region).toBe('us-east-1');
    expect(p.notes).toEqual([]);
    const unset = await loadProject({ cwd: EC2, env: {} });
    expect(unset.notes).toEqual([expect.objectContaining({ level: 'note', line: 29, column: 12 })]);
    expect(unset.notes![0]!.message).toContain(`ENV['HALLMARK_SSH_KEY'] is not set`);
    expect(unset.instances[0]!.config.transport.ssh_key ?? null).toBeNull();
  });

  it('gives each instance its own SSM parameter, so a build of all four is not refused', async () => {
    const p = await loadProject({ cwd: EC2, env: { HALLMARK_SSH_KEY: 'k' } });
    const configs = p.instances.map((i) => i.config);
    expect(configs.map((c) => renderParameterName(c.publish.ssm_parameter!, { ...c, instance: c.name }))).toEqual([
      '/golden-images/web/base/amazonlinux-2023/latest',
      '/golden-images/web/base/rhel-9/latest',
      '/golden-images/web/nginx/amazonlinux-2023/latest',
      '/golden-images/web/nginx/ubuntu-22.04/latest',
    ]);
    expect(sharedParameter(configs)).toBeUndefined();
    // One name for all of them would make "latest" whichever instance finished last.
    expect(sharedParameter(configs.map((c) => ({ ...c, publish: { ...c.publish, ssm_parameter: '/golden-images/web/latest' } })))).toMatchObject({
      instances: ['base-amazonlinux-2023', 'base-rhel-9'],
      region: 'us-east-1',
    });
  });

  it('is the same file as examples/kitchen-ec2/kitchen.yml', async () => {
    const example = path.resolve(FIXTURES, '../../../examples/kitchen-ec2/kitchen.yml');
    expect(await readFile(example, 'utf8')).toBe(await readFile(path.join(EC2, 'kitchen.yml'), 'utf8'));
  });
});

describe('broken fixtures', () => {
  it('erb-unsupported: every unsupported tag, with its line', async () => {
    expect((await brokenProblems('erb-unsupported')).map((p) => [p.line, p.found])).toEqual([
      [4, '<%= 1024 * 2 %>'],
      [7, `<% if ENV['CI'] %>`],
      [9, '<% end %>'],
    ]);
  });

  it('erb-missing-env: ENV.fetch without a default raises; ENV[] is a note', async () => {
    const err = (await loadProject({ cwd: BROKEN, configFile: 'erb-missing-env.yml', env: {} }).catch((e: unknown) => e)) as ConfigError;
    expect(err.problems.map((p) => [p.line, p.message])).toEqual([[13, 'ERB raises KeyError: key not found: "HALLMARK_TEST_MISSING_AMI"']]);
    expect(err.notes.map((p) => [p.line, p.message.split(':')[0]])).toEqual([[8, `ENV['HALLMARK_TEST_MISSING_KEY'] is not set`]]);
  });

  it('yaml-syntax: the line of the bad indentation', async () => {
    const problems = await brokenProblems('yaml-syntax');
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ line: 8 });
  });

  it('unknown-keys: key positions and suggestions', async () => {
    const err = (await loadProject({ cwd: BROKEN, configFile: 'unknown-keys.yml', env: {} }).catch((e: unknown) => e)) as ConfigError;
    // hallmark's own blocks are strict; Kitchen's levels warn, as Kitchen ignores what it does not read
    expect(err.problems.map((p) => `${p.line}:${p.column} ${p.path} ${p.hint}`)).toEqual(['13:7 suites[0].image.boot_tset did you mean: boot_test']);
    expect(err.notes.map((p) => `${(p as { level?: string }).level} ${p.line}:${p.column} ${p.path} ${p.hint}`)).toEqual([
      'warning 4:1 platfroms did you mean: platforms',
      'warning 8:5 platforms[0].provisoner did you mean: provisioner',
    ]);
  });

  it('wrong-types: expected and found for each value', async () => {
    const problems = await brokenProblems('wrong-types');
    expect(problems.map((p) => `${p.line}:${p.column} ${p.path}: found ${p.found}`)).toEqual([
      '5:14 image.boot_test: found string "yes"',
      '7:11 image.tags.team: found a list',
      '9:24 distribute.regions[1]: found string "mars-north-1"',
      '11:7 distribute.accounts[0]: found string "12345678901"',
      '12:7 distribute.accounts[1]: found string "1234567890123"',
      '13:16 distribute.concurrency: found number 0',
      '14:11 distribute.format: found string "vmdk"',
      '16:10 publish.junit: found boolean true',
    ]);
    expect(problems.every((p) => p.expected)).toBe(true);
  });

  it('platform-without-name: a file-level problem', async () => {
    expect(await brokenProblems('platform-without-name')).toEqual([
      expect.objectContaining({ line: 6, path: 'platforms[1].name', message: 'missing required key "name"' }),
    ]);
  });

  it('plugin-problems: only the instances concerned carry problems', async () => {
    const p = await loadProject({ cwd: BROKEN, configFile: 'plugin-problems.yml', env: {} });
    expect(p.instances.map((i) => [i.config.name, i.problems.length, i.notes?.length])).toEqual([
      ['default-debian-12', 0, 0],
      // `memroy` is a warning (Kitchen ignores keys its plugin does not read), `cpus: many` a problem
      ['default-bad-options', 1, 1],
      ['default-no-such-driver', 1, 0],
    ]);
  });
});
