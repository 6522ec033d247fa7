import {
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeKeyPairsCommand,
  DescribeSecurityGroupsCommand,
  DescribeSnapshotsCommand,
  DescribeVolumesCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import { stat } from 'node:fs/promises';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Journal } from '../../src/kernel/journal.js';
import { Ec2Error } from '../../src/drivers/ec2/aws-errors.js';
import { readEc2State } from '../../src/drivers/ec2/state.js';
import { startMoto, type Moto } from '../helpers/moto.js';
import { fixture, registerImage, sdk } from './ec2-context.js';

let moto: Moto;
let ec2: EC2Client;
let older: string;
let newer: string;

beforeAll(async () => {
  moto = await startMoto();
  ec2 = sdk(moto, 'us-east-1');
  older = await registerImage(ec2, 'hm-base-2024.01');
  await new Promise((r) => setTimeout(r, 1100)); // CreationDate has 1 s resolution
  newer = await registerImage(ec2, 'hm-base-2024.02');
  // iam_profile_name must name a real instance profile (moto checks, as AWS does).
  await execa('aws', ['--endpoint-url', moto.endpoint, 'iam', 'create-instance-profile', '--instance-profile-name', 'builder'], {
    env: moto.env,
  });
});

afterAll(async () => {
  ec2?.destroy();
  await moto?.stop();
});

// moto ignores RegisterImage's Architecture, so the search uses owner and name only.
const search = { 'owner-id': '123456789012', name: 'hm-base-*' };

describe('ec2 driver lifecycle against moto', () => {
  it('image_search picks the newest match; no match is an error naming the filters', async () => {
    expect(older).not.toBe(newer);
    const f = await fixture(moto.endpoint, moto, { image_search: search });
    try {
      await f.driver.prepare(f.ctx, { regions: [] });
      const { resolveSourceImage } = await import('../../src/drivers/ec2/source-image.js');
      const img = await resolveSourceImage(f.driver.clients.get('us-east-1'), 'us-east-1', f.driver.options, f.ctx.signal);
      expect(img.ImageId).toBe(newer);

      const none = await fixture(moto.endpoint, moto, { image_search: { name: 'no-such-image-*' } });
      const err = await none.driver.prepare(none.ctx, { regions: [] }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Ec2Error);
      expect((err as Error).message).toMatch(/image_search found no available image .*no-such-image-\*/);
      await none.cleanup();
    } finally {
      await f.cleanup();
    }
  });

  it('prepare finds a taken image name, bad regions and bad accounts before anything is launched', async () => {
    const taken = await registerImage(ec2, 'hm-release-1');
    const f = await fixture(moto.endpoint, moto, { image_search: search }, { distribute: { accounts: ['12345'] } });
    try {
      const before = await ec2.send(new DescribeInstancesCommand({}));
      const err = (await f.driver.prepare(f.ctx, { imageName: 'hm-release-1', regions: ['eu-west-1', 'eu-wset-9'] }).catch((e: unknown) => e)) as Error;
      expect(err).toBeInstanceOf(Ec2Error);
      expect(err.message).toContain(`image name "hm-release-1" is already used in us-east-1 by ${taken}`);
      expect(err.message).toMatch(/region eu-wset-9 does not exist; did you mean: .*eu-west-1/);
      expect(err.message).toContain('account id "12345" is not 12 digits');
      const after = await ec2.send(new DescribeInstancesCommand({}));
      expect(after.Reservations?.length ?? 0).toBe(before.Reservations?.length ?? 0);
      // a free name passes
      const ok = await fixture(moto.endpoint, moto, { image_search: search });
      await ok.driver.prepare(ok.ctx, { imageName: 'hm-release-2', regions: ['eu-west-1'] });
      await ok.cleanup();
    } finally {
      await f.cleanup();
    }
  });

  it('create launches with the options and tags, a temporary key pair and a /32-only group; destroy removes them all, idempotently', async () => {
    const f = await fixture(moto.endpoint, moto, {
      image_search: search,
      instance_type: 't3.small',
      tags: { team: 'platform', cost: 42 },
      iam_profile_name: 'builder',
      user_data: '#!/bin/sh\necho hi\n',
      ebs_optimized: true,
      block_device_mappings: [{ device_name: '/dev/xvda', ebs: { volume_size: 20, volume_type: 'gp3' } }],
    });
    try {
      await f.driver.create(f.ctx);
      const s = readEc2State(f.ctx.journal);
      expect(s.instanceId).toMatch(/^i-/);
      expect(s.keyCreated).toBe(true);
      expect(s.groupCreated).toBe(true);
      expect((await stat(s.keyPath!)).mode & 0o777).toBe(0o600);

      const inst = (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [s.instanceId!] }))).Reservations![0]!.Instances![0]!;
      expect(inst.State?.Name).toBe('running');
      expect(inst.ImageId).toBe(newer);
      expect(inst.InstanceType).toBe('t3.small');
      expect(inst.KeyName).toBe(s.keyName);
      expect(inst.IamInstanceProfile?.Arn).toMatch(/instance-profile\/builder$/);
      expect(inst.EbsOptimized).toBe(true);
      expect(inst.SecurityGroups?.map((g) => g.GroupId)).toEqual([s.groupId]);
      const tags = Object.fromEntries((inst.Tags ?? []).map((t) => [t.Key, t.Value]));
      expect(tags).toMatchObject({ Name: f.ctx.instance.name, team: 'platform', cost: '42', 'hallmark:build-id': f.ctx.buildId, 'hallmark:instance': f.ctx.instance.name });
      const vols = await ec2.send(new DescribeVolumesCommand({ Filters: [{ Name: 'attachment.instance-id', Values: [s.instanceId!] }] }));
      expect(vols.Volumes?.length).toBeGreaterThan(0);
      expect(Object.fromEntries((vols.Volumes![0]!.Tags ?? []).map((t) => [t.Key, t.Value]))).toMatchObject({ 'hallmark:build-id': f.ctx.buildId });

      const sg = (await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [s.groupId!] }))).SecurityGroups![0]!;
      expect(sg.IpPermissions).toHaveLength(1);
      expect(sg.IpPermissions![0]).toMatchObject({ IpProtocol: 'tcp', FromPort: 22, ToPort: 22 });
      expect(sg.IpPermissions![0]!.IpRanges?.map((r) => r.CidrIp)).toEqual(['127.0.0.1/32']);

      const target = await f.driver.connectionTarget(f.ctx);
      expect(target).toMatchObject({ hostname: inst.PublicIpAddress, port: 22, username: 'ec2-user', privateKeyPath: s.keyPath });

      // destroy from a fresh journal (as after a crash), then again (idempotent)
      const fresh = await Journal.open(f.ctx.stateDir, f.ctx.instance.name);
      const ctx2 = { ...f.ctx, journal: fresh };
      await f.driver.destroy(ctx2);
      const gone = (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [s.instanceId!] }))).Reservations![0]!.Instances![0]!;
      expect(gone.State?.Name).toBe('terminated');
      await expect(ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [s.groupId!] }))).rejects.toMatchObject({ name: 'InvalidGroup.NotFound' });
      await expect(ec2.send(new DescribeKeyPairsCommand({ KeyNames: [s.keyName!] }))).rejects.toMatchObject({ name: 'InvalidKeyPair.NotFound' });
      await expect(stat(s.keyPath!)).rejects.toMatchObject({ code: 'ENOENT' });
      expect(readEc2State(fresh)).toMatchObject({ instanceId: undefined, groupId: undefined, keyName: undefined });
      await f.driver.destroy(ctx2);
      await f.driver.destroy(f.ctx); // the stale in-memory journal: everything already gone
    } finally {
      await f.cleanup();
    }
  });

  it('capture makes an AMI tagged on the image and its snapshots, journaled as the source', async () => {
    const f = await fixture(moto.endpoint, moto, { image_search: search, security_group_cidr_ip: '203.0.113.7/32' });
    try {
      await f.driver.create(f.ctx);
      const tags = { 'hallmark:verification': 'sha256:abc', owner: 'platform' };
      const rec = await f.driver.capture!(f.ctx, { name: `hm-captured-${f.ctx.buildId}`, tags });
      expect(rec).toMatchObject({ region: 'us-east-1', role: 'source', name: `hm-captured-${f.ctx.buildId}` });
      expect(rec.snapshots?.length).toBeGreaterThan(0);
      expect(f.ctx.journal.state.images).toEqual([rec]);
      const img = (await ec2.send(new DescribeImagesCommand({ ImageIds: [rec.id] }))).Images![0]!;
      expect(Object.fromEntries(img.Tags!.map((t) => [t.Key, t.Value]))).toMatchObject({ ...tags, 'hallmark:build-id': f.ctx.buildId });
      const snaps = await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: rec.snapshots }));
      for (const sn of snaps.Snapshots!) expect(Object.fromEntries(sn.Tags!.map((t) => [t.Key, t.Value]))).toMatchObject(tags);

      await f.driver.deleteImage!(f.ctx, rec);
      await expect(ec2.send(new DescribeImagesCommand({ ImageIds: [rec.id] }))).resolves.toMatchObject({ Images: [] });
      await expect(ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: rec.snapshots }))).rejects.toMatchObject({ name: 'InvalidSnapshot.NotFound' });
      expect(f.ctx.journal.state.images).toEqual([]);
      await f.driver.deleteImage!(f.ctx, rec); // idempotent
    } finally {
      await f.driver.destroy(f.ctx);
      await f.cleanup();
    }
  });
});
