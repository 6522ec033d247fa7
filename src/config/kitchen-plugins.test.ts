import { describe, expect, it } from 'vitest';
import { tempProjects } from '../../test/helpers/temp-projects.js';
import { parseDocument } from 'yaml';
import { getPluginDef, loadPlugin, type PluginKind } from '../plugins.js';
import { type InstanceEntry, type Project } from './index.js';
import { kitchenOptions } from './kitchen-plugins.js';
import { screenPluginOptions } from './plugin-options.js';
import { SourceFile, type ValueNode } from './source.js';

const load = tempProjects('hallmark-kitchen-plugins-');

const inst = (p: Project, name: string): InstanceEntry => {
  const e = p.instances.find((i) => i.config.name === name);
  if (!e) throw new Error(`no instance ${name} in ${p.instances.map((i) => i.config.name).join(', ')}`);
  return e;
};

/** A map node of `block`, as the loader makes it from a file. */
function blockNode(block: Record<string, unknown>): ValueNode {
  const source = new SourceFile('kitchen.yml', '', [], parseDocument(''));
  const entries = new Map<string, ValueNode>(Object.entries(block).map(([k, v]) => [k, { kind: 'scalar', origin: { source, path: ['driver', k] }, value: v }]));
  return { kind: 'map', origin: { source, path: ['driver'] }, entries };
}

const PLUGINS: [PluginKind, string][] = [
  ['driver', 'ec2'],
  ['driver', 'proxy'],
  ['transport', 'ssh'],
  ['provisioner', 'ansible_playbook'],
  ['provisioner', 'shell'],
  ['verifier', 'inspec'],
  ['verifier', 'cinc-auditor'],
  ['verifier', 'shell'],
];

describe('every option of the Kitchen plugins is implemented or accepted with a note', () => {
  for (const [kind, name] of PLUGINS) {
    it(`${kind} ${name}`, () => {
      const table = kitchenOptions(kind, name)!;
      const def = getPluginDef(kind, name)!;
      expect(table.options.length).toBeGreaterThan(5);
      for (const key of table.options) {
        const s = screenPluginOptions(kind, name, blockNode({ name, [key]: 'x' }), def.schema());
        const kept = s.node.kind === 'map' && s.node.entries.has(key);
        const noted = s.notes.some((x) => x.level === 'note' && x.message === `${table.plugin} option "${key}": accepted; no effect in hallmark`);
        expect(s.notes.filter((x) => x.level === 'warning'), key).toEqual([]);
        expect(s.problems, key).toEqual([]);
        // implemented (kept for the schema) or accepted with the note; a no-effect option the schema takes is both
        expect(kept || noted, key).toBe(true);
        expect(noted, key).toBe(!kept || (table.noEffect ?? []).includes(key));
      }
    });
  }

  it('a key in neither table nor schema is a warning, with did-you-mean only when close', () => {
    const def = getPluginDef('driver', 'ec2')!;
    const s = screenPluginOptions('driver', 'ec2', blockNode({ name: 'ec2', instance_tpye: 't3.large', frobnicate: 1 }), def.schema());
    expect(s.notes.map((x) => [x.level, x.path, x.message, x.hint])).toEqual([
      ['warning', 'driver.instance_tpye', `unknown key "instance_tpye": no ec2 driver option (neither hallmark's nor kitchen-ec2's); ignored`, 'did you mean: instance_type'],
      ['warning', 'driver.frobnicate', `unknown key "frobnicate": no ec2 driver option (neither hallmark's nor kitchen-ec2's); ignored`, undefined],
    ]);
    expect(s.node.kind === 'map' && [...s.node.entries.keys()]).toEqual(['name']);
  });

  it("kitchen-ec2's removed keys are problems that say what to use, as kitchen-ec2 refuses them", () => {
    const def = getPluginDef('driver', 'ec2')!;
    const s = screenPluginOptions('driver', 'ec2', blockNode({ name: 'ec2', ebs_volume_size: 20, aws_secret_access_key: 'k' }), def.schema());
    expect(s.problems.map((x) => [x.path, x.message, x.hint])).toEqual([
      ['driver.ebs_volume_size', 'kitchen-ec2 no longer takes "ebs_volume_size"', 'use block_device_mappings'],
      ['driver.aws_secret_access_key', 'kitchen-ec2 no longer takes "aws_secret_access_key"', expect.stringContaining('AWS_SECRET_ACCESS_KEY')],
    ]);
  });
});

describe('real Kitchen files load as Kitchen loads them', () => {
  it('kitchen-ec2, ssh and kitchen-ansible options from real files: no problem, one note per option set', async () => {
    const p = await load(`
driver:
  name: ec2
  region: us-east-1
  availability_zone: b
  skip_cost_warning: true
  instance_type: t3.small
  image_id: ami-0123456789abcdef0
transport:
  max_ssh_sessions: 4
  ssh_key: ~/.ssh/id_ed25519
provisioner:
  name: ansible_playbook
  playbook: site.yml
  role_name: web
  idempotency_skip_tags: [molecule-notest]
  galaxy_ignore_certs: true
  requirements_collection_path: collections.yml
  require_pip3: true
verifier:
  name: inspec
  load_plugins: false
platforms:
  - name: ubuntu-22.04
suites:
  - name: default
`);
    const e = inst(p, 'default-ubuntu-2204');
    expect(e.problems).toEqual([]);
    expect(e.notes!.map((x) => [x.level, x.path])).toEqual([
      ['note', 'driver.availability_zone'],
      ['note', 'driver.skip_cost_warning'],
      ['note', 'transport.max_ssh_sessions'],
      ['note', 'provisioner.role_name'],
      ['note', 'provisioner.idempotency_skip_tags'],
      ['note', 'provisioner.galaxy_ignore_certs'],
      ['note', 'provisioner.requirements_collection_path'],
      ['note', 'provisioner.require_pip3'],
      ['note', 'verifier.load_plugins'],
    ]);
    expect(e.notes![0]!.message).toBe('kitchen-ec2 option "availability_zone": accepted; no effect in hallmark');
    expect(e.notes![0]!.line).toBe(5);
    // the noted options are not handed to hallmark's plugins (whose schemas are strict); the implemented ones are
    expect(e.config.driver).toEqual({ name: 'ec2', region: 'us-east-1', instance_type: 't3.small', image_id: 'ami-0123456789abcdef0' });
    expect(e.config.provisioner).toMatchObject({ playbook: 'site.yml', require_pip3: true });
    expect(e.config.provisioner).not.toHaveProperty('role_name');
  });

  it('a stray key warns and stops nothing; its block still loads', async () => {
    const p = await load(`driver:\n  name: ec2\n  image_id: ami-0123456789abcdef0\n  instance_tpye: t3.large\nplatforms:\n  - name: al2023\n`);
    const e = inst(p, 'default-al2023');
    expect(e.problems).toEqual([]);
    expect(e.notes).toEqual([expect.objectContaining({ level: 'warning', line: 4, column: 3, path: 'driver.instance_tpye', hint: 'did you mean: instance_type' })]);
    expect(e.config.driver.instance_type).toBeUndefined();
  });

  it('null means unset, and a string where kitchen-ec2 expects a list is a list of one', async () => {
    const p = await load(`
driver:
  name: ec2
  image_search:
    owner-id: 099720109477
    name: ubuntu/images/*/ubuntu-*-22.04*
  instance_type: ~
  subnet_id: null
  security_group_ids: sg-0123456789abcdef0
  tags:
    created-by: test-kitchen
    empty:
    count: 3
platforms:
  - name: ubuntu-22.04
`);
    const e = inst(p, 'default-ubuntu-2204');
    expect(e.problems).toEqual([]);
    expect(e.config.driver).not.toHaveProperty('instance_type');
    expect(e.config.driver).not.toHaveProperty('subnet_id');
    const parsed = getPluginDef('driver', 'ec2')!.schema().parse(e.config.driver) as Record<string, unknown>;
    expect(parsed).toMatchObject({
      instance_type: 't3.micro',
      security_group_ids: ['sg-0123456789abcdef0'],
      tags: { 'created-by': 'test-kitchen', empty: '', count: '3' },
      // read as Ruby's YAML reads it: digits with a leading 0 and a 9 are a string, not the number 99720109477
      image_search: { 'owner-id': '099720109477' },
    });
  });
});

describe('Kitchen plugins hallmark does not run', () => {
  const yml = `
driver:
  name: vagrant
  box: bento/ubuntu-22.04
provisioner:
  name: chef_zero
  product_version: 18
transport:
  name: winrm
platforms:
  - name: ubuntu-22.04
  - name: windows-2022
    driver: { name: ec2, image_id: ami-0123456789abcdef0 }
    provisioner: { name: shell, inline: [whoami] }
    transport: ssh
    verifier: cinc_auditor
suites:
  - name: default
`;

  it('list them, and name the plugin as a problem of the instances that need one', async () => {
    const p = await load(yml);
    expect(p.instances.map((i) => [i.config.name, i.config.driver.name, i.config.provisioner.name, i.config.transport.name, i.config.verifier.name])).toEqual([
      ['default-ubuntu-2204', 'vagrant', 'chef_zero', 'winrm', 'spec'],
      ['default-windows-2022', 'ec2', 'shell', 'ssh', 'cinc-auditor'],
    ]);
    expect(inst(p, 'default-ubuntu-2204').problems.map((x) => [x.line, x.path, x.message])).toEqual([
      [3, 'driver.name', '`vagrant` is a Test Kitchen driver that hallmark does not run; hallmark runs: qemu, ec2, proxy'],
      [9, 'transport.name', '`winrm` is a Test Kitchen transport that hallmark does not run; hallmark runs: ssh'],
      [6, 'provisioner.name', '`chef_zero` is a Test Kitchen provisioner that hallmark does not run; hallmark runs: shell, file, ansible_playbook'],
    ]);
    // their options are theirs: no warnings about vagrant's `box` or chef's `product_version`
    expect(inst(p, 'default-ubuntu-2204').notes).toEqual([]);
    // `cinc_auditor` is Kitchen's spelling of hallmark's cinc-auditor verifier
    expect(inst(p, 'default-windows-2022').problems).toEqual([]);
  });

  it('loading one says the same, not "unknown"', async () => {
    await expect(loadPlugin('driver', { name: 'dokken' })).rejects.toThrow('`dokken` is a Test Kitchen driver that hallmark does not run; hallmark runs: qemu, ec2, proxy');
  });
});
