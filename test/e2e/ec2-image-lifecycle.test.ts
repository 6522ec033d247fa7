/**
 * The image lifecycle of issue 15, end to end through the CLI: successive
 * builds of the seed-style project against moto with image.keep: 1,
 * image.deprecate_after: 30d and launch templates in two regions. moto 5.2
 * has no EnableImageDeprecation: the fault proxy in front of it answers that
 * action and records each call (region, image id, time), which the test
 * checks. Images, snapshots and templates are read from moto directly.
 */
import {
  CreateLaunchTemplateCommand,
  DescribeLaunchTemplatesCommand,
  DescribeLaunchTemplateVersionsCommand,
  DescribeSnapshotsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { startMoto, type Moto } from '../helpers/moto.js';
import { startSshd, type Sshd } from '../helpers/sshd.js';
import { builtImages, cliEnv, hallmark, INSTANCE, makeProject, REGIONS, seedBaseImage, tagMap, type Project } from '../fixtures/ec2-e2e/project.js';

const PREFIX = 'e2e-lc';
const FAMILY = `${PREFIX}-amazon2023`;
const DAY = 86_400_000;

let sshd: Sshd;
let moto: Moto;
let proxy: FaultProxy;
let project: Project;
const ec2: Record<string, EC2Client> = {};
/** The launch templates the builds update: by name in the source region, by id in a copy region. */
const templates: Record<'us-east-1' | 'eu-west-1', string> = { 'us-east-1': '', 'eu-west-1': '' };

beforeAll(async () => {
  sshd = await startSshd();
  moto = await startMoto();
  proxy = await startFaultProxy(moto.endpoint);
  const base = await seedBaseImage(moto);
  for (const r of REGIONS) ec2[r] = new EC2Client({ region: r, endpoint: moto.endpoint, credentials: moto.credentials, maxAttempts: 1 });
  for (const r of ['us-east-1', 'eu-west-1'] as const) {
    const lt = await ec2[r]!.send(new CreateLaunchTemplateCommand({ LaunchTemplateName: 'golden-fleet', LaunchTemplateData: { ImageId: base, InstanceType: 't3.micro' } }));
    templates[r] = lt.LaunchTemplate!.LaunchTemplateId!;
  }
  project = await makeProject({
    edit: (yml) =>
      yml
        .replace(/^image:\n/m, 'image:\n  keep: 1\n  deprecate_after: 30d\n')
        .replace(
          /^distribute:\n/m,
          `distribute:\n  launch_templates:\n    - name: golden-fleet\n    - id: ${templates['eu-west-1']}\n      region: eu-west-1\n      set_default: true\n`,
        ),
  });
});
afterAll(async () => {
  for (const c of Object.values(ec2)) c.destroy();
  await project?.cleanup();
  await proxy?.close();
  await moto?.stop();
  await sshd?.stop();
});

/** A build through the proxy; the image name has its time part, so the family is `e2e-lc-amazon2023`. */
async function build() {
  const env = { ...cliEnv(moto, sshd, proxy.endpoint, PREFIX, project.dir), E2E_NAME_SUFFIX: '{{timestamp}}' };
  const t0 = Date.now();
  const r = await hallmark(project.dir, ['build'], env);
  return { ...r, t0, t1: Date.now() };
}

/** The one image of the build in each region (exactly one must be left). */
async function onlyImages(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const r of REGIONS) {
    const imgs = await builtImages(moto, r);
    expect(imgs.map((i) => i.Name), r).toHaveLength(1);
    expect(tagMap(imgs[0]!.Tags)['hallmark:family'], r).toBe(FAMILY);
    out[r] = imgs[0]!.ImageId;
  }
  return out;
}

/** The template's default version and the image it names. */
async function defaultVersion(region: 'us-east-1' | 'eu-west-1') {
  const lt = (await ec2[region]!.send(new DescribeLaunchTemplatesCommand({ LaunchTemplateIds: [templates[region]] }))).LaunchTemplates![0]!;
  const v = (await ec2[region]!.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: templates[region], Versions: ['$Default'] }))).LaunchTemplateVersions![0]!;
  return { version: lt.DefaultVersionNumber, imageId: v.LaunchTemplateData?.ImageId };
}

/** Snapshots in each region before any build: moto starts with some of its own. */
const snapshotsBefore: Record<string, Set<string>> = {};

async function snapshotIds(region: string): Promise<string[]> {
  return ((await ec2[region]!.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'] }))).Snapshots ?? []).map((s) => s.SnapshotId!);
}

/** The snapshots the builds added are exactly those of the built images left: none that no image uses. */
async function expectNoOrphanSnapshots() {
  for (const r of REGIONS) {
    const images = await builtImages(moto, r);
    const used = images.flatMap((i) => (i.BlockDeviceMappings ?? []).map((b) => b.Ebs?.SnapshotId).filter((s): s is string => !!s));
    expect(used.length, r).toBeGreaterThan(0);
    const added = (await snapshotIds(r)).filter((s) => !snapshotsBefore[r]!.has(s));
    expect(added.sort(), r).toEqual(used.sort());
  }
}

/** The deprecation calls the proxy answered for `ids`, with the time each asked for. */
function deprecations(ids: Record<string, string>) {
  return proxy.deprecations
    .filter((d) => Object.values(ids).includes(d.imageId))
    .map((d) => ({ action: d.action, region: d.region, imageId: d.imageId, outcome: d.outcome, at: d.deprecateAt }))
    .sort((a, b) => a.region!.localeCompare(b.region!));
}

function expectDeprecatedFrom(ids: Record<string, string>, t0: number, t1: number) {
  const calls = deprecations(ids);
  expect(calls.map(({ at: _at, ...c }) => c)).toEqual(
    [...REGIONS].sort().map((region) => ({ action: 'EnableImageDeprecation', region, imageId: ids[region], outcome: 'ok' })),
  );
  // One time for the commit, 30 days after it, on the minute.
  const at = new Set(calls.map((c) => c.at));
  expect(at.size).toBe(1);
  const when = Date.parse([...at][0]!);
  expect(when % 60_000).toBe(0);
  expect(when).toBeGreaterThanOrEqual(t0 + 30 * DAY);
  expect(when).toBeLessThanOrEqual(t1 + 30 * DAY + 60_000);
}

describe('image lifecycle across builds (ec2 driver against moto)', () => {
  it('keep 1, deprecate after 30d, launch templates: each build leaves only its images, deprecated, named by the templates; a failed commit puts the templates back', async () => {
    for (const r of REGIONS) snapshotsBefore[r] = new Set(await snapshotIds(r));
    // Build 1.
    const b1 = await build();
    expect(b1.exitCode, b1.all).toBe(0);
    const first = await onlyImages();
    expectDeprecatedFrom(first, b1.t0, b1.t1);
    expect(await defaultVersion('us-east-1')).toEqual({ version: 2, imageId: first['us-east-1'] });
    expect(await defaultVersion('eu-west-1')).toEqual({ version: 2, imageId: first['eu-west-1'] });
    const m1 = JSON.parse(await readFile(path.join(project.dir, 'manifest.json'), 'utf8')).builds[0];
    expect(m1.instance).toBe(INSTANCE);
    expect(m1.launchTemplates).toEqual([
      { region: 'us-east-1', template: 'golden-fleet', version: 2, imageId: first['us-east-1'], default: true },
      { region: 'eu-west-1', template: templates['eu-west-1'], version: 2, imageId: first['eu-west-1'], default: true },
    ]);
    expect(Date.parse(m1.deprecateAt)).toBe(Date.parse(deprecations(first)[0]!.at!));
    await expectNoOrphanSnapshots();

    // Build 2: its images replace build 1's everywhere.
    const b2 = await build();
    expect(b2.exitCode, b2.all).toBe(0);
    const second = await onlyImages();
    for (const r of REGIONS) expect(second[r], r).not.toBe(first[r]);
    expectDeprecatedFrom(second, b2.t0, b2.t1);
    expect(await defaultVersion('us-east-1')).toEqual({ version: 3, imageId: second['us-east-1'] });
    expect(await defaultVersion('eu-west-1')).toEqual({ version: 3, imageId: second['eu-west-1'] });
    expect(b2.all).toMatch(new RegExp(`image.keep 1 of family ${FAMILY}: us-east-1: removed ${first['us-east-1']}`));
    await expectNoOrphanSnapshots();

    // Build 3: deprecation refused in eu-west-1 fails the commit, which undoes the template versions.
    proxy.faults.push({ action: 'EnableImageDeprecation', region: 'eu-west-1', code: 'UnauthorizedOperation', status: 403, message: 'not authorized to perform: ec2:EnableImageDeprecation' });
    const deletionsBefore = proxy.templateVersionDeletions.length;
    const b3 = await build();
    expect(b3.exitCode, b3.all).toBe(4);
    expect(b3.all).toContain('EnableImageDeprecation');
    // Build 2's images are all that is left, still named by the templates; build 3's version 4 is gone.
    expect(await onlyImages()).toEqual(second);
    expect(await defaultVersion('us-east-1')).toEqual({ version: 3, imageId: second['us-east-1'] });
    expect(await defaultVersion('eu-west-1')).toEqual({ version: 3, imageId: second['eu-west-1'] });
    expect(proxy.templateVersionDeletions.slice(deletionsBefore).map((d) => [d.region, d.templateId, d.versions, d.refused])).toEqual([
      ['us-east-1', templates['us-east-1'], [4], []],
      ['eu-west-1', templates['eu-west-1'], [4], []],
    ]);
    const state = JSON.parse(await readFile(path.join(project.dir, '.hallmark', `${INSTANCE}.json`), 'utf8'));
    expect(state.templateVersions).toBeUndefined();
    expect(state.images).toEqual([]);
    await expectNoOrphanSnapshots();
  }, 400_000);
});
