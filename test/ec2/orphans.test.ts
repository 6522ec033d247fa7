/**
 * The ec2 driver's orphan reaper (hallmark cleanup --orphans) against moto:
 * a build's machine, key pair, group, pending image, pending copy and the SSM
 * parameter versions pointing at them are found by tag and removed; what is
 * not a dead build's — a kept machine, a published image, an older
 * hallmark's image without hallmark:state, a pending image someone runs, a
 * young build, a journaled id — is left. Checked straight against moto.
 */
import {
  CreateImageCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeKeyPairsCommand,
  DescribeSecurityGroupsCommand,
  DescribeSnapshotsCommand,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';
import { GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Leftover, LeftoverQuery } from '../../src/drivers/driver.js';
import { silentLogger } from '../../src/kernel/events.js';
import { STATE_PENDING, STATE_PUBLISHED, TAG_STATE } from '../../src/kernel/tags.js';
import { startMoto, type Moto } from '../helpers/moto.js';
import { fixture, registerImage, sdk, type Ec2Fixture } from './ec2-context.js';

let moto: Moto;
const fixtures: Ec2Fixture[] = [];
beforeAll(async () => {
  moto = await startMoto();
});
afterAll(async () => {
  for (const f of fixtures) await f.cleanup();
  await moto?.stop();
});

const HOUR = 3_600_000;
/** A build id as newBuildId() makes them: it dates the build (a security group has no creation time of its own). */
const buildIdNow = (suffix: string) => `${new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14)}-${suffix}`;
const tagMap = (tags: { Key?: string; Value?: string }[] = []) => Object.fromEntries(tags.map((t) => [t.Key, t.Value]));

/** A build run by the real driver code up to its copies (the tags are the driver's own), then "killed": its journal is dropped. */
async function deadBuild(base: string, buildId: string, instance: string) {
  const f = await fixture(moto.endpoint, moto, { image_id: base }, { instance, buildId });
  fixtures.push(f);
  await f.driver.create({ ...f.ctx, machine: 'build' });
  const tags = { 'hallmark:build-id': buildId, 'hallmark:instance': instance, [TAG_STATE]: STATE_PENDING };
  const image = await f.driver.capture(f.ctx, { name: `${instance}-${buildId}`, tags });
  const [copy] = await f.driver.distribute(f.ctx, image, {
    regions: ['us-west-2'],
    concurrency: 2,
    kmsKeyIds: {},
    tags,
    targets: [],
    format: 'qcow2',
  });
  return { f, image, copy: copy!, state: f.ctx.journal.state.driver as { instanceId: string; keyName: string; groupId: string } };
}

describe('ec2 leftovers', () => {
  it('finds a dead build\'s machine, key, group, pending image, copy, snapshots and parameter versions by tag; leaves the rest; removes them', async () => {
    const east = sdk(moto, 'us-east-1');
    const west = sdk(moto, 'us-west-2');
    const ssm = (region: string) => new SSMClient({ region, endpoint: moto.endpoint, credentials: moto.credentials, maxAttempts: 1 });
    const ssmEast = ssm('us-east-1');
    const ssmWest = ssm('us-west-2');
    try {
      const base = await registerImage(east, 'orphans-base');
      const deadId = buildIdNow('aaaaaa');
      const dead = await deadBuild(base, deadId, 'default-dead');

      // Not a dead build's: a kept machine (hallmark create), a published image, an older hallmark's image, a pending image someone runs.
      const kept = await fixture(moto.endpoint, moto, { image_id: base }, { instance: 'default-kept', buildId: buildIdNow('bbbbbb') });
      fixtures.push(kept);
      await kept.driver.create(kept.ctx);
      const published = await deadBuild(base, buildIdNow('cccccc'), 'default-published');
      await published.f.driver.tagImages(published.f.ctx, [published.image, published.copy], { [TAG_STATE]: STATE_PUBLISHED });
      await published.f.driver.destroy(published.f.ctx);
      const olderHallmark = (
        await east.send(
          new CreateImageCommand({
            InstanceId: (kept.ctx.journal.state.driver as { instanceId: string }).instanceId,
            Name: 'older-hallmark',
            TagSpecifications: [{ ResourceType: 'image', Tags: [{ Key: 'hallmark:build-id', Value: '20250101000000-dddddd' }, { Key: 'hallmark:instance', Value: 'default-old' }] }],
          }),
        )
      ).ImageId!;
      const inUse = await deadBuild(base, buildIdNow('eeeeee'), 'default-inuse');
      await inUse.f.driver.destroy(inUse.f.ctx);
      const runner = (await east.send(new RunInstancesCommand({ ImageId: inUse.image.id, MinCount: 1, MaxCount: 1, InstanceType: 't3.micro' }))).Instances![0]!.InstanceId!;

      // The parameter: version 1 the published image, version 2 the dead build's (written, never committed).
      const name = '/orphans/default/latest';
      await ssmEast.send(new PutParameterCommand({ Name: name, Value: published.image.id, Type: 'String', DataType: 'aws:ec2:image', Overwrite: true }));
      await ssmEast.send(new PutParameterCommand({ Name: name, Value: dead.image.id, Type: 'String', DataType: 'aws:ec2:image', Overwrite: true }));
      await ssmWest.send(new PutParameterCommand({ Name: name, Value: dead.copy.id, Type: 'String', DataType: 'aws:ec2:image', Overwrite: true }));

      const q = (over: Partial<LeftoverQuery> = {}): LeftoverQuery => ({
        regions: ['us-west-2'],
        olderThanMs: 6 * HOUR,
        now: new Date(Date.now() + 7 * HOUR),
        parameterNames: [name],
        claimed: new Set(),
        stateDir: dead.f.ctx.stateDir,
        signal: AbortSignal.timeout(120_000),
        log: silentLogger,
        ...over,
      });
      const driver = dead.f.driver;
      const key = (l: Leftover) => `${l.where} ${l.kind} ${l.id}${l.kept ? ' kept' : ''}`;

      // Too young: everything is found and kept.
      const young = await driver.findLeftovers(q({ now: new Date() }));
      expect(young.length).toBeGreaterThan(0);
      expect(young.every((l) => l.kept && /younger/.test(l.detail ?? ''))).toBe(true);

      const found = await driver.findLeftovers(q());
      const deadSnaps = [...(dead.image.snapshots ?? []).map((s) => `us-east-1 snapshot ${s}`), ...(dead.copy.snapshots ?? []).map((s) => `us-west-2 snapshot ${s}`)];
      expect(found.filter((l) => !l.kept).map(key).sort()).toEqual(
        [
          `us-east-1 instance ${dead.state.instanceId}`,
          `us-east-1 key-pair ${dead.state.keyName}`,
          `us-east-1 security-group ${dead.state.groupId}`,
          `us-east-1 image ${dead.image.id}`,
          `us-west-2 image ${dead.copy.id}`,
          // The image someone runs is kept; its copy in another region, which no one runs, is not.
          `us-west-2 image ${inUse.copy.id}`,
          ...(inUse.copy.snapshots ?? []).map((s) => `us-west-2 snapshot ${s}`),
          `us-east-1 parameter ${name}`,
          `us-west-2 parameter ${name}`,
          ...deadSnaps,
        ].sort(),
      );
      expect(found.find((l) => l.kind === 'image' && l.id === inUse.image.id)).toMatchObject({ kept: true, detail: `in use by ${runner}` });
      expect(found.filter((l) => l.kept).map((l) => l.id)).not.toContain(dead.image.id);
      const ids = found.map((l) => l.id);
      for (const notOurs of [kept.ctx.journal.state.driver.instanceId as string, published.image.id, published.copy.id, olderHallmark]) expect(ids).not.toContain(notOurs);
      expect(found.find((l) => l.kind === 'parameter' && l.where === 'us-east-1')?.detail).toMatch(new RegExp(`^put back ${published.image.id}`));
      expect(found.find((l) => l.kind === 'parameter' && l.where === 'us-west-2')?.detail).toMatch(/^delete/);
      expect(found.find((l) => l.kind === 'image' && l.id === dead.image.id)).toMatchObject({ buildId: deadId, instance: 'default-dead' });

      // What a journal names is `hallmark cleanup`'s.
      const claimed = await driver.findLeftovers(q({ claimed: new Set([dead.image.id, dead.state.instanceId]) }));
      expect(claimed.map((l) => l.id)).not.toContain(dead.image.id);
      expect(claimed.map((l) => l.id)).not.toContain(dead.state.instanceId);

      const removals = await driver.removeLeftovers(q(), found);
      expect(removals.filter((r) => r.error).map((r) => `${key(r.leftover)}: ${r.error!.message}`)).toEqual([]);
      expect(removals.length).toBe(found.filter((l) => !l.kept).length);

      // From outside: the dead build is gone; the rest is there.
      const live = async (c: typeof east) =>
        ((await c.send(new DescribeInstancesCommand({}))).Reservations ?? []).flatMap((r) => r.Instances ?? []).filter((i) => i.State?.Name !== 'terminated').map((i) => i.InstanceId);
      expect(await live(east)).not.toContain(dead.state.instanceId);
      expect(await live(east)).toEqual(expect.arrayContaining([kept.ctx.journal.state.driver.instanceId as string, runner]));
      expect(((await east.send(new DescribeKeyPairsCommand({}))).KeyPairs ?? []).map((k) => k.KeyName)).not.toContain(dead.state.keyName);
      expect(((await east.send(new DescribeSecurityGroupsCommand({}))).SecurityGroups ?? []).map((g) => g.GroupId)).not.toContain(dead.state.groupId);
      const images = async (c: typeof east) => ((await c.send(new DescribeImagesCommand({ Owners: ['self'] }))).Images ?? []).map((i) => i.ImageId).sort();
      expect(await images(east)).toEqual([base, published.image.id, olderHallmark, inUse.image.id].sort());
      expect(await images(west)).toEqual([published.copy.id]);
      const snaps = async (c: typeof east) => ((await c.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'] }))).Snapshots ?? []).map((s) => s.SnapshotId);
      for (const s of dead.image.snapshots ?? []) expect(await snaps(east)).not.toContain(s);
      for (const s of dead.copy.snapshots ?? []) expect(await snaps(west)).not.toContain(s);
      expect((await ssmEast.send(new GetParameterCommand({ Name: name }))).Parameter?.Value).toBe(published.image.id);
      expect(await ssmWest.send(new GetParameterCommand({ Name: name })).catch((e: Error) => e.name)).toBe('ParameterNotFound');
      const pub = (await east.send(new DescribeImagesCommand({ ImageIds: [published.image.id] }))).Images![0]!;
      expect(tagMap(pub.Tags)[TAG_STATE]).toBe(STATE_PUBLISHED);

      // Idempotent: a second search finds only what it keeps.
      const again = await driver.findLeftovers(q());
      expect(again.filter((l) => !l.kept).map(key)).toEqual([]);
    } finally {
      for (const c of [east, west, ssmEast, ssmWest]) c.destroy();
    }
  }, 240_000);

  it('a build\'s machine is tagged hallmark:machine=build and a copy is tagged pending before it is available', async () => {
    const east = sdk(moto, 'us-east-1');
    try {
      const base = await registerImage(east, 'orphans-base-2');
      const tagsId = buildIdNow('ffffff');
      const d = await deadBuild(base, tagsId, 'default-tags');
      const inst = (await east.send(new DescribeInstancesCommand({ InstanceIds: [d.state.instanceId] }))).Reservations![0]!.Instances![0]!;
      expect(tagMap(inst.Tags)).toMatchObject({ 'hallmark:machine': 'build', 'hallmark:build-id': tagsId });
      const key = (await east.send(new DescribeKeyPairsCommand({ KeyNames: [d.state.keyName] }))).KeyPairs![0]!;
      expect(tagMap(key.Tags)).toMatchObject({ 'hallmark:machine': 'build' });
      const img = (await east.send(new DescribeImagesCommand({ ImageIds: [d.image.id] }))).Images![0]!;
      expect(tagMap(img.Tags)).toMatchObject({ [TAG_STATE]: STATE_PENDING });
      // The image does not carry the machine's lifetime tag.
      expect(tagMap(img.Tags)['hallmark:machine']).toBeUndefined();
    } finally {
      east.destroy();
    }
  }, 120_000);
});
