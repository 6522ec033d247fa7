/**
 * `hallmark build` with the ec2 driver, end to end through the CLI: moto_server
 * plays EC2, a real sshd plays the machine. Each test gets its own moto so
 * the AWS CLI's view (describe-images --owners self) holds only its images.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { startMoto, type Moto } from '../helpers/moto.js';
import { startSshd, type Sshd } from '../helpers/sshd.js';
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
  seedBaseImage,
  tagMap,
  type Project,
} from '../fixtures/ec2-e2e/project.js';

let sshd: Sshd;
let moto: Moto;
let baseAmi: string;
let project: Project;
let proxy: FaultProxy | undefined;

beforeAll(async () => {
  sshd = await startSshd();
});
afterAll(async () => {
  await sshd?.stop();
});
beforeEach(async () => {
  moto = await startMoto();
  baseAmi = await seedBaseImage(moto);
  project = await makeProject();
});
afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
  await moto?.stop();
  await project?.cleanup();
});

const envKey = (r: string) => r.toUpperCase().replaceAll('-', '_');

/** Everything a successful build must leave: one image per region, shared, tagged; the machine and its temporaries gone. */
async function expectPublished(prefix: string) {
  const env = await readEnvProperties(project.dir);
  const manifest = JSON.parse(await readFile(path.join(project.dir, 'manifest.json'), 'utf8'));
  const build = manifest.builds[0];
  expect(build.instance).toBe(INSTANCE);
  const buildId: string = build.buildId;
  expect(env.BUILD_ID).toBe(buildId);
  const digest: string = build.verification.digest;
  expect(digest).toMatch(/\S/);
  expect(build.verification.summary).toMatchObject({ failed: 0 });

  // The regions are checked side by side: each AWS CLI call starts a Python interpreter.
  await Promise.all(
    REGIONS.map(async (region) => {
      const imgs = await builtImages(moto, region);
      expect(imgs, region).toHaveLength(1);
      const img = imgs[0]!;
      expect(img.Name).toBe(`${prefix}-amazon2023-img`);
      expect(img.State).toBe('available');
      const tags = tagMap(img.Tags);
      expect(tags, region).toMatchObject({ role: 'e2e', 'hallmark:build-id': buildId, 'hallmark:instance': INSTANCE, 'hallmark:verification': digest });
      const perms = await aws<{ LaunchPermissions: { UserId?: string }[] }>(moto, region, [
        'describe-image-attribute',
        '--image-id',
        img.ImageId,
        '--attribute',
        'launchPermission',
      ]);
      expect(perms.LaunchPermissions.map((p) => p.UserId).sort(), region).toEqual([...ACCOUNTS].sort());
      expect(env[`IMAGE_ID_${envKey(region)}`], region).toBe(img.ImageId);

      const inManifest = region === 'us-east-1' ? build.image : build.copies.find((c: { region: string }) => c.region === region);
      expect(inManifest?.id, region).toBe(img.ImageId);
      const snaps = (img.BlockDeviceMappings ?? []).flatMap((b) => (b.Ebs?.SnapshotId ? [b.Ebs.SnapshotId] : []));
      expect(snaps.length, region).toBeGreaterThan(0);
      expect([...(inManifest.snapshots ?? [])].sort(), region).toEqual(snaps.sort());

      expect(await leftovers(moto, region), region).toEqual({ keys: [], groups: [] });
    }),
  );
  expect(env.IMAGE_ID).toBe(build.image.id);
  expect(build.image.region).toBe('us-east-1');
  return { buildId, env };
}

describe('hallmark build with the ec2 driver against moto', () => {
  it('finds the source AMI, launches, provisions and verifies over SSH, captures, copies to two regions and shares with two accounts', async () => {
    const prefix = 'e2e-ok';
    const r = await hallmark(project.dir, ['build'], cliEnv(moto, sshd, moto.endpoint, prefix, project.dir));
    expect(r.exitCode, r.all).toBe(0);
    const { buildId } = await expectPublished(prefix);

    // The provisioner ran on the "machine" (this host's sshd).
    expect(await readFile(path.join(project.markerDir, 'provisioned'), 'utf8')).toBe('provisioned by hallmark\n');
    // junit.xml names the passing checks.
    expect(await readFile(path.join(project.dir, 'junit.xml'), 'utf8')).toMatch(/<testsuite[^>]*failures="0"/);

    // The machine: launched from the AMI image_search found, with the configured options and tags, terminated now.
    const all = await instances(moto, 'us-east-1');
    expect(all).toHaveLength(1);
    const inst = all[0]!;
    expect(inst.ImageId).toBe(baseAmi);
    expect(inst.InstanceType).toBe('t3.small');
    expect(inst.State.Name).toBe('terminated');
    expect(inst.KeyName).toMatch(/^hallmark-default-amazon2023-/);
    expect(tagMap(inst.Tags)).toMatchObject({ team: 'e2e', Name: INSTANCE, 'hallmark:build-id': buildId, 'hallmark:instance': INSTANCE });
    for (const region of ['us-west-2', 'eu-west-1']) expect(await instances(moto, region), region).toEqual([]);
  }, 180_000);

  it('succeeds through RequestLimitExceeded on CopyImage, DescribeImages and CreateTags, with exactly one copy per region', async () => {
    proxy = await startFaultProxy(moto.endpoint);
    proxy.throttle(['CopyImage', 'DescribeImages', 'CreateTags'], 3);
    const prefix = 'e2e-throttled';
    const r = await hallmark(project.dir, ['build'], cliEnv(moto, sshd, proxy.endpoint, prefix, project.dir));
    expect(r.exitCode, r.all).toBe(0);
    for (const action of ['CopyImage', 'DescribeImages', 'CreateTags']) expect(proxy.injected(action, 'RequestLimitExceeded'), action).toBe(3);
    await expectPublished(prefix);

    // The manifest lists exactly the requests the proxy received, per action and region (nothing calls AWS after it is
    // written in this build: no image.keep), and each injected RequestLimitExceeded as a throttled answer that was retried.
    const manifest = JSON.parse(await readFile(path.join(project.dir, 'manifest.json'), 'utf8')) as {
      apiCalls: { total: Record<string, number> };
      builds: { apiCalls: { total: Record<string, number>; byAction: { service: string; region: string; action: string; calls: number; requests: number; retries: number; throttled: number }[] } }[];
    };
    const calls = manifest.builds[0]!.apiCalls;
    const requests = new Map(calls.byAction.filter((c) => c.requests > 0).map((c) => [`${c.action} ${c.region}`, c.requests]));
    expect(requests).toEqual(proxy.countByActionRegion());
    expect(calls.total.requests).toBe(proxy.calls.length);
    for (const action of ['CopyImage', 'DescribeImages', 'CreateTags']) {
      const rows = calls.byAction.filter((c) => c.action === action);
      expect(rows.reduce((n, c) => n + c.throttled, 0), action).toBe(3);
      expect(rows.reduce((n, c) => n + c.retries, 0), action).toBeGreaterThanOrEqual(3);
    }
    expect(calls.total.throttled).toBe(proxy.calls.filter((c) => c.outcome === 'RequestLimitExceeded').length);
    expect(calls.byAction.filter((c) => c.action === 'CopyImage').map((c) => `${c.region} ${c.calls}`).sort()).toEqual(['eu-west-1 1', 'us-west-2 1']);
    expect(calls.byAction.find((c) => c.action === 'RunInstances')).toMatchObject({ service: 'ec2', region: 'us-east-1', calls: 1 });
    // One instance: the build total is its count.
    expect(manifest.apiCalls.total).toEqual(calls.total);
    // A retried CopyImage must not have made a second copy (the SDK's client token or the check before copying).
    for (const region of ['us-west-2', 'eu-west-1']) expect(proxy.forwarded('CopyImage', region), region).toBeGreaterThanOrEqual(1);
  }, 180_000);
});
