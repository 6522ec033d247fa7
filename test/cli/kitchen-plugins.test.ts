/**
 * Kitchen files with options and plugins hallmark does not implement, through
 * the built CLI: list and build warn and go on, validate reports each problem
 * once and refuses warnings only with --strict, and an action on an instance
 * whose plugin hallmark does not run names that plugin. No machines.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { assertBuilt, hallmark, project, removeProjects } from './run-cli.js';

vi.setConfig({ testTimeout: 60_000 });
beforeAll(assertBuilt);
afterAll(removeProjects);

const KITCHEN = `---
driver:
  name: ec2
  region: us-east-1
  image_id: ami-0123456789abcdef0
  availability_zone: b
  instance_tpye: t3.large

transport:
  max_ssh_sessions: 4

provisioner:
  name: ansible_playbook
  playbook: site.yml

platforms:
  - name: ubuntu-22.04
  - name: centos-7
    driver: vagrant
  - name: amazon2023

suites:
  - name: default
  - name: web
`;

describe('a Kitchen file with plugin options hallmark does not implement', () => {
  it('list warns about the stray key (with did-you-mean) and lists every instance, the vagrant ones too', async () => {
    const dir = await project({ 'kitchen.yml': KITCHEN });
    const r = await hallmark(['list'], { cwd: dir, env: { NO_COLOR: '1' } });
    expect(r.exitCode, r.all).toBe(0);
    expect(r.stdout.trim().split('\n').slice(1).map((l) => l.split(/\s+/).slice(0, 2))).toEqual([
      ['default-ubuntu-2204', 'ec2'],
      ['default-centos-7', 'vagrant'],
      ['default-amazon2023', 'ec2'],
      ['web-ubuntu-2204', 'ec2'],
      ['web-centos-7', 'vagrant'],
      ['web-amazon2023', 'ec2'],
    ]);
    // once, though the block is merged into six instances; notes only with -v
    expect(r.stderr.match(/warning:/g)).toHaveLength(1);
    expect(r.stderr).toContain('kitchen.yml:7:3: driver.instance_tpye: unknown key "instance_tpye"');
    expect(r.stderr).toContain('did you mean: instance_type');
    expect(r.stderr).not.toContain('availability_zone');
    const v = await hallmark(['list', '-v'], { cwd: dir, env: { NO_COLOR: '1' } });
    expect(v.stderr).toContain('note: ');
    expect(v.stderr).toContain('driver.availability_zone: kitchen-ec2 option "availability_zone": accepted; no effect in hallmark');
  });

  it('validate: the vagrant problem once, warnings and notes after it; the ec2 instances alone pass; --strict refuses the warning', async () => {
    const dir = await project({ 'kitchen.yml': KITCHEN });
    const all = await hallmark(['validate'], { cwd: dir, env: { NO_COLOR: '1' } });
    expect(all.exitCode, all.all).toBe(2);
    expect(all.stderr).toContain('1 configuration problem(s):');
    expect(all.stderr.match(/is a Test Kitchen driver/g)).toHaveLength(1);
    expect(all.stderr).toContain('kitchen.yml:19:13: platforms[1].driver: `vagrant` is a Test Kitchen driver that hallmark does not run; hallmark runs: qemu, ec2, proxy');
    expect(all.stderr.match(/warning: /g)).toHaveLength(1);
    expect(all.stderr).toContain('note: ');

    const ec2 = await hallmark(['validate', 'ubuntu|amazon'], { cwd: dir, env: { NO_COLOR: '1' } });
    expect(ec2.exitCode, ec2.all).toBe(0);
    expect(ec2.stdout).toContain('4 instance(s) valid');
    expect(ec2.stdout).toContain('1 warning');

    const strict = await hallmark(['validate', '--strict', 'ubuntu|amazon'], { cwd: dir, env: { NO_COLOR: '1' } });
    expect(strict.exitCode, strict.all).toBe(2);
    expect(strict.stderr).toMatch(/1 configuration problem\(s\):\n {2}- .*kitchen\.yml:7:3: driver\.instance_tpye: unknown key/);
  });

  it('an action on the vagrant instance names the plugin and starts nothing', async () => {
    const dir = await project({ 'kitchen.yml': KITCHEN });
    const r = await hallmark(['create', 'default-centos'], { cwd: dir, env: { NO_COLOR: '1' } });
    expect(r.exitCode, r.all).toBe(2);
    expect(r.all).toContain('`vagrant` is a Test Kitchen driver that hallmark does not run; hallmark runs: qemu, ec2, proxy');
    expect(r.all).not.toContain('unknown driver');
  });

  it('validate reports a problem of a shared block once, not once per instance', async () => {
    const dir = await project({
      'kitchen.yml': `driver:\n  name: ec2\n  image_id: ami-0123456789abcdef0\n  instance_initiated_shutdown_behavior: hibernate\nplatforms:\n  - name: a\n  - name: b\n  - name: c\nsuites:\n  - name: s1\n  - name: s2\n`,
    });
    const r = await hallmark(['validate'], { cwd: dir, env: { NO_COLOR: '1' } });
    expect(r.exitCode, r.all).toBe(2);
    expect(r.stderr).toContain('1 configuration problem(s):');
    expect(r.stderr.match(/instance_initiated_shutdown_behavior/g)).toHaveLength(1);
    const json = await hallmark(['validate', '--json'], { cwd: dir });
    const doc = JSON.parse(json.stdout) as { valid: boolean; problems: unknown[]; instances: unknown[] };
    expect(doc.valid).toBe(false);
    expect(doc.problems).toHaveLength(1);
    expect(doc.instances).toHaveLength(6);
  });
});
