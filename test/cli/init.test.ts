/**
 * `hallmark init` as users run it: each driver x provisioner scaffold in an
 * empty directory validates and lists (exit 0), its gossfile loads with real
 * checks, existing files are not overwritten without --force, and
 * `--from-packer` writes a hallmark.yml that validates and names what it
 * could not convert.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, statSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { parse } from 'yaml';
import { loadSpecFiles } from '../../src/verifiers/spec/load.js';
import { assertBuilt, hallmark, project, removeProjects } from './run-cli.js';

beforeAll(assertBuilt);
afterAll(removeProjects);

describe('hallmark init', () => {
  for (const driver of ['qemu', 'ec2']) {
    for (const provisioner of ['shell', 'ansible_playbook']) {
      it(`--driver ${driver} --provisioner ${provisioner} scaffolds a project that validates and lists`, async () => {
        const dir = await project();
        const r = await hallmark(['init', '--driver', driver, '--provisioner', provisioner], { cwd: dir });
        expect(r.exitCode, r.all).toBe(0);
        const v = await hallmark(['validate', '--strict'], { cwd: dir });
        expect(v.exitCode, v.all).toBe(0);
        expect(v.stdout).toContain('1 instance(s) valid: default-debian-12');
        const l = await hallmark(['list'], { cwd: dir });
        expect(l.exitCode, l.all).toBe(0);
        expect(l.stdout).toMatch(new RegExp(`default-debian-12\\s+${driver}\\s+${provisioner}\\s+spec`));
        const ignore = await readFile(path.join(dir, '.gitignore'), 'utf8');
        for (const line of ['.hallmark/', 'manifest.json', 'junit.xml', 'env.properties', 'report.html']) expect(ignore.split('\n')).toContain(line);
        const specs = await loadSpecFiles([path.join(dir, 'test/integration/default/web.yml')]);
        expect(specs.map((s) => s.type).sort()).toEqual(['command', 'file', 'http', 'package', 'port', 'service']);
        if (provisioner === 'shell') {
          expect(statSync(path.join(dir, 'provision.sh')).mode & 0o111).not.toBe(0);
          expect(await readFile(path.join(dir, 'provision.sh'), 'utf8')).toContain('apt-get install -y -q --no-install-recommends nginx');
          const sh = await execa('sh', ['-n', 'provision.sh'], { cwd: dir, reject: false });
          expect(sh.exitCode, sh.stderr).toBe(0);
        } else {
          expect(await readFile(path.join(dir, 'site.yml'), 'utf8')).toContain('- web');
          expect(await readFile(path.join(dir, 'roles/web/tasks/main.yml'), 'utf8')).toContain('name: nginx');
          // the playbook and role parse (ansible-playbook is installed where the ansible provisioner is tested)
          const inv = path.join(dir, 'inventory.ini');
          await writeFile(inv, '[web]\nbuild ansible_connection=local\n');
          const syn = await execa('ansible-playbook', ['--syntax-check', '-i', inv, 'site.yml'], { cwd: dir, reject: false, env: { ANSIBLE_ROLES_PATH: path.join(dir, 'roles') } });
          expect(syn.exitCode, syn.all ?? syn.stderr).toBe(0);
        }
      });
    }
  }

  it('refuses to overwrite existing files, naming them, unless --force', async () => {
    const dir = await project({ 'hallmark.yml': 'mine: true\n', '.gitignore': 'mine\n' });
    const r = await hallmark(['init'], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('not overwriting existing files: hallmark.yml, .gitignore');
    expect(await readFile(path.join(dir, 'hallmark.yml'), 'utf8')).toBe('mine: true\n');
    expect(existsSync(path.join(dir, 'provision.sh'))).toBe(false);
    const f = await hallmark(['init', '--force'], { cwd: dir });
    expect(f.exitCode, f.all).toBe(0);
    expect(await readFile(path.join(dir, 'hallmark.yml'), 'utf8')).toContain('name: qemu');
  });

  // examples/quickstart (benches, the debian-13 e2e test) is init's qemu + shell scaffold plus a platform and
  // checks; it must not drift from what the README's quickstart builds (test/e2e/qemu-build.test.ts).
  it('examples/quickstart is the qemu + shell scaffold: the same provision.sh, and every scaffold check among its own', async () => {
    const dir = await project();
    const r = await hallmark(['init', '--driver', 'qemu', '--provisioner', 'shell'], { cwd: dir });
    expect(r.exitCode, r.all).toBe(0);
    const example = path.resolve(import.meta.dirname, '../../examples/quickstart');
    expect(await readFile(path.join(example, 'provision.sh'), 'utf8')).toBe(await readFile(path.join(dir, 'provision.sh'), 'utf8'));
    const mine = parse(await readFile(path.join(dir, 'test/integration/default/web.yml'), 'utf8')) as Record<string, Record<string, unknown>>;
    const theirs = parse(await readFile(path.join(example, 'test/integration/default/web.yml'), 'utf8')) as Record<string, Record<string, unknown>>;
    for (const [type, resources] of Object.entries(mine)) {
      for (const [key, attrs] of Object.entries(resources)) expect(theirs[type]?.[key], `${type} ${key}`).toEqual(attrs);
    }
  });

  it('rejects an unknown driver', async () => {
    const dir = await project();
    const r = await hallmark(['init', '--driver', 'docker'], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/docker.*invalid|invalid.*docker/i);
  });

  it('--from-packer converts a template into a hallmark.yml that validates, and names what it did not convert', async () => {
    const template = {
      variables: { region: '{{env `PACKER_TEST_REGION`}}' },
      builders: [
        {
          type: 'amazon-ebs',
          region: '{{user `region`}}',
          source_ami_filter: { filters: { name: 'debian-12-amd64-*', 'virtualization-type': 'hvm' }, owners: ['136693071363'], most_recent: true },
          instance_type: 't3.small',
          ssh_username: 'admin',
          ami_name: 'web-{{timestamp}}',
          ami_regions: ['eu-west-1'],
          ami_users: ['123456789012'],
          tags: { role: 'web' },
          launch_block_device_mappings: [{ device_name: '/dev/xvda', volume_size: 16, volume_type: 'gp3' }],
          ami_groups: ['all'],
        },
      ],
      provisioners: [{ type: 'shell', inline: ['sudo apt-get update', 'sudo apt-get install -y nginx'] }],
      'post-processors': [{ type: 'manifest', output: 'manifest.json' }],
    };
    const dir = await project({ 'template.json': JSON.stringify(template) });
    const r = await hallmark(['init', '--from-packer', 'template.json'], { cwd: dir });
    expect(r.exitCode, r.all).toBe(0);
    expect(r.stdout).toContain('not converted (2):');
    expect(r.stdout).toContain('builders[0].ami_groups');
    expect(r.stdout).toContain('post-processors[0] (manifest)');
    const yml = await readFile(path.join(dir, 'hallmark.yml'), 'utf8');
    expect(yml).toContain('#   builders[0].ami_groups');
    // checks go beside it before a build can pass; validate needs none
    expect(yml).toContain("<%= ENV['PACKER_TEST_REGION'] %>");
    const v = await hallmark(['validate', '--json'], { cwd: dir, env: { PACKER_TEST_REGION: 'us-east-1' } });
    expect(v.exitCode, v.all).toBe(0);
    const d = await hallmark(['diagnose', '--json'], { cwd: dir, env: { PACKER_TEST_REGION: 'us-east-1' } });
    expect(d.exitCode, d.all).toBe(0);
    expect(d.stdout).toMatch(/"region": "us-east-1"/);
    expect(d.stdout).toContain('"eu-west-1"');
    expect(d.stdout).toContain('"123456789012"');
    expect(d.stdout).toContain('debian-12-amd64-*');
    expect(d.stdout).toMatch(/"volume_type": "gp3"/);
    // a qemu template (a cloud image as disk_image) converts into a config that validates too
    const qdir = await project({
      'qemu.json': JSON.stringify({
        builders: [{ type: 'qemu', disk_image: true, iso_url: 'https://cloud.debian.org/images/cloud/bookworm/latest/debian-12-genericcloud-amd64.qcow2', iso_checksum: `sha256:${'0'.repeat(64)}`, memory: 2048, ssh_username: 'debian', vm_name: 'web-{{timestamp}}' }],
        provisioners: [{ type: 'ansible', playbook_file: 'site.yml' }],
      }),
    });
    const q = await hallmark(['init', '--from-packer', 'qemu.json'], { cwd: qdir });
    expect(q.exitCode, q.all).toBe(0);
    expect(q.stdout).not.toContain('not converted');
    const qv = await hallmark(['validate'], { cwd: qdir });
    expect(qv.exitCode, qv.all).toBe(0);
    expect(qv.stdout).toContain('default-qemu');
    // a second run refuses to replace it
    const again = await hallmark(['init', '--from-packer', 'template.json'], { cwd: dir });
    expect(again.exitCode).toBe(2);
    expect(again.stderr).toContain('not overwriting existing file: hallmark.yml');
    await writeFile(path.join(dir, 'bad.json'), '{"builders":[{"type":"docker"}]}');
    const bad = await hallmark(['init', '--from-packer', 'bad.json', '--force'], { cwd: dir });
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain('builders[0] (docker)');
  });
});
