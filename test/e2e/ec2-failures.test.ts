/**
 * `hallmark build` with the ec2 driver when something fails: a failing check,
 * a copy that fails in one region, an image name already taken. Each must
 * leave nothing published in any region and terminate (or never launch) the
 * machine; the AWS CLI against moto directly is the independent witness.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { startMoto, type Moto } from '../helpers/moto.js';
import { startSshd, type Sshd } from '../helpers/sshd.js';
import { EC2Client, RegisterImageCommand } from '@aws-sdk/client-ec2';
import {
  ACCOUNTS,
  aws,
  builtImages,
  cliEnv,
  hallmark,
  INSTANCE,
  instances,
  leftovers,
  makeProject,
  readEnvProperties,
  REGIONS,
  tagMap,
  seedBaseImage,
  snapshots,
  type Project,
} from '../fixtures/ec2-e2e/project.js';

let sshd: Sshd;
let moto: Moto;
let project: Project | undefined;
let proxy: FaultProxy | undefined;

beforeAll(async () => {
  sshd = await startSshd();
});
afterAll(async () => {
  await sshd?.stop();
});
beforeEach(async () => {
  moto = await startMoto();
  await seedBaseImage(moto);
});
afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
  await moto?.stop();
  await project?.cleanup();
  project = undefined;
});

/** Nothing published anywhere, no outputs, the machine terminated, temporaries gone. */
// One region after the other: moto creates a region's backend on first use, and parallel first
// uses of regions have made it answer with an HTML error page (a 500) under load.
async function expectNothingLeft(p: Project, snapshotsBefore: Record<string, string[]>) {
  for (const region of REGIONS) {
    expect(await builtImages(moto, region), region).toEqual([]);
    expect(await snapshots(moto, region), region).toEqual(snapshotsBefore[region]);
    expect(await leftovers(moto, region), region).toEqual({ keys: [], groups: [] });
    for (const i of await instances(moto, region)) expect(i.State.Name, `${region} ${i.InstanceId}`).toBe('terminated');
  }
  for (const f of ['env.properties', 'manifest.json', 'junit.xml']) expect(existsSync(path.join(p.dir, f)), f).toBe(false);
}

const SECOND = 'default-rocky9';
/** A second platform, so that one build has two instances. */
const twoPlatforms = (yml: string) => yml.replace('platforms:\n  - name: amazon2023\n', 'platforms:\n  - name: amazon2023\n  - name: rocky9\n');

async function snapshotsNow(): Promise<Record<string, string[]>> {
  const res: Record<string, string[]> = {};
  for (const r of REGIONS) res[r] = await snapshots(moto, r);
  return res;
}

describe('hallmark build with the ec2 driver: failures publish nothing', () => {
  it('a failing check: exit 3, no AMI in any region, the instance terminated', async () => {
    project = await makeProject({ failingCheck: true });
    const before = await snapshotsNow();
    const r = await hallmark(project.dir, ['build'], cliEnv(moto, sshd, moto.endpoint, 'e2e-fail', project.dir));
    expect(r.exitCode, r.all).toBe(3);
    expect(r.all).toContain('never-written');
    expect(await instances(moto, 'us-east-1')).toHaveLength(1);
    await expectNothingLeft(project, before);
  }, 180_000);

  it('CopyImage failing in the second region: exit 4, the first region\'s copy and the source removed too', async () => {
    project = await makeProject();
    proxy = await startFaultProxy(moto.endpoint);
    proxy.faults.push({ action: 'CopyImage', region: 'eu-west-1', code: 'UnauthorizedOperation', status: 403, message: 'You are not authorized to perform this operation.' });
    const before = await snapshotsNow();
    const r = await hallmark(project.dir, ['build'], cliEnv(moto, sshd, proxy.endpoint, 'e2e-copyfail', project.dir));
    expect(r.exitCode, r.all).toBe(4);
    expect(r.all).toContain('eu-west-1');
    // The capture and the first region's copy did happen, and were removed.
    expect(proxy.forwarded('CreateImage', 'us-east-1')).toBe(1);
    expect(proxy.forwarded('CopyImage', 'us-west-2')).toBe(1);
    expect(proxy.injected('CopyImage', 'UnauthorizedOperation')).toBeGreaterThanOrEqual(1);
    expect(proxy.forwarded('DeregisterImage')).toBeGreaterThanOrEqual(2);
    await expectNothingLeft(project, before);
  }, 180_000);

  it('two instances, the second\'s CopyImage failing after the first\'s went through: nothing of either is left in any region, never shared, no IMAGE_ID (exit 4)', async () => {
    project = await makeProject({ edit: twoPlatforms });
    proxy = await startFaultProxy(moto.endpoint);
    // The first instance copies to us-west-2 and eu-west-1; the second's us-west-2 copy fails.
    proxy.faults.push({ action: 'CopyImage', region: 'us-west-2', after: 1, code: 'UnauthorizedOperation', status: 403, message: 'You are not authorized to perform this operation.' });
    const before = await snapshotsNow();
    const r = await hallmark(project.dir, ['build'], cliEnv(moto, sshd, proxy.endpoint, 'e2e-two', project.dir), 240_000);
    expect(r.exitCode, r.all).toBe(4);
    expect(proxy.forwarded('CreateImage', 'us-east-1')).toBe(2);
    expect(proxy.forwarded('CopyImage', 'us-west-2')).toBe(1);
    expect(proxy.injected('CopyImage', 'UnauthorizedOperation')).toBe(1);
    // Proven images are shared with no one before the commit, and this build never committed.
    expect(proxy.forwarded('ModifyImageAttribute')).toBe(0);
    expect(r.all).toContain('nothing was published');
    expect(r.stdout).toMatch(new RegExp(`${INSTANCE}\\s.*passed, not published`));
    await expectNothingLeft(project, before);
    for (const name of [INSTANCE, SECOND]) {
      const state = JSON.parse(await readFile(path.join(project.dir, '.hallmark', `${name}.json`), 'utf8'));
      expect(state.images, name).toEqual([]);
    }
  }, 300_000);

  it('the same with --keep-passing: the first instance is published (shared, tagged, in every output and the summary), nothing of the second is left', async () => {
    project = await makeProject({ edit: twoPlatforms });
    proxy = await startFaultProxy(moto.endpoint);
    proxy.faults.push({ action: 'CopyImage', region: 'us-west-2', after: 1, code: 'UnauthorizedOperation', status: 403, message: 'You are not authorized to perform this operation.' });
    const r = await hallmark(project.dir, ['build', '--keep-passing'], cliEnv(moto, sshd, proxy.endpoint, 'e2e-keep', project.dir), 240_000);
    expect(r.exitCode, r.all).toBe(4);
    expect(r.stdout).toContain(`published: ${INSTANCE}; failed: ${SECOND}`);
    expect(r.all).not.toContain('nothing was published');
    const env = await readEnvProperties(project.dir);
    const manifest = JSON.parse(await readFile(path.join(project.dir, 'manifest.json'), 'utf8'));
    expect(manifest.builds.map((b: { instance: string }) => b.instance)).toEqual([INSTANCE]);
    const build = manifest.builds[0];
    expect(env.IMAGE_ID).toBe(build.image.id);
    for (const region of REGIONS) {
      const imgs = await builtImages(moto, region);
      expect(imgs.map((i) => i.Name), region).toEqual(['e2e-keep-amazon2023-img']);
      const img = imgs[0]!;
      expect(tagMap(img.Tags), region).toMatchObject({ 'hallmark:state': 'published', 'hallmark:instance': INSTANCE });
      if (region !== 'us-east-1') expect(env[`IMAGE_ID_${region.toUpperCase().replaceAll('-', '_')}`], region).toBe(img.ImageId);
      const perms = await aws<{ LaunchPermissions: { UserId?: string }[] }>(moto, region, ['describe-image-attribute', '--image-id', img.ImageId, '--attribute', 'launchPermission']);
      expect(perms.LaunchPermissions.map((x) => x.UserId).sort(), region).toEqual(ACCOUNTS);
      expect(await leftovers(moto, region), region).toEqual({ keys: [], groups: [] });
    }
    const first = JSON.parse(await readFile(path.join(project.dir, '.hallmark', `${INSTANCE}.json`), 'utf8'));
    const second = JSON.parse(await readFile(path.join(project.dir, '.hallmark', `${SECOND}.json`), 'utf8'));
    expect([first.images, second.images]).toEqual([[], []]);
  }, 300_000);

  it('an image name already taken in a target region: stops in prepare before any instance is launched', async () => {
    project = await makeProject();
    const taken = new EC2Client({ region: 'us-west-2', endpoint: moto.endpoint, credentials: moto.credentials, maxAttempts: 1 });
    let existing: string;
    try {
      existing = (await taken.send(new RegisterImageCommand({ Name: 'e2e-collide-amazon2023-img', RootDeviceName: '/dev/xvda' }))).ImageId!;
    } finally {
      taken.destroy();
    }
    const r = await hallmark(project.dir, ['build'], cliEnv(moto, sshd, moto.endpoint, 'e2e-collide', project.dir));
    expect(r.exitCode, r.all).not.toBe(0);
    expect(r.all).toContain('e2e-collide-amazon2023-img');
    expect(r.all).toContain('us-west-2');
    for (const region of REGIONS) expect(await instances(moto, region), region).toEqual([]);
    // The image that was there stays; nothing else was made.
    expect((await builtImages(moto, 'us-west-2')).map((i) => i.ImageId)).toEqual([existing]);
    for (const region of ['us-east-1', 'eu-west-1']) expect(await builtImages(moto, region), region).toEqual([]);
    expect(await leftovers(moto, 'us-east-1')).toEqual({ keys: [], groups: [] });
  }, 120_000);
});
