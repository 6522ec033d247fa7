import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, type ConfigProblem } from '../kernel/errors.js';
import { registerTestPlugins } from '../../test/fixtures/config/stand-in-plugins.js';
import { loadProject, type Project } from './index.js';
import { lazy } from '../kernel/lazy.js';
import { registerPlugin } from '../plugins.js';
import { z } from 'zod';

registerTestPlugins();

let root: string;
let n = 0;
beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'hallmark-config-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A fresh project directory holding `files`. */
async function project(files: Record<string, string>): Promise<string> {
  const dir = path.join(root, `p${n++}`);
  const { mkdir } = await import('node:fs/promises');
  await mkdir(dir);
  for (const [name, text] of Object.entries(files)) await writeFile(path.join(dir, name), text);
  return dir;
}

async function load(yml: string, env: Record<string, string> = {}): Promise<Project> {
  return loadProject({ cwd: await project({ 'kitchen.yml': yml }), env });
}

async function problemsOf(yml: string, env: Record<string, string> = {}): Promise<ConfigProblem[]> {
  const err = await load(yml, env).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConfigError);
  return (err as ConfigError).problems;
}

const TEST_BLOCKS = `
driver:
  name: test-vm
  memory: 1024
  tags: { team: core, env: dev }
transport:
  name: test-ssh
  username: admin
provisioner: test-shell
verifier: test-spec
`;

const inst = (p: Project, name: string) => {
  const e = p.instances.find((i) => i.config.name === name);
  if (!e) throw new Error(`no instance ${name} in ${p.instances.map((i) => i.config.name).join(', ')}`);
  return e;
};

describe('Kitchen merge rules', () => {
  it('merges top level < platform < suite, maps deep, lists replaced', async () => {
    const p = await load(`${TEST_BLOCKS}
platforms:
  - name: debian-12
    driver:
      memory: 2048
      tags: { env: test }
      disks: [a, b]
suites:
  - name: web
    driver:
      cpus: 4
      tags: { role: web }
      disks: [c]
`);
    const d = inst(p, 'web-debian-12').config.driver;
    expect(d).toEqual({ name: 'test-vm', memory: 2048, cpus: 4, tags: { team: 'core', env: 'test', role: 'web' }, disks: ['c'] });
    expect(inst(p, 'web-debian-12').problems).toEqual([]);
  });

  it('takes a string block as its name, and driver_config as a legacy alias under driver', async () => {
    const p = await load(`
driver: test-vm
driver_config:
  memory: 512
transport: test-ssh
provisioner: { name: test-shell, sudo: true }
verifier: test-spec
platforms:
  - name: debian-12
    driver_config:
      cpus: 2
    driver:
      cpus: 3
    provisioner: test-shell
`);
    const c = inst(p, 'default-debian-12').config;
    expect(c.driver).toEqual({ name: 'test-vm', memory: 512, cpus: 3 });
    expect(c.transport).toEqual({ name: 'test-ssh' });
    expect(c.provisioner).toEqual({ name: 'test-shell', sudo: true });
    expect(c.verifier).toEqual({ name: 'test-spec' });
  });

  it('uses qemu/ssh/shell/spec when a block is absent', async () => {
    const p = await load(`platforms:\n  - name: debian-12\n`);
    const c = p.instances[0]!.config;
    expect([c.driver.name, c.transport.name, c.provisioner.name, c.verifier.name]).toEqual(['qemu', 'ssh', 'shell', 'spec']);
  });

  it('merges hallmark sections the same way and applies their defaults', async () => {
    const p = await load(`${TEST_BLOCKS}
image:
  tags: { team: core, version: 2 }
distribute:
  regions: [us-east-1]
  accounts: [012345678901, "123456789012"]
platforms:
  - name: debian-12
    image:
      boot_test: true
      tags: { os: debian }
suites:
  - name: web
    distribute:
      regions: [eu-west-1, us-east-2]
      concurrency: 8
`);
    const c = inst(p, 'web-debian-12').config;
    expect(c.image).toEqual({ name: '{{suite}}-{{platform}}-{{timestamp}}', tags: { team: 'core', version: '2', os: 'debian' }, boot_test: true });
    expect(c.distribute).toMatchObject({
      regions: ['eu-west-1', 'us-east-2'],
      accounts: ['012345678901', '123456789012'],
      concurrency: 8,
      atomic: true,
      share_snapshots: false,
      format: 'qcow2',
    });
    expect(c.publish).toEqual({ env_properties: 'env.properties', manifest: 'manifest.json', junit: 'junit.xml', html: 'report.html', ci_outputs: true });
  });

  it('passes Kitchen keys through: lifecycle merged, run_list concatenated, attributes deep-merged', async () => {
    const p = await load(`${TEST_BLOCKS}
lifecycle:
  pre_create: [echo top]
platforms:
  - name: centos-7
    os_type: unix
    run_list:
      - recipe[base]
    attributes: { a: { x: 1 } }
    lifecycle:
      post_create: [echo platform]
suites:
  - name: default
    run_list:
      - recipe[web]
    attributes: { a: { y: 2 } }
    data_bags_path: test/data_bags
    shell_type: bash
`);
    const c = p.instances[0]!.config;
    expect(c.lifecycle).toEqual({ pre_create: ['echo top'], post_create: ['echo platform'] });
    expect(c.run_list).toEqual(['recipe[base]', 'recipe[web]']);
    expect(c.attributes).toEqual({ a: { x: 1, y: 2 } });
    expect(c).toMatchObject({ data_bags_path: 'test/data_bags', os_type: 'unix', shell_type: 'bash' });
  });
});

describe('the instance matrix', () => {
  it('names instances as Kitchen does and filters with includes/excludes', async () => {
    const p = await load(`${TEST_BLOCKS}
platforms:
  - name: ubuntu-22.04
  - name: centos_7.9
  - name: win/2022
suites:
  - name: default
  - name: web_app
    includes: [ubuntu-22.04, win/2022]
  - name: db
    excludes: [ubuntu-22.04]
  - name: both
    includes: [centos_7.9]
    excludes: [centos_7.9]
`);
    expect(p.instances.map((i) => i.config.name)).toEqual([
      'default-ubuntu-2204',
      'default-centos-79',
      'default-win-2022',
      'web-app-ubuntu-2204',
      'web-app-win-2022',
      'db-centos-79',
      'db-win-2022',
      'both-centos-79',
    ]);
    expect(inst(p, 'web-app-ubuntu-2204').config).toMatchObject({ suite: 'web_app', platform: 'ubuntu-22.04' });
  });

  it('gives a config without suites one suite named default', async () => {
    for (const suites of ['', 'suites:\n', 'suites: []\n']) {
      const p = await load(`${TEST_BLOCKS}\nplatforms:\n  - name: a\n  - name: b\n${suites}`);
      expect(p.instances.map((i) => i.config.name)).toEqual(['default-a', 'default-b']);
    }
  });

  it('ignores an includes entry that names no platform, as Kitchen does, with a did-you-mean note', async () => {
    const p = await load(`${TEST_BLOCKS}
platforms:
  - name: debian-12
suites:
  - name: default
    includes:
      - debain-12
`);
    expect(p.instances).toEqual([]);
    expect(p.notes).toEqual([
      expect.objectContaining({ level: 'note', line: 17, column: 9, path: 'suites[0].includes[0]', hint: 'did you mean: debian-12' }),
    ]);
  });

  it('reports two platforms that give the same instance name', async () => {
    const problems = await problemsOf(`${TEST_BLOCKS}\nplatforms:\n  - name: ubuntu-22.04\n  - name: ubuntu-2204\n`);
    expect(problems).toEqual([expect.objectContaining({ line: 14, path: 'platforms[1].name' })]);
    expect(problems[0]!.message).toContain('default-ubuntu-2204');
  });

  it('builds a plugin\'s schema only when an instance names the plugin, once for all instances', async () => {
    let built = 0;
    registerPlugin({
      kind: 'driver',
      name: 'counted-vm',
      description: 'test',
      schema: lazy(() => {
        built++;
        return z.strictObject({ name: z.literal('counted-vm'), memory: z.number().optional() });
      }),
      capabilities: [],
      load: async () => {
        throw new Error('not loaded by the config loader');
      },
    });
    await load(`${TEST_BLOCKS}\nplatforms:\n  - name: a\n`);
    expect(built).toBe(0);
    const p = await load(`${TEST_BLOCKS}\nplatforms:\n  - name: a\n    driver: { name: counted-vm, memroy: 1 }\n  - name: b\n    driver: counted-vm\n`);
    expect(built).toBe(1);
    // The lazily built schema still reports the block's problems with their place.
    expect(inst(p, 'default-a').notes).toEqual(expect.arrayContaining([expect.objectContaining({ path: 'platforms[0].driver.memroy', hint: 'did you mean: memory' })]));
    expect(inst(p, 'default-b').config.driver).toEqual({ name: 'counted-vm', memory: 1024 });
  });
});

describe('files', () => {
  it('finds hallmark.yml first, then kitchen.yml or .kitchen.yml, and reports the project paths', async () => {
    const yml = (s: string) => `${TEST_BLOCKS}\nplatforms:\n  - name: ${s}\n`;
    const dir = await project({ 'kitchen.yml': yml('c'), '.kitchen.yml': yml('b'), 'hallmark.yml': yml('a') });
    const p = await loadProject({ cwd: dir, env: {} });
    expect(p).toMatchObject({ file: path.join(dir, 'hallmark.yml'), projectDir: dir, stateDir: path.join(dir, '.hallmark') });
    expect(p.localFile).toBeUndefined();
    expect(p.instances[0]!.config.platform).toBe('a');
    const dotted = await project({ '.kitchen.yml': yml('b') });
    expect((await loadProject({ cwd: dotted, env: {} })).instances[0]!.config.platform).toBe('b');
    // Kitchen: "Both kitchen.yml and .kitchen.yml found. Please use the un-dotted variant"
    const both = await project({ 'kitchen.yml': yml('c'), '.kitchen.yml': yml('b') });
    const err = (await loadProject({ cwd: both, env: {} }).catch((e: unknown) => e)) as ConfigError;
    expect(err.problems[0]!.message).toBe('both kitchen.yml and .kitchen.yml found');
  });

  it('deep-merges the .local.yml overlay over the main file', async () => {
    const dir = await project({
      'kitchen.yml': `${TEST_BLOCKS}\nplatforms:\n  - name: debian-12\n`,
      'kitchen.local.yml': `driver:\n  memory: 4096\n  regoin: x\n`,
    });
    const p = await loadProject({ cwd: dir, env: {} });
    expect(p.localFile).toBe(path.join(dir, 'kitchen.local.yml'));
    const e = p.instances[0]!;
    expect(e.config.driver).toMatchObject({ name: 'test-vm', memory: 4096, tags: { team: 'core', env: 'dev' } });
    // the warning points into the overlay, where the key was written
    expect(e.problems).toEqual([]);
    expect(e.notes).toEqual([
      expect.objectContaining({ level: 'warning', file: path.join(dir, 'kitchen.local.yml'), line: 3, column: 3, path: 'driver.regoin', hint: 'did you mean: region' }),
    ]);
    expect(e.config.driver).not.toHaveProperty('regoin');
  });

  it('uses -c FILE relative to cwd, with its own overlay', async () => {
    const dir = await project({
      'ci.yml': `${TEST_BLOCKS}\nplatforms:\n  - name: debian-12\n`,
      'ci.local.yml': `platforms:\n  - name: alpine\n`,
    });
    const p = await loadProject({ cwd: dir, configFile: 'ci.yml', env: {} });
    expect(p.instances.map((i) => i.config.name)).toEqual(['default-alpine']);
  });

  it('names the files it looked for when there is none', async () => {
    const dir = await project({});
    const err = await loadProject({ cwd: dir, env: {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).hint).toContain('hallmark.yml, kitchen.yml, .kitchen.yml');
    const err2 = await loadProject({ cwd: dir, configFile: 'nope.yml', env: {} }).catch((e: unknown) => e);
    expect((err2 as ConfigError).problems[0]).toMatchObject({ file: path.join(dir, 'nope.yml'), message: 'configuration file not found' });
  });

  it('writes nothing: no .hallmark directory, no other file', async () => {
    const dir = await project({ 'kitchen.yml': `${TEST_BLOCKS}\nplatforms:\n  - name: debian-12\n` });
    const p = await loadProject({ cwd: dir, env: {} });
    expect(p.stateDir).toBe(path.join(dir, '.hallmark'));
    expect(await readdir(dir)).toEqual(['kitchen.yml']);
  });
});

describe('ERB in files', () => {
  it('substitutes environment variables before YAML parsing', async () => {
    const p = await load(
      `${TEST_BLOCKS.replace('memory: 1024', `memory: <%= ENV['MEM'] %>`)}\nplatforms:\n  - name: <%= ENV.fetch('OS', 'debian-12') %>\n`,
      { MEM: '3072' },
    );
    expect(p.instances[0]!.config).toMatchObject({ name: 'default-debian-12', driver: { memory: 3072 } });
  });

  it('throws every ERB problem with its line', async () => {
    const problems = await problemsOf(`platforms:\n  - name: <%= ENV.fetch('NO_SUCH_VAR_X') %>\n  - name: <%= 40 + 2 %>\n`);
    expect(problems.map((p) => [p.line, p.message])).toEqual([
      [2, 'ERB raises KeyError: key not found: "NO_SUCH_VAR_X"'],
      [3, 'unsupported ERB: hallmark evaluates only environment lookups'],
    ]);
  });

  it('keeps positions after a substitution on the same line', async () => {
    const p = await load(`platforms:\n  - { name: <%= ENV['N'] %>, drivr: x }\n`, { N: 'a-much-longer-value' });
    expect(p.notes).toContainEqual(expect.objectContaining({ level: 'warning', line: 2, column: 30, path: 'platforms[0].drivr', hint: 'did you mean: driver' }));
  });
});

describe('problems', () => {
  it('reports a YAML syntax error with its line', async () => {
    const problems = await problemsOf(`platforms:\n  - name: a\n    driver:\n      memory: 1\n     cpus: 2\n`);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.line).toBe(5);
    expect(problems[0]!.message).toMatch(/^YAML syntax error/);
  });

  it('reports duplicate keys as YAML errors', async () => {
    const problems = await problemsOf(`platforms:\n  - name: a\ndriver: test-vm\ndriver: qemu\n`);
    expect(problems[0]).toMatchObject({ line: 4 });
  });

  it('reports unknown keys at every level with did-you-mean and line:column of the key', async () => {
    const problems = await problemsOf(`${TEST_BLOCKS}
platfroms: []
platforms:
  - name: debian-12
    verifer: test-spec
suites:
  - name: default
    image:
      boot_tset: true
publish:
  manfest: m.json
`);
    // hallmark's own blocks are strict: problems
    expect(problems.map((p) => [p.line, p.column, p.path, p.message, p.hint])).toEqual([
      [19, 7, 'suites[0].image.boot_tset', 'unknown key "boot_tset"', 'did you mean: boot_test'],
      [21, 3, 'publish.manfest', 'unknown key "manfest"', 'did you mean: manifest'],
    ]);
    // Kitchen's levels ignore keys they do not read: warnings (carried by the error, printed with it)
    const ok = await load(`${TEST_BLOCKS}\nplatfroms: []\nplatforms:\n  - name: debian-12\n    verifer: test-spec\nsuites: [{ name: default }]\n`);
    expect(ok.notes!.map((p) => [p.level, p.line, p.column, p.path, p.message, p.hint])).toEqual([
      ['warning', 12, 1, 'platfroms', 'unknown key "platfroms": Test Kitchen ignores it here, and so does hallmark', 'did you mean: platforms'],
      ['warning', 15, 5, 'platforms[0].verifer', 'unknown key "verifer": Test Kitchen ignores it here, and so does hallmark', 'did you mean: verifier'],
    ]);
    expect(ok.instances.map((i) => [i.config.name, i.config.verifier.name])).toEqual([['default-debian-12', 'test-spec']]);
  });

  it('reports wrong types with expected and found, at the value', async () => {
    const problems = await problemsOf(`${TEST_BLOCKS}
image:
  boot_test: "yes"
distribute:
  accounts: [12345678901, "1234567890123"]
  format: vmdk
  concurrency: 0
publish:
  junit: true
platforms:
  - name: debian-12
`);
    const byPath = Object.fromEntries(problems.map((p) => [p.path, p]));
    expect(byPath['image.boot_test']).toMatchObject({ line: 13, column: 14, expected: 'true or false', found: 'string "yes"' });
    expect(byPath['distribute.accounts[0]']).toMatchObject({ line: 15, column: 14, found: 'string "12345678901"' });
    expect(byPath['distribute.accounts[0]']!.expected).toContain('12-digit');
    expect(byPath['distribute.accounts[1]']).toMatchObject({ found: 'string "1234567890123"' });
    expect(byPath['distribute.format']).toMatchObject({ expected: 'one of "qcow2", "raw"', found: 'string "vmdk"' });
    expect(byPath['distribute.concurrency']).toMatchObject({ expected: 'a number >= 1', found: 'number 0' });
    expect(byPath['publish.junit']).toMatchObject({ line: 19, expected: 'a string or false', found: 'boolean true' });
    expect(problems).toHaveLength(6);
  });

  it('reports a platform without a name', async () => {
    const problems = await problemsOf(`platforms:\n  - name: a\n  - driver: { memory: 1 }\n`);
    expect(problems).toEqual([expect.objectContaining({ line: 3, path: 'platforms[1].name', message: 'missing required key "name"' })]);
  });

  it('reports the problems of every layer in one run, each once', async () => {
    // a document-level problem (image), and an instance problem of a block shared by two platforms
    const problems = await problemsOf(`driver:\n  memory: 1\nimage:\n  boot_tset: true\nplatforms:\n  - name: a\n  - name: b\n`);
    expect(problems.map((p) => [p.line, p.path, p.message])).toEqual([
      [2, 'driver.memory', 'too small'],
      [4, 'image.boot_tset', 'unknown key "boot_tset"'],
    ]);
  });

  it('checks rules that span merged levels', async () => {
    const problems = await problemsOf(`${TEST_BLOCKS}
distribute:
  regions: [us-east-1]
platforms:
  - name: debian-12
suites:
  - name: default
    distribute:
      kms_key_ids: { eu-west-1: alias/x }
`);
    expect(problems).toEqual([expect.objectContaining({ line: 19, column: 22, path: 'suites[0].distribute.kms_key_ids.eu-west-1' })]);
  });

  it('keeps plugin-block problems with their instance and does not block the others', async () => {
    const p = await load(`${TEST_BLOCKS}
platforms:
  - name: good
  - name: bad-options
    driver:
      memroy: 4096
      cpus: many
  - name: no-such-driver
    driver:
      name: test-vn
suites:
  - name: default
  - name: cloud
    includes: [good]
    driver:
      name: test-cloud
`);
    expect(inst(p, 'default-good').problems).toEqual([]);
    expect(inst(p, 'default-bad-options').problems.map((x) => [x.line, x.column, x.path, x.message, x.expected, x.found, x.hint])).toEqual([
      [17, 13, 'platforms[1].driver.cpus', 'wrong type', 'a number', 'string "many"', undefined],
    ]);
    // a key the plugin does not read is a warning, as Kitchen ignores it
    expect(inst(p, 'default-bad-options').notes!.map((x) => [x.level, x.line, x.column, x.path, x.message, x.hint])).toEqual([
      ['warning', 16, 7, 'platforms[1].driver.memroy', 'unknown key "memroy": no test-vm driver option; ignored', 'did you mean: memory'],
    ]);
    const unknown = inst(p, 'default-no-such-driver').problems;
    expect(unknown).toEqual([expect.objectContaining({ line: 20, column: 13, path: 'platforms[2].driver.name', message: 'unknown driver "test-vn"', hint: 'did you mean: test-vm' })]);
    expect(unknown[0]!.expected).toContain('test-cloud');
    // the suite switches to a driver that does not know the top level's options: they are warned about where they are written
    const cloud = inst(p, 'cloud-good');
    expect(cloud.problems.map((x) => [x.path, x.line, x.message])).toEqual([['suites[1].driver.region', 25, 'missing required key "region"']]);
    expect(cloud.notes!.map((x) => [x.level, x.path, x.line])).toEqual([
      ['warning', 'driver.memory', 4],
      ['warning', 'driver.tags', 5],
    ]);
    expect(cloud.config.driver).toEqual({ name: 'test-cloud' });
  });
});

describe('publish.ssm_parameter and the driver', () => {
  it('is a problem of each instance whose driver cannot write it (qemu: local images), placed where it is set; ec2 instances are fine', async () => {
    const p = await load(`
driver: qemu
publish:
  ssm_parameter: /golden/{{platform}}/latest
platforms:
  - name: debian-12
  - name: al2023
    driver:
      name: ec2
      region: us-east-1
      image_id: ami-0123456789abcdef0
suites:
  - name: default
  - name: edge
    includes: [debian-12]
    publish:
      ssm_parameter: /golden/edge
`);
    expect(inst(p, 'default-al2023').problems).toEqual([]);
    expect(inst(p, 'default-al2023').config.publish.ssm_parameter).toBe('/golden/{{platform}}/latest');
    expect(inst(p, 'default-debian-12').problems).toEqual([
      {
        file: p.file,
        line: 4,
        column: 3,
        path: 'publish.ssm_parameter',
        message: 'instance default-debian-12 uses the qemu driver, which cannot write an SSM parameter (its images are local files, not AMIs)',
        expected: 'publish.ssm_parameter only on instances with the ec2 driver',
        found: 'driver "qemu"',
        hint: 'remove publish.ssm_parameter here, or set it under the platforms or suites that use the ec2 driver',
      },
    ]);
    // The suite's value wins the merge, so the problem points at the suite.
    expect(inst(p, 'edge-debian-12').problems.map((x) => [x.line, x.path])).toEqual([[17, 'suites[1].publish.ssm_parameter']]);
  });

  it('set only under an ec2 platform, a qemu platform next to it has no problem', async () => {
    const p = await load(`
platforms:
  - name: debian-12
  - name: al2023
    driver: { name: ec2, region: us-east-1, image_id: ami-0123456789abcdef0 }
    publish: { ssm_parameter: /golden/al2023 }
`);
    expect(p.instances.map((i) => [i.config.name, i.problems])).toEqual([
      ['default-debian-12', []],
      ['default-al2023', []],
    ]);
  });
});

describe('image lifecycle and launch templates', () => {
  it('reads deprecate_after, keep, family and launch templates with their defaults', async () => {
    const p = await load(`
driver: { name: ec2, region: us-east-1, image_id: ami-0123456789abcdef0 }
image:
  deprecate_after: 90d
  keep: 3
distribute:
  launch_templates:
    - name: web-fleet
    - id: lt-0123456789abcdef0
      region: eu-west-1
      set_default: false
platforms:
  - name: al2023
    image: { family: golden-al2023 }
`);
    const c = inst(p, 'default-al2023').config;
    expect(c.image).toMatchObject({ deprecate_after: '90d', keep: 3, family: 'golden-al2023' });
    expect(c.distribute.launch_templates).toEqual([
      { name: 'web-fleet', set_default: true },
      { id: 'lt-0123456789abcdef0', region: 'eu-west-1', set_default: false },
    ]);
  });

  it('names the key and what fits for a bad duration, a keep of 0, and a template with both or neither of name and id', async () => {
    const problems = await problemsOf(`
driver: { name: ec2, region: us-east-1, image_id: ami-0123456789abcdef0 }
image:
  deprecate_after: 3 months
  keep: 0
distribute:
  launch_templates:
    - { name: web, id: lt-0123456789abcdef0 }
    - { set_default: true }
    - { name: ok, colour: red }
platforms:
  - name: al2023
`);
    expect(problems.map((x) => [x.path, x.line])).toEqual(
      expect.arrayContaining([
        ['image.deprecate_after', 4],
        ['image.keep', 5],
        ['distribute.launch_templates[0]', 8],
        ['distribute.launch_templates[1]', 9],
        ['distribute.launch_templates[2].colour', 10],
      ]),
    );
    expect(problems.find((x) => x.path === 'image.deprecate_after')?.expected ?? problems.find((x) => x.path === 'image.deprecate_after')?.message).toMatch(/90d/);
    expect(JSON.stringify(problems.find((x) => x.path === 'distribute.launch_templates[0]'))).toMatch(/exactly one of name or id/);
  });
});

describe('image lifecycle keys and the driver', () => {
  it('deprecate_after and launch_templates are problems of qemu instances (no meaning there), keep is not; ec2 instances take all three', async () => {
    const p = await load(`
driver: qemu
image:
  keep: 2
  deprecate_after: 30d
distribute:
  launch_templates:
    - name: web-fleet
platforms:
  - name: debian-12
  - name: al2023
    driver: { name: ec2, region: us-east-1, image_id: ami-0123456789abcdef0 }
`);
    expect(inst(p, 'default-al2023').problems).toEqual([]);
    const q = inst(p, 'default-debian-12').problems;
    expect(q.map((x) => [x.path, x.line])).toEqual([
      ['image.deprecate_after', 5],
      ['distribute.launch_templates', 7],
    ]);
    expect(q[0]).toMatchObject({
      message: 'instance default-debian-12 uses the qemu driver, which has no image.deprecate_after (its images are files in the local image store: no deprecation time, no launch templates)',
      expected: 'image.deprecate_after only on instances with the ec2 driver',
      found: 'driver "qemu"',
    });
  });
});

describe('YAML anchors', () => {
  it('resolves aliases and << merge keys as Psych does, and still places problems', async () => {
    const p = await load(`${TEST_BLOCKS}
x-common: &common
  memory: 2048
  cpus: 2
platforms:
  - name: a
    driver:
      <<: *common
      cpus: 4
  - name: b
    driver: *common
`);
    // a top-level key that holds anchors is ignored with a note, as Kitchen ignores it; its aliases resolve
    expect(p.notes!.filter((x) => x.path !== 'suites')).toEqual([
      expect.objectContaining({ level: 'note', line: 12, column: 1, path: 'x-common', message: 'holds YAML anchors only: ignored, as Test Kitchen ignores it' }),
    ]);
    expect(inst(p, 'default-a').config.driver).toMatchObject({ memory: 2048, cpus: 4 });
    expect(inst(p, 'default-b').config.driver).toMatchObject({ memory: 2048, cpus: 2 });

    const ok = await load(`
driver: &d
  name: test-vm
  memory: 2048
transport: test-ssh
provisioner: test-shell
verifier: test-spec
platforms:
  - name: a
    driver:
      <<: *d
      cpus: 4
  - name: b
    driver:
      <<: *d
      cpu: 1
`);
    expect(inst(ok, 'default-a').config.driver).toEqual({ name: 'test-vm', memory: 2048, cpus: 4 });
    expect(inst(ok, 'default-b').notes).toEqual([expect.objectContaining({ level: 'warning', line: 16, column: 7, path: 'platforms[1].driver.cpu', hint: 'did you mean: cpus' })]);
  });
});

describe("Kitchen's files: KITCHEN_YAML, KITCHEN_LOCAL_YAML, KITCHEN_GLOBAL_YAML, ~/.kitchen/config.yml", () => {
  const yml = (platform: string) => `${TEST_BLOCKS}\nplatforms:\n  - name: ${platform}\nsuites:\n  - name: default\n`;

  it('reads KITCHEN_YAML (relative to cwd) and its own overlay; -c wins over it', async () => {
    const dir = await project({ 'kitchen.yml': yml('main'), '.kitchen.ec2.yml': yml('ec2'), '.kitchen.ec2.local.yml': 'driver:\n  memory: 7\n' });
    const p = await loadProject({ cwd: dir, env: { KITCHEN_YAML: '.kitchen.ec2.yml' } });
    expect(p.file).toBe(path.join(dir, '.kitchen.ec2.yml'));
    expect(p.localFile).toBe(path.join(dir, '.kitchen.ec2.local.yml'));
    expect(p.instances.map((i) => [i.config.name, i.config.driver.memory])).toEqual([['default-ec2', 7]]);
    const c = await loadProject({ cwd: dir, configFile: 'kitchen.yml', env: { KITCHEN_YAML: '.kitchen.ec2.yml' } });
    expect(c.instances.map((i) => i.config.name)).toEqual(['default-main']);
    // Kitchen's root is the directory it runs in, also for a KITCHEN_YAML elsewhere; -c FILE keeps the file's directory.
    const { mkdir } = await import('node:fs/promises');
    await mkdir(path.join(dir, 'ci'));
    await writeFile(path.join(dir, 'ci', 'kitchen.yml'), yml('sub'));
    const sub = await loadProject({ cwd: dir, env: { KITCHEN_YAML: 'ci/kitchen.yml' } });
    expect([sub.file, sub.projectDir, sub.stateDir, sub.instances[0]!.config.projectDir]).toEqual([path.join(dir, 'ci', 'kitchen.yml'), dir, path.join(dir, '.hallmark'), dir]);
    expect((await loadProject({ cwd: dir, configFile: 'ci/kitchen.yml', env: {} })).projectDir).toBe(path.join(dir, 'ci'));
    const yml2 = await loadProject({ cwd: dir, env: { KITCHEN_YML: '.kitchen.ec2.yml' } });
    expect(yml2.file).toBe(path.join(dir, '.kitchen.ec2.yml'));
    const err = (await loadProject({ cwd: dir, env: { KITCHEN_YAML: 'nope.yml' } }).catch((e: unknown) => e)) as ConfigError;
    expect(err.problems[0]).toMatchObject({ file: path.join(dir, 'nope.yml'), message: 'configuration file not found' });
    expect(err.hint).toContain('KITCHEN_YAML');
  });

  it('takes the dotted or undotted overlay of .kitchen.yml, and refuses both, as Kitchen does', async () => {
    const dir = await project({ '.kitchen.yml': yml('a'), 'kitchen.local.yml': 'driver:\n  memory: 5\n' });
    expect((await loadProject({ cwd: dir, env: {} })).instances[0]!.config.driver.memory).toBe(5);
    const both = await project({ 'kitchen.yml': yml('a'), 'kitchen.local.yml': 'x: 1\n', '.kitchen.local.yml': 'y: 1\n' });
    const err = (await loadProject({ cwd: both, env: {} }).catch((e: unknown) => e)) as ConfigError;
    expect(err.problems[0]!.message).toBe('both kitchen.local.yml and .kitchen.local.yml found');
  });

  it('KITCHEN_LOCAL_YAML replaces the overlay; one that does not exist is empty', async () => {
    const dir = await project({ 'kitchen.yml': yml('a'), 'kitchen.local.yml': 'driver:\n  memory: 5\n', 'ci.yml': 'driver:\n  memory: 6\n' });
    expect((await loadProject({ cwd: dir, env: { KITCHEN_LOCAL_YAML: 'ci.yml' } })).instances[0]!.config.driver.memory).toBe(6);
    const none = await loadProject({ cwd: dir, env: { KITCHEN_LOCAL_YAML: 'absent.yml' } });
    expect(none.localFile).toBeUndefined();
    expect(none.instances[0]!.config.driver.memory).toBe(1024);
  });

  it('merges the global file under the project and the overlay over both (global < project < local)', async () => {
    const home = await project({});
    const { mkdir } = await import('node:fs/promises');
    await mkdir(path.join(home, '.kitchen'));
    await writeFile(path.join(home, '.kitchen', 'config.yml'), 'driver:\n  name: test-vm\n  memory: 1\n  cpus: 9\n  tags: { owner: me }\n');
    const dir = await project({ 'kitchen.yml': yml('a'), 'kitchen.local.yml': 'driver:\n  cpus: 3\n' });
    const p = await loadProject({ cwd: dir, env: { HOME: home } });
    expect(p.globalFile).toBe(path.join(home, '.kitchen', 'config.yml'));
    expect(p.instances[0]!.config.driver).toMatchObject({ memory: 1024, cpus: 3, tags: { owner: 'me', team: 'core', env: 'dev' } });
    expect(p.notes).toEqual([expect.objectContaining({ level: 'note', file: p.globalFile, message: expect.stringContaining('merged under the project') })]);
    // KITCHEN_GLOBAL_YAML names another global file instead
    await writeFile(path.join(home, 'g.yml'), 'driver:\n  cpus: 8\n');
    const g = await loadProject({ cwd: dir, env: { HOME: home, KITCHEN_GLOBAL_YAML: path.join(home, 'g.yml') } });
    expect(g.globalFile).toBe(path.join(home, 'g.yml'));
    expect(g.instances[0]!.config.driver).toMatchObject({ cpus: 3, tags: { team: 'core', env: 'dev' } });
  });

  it('normalises driver: NAME before merging files, so an overlay that names the driver keeps the options', async () => {
    const dir = await project({ 'kitchen.yml': yml('a'), 'kitchen.local.yml': 'driver: test-vm\nprovisioner:\n' });
    const p = await loadProject({ cwd: dir, env: {} });
    expect(p.instances[0]!.config.driver).toMatchObject({ name: 'test-vm', memory: 1024 });
    expect(p.instances[0]!.config.provisioner.name).toBe('test-shell');
  });
});

describe('Kitchen filters and shapes', () => {
  it('includes and excludes take /regex/ with i and x, matched anywhere in the platform name', async () => {
    const p = await load(`${TEST_BLOCKS}
platforms:
  - name: ubuntu-22.04
  - name: ubuntu-24.04
  - name: debian-12
  - name: CentOS-7
suites:
  - name: u
    includes: /^ubuntu/
  - name: not_deb
    excludes: ["/DEB/i", "/ 24 \\\\. 04 # x/x"]
  - name: c
    includes: ["/\\\\Acentos/i", debian-12]
`);
    expect(p.instances.map((i) => i.config.name)).toEqual([
      'u-ubuntu-2204',
      'u-ubuntu-2404',
      'not-deb-ubuntu-2204',
      'not-deb-CentOS-7',
      'c-debian-12',
      'c-CentOS-7',
    ]);
    expect(p.notes).toEqual([]);
  });

  it('notes a regex filter that matches nothing, and refuses one that does not compile', async () => {
    const p = await load(`${TEST_BLOCKS}\nplatforms:\n  - name: a\nsuites:\n  - name: s\n    excludes: [/^zzz/]\n`);
    expect(p.instances.map((i) => i.config.name)).toEqual(['s-a']);
    expect(p.notes![0]!.message).toContain('excludes matches no platform');
    const problems = await problemsOf(`${TEST_BLOCKS}\nplatforms:\n  - name: a\nsuites:\n  - name: s\n    includes: ["/(/"]\n`);
    expect(problems).toEqual([expect.objectContaining({ path: 'suites[0].includes[0]', message: 'includes has an invalid regular expression' })]);
  });

  it('no platforms: no instances and a note, not an error', async () => {
    for (const platforms of ['', 'platforms:\n', 'platforms: []\n']) {
      const p = await load(`${TEST_BLOCKS}\n${platforms}suites:\n  - name: s\n`);
      expect(p.instances).toEqual([]);
      expect(p.notes).toEqual([expect.objectContaining({ path: 'platforms', message: expect.stringContaining('no instances') })]);
    }
  });

  it('no suites: one suite named default, with a one-line note', async () => {
    const p = await load(`${TEST_BLOCKS}\nplatforms:\n  - name: a\n  - name: b\n`);
    expect(p.instances.map((i) => i.config.name)).toEqual(['default-a', 'default-b']);
    expect(p.notes).toEqual([expect.objectContaining({ level: 'note', path: 'suites', message: expect.stringContaining('one suite named "default"') })]);
  });

  it('names instances as Ruby prints the names: a YAML float 8.0 is "8.0", so the instance is default-80', async () => {
    const p = await load(`${TEST_BLOCKS}\nplatforms:\n  - name: 8.0\n  - name: 7\n  - name: 22.04\nsuites:\n  - name: a_b,c/d.e\n`);
    expect(p.instances.map((i) => i.config.name)).toEqual(['a-b-c-de-80', 'a-b-c-de-7', 'a-b-c-de-2204']);
  });
});
