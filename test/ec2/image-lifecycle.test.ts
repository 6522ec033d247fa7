/**
 * The image lifecycle against moto: deprecation (answered and recorded by the
 * fault proxy, as moto 5.2 lacks it), launch template versions and their
 * undo, keep-N pruning with what protects an image, and encrypted sharing.
 */
import {
  CopySnapshotCommand,
  CreateLaunchTemplateCommand,
  CreateSnapshotCommand,
  CreateTagsCommand,
  CreateVolumeCommand,
  DescribeImagesCommand,
  DescribeLaunchTemplatesCommand,
  DescribeLaunchTemplateVersionsCommand,
  DescribeSnapshotAttributeCommand,
  DescribeSnapshotsCommand,
  RegisterImageCommand,
  RunInstancesCommand,
  TerminateInstancesCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/kernel/events.js';
import type { ImageRecord } from '../../src/kernel/journal.js';
import { Ec2Clients } from '../../src/drivers/ec2/clients.js';
import { deprecateImages, undeprecateImages } from '../../src/drivers/ec2/deprecate.js';
import { createTemplateVersion, deleteTemplateVersion, type TemplateVersionRecord } from '../../src/drivers/ec2/launch-template.js';
import { pruneFamily, TAG_FAMILY } from '../../src/drivers/ec2/prune.js';
import { kmsGrantMessages, shareImage } from '../../src/drivers/ec2/share.js';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { startMoto, type Moto } from '../helpers/moto.js';
import { imageWithSnapshot, registerImage, sdk } from './ec2-context.js';

const REGIONS = ['us-east-1', 'eu-west-1'] as const;
let moto: Moto;
let proxy: FaultProxy;
let clients: Ec2Clients;
const direct: Record<string, EC2Client> = {};
const base: Record<string, string> = {};
const signal = new AbortController().signal;

beforeAll(async () => {
  moto = await startMoto();
  proxy = await startFaultProxy(moto.endpoint);
  clients = new Ec2Clients({ endpoint: proxy.endpoint, maxAttempts: 1, retryMode: 'standard', credentials: moto.credentials });
  for (const r of REGIONS) {
    direct[r] = sdk(moto, r);
    base[r] = await registerImage(direct[r], `hm-lc-base-${r}`);
  }
});

afterAll(async () => {
  clients?.destroy();
  for (const c of Object.values(direct)) c.destroy();
  await proxy?.close();
  await moto?.stop();
});

beforeEach(() => {
  proxy.calls.length = 0;
  proxy.deprecations.length = 0;
  proxy.templateVersionDeletions.length = 0;
});

async function record(region: string, id: string, role: ImageRecord['role'] = 'source'): Promise<ImageRecord> {
  const img = (await direct[region]!.send(new DescribeImagesCommand({ ImageIds: [id] }))).Images![0]!;
  return { id, region, name: img.Name, role, snapshots: (img.BlockDeviceMappings ?? []).flatMap((b) => (b.Ebs?.SnapshotId ? [b.Ebs.SnapshotId] : [])) };
}

/** An image of `family` in `region`, with a snapshot, made as a build makes one. */
async function familyImage(region: string, family: string, name: string): Promise<string> {
  const id = await imageWithSnapshot(direct[region]!, base[region]!, name);
  await direct[region]!.send(new CreateTagsCommand({ Resources: [id], Tags: [{ Key: TAG_FAMILY, Value: family }] }));
  return id;
}

describe('deprecation', () => {
  it('sets the deprecation time on the image and every copy, each in its region; DescribeImages shows it; the undo clears it', async () => {
    const images = [await record('us-east-1', await familyImage('us-east-1', 'dep', 'dep-1')), await record('eu-west-1', await familyImage('eu-west-1', 'dep', 'dep-1'), 'copy')];
    const at = new Date(Math.ceil((Date.now() + 30 * 86_400_000) / 60_000) * 60_000);
    await deprecateImages({ clients, images, at, concurrency: 2, log: silentLogger, signal });
    expect([...proxy.deprecations].sort((a, b) => a.region!.localeCompare(b.region!))).toEqual([
      { action: 'EnableImageDeprecation', region: 'eu-west-1', imageId: images[1]!.id, deprecateAt: at.toISOString(), outcome: 'ok' },
      { action: 'EnableImageDeprecation', region: 'us-east-1', imageId: images[0]!.id, deprecateAt: at.toISOString(), outcome: 'ok' },
    ]);
    for (const img of images) {
      const seen = (await clients.get(img.region!).send(new DescribeImagesCommand({ ImageIds: [img.id] }))).Images![0]!;
      expect(seen.DeprecationTime, img.region).toBe(at.toISOString());
    }
    await undeprecateImages({ clients, images, log: silentLogger, signal });
    expect(proxy.deprecations.filter((d) => d.action === 'DisableImageDeprecation').map((d) => [d.region, d.imageId, d.outcome])).toEqual(images.map((i) => [i.region, i.id, 'ok']));
    expect((await clients.get('us-east-1').send(new DescribeImagesCommand({ ImageIds: [images[0]!.id] }))).Images![0]!.DeprecationTime).toBeUndefined();
  });

  it('fails, naming the image, for an image that does not exist, and for a time in the past (as EC2 does)', async () => {
    const gone: ImageRecord = { id: 'ami-0000000000000dead', region: 'us-east-1', role: 'source' };
    await expect(deprecateImages({ clients, images: [gone], at: new Date(Date.now() + 86_400_000), concurrency: 1, log: silentLogger, signal })).rejects.toThrow(/ami-0000000000000dead/);
    const img = await record('us-east-1', await familyImage('us-east-1', 'dep', 'dep-2'));
    await expect(deprecateImages({ clients, images: [img], at: new Date(Date.now() - 86_400_000), concurrency: 1, log: silentLogger, signal })).rejects.toThrow(/InvalidParameterValue|ahead/);
    expect(proxy.deprecations.map((d) => d.outcome)).toEqual(['InvalidAMIID.NotFound', 'InvalidParameterValue']);
  });
});

describe('launch templates', () => {
  it('adds a version naming the image and makes it the default; the undo restores the default and deletes the version', async () => {
    const region = 'eu-west-1';
    const c = direct[region]!;
    const lt = await c.send(new CreateLaunchTemplateCommand({ LaunchTemplateName: 'hm-fleet', LaunchTemplateData: { ImageId: base[region], InstanceType: 't3.micro' } }));
    const ltId = lt.LaunchTemplate!.LaunchTemplateId!;
    const image = await familyImage(region, 'lt', 'lt-1');
    const recorded: TemplateVersionRecord[] = [];
    const rec = await createTemplateVersion(clients.get(region), {
      region,
      target: { name: 'hm-fleet', set_default: true },
      imageId: image,
      buildId: 'b1',
      log: silentLogger,
      signal,
      record: async (r) => void recorded.push({ ...r }),
    });
    // Recorded before the call (no version yet) and after it.
    expect(recorded.map((r) => r.version)).toEqual([undefined, 2]);
    expect(rec).toMatchObject({ region, templateId: ltId, imageId: image, version: 2, previousDefault: 1, setDefault: true });
    const def = await c.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: ltId, Versions: ['$Default'] }));
    expect(def.LaunchTemplateVersions![0]).toMatchObject({ VersionNumber: 2, LaunchTemplateData: { ImageId: image } });

    await deleteTemplateVersion(clients.get(region), rec, silentLogger, signal);
    expect((await c.send(new DescribeLaunchTemplatesCommand({ LaunchTemplateIds: [ltId] }))).LaunchTemplates![0]!.DefaultVersionNumber).toBe(1);
    expect(proxy.templateVersionDeletions).toEqual([{ region, templateId: ltId, versions: [2], refused: [] }]);
  });

  it('refuses a template that does not exist in the region, before creating anything', async () => {
    await expect(
      createTemplateVersion(clients.get('us-east-1'), {
        region: 'us-east-1',
        target: { name: 'hm-fleet', set_default: true },
        imageId: base['us-east-1']!,
        buildId: 'b2',
        log: silentLogger,
        signal,
        record: async () => {},
      }),
    ).rejects.toThrow(/launch template hm-fleet does not exist in us-east-1/);
    expect(proxy.forwarded('CreateLaunchTemplateVersion')).toBe(0);
  });
});

describe('keep N', () => {
  it('removes the family images beyond the newest N in every region with their snapshots, never one in use', async () => {
    const fam = 'keep-fam';
    const ids: Record<string, string[]> = {};
    for (const r of REGIONS) {
      ids[r] = [];
      for (let i = 1; i <= 4; i++) {
        ids[r].push(await familyImage(r, fam, `${fam}-${i}`));
        await new Promise((res) => setTimeout(res, 1100)); // CreationDate has 1 s resolution
      }
    }
    const other = await familyImage('us-east-1', 'another-family', 'other-1');
    const east = ids['us-east-1']!;
    // us-east-1: image 1 runs an instance, image 2 is a template's default; eu-west-1: image 1 is in an SSM parameter.
    const run = await direct['us-east-1']!.send(new RunInstancesCommand({ ImageId: east[0], MinCount: 1, MaxCount: 1, InstanceType: 't3.micro' }));
    await direct['us-east-1']!.send(new CreateLaunchTemplateCommand({ LaunchTemplateName: 'hm-keep', LaunchTemplateData: { ImageId: east[1] } }));
    const snapsBefore = await Promise.all(REGIONS.map(async (r) => Promise.all(ids[r]!.map(async (id) => (await record(r, id)).snapshots!))));

    const args = {
      clients,
      regions: [...REGIONS],
      family: fam,
      keep: 1,
      parameterValues: async (r: string) => new Map(r === 'eu-west-1' ? [[ids['eu-west-1']![0]!, '/golden/web']] : []),
      log: silentLogger,
      signal,
    };
    const dry = await pruneFamily({ ...args, dryRun: true });
    expect(dry.map((p) => [p.region, p.kept.map((i) => i.id), p.removed.map((i) => i.id).sort()])).toEqual([
      ['us-east-1', [east[3]], [east[2]]],
      ['eu-west-1', [ids['eu-west-1']![3]], [ids['eu-west-1']![1], ids['eu-west-1']![2]].sort()],
    ]);
    expect(proxy.forwarded('DeregisterImage')).toBe(0);

    const done = await pruneFamily(args);
    expect(done.map((p) => p.removed.map((i) => i.id).sort())).toEqual(dry.map((p) => p.removed.map((i) => i.id).sort()));
    expect(done[0]!.inUse.map((i) => [i.id, i.reason])).toEqual([
      [east[1], expect.stringMatching(/launch template hm-keep/)],
      [east[0], expect.stringMatching(/instance i-/)],
    ]);
    expect(done[1]!.inUse.map((i) => [i.id, i.reason])).toEqual([[ids['eu-west-1']![0], 'SSM parameter /golden/web holds it']]);

    const left = async (r: string) => (await direct[r]!.send(new DescribeImagesCommand({ Owners: ['self'], Filters: [{ Name: `tag:${TAG_FAMILY}`, Values: [fam] }] }))).Images!.map((i) => i.ImageId!).sort();
    expect(await left('us-east-1')).toEqual([east[0], east[1], east[3]].sort());
    expect(await left('eu-west-1')).toEqual([ids['eu-west-1']![0], ids['eu-west-1']![3]].sort());
    expect((await direct['us-east-1']!.send(new DescribeImagesCommand({ ImageIds: [other] }))).Images).toHaveLength(1);
    // The removed images' snapshots are gone; the kept ones' stay.
    for (const [ri, r] of REGIONS.entries()) {
      const snaps = new Set((await direct[r]!.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'] }))).Snapshots!.map((s) => s.SnapshotId!));
      ids[r]!.forEach((id, i) => {
        const removed = done[ri]!.removed.some((x) => x.id === id);
        for (const s of snapsBefore[ri]![i]!) expect(snaps.has(s), `${r} ${id} ${s}`).toBe(!removed);
      });
    }
    await direct['us-east-1']!.send(new TerminateInstancesCommand({ InstanceIds: [run.Instances![0]!.InstanceId!] }));
  }, 60_000);
});

describe('encrypted sharing', () => {
  it('shares the snapshots of an encrypted image with the accounts and says which KMS key grant they still need', async () => {
    const c = direct['us-east-1']!;
    const key = 'arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555';
    const vol = await c.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 8, Encrypted: true, KmsKeyId: key }));
    // moto's CreateSnapshot drops the volume's key; CopySnapshot keeps the one it is given, as EC2 does.
    const plainSnap = await c.send(new CreateSnapshotCommand({ VolumeId: vol.VolumeId! }));
    const snap = await c.send(new CopySnapshotCommand({ SourceSnapshotId: plainSnap.SnapshotId!, SourceRegion: 'us-east-1', Encrypted: true, KmsKeyId: key }));
    const reg = await c.send(
      new RegisterImageCommand({ Name: 'hm-enc', RootDeviceName: '/dev/xvda', BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { SnapshotId: snap.SnapshotId! } }] }),
    );
    const image: ImageRecord = { id: reg.ImageId!, region: 'us-east-1', role: 'source', snapshots: [snap.SnapshotId!] };
    const accounts = ['111122223333'];
    const needs = await shareImage(clients.get('us-east-1'), image, { accounts, organizationArns: [], ouArns: [], shareSnapshots: false }, signal);
    const attr = await c.send(new DescribeSnapshotAttributeCommand({ SnapshotId: snap.SnapshotId!, Attribute: 'createVolumePermission' }));
    expect(attr.CreateVolumePermissions?.map((p) => p.UserId)).toEqual(accounts);
    expect(needs).toEqual([{ region: 'us-east-1', keyId: key, imageId: image.id, principals: accounts }]);
    expect(kmsGrantMessages(needs)[0]).toMatch(new RegExp(`111122223333 can launch ${image.id} in us-east-1 only with a grant on KMS key ${key}`));

    // An unencrypted image with share_snapshots false leaves its snapshots private.
    const plain = await record('us-east-1', await familyImage('us-east-1', 'plain', 'plain-1'));
    expect(await shareImage(clients.get('us-east-1'), plain, { accounts, organizationArns: [], ouArns: [], shareSnapshots: false }, signal)).toEqual([]);
    const plainAttr = await c.send(new DescribeSnapshotAttributeCommand({ SnapshotId: plain.snapshots![0]!, Attribute: 'createVolumePermission' }));
    expect(plainAttr.CreateVolumePermissions ?? []).toEqual([]);
  });
});
