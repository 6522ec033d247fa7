import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tempProjects } from '../../test/helpers/temp-projects.js';
import { ConfigError } from '../kernel/errors.js';
import { loadProject, type Project } from './index.js';

const LEGACY = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../test/fixtures/kitchen/legacy-keys');

const load = tempProjects('hallmark-legacy-');

const notesOf = (p: Project) => p.notes!.filter((x) => x.path !== 'suites').map((x) => [x.level, x.line, x.path, x.message]);

describe("the keys Test Kitchen converts (data_munger's legacy formats)", () => {
  it('the legacy-keys fixture: driver_plugin/driver_config become the driver, busser the verifier; each with a note', async () => {
    const p = await loadProject({ cwd: LEGACY, env: {} });
    const [centos610, centos7, ubuntu] = p.instances.map((i) => i.config);
    expect(centos610!.driver).toEqual({
      name: 'ec2',
      region: 'us-east-1',
      image_id: 'ami-0123456789abcdef0',
      block_device_mappings: [{ device_name: '/dev/sda1', ebs: { volume_size: 20 } }],
    });
    expect(centos7!.driver.image_id).toBe('ami-0fedcba9876543210');
    // a platform's driver_config is its driver block too
    expect(ubuntu!.driver).toEqual({ name: 'ec2', region: 'us-east-1', image_id: 'ami-1234abcd' });
    // busser: with no verifier anywhere, Kitchen's verifier is busser (with busser's options)
    expect(centos610!.verifier).toEqual({ name: 'busser', sudo: true });
    expect(notesOf(p)).toEqual([
      ['note', 11, 'driver_config', "Kitchen's legacy spelling of driver: read as the driver block, as Test Kitchen does"],
      ['note', 10, 'driver_plugin', "Kitchen's legacy spelling of driver.name: read as the driver's name, as Test Kitchen does"],
      ['note', 13, 'driver_config.require_chef_omnibus', 'Test Kitchen moves it to the provisioner, where only Chef reads it: accepted; no effect in hallmark'],
      ['note', 15, 'busser', "Kitchen's legacy busser block: read as the verifier {name: busser, ...} under this level's verifier:, as Test Kitchen does"],
      ['note', 3, 'anchors', 'holds YAML anchors only: ignored, as Test Kitchen ignores it'],
      ['note', 29, 'platforms[2].driver_config', "Kitchen's legacy spelling of driver: read as the driver block, as Test Kitchen does"],
      ['note', 37, 'suites[1].named_run_list', 'a Chef key Test Kitchen moves into the provisioner: accepted; no effect in hallmark'],
    ]);
    // what does not run is named: Chef and busser
    expect(p.instances[0]!.problems.map((x) => x.message)).toEqual([
      '`chef_solo` is a Test Kitchen provisioner that hallmark does not run; hallmark runs: shell, file, ansible_playbook',
      '`busser` is a Test Kitchen verifier that hallmark does not run; hallmark runs: spec, shell, testinfra, inspec, cinc-auditor',
    ]);
  });

  it("busser under a level that names its verifier keeps that verifier (its keys below), and the driver block's name wins over driver_plugin", async () => {
    const p = await load(`driver_plugin: vagrant\ndriver:\n  name: ec2\n  image_id: ami-0123456789abcdef0\nbusser: 0.7.1\nverifier:\n  name: spec\nplatforms:\n  - name: al2023\nsuites: [{ name: default }]\n`);
    const c = p.instances[0]!.config;
    expect(c.driver.name).toBe('ec2');
    expect(c.verifier.name).toBe('spec');
    // busser's `version` reaches the spec verifier as Kitchen would hand it over: a warning there, nothing stops
    expect(p.instances[0]!.problems).toEqual([]);
    expect(p.instances[0]!.notes!.map((x) => [x.level, x.path])).toEqual([['warning', 'busser']]);
  });
});

describe('the keys Test Kitchen ignores', () => {
  it('notes the ones real files carry on purpose, warns about the rest with did-you-mean, and lists every instance', async () => {
    const p = await load(`---
x-tags: { team: core }
anchors:
  - &ubuntu { name: ec2, image_id: ami-0123456789abcdef0 }
driver: { name: ec2, image_id: ami-0123456789abcdef0 }
provisoner: { name: shell }
platforms:
  - name: centos-7
    image_id: ami-0fedcba9876543210
    block_device_mappings: []
    cache: true
  - name: ubuntu-22.04
    driver: *ubuntu
    instance_type: t3.large
suites:
  - name: default
    manifest: site.pp
    chef_client: { interval: 5 }
    policy_group: prod
    verifyer: { name: spec }
`);
    expect(p.instances.map((i) => i.config.name)).toEqual(['default-centos-7', 'default-ubuntu-2204']);
    expect(p.notes!.map((x) => [x.level, x.line, x.path, x.hint])).toEqual([
      ['note', 2, 'x-tags', undefined],
      ['note', 3, 'anchors', undefined],
      ['warning', 6, 'provisoner', 'did you mean: provisioner'],
      ['note', 9, 'platforms[0].image_id', 'to set it, write driver: { image_id: ... }'],
      ['note', 10, 'platforms[0].block_device_mappings', 'to set it, write driver: { block_device_mappings: ... }'],
      ['note', 11, 'platforms[0].cache', 'to set it, write driver: { cache: ... }'],
      ['warning', 14, 'platforms[1].instance_type', 'did you mean: driver.instance_type'],
      ['note', 17, 'suites[0].manifest', 'to set it, write provisioner: { manifest: ... }'],
      ['note', 18, 'suites[0].chef_client', 'to set it, write provisioner: { chef_client: ... }'],
      ['note', 19, 'suites[0].policy_group', undefined],
      ['warning', 20, 'suites[0].verifyer', 'did you mean: verifier'],
    ]);
    // ignored means ignored: the platform-level image_id does not reach the driver (as in Kitchen)
    expect(p.instances[0]!.config.driver.image_id).toBe('ami-0123456789abcdef0');
    expect(p.instances[0]!.config.verifier.name).toBe('spec');
  });

  it("hallmark's own blocks stay strict", async () => {
    const err = await load(`image:\n  nmae: x\nplatforms:\n  - name: a\n`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems).toEqual([expect.objectContaining({ path: 'image.nmae', hint: 'did you mean: name' })]);
  });
});
