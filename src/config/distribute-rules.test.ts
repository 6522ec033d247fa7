/**
 * The distribute keys an instance's driver cannot honour, as loading reports
 * them, with the built-in drivers only (no stand-ins: which drivers can is
 * read from the registry, and the messages name them).
 */
import { describe, expect, it } from 'vitest';
import { tempProjects } from '../../test/helpers/temp-projects.js';
import type { Project } from './index.js';

const load = tempProjects('hallmark-distribute-rules-');

const inst = (p: Project, name: string) => {
  const e = p.instances.find((i) => i.config.name === name);
  if (!e) throw new Error(`no instance ${name} in ${p.instances.map((i) => i.config.name).join(', ')}`);
  return e;
};

describe('distribute keys and the driver', () => {
  const EC2 = '{ name: ec2, region: us-east-1, image_id: ami-0123456789abcdef0 }';

  it('a top-level share, copy or encryption is a problem of each qemu instance, at the key, saying how to scope it; the ec2 instances of the same file take it', async () => {
    const p = await load(`
driver: qemu
distribute:
  accounts: ["111122223333"]
  regions: [eu-west-1]
  share_snapshots: true
  organization_arns: [arn:aws:organizations::111122223333:organization/o-abcdefghij]
  ou_arns: [arn:aws:organizations::111122223333:ou/o-abcdefghij/ou-ab12-cdefgh34]
  encrypted: true
  kms_key_ids: { eu-west-1: alias/golden }
platforms:
  - name: debian-12
  - name: al2023
    driver: ${EC2}
suites:
  - name: default
  - name: web
`);
    for (const ec2 of ['default-al2023', 'web-al2023']) {
      expect(inst(p, ec2).problems, ec2).toEqual([]);
      expect(inst(p, ec2).notes ?? [], ec2).toEqual([]);
    }
    const q = inst(p, 'default-debian-12').problems;
    expect(q.map((x) => [x.path, x.line, x.column])).toEqual([
      ['distribute.regions', 5, 3],
      ['distribute.encrypted', 9, 3],
      ['distribute.kms_key_ids', 10, 3],
      ['distribute.accounts', 4, 3],
      ['distribute.organization_arns', 7, 3],
      ['distribute.ou_arns', 8, 3],
      ['distribute.share_snapshots', 6, 3],
    ]);
    expect(q.find((x) => x.path === 'distribute.accounts')).toEqual({
      file: p.file,
      line: 4,
      column: 3,
      path: 'distribute.accounts',
      message: 'instance default-debian-12 uses the qemu driver, which cannot share images with other accounts: distribute.accounts would be ignored',
      expected: 'distribute.accounts only on instances with the ec2 driver',
      found: 'driver "qemu"',
      hint: 'the top-level distribute block is merged into every platform: move distribute.accounts into the distribute block of each platform that uses the ec2 driver (platforms[].distribute)',
    });
    // What the driver does instead comes from its declaration.
    expect(q.find((x) => x.path === 'distribute.regions')?.message).toBe(
      'instance default-debian-12 uses the qemu driver, which cannot copy images to other regions (its copies go to distribute.targets): distribute.regions would be ignored',
    );
    // Each qemu instance is told; the problem names it.
    expect(inst(p, 'web-debian-12').problems.map((x) => x.message)).toContain(
      'instance web-debian-12 uses the qemu driver, which cannot share images with other accounts: distribute.accounts would be ignored',
    );
  });

  it('scoped to the platforms that honour them, nothing is reported; a qemu platform\'s own share is, with a hint for that block', async () => {
    const p = await load(`
driver: qemu
platforms:
  - name: debian-12
    distribute: { targets: [exports], format: raw }
  - name: al2023
    driver: ${EC2}
    distribute: { accounts: ["111122223333"], regions: [eu-west-1], share_snapshots: true }
  - name: debian-13
    distribute:
      accounts: ["111122223333"]
`);
    expect(p.instances.map((i) => [i.config.name, i.problems, i.notes ?? []])).toEqual([
      ['default-debian-12', [], []],
      ['default-al2023', [], []],
      ['default-debian-13', [expect.objectContaining({ line: 11, path: 'platforms[2].distribute.accounts', hint: 'remove distribute.accounts from this platform, or give the platform the ec2 driver' })], []],
    ]);
  });

  it('ec2 cannot export: targets is a problem, format alone a warning; a suite block is placed at the suite; a proxy makes no images', async () => {
    const p = await load(`
driver: ${EC2}
platforms:
  - name: al2023
  - name: box
    driver: { name: proxy, host: 192.0.2.10 }
suites:
  - name: default
    distribute:
      targets: [s3://bucket/images]
  - name: raw
    distribute:
      format: raw
`);
    expect(inst(p, 'default-al2023').problems).toEqual([
      expect.objectContaining({
        line: 10,
        path: 'suites[0].distribute.targets',
        message: 'instance default-al2023 uses the ec2 driver, which cannot export images to directories or buckets (its copies go to distribute.regions): distribute.targets would be ignored',
        expected: 'distribute.targets only on instances with the qemu driver',
        hint: "a suite's distribute block is merged into each of its platforms: move distribute.targets into the distribute block of each platform that uses the qemu driver (platforms[].distribute)",
      }),
    ]);
    expect(inst(p, 'raw-al2023').problems).toEqual([]);
    expect(inst(p, 'raw-al2023').notes).toEqual([expect.objectContaining({ level: 'warning', line: 13, path: 'suites[1].distribute.format' })]);
    expect(inst(p, 'default-box').problems).toEqual([
      expect.objectContaining({ path: 'suites[0].distribute.targets', message: expect.stringContaining('uses the proxy driver, which cannot export images to directories or buckets (it makes no images)') }),
    ]);
  });

  it('defaults and empty values ask nothing of any driver', async () => {
    const p = await load(`
driver: qemu
distribute: { accounts: [], regions: [], share_snapshots: false, encrypted: false, concurrency: 2, atomic: false }
platforms:
  - name: debian-12
`);
    expect([inst(p, 'default-debian-12').problems, inst(p, 'default-debian-12').notes ?? []]).toEqual([[], []]);
  });
});

describe('what a driver can honour is its declaration', () => {
  it('a driver plugin that declares exports and no sharing: targets are fine, accounts are not, whatever its name', async () => {
    const { registerPlugin } = await import('../plugins.js');
    const { z } = await import('zod');
    registerPlugin({
      kind: 'driver',
      name: 'box-exporter',
      description: 'test',
      schema: () => z.strictObject({ name: z.literal('box-exporter') }),
      capabilities: ['images'],
      copies: ['targets'],
      load: () => Promise.reject<never>(new Error('not loaded by config rules')),
    });
    const p = await load(`
driver: box-exporter
distribute: { targets: [out], accounts: ["111122223333"] }
platforms:
  - name: a
`);
    expect(inst(p, 'default-a').problems.map((x) => [x.path, x.expected])).toEqual([['distribute.accounts', 'distribute.accounts only on instances with the ec2 driver']]);
  });
});
