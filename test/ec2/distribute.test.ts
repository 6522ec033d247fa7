import {
  DescribeImageAttributeCommand,
  DescribeImagesCommand,
  DescribeSnapshotAttributeCommand,
  DescribeSnapshotsCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import { execa } from 'execa';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CancelledError } from '../../src/kernel/errors.js';
import type { Logger } from '../../src/kernel/events.js';
import { silentLogger } from '../../src/kernel/events.js';
import type { ImageRecord } from '../../src/kernel/journal.js';
import type { ApiCallCount, ApiCallSummary } from '../../src/drivers/api-calls.js';
import type { DistributeRequest } from '../../src/drivers/driver.js';
import { Ec2Error } from '../../src/drivers/ec2/aws-errors.js';
import { distributeExisting } from '../../src/drivers/ec2/distribute-existing.js';
import { waitForImagesAvailable } from '../../src/drivers/ec2/wait.js';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { startMoto, type Moto } from '../helpers/moto.js';
import { fixture, imageWithSnapshot, registerImage, sdk } from './ec2-context.js';

let moto: Moto;
let proxy: FaultProxy;
let ec2: EC2Client;
let base: string;
const regions = ['us-east-1', 'eu-west-1', 'us-west-2'];
const clients: Record<string, EC2Client> = {};

beforeAll(async () => {
  moto = await startMoto();
  proxy = await startFaultProxy(moto.endpoint);
  for (const r of regions) clients[r] = sdk(moto, r);
  ec2 = clients['us-east-1']!;
  base = await registerImage(ec2, 'hm-dist-base');
});

afterAll(async () => {
  for (const c of Object.values(clients)) c.destroy();
  await proxy?.close();
  await moto?.stop();
});

beforeEach(() => {
  proxy.faults.length = 0;
  proxy.rewrites.length = 0;
  proxy.calls.length = 0;
});

const accounts = ['111122223333', '444455556666'];

/** Requests per `action region`, as FaultProxy.countByActionRegion keys them. */
function requestsByActionRegion(s: ApiCallSummary): Map<string, number> {
  return new Map(s.byAction.filter((c) => c.requests > 0).map((c) => [`${c.action} ${c.region}`, c.requests]));
}
const sum = (rows: ApiCallCount[], k: 'calls' | 'requests' | 'retries' | 'throttled') => rows.reduce((n, r) => n + r[k], 0);

function request(over: Partial<DistributeRequest> = {}): DistributeRequest {
  return {
    regions: ['eu-west-1', 'us-west-2'],
    concurrency: 2,
    kmsKeyIds: {},
    tags: { release: 'r1' },
    targets: [],
    format: 'qcow2',
    ...over,
  };
}

async function sourceImage(name: string): Promise<ImageRecord> {
  const id = await imageWithSnapshot(ec2, base, name);
  const img = (await ec2.send(new DescribeImagesCommand({ ImageIds: [id] }))).Images![0]!;
  return { id, region: 'us-east-1', name, role: 'source', snapshots: img.BlockDeviceMappings!.map((b) => b.Ebs!.SnapshotId!) };
}

/** Images of this account with `name`, per region, read straight from moto (not through the proxy). */
async function imagesNamed(name: string): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const r of regions) {
    const res = await clients[r]!.send(new DescribeImagesCommand({ Owners: ['self'], Filters: [{ Name: 'name', Values: [name] }] }));
    out[r] = (res.Images ?? []).map((i) => i.ImageId!);
  }
  return out;
}

async function awsCli(region: string, ...args: string[]): Promise<unknown> {
  const { stdout } = await execa('aws', ['--endpoint-url', moto.endpoint, '--region', region, '--output', 'json', 'ec2', ...args], { env: moto.env });
  return JSON.parse(stdout);
}

describe('ec2 distribute against moto', () => {
  it('copies to two regions and tags copies and snapshots, sharing nothing; share then grants two accounts (checked via the SDK and the aws CLI), unshare takes it back', async () => {
    const f = await fixture(moto.endpoint, moto, {});
    try {
      const src = await sourceImage(`hm-dist-ok-${f.ctx.buildId}`);
      await f.ctx.journal.recordImage(src);
      const copies = await f.driver.distribute!(f.ctx, src, request());
      expect(copies.map((c) => c.region)).toEqual(['eu-west-1', 'us-west-2']);
      // copies finish in any order; each is journaled once
      expect(f.ctx.journal.state.images.map((i) => `${i.role}:${i.region}`).sort()).toEqual(['copy:eu-west-1', 'copy:us-west-2', 'source:us-east-1']);
      const granted = async (img: ImageRecord) =>
        ((await clients[img.region!]!.send(new DescribeImageAttributeCommand({ ImageId: img.id, Attribute: 'launchPermission' }))).LaunchPermissions ?? []).map((p) => p.UserId).sort();
      // Proven, not committed: no one else may launch them yet.
      for (const img of [src, ...copies]) expect(await granted(img), img.region).toEqual([]);

      const share = { accounts, organizationArns: [], ouArns: [], shareSnapshots: true, concurrency: 2 };
      await f.driver.share!(f.ctx, [src, ...copies], share);
      for (const img of [src, ...copies]) {
        const client = clients[img.region!]!;
        const d = (await client.send(new DescribeImagesCommand({ ImageIds: [img.id] }))).Images![0]!;
        expect(d.State).toBe('available');
        const perms = await client.send(new DescribeImageAttributeCommand({ ImageId: img.id, Attribute: 'launchPermission' }));
        expect(perms.LaunchPermissions?.map((p) => p.UserId).sort()).toEqual(accounts);
        for (const snap of img.snapshots ?? []) {
          const sp = await client.send(new DescribeSnapshotAttributeCommand({ SnapshotId: snap, Attribute: 'createVolumePermission' }));
          expect(sp.CreateVolumePermissions?.map((p) => p.UserId).sort()).toEqual(accounts);
        }
        // independently, through the aws CLI
        const cli = (await awsCli(img.region!, 'describe-image-attribute', '--image-id', img.id, '--attribute', 'launchPermission')) as {
          LaunchPermissions: { UserId: string }[];
        };
        expect(cli.LaunchPermissions.map((p) => p.UserId).sort()).toEqual(accounts);
      }
      await f.driver.unshare!(f.ctx, [src, ...copies], share);
      for (const img of [src, ...copies]) {
        expect(await granted(img), img.region).toEqual([]);
        for (const snap of img.snapshots ?? []) {
          const sp = await clients[img.region!]!.send(new DescribeSnapshotAttributeCommand({ SnapshotId: snap, Attribute: 'createVolumePermission' }));
          expect(sp.CreateVolumePermissions ?? []).toEqual([]);
        }
      }
      for (const copy of copies) {
        const cli = (await awsCli(copy.region!, 'describe-images', '--image-ids', copy.id)) as { Images: { Name: string; Tags: { Key: string; Value: string }[] }[] };
        expect(cli.Images[0]!.Name).toBe(src.name);
        const tags = Object.fromEntries(cli.Images[0]!.Tags.map((t) => [t.Key, t.Value]));
        expect(tags).toMatchObject({ release: 'r1', 'hallmark:build-id': f.ctx.buildId, 'hallmark:source-image': `us-east-1/${src.id}` });
        expect(copy.snapshots?.length).toBeGreaterThan(0);
        const snaps = await clients[copy.region!]!.send(new DescribeSnapshotsCommand({ SnapshotIds: copy.snapshots }));
        for (const s of snaps.Snapshots!) expect(Object.fromEntries(s.Tags!.map((t) => [t.Key, t.Value]))).toMatchObject({ release: 'r1' });
      }
    } finally {
      await f.cleanup();
    }
  }, 120_000);

  it('a copy failing in the second region leaves the finished copy in the journal; cleanup then leaves nothing anywhere', async () => {
    const f = await fixture(proxy.endpoint, moto, { max_attempts: 2 });
    try {
      const src = await sourceImage(`hm-dist-fail-${f.ctx.buildId}`);
      await f.ctx.journal.recordImage(src);
      proxy.faults.push({ action: 'CopyImage', region: 'us-west-2', code: 'InvalidRequest', status: 400, message: 'copy refused' });
      const err = await f.driver.distribute!(f.ctx, src, request({ concurrency: 1 })).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Ec2Error);
      expect((err as Ec2Error).message).toMatch(/CopyImage .* in us-west-2 failed: InvalidRequest/);
      expect(proxy.forwarded('CopyImage', 'eu-west-1')).toBe(1);
      const named = await imagesNamed(src.name!);
      expect(named['eu-west-1']).toHaveLength(1);
      expect(f.ctx.journal.state.images.map((i) => `${i.role}:${i.region}:${i.id}`)).toEqual([
        `source:us-east-1:${src.id}`,
        `copy:eu-west-1:${named['eu-west-1']![0]}`,
      ]);

      // the pipeline's cleanup: deleteImage on every recorded image
      for (const img of [...f.ctx.journal.state.images]) await f.driver.deleteImage!(f.ctx, img);
      expect(await imagesNamed(src.name!)).toEqual({ 'us-east-1': [], 'eu-west-1': [], 'us-west-2': [] });
      for (const r of regions) {
        const snaps = await clients[r]!.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'], Filters: [{ Name: 'tag:hallmark:build-id', Values: [f.ctx.buildId] }] }));
        expect(snaps.Snapshots ?? []).toEqual([]);
      }
      await expect(clients['us-east-1']!.send(new DescribeSnapshotsCommand({ SnapshotIds: src.snapshots }))).rejects.toMatchObject({ name: 'InvalidSnapshot.NotFound' });
      expect(f.ctx.journal.state.images).toEqual([]);
    } finally {
      await f.cleanup();
    }
  });

  it('throttled CopyImage, DescribeImages and CreateTags are retried per call: success with exactly one copy per region', async () => {
    const f = await fixture(proxy.endpoint, moto, { max_attempts: 5 });
    try {
      const src = await sourceImage(`hm-dist-throttle-${f.ctx.buildId}`);
      proxy.throttle(['CopyImage', 'DescribeImages', 'CreateTags'], 2);
      const copies = await f.driver.distribute!(f.ctx, src, request());
      expect(copies).toHaveLength(2);
      expect(proxy.injected('CopyImage', 'RequestLimitExceeded')).toBe(2);
      expect(proxy.injected('DescribeImages', 'RequestLimitExceeded')).toBe(2);
      expect(proxy.injected('CreateTags', 'RequestLimitExceeded')).toBe(2);
      expect(proxy.forwarded('CopyImage', 'eu-west-1')).toBe(1);
      expect(proxy.forwarded('CopyImage', 'us-west-2')).toBe(1);
      const named = await imagesNamed(src.name!);
      expect(named['eu-west-1']).toEqual([copies[0]!.id]);
      expect(named['us-west-2']).toEqual([copies[1]!.id]);

      // The driver counted exactly the requests the proxy received, per action and region; each throttled answer was retried.
      const counted = f.driver.apiCalls.summary();
      expect(requestsByActionRegion(counted)).toEqual(proxy.countByActionRegion());
      for (const action of ['CopyImage', 'DescribeImages', 'CreateTags']) {
        const rows = counted.byAction.filter((c) => c.action === action);
        expect(sum(rows, 'throttled'), action).toBe(2);
        expect(sum(rows, 'retries'), action).toBe(2);
        expect(sum(rows, 'requests') - sum(rows, 'calls'), action).toBe(2);
      }
      expect(counted.total).toMatchObject({ retries: 6, throttled: 6, failed: 0, requests: proxy.calls.length });
      expect(counted.byAction.every((c) => c.service === 'ec2')).toBe(true);
    } finally {
      await f.cleanup();
    }
  });

  it('starts every copy before any is available (K regions wait side by side), at most `concurrency` CopyImage calls at once', async () => {
    // A proxy of its own: its in-flight high-water mark covers this test only.
    const own = await startFaultProxy(moto.endpoint);
    const targets = ['eu-west-1', 'us-west-2', 'ap-southeast-2', 'eu-central-1'];
    // No copy shows `available` until all four CopyImage calls were answered. A distribute that waited
    // for a copy before starting the next (concurrency 2 bounding whole copies) would never see one
    // finish, and fail at max_wait instead.
    own.pendCopies({ untilCopies: targets.length });
    const f = await fixture(own.endpoint, moto, { max_wait: 45 });
    try {
      const src = await sourceImage(`hm-dist-parallel-${f.ctx.buildId}`);
      // The first two CopyImage answers are held until both have arrived: two copies start together.
      const holds = targets.slice(0, 2).map((region) => own.hold('CopyImage', { region }));
      const run = f.driver.distribute!(f.ctx, src, request({ regions: targets, concurrency: 2 }));
      await Promise.all(holds.map((h) => h.reached));
      for (const h of holds) h.release();
      const copies = await run;
      expect(copies.map((c) => c.region)).toEqual(targets);
      expect(own.copies.map((c) => c.region).sort()).toEqual([...targets].sort());
      const firstAvailable = Math.min(...own.copies.map((c) => c.shownAvailableSeq ?? Infinity));
      const copyRequests = own.calls.filter((c) => c.action === 'CopyImage').map((c) => c.seq);
      expect(copyRequests).toHaveLength(targets.length);
      expect(Math.max(...copyRequests)).toBeLessThan(firstAvailable);
      expect(own.maxInFlight('CopyImage')).toBe(2);
    } finally {
      await f.cleanup();
      await own.close();
    }
  }, 120_000);

  it('a waiter stops at once on AccessDenied / UnauthorizedOperation or a failed image instead of waiting out its timeout', async () => {
    const id = await registerImage(ec2, 'hm-wait-denied');
    const client = sdk(moto, 'us-east-1', proxy.endpoint);
    try {
      for (const code of ['AccessDenied', 'UnauthorizedOperation']) {
        proxy.faults.length = 0;
        proxy.calls.length = 0;
        proxy.faults.push({ action: 'DescribeImages', code, status: 403, message: 'not allowed' });
        const err = await waitForImagesAvailable(client, 'us-east-1', [id], { delayMs: 1000, maxWaitMs: 600_000, signal: new AbortController().signal }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(Ec2Error);
        expect((err as Ec2Error).awsCode).toBe(code);
        expect((err as Ec2Error).hint).toMatch(/IAM permission/);
        // One call and no second poll: the waiter gave up on the first answer instead of waiting out its 600 s.
        expect(proxy.calls.filter((c) => c.action === 'DescribeImages').map(({ seq: _seq, ...c }) => c)).toEqual([{ action: 'DescribeImages', region: 'us-east-1', outcome: code }]);
      }
      proxy.faults.length = 0;
      proxy.rewrites.push({ action: 'DescribeImages', from: /<imageState>available<\/imageState>/g, to: '<imageState>failed</imageState>' });
      proxy.calls.length = 0;
      const err = await waitForImagesAvailable(client, 'us-east-1', [id], { delayMs: 1000, maxWaitMs: 600_000, signal: new AbortController().signal }).catch((e: unknown) => e);
      expect((err as Error).message).toMatch(new RegExp(`image ${id} in us-east-1 is failed`));
      expect(proxy.calls.filter((c) => c.action === 'DescribeImages')).toHaveLength(1);
    } finally {
      client.destroy();
    }
  });

  it('cancelling a distribute ends every copy wait at once; the copies stay journaled for cleanup', async () => {
    const progress: string[] = [];
    const log: Logger = { ...silentLogger, progress: (m) => progress.push(m) };
    const ac = new AbortController();
    const f = await fixture(proxy.endpoint, moto, { delay: 0.1, max_wait: 600 }, { signal: ac.signal, log });
    try {
      const src = await sourceImage(`hm-dist-cancel-${f.ctx.buildId}`);
      // Both copies stay `pending` forever, as a slow real copy would.
      for (const region of ['eu-west-1', 'us-west-2']) {
        proxy.rewrites.push({ action: 'DescribeImages', region, from: /<imageState>available<\/imageState>/g, to: '<imageState>pending</imageState>' });
      }
      const run = f.driver.distribute!(f.ctx, src, request()).catch((e: unknown) => e);
      // Generous under load (the full suite runs VMs beside this): the two CopyImage calls journal their ids.
      for (let i = 0; i < 600 && f.ctx.journal.state.images.length < 2; i++) await new Promise((r) => setTimeout(r, 50));
      // The waits have polled and seen `pending` (a fixed sleep here failed once under load).
      for (let i = 0; i < 600 && !progress.some((m) => /pending/.test(m)); i++) await new Promise((r) => setTimeout(r, 50));
      expect(f.ctx.journal.state.images.map((i) => i.region).sort()).toEqual(['eu-west-1', 'us-west-2']);
      ac.abort();
      // The copies would wait forever (max_wait 600 s, beyond the test's timeout): ending at all means the waits saw the cancel.
      const err = await run;
      expect(err).toBeInstanceOf(CancelledError);
      expect(progress.some((m) => /pending/.test(m))).toBe(true);
      await new Promise((r) => setTimeout(r, 200)); // a request already on the wire at the cancel may still arrive
      const polls = proxy.forwarded('DescribeImages');
      await new Promise((r) => setTimeout(r, 400));
      expect(proxy.forwarded('DescribeImages')).toBe(polls); // nobody is polling any more

      for (const img of [...f.ctx.journal.state.images]) await f.driver.deleteImage!({ ...f.ctx, signal: AbortSignal.timeout(30_000) }, img);
      const named = await imagesNamed(src.name!);
      expect(named['eu-west-1']).toEqual([]);
      expect(named['us-west-2']).toEqual([]);
    } finally {
      await f.cleanup();
    }
  });

  it('distributeExisting copies and shares an AMI that already exists, journaling only the copies', async () => {
    const f = await fixture(moto.endpoint, moto, {});
    try {
      const src = await sourceImage(`hm-existing-${f.ctx.buildId}`);
      const { copies } = await distributeExisting({
        imageId: src.id,
        from: 'us-east-1',
        to: ['us-east-1', 'eu-west-1'],
        accounts: ['111122223333'],
        buildId: f.ctx.buildId,
        journal: f.ctx.journal,
        driverOptions: { endpoint: moto.endpoint, delay: 0.05 },
        credentials: moto.credentials,
      });
      expect(copies.map((c) => c.region)).toEqual(['eu-west-1']);
      expect(f.ctx.journal.state.images).toEqual(copies);
      const cli = (await awsCli('eu-west-1', 'describe-image-attribute', '--image-id', copies[0]!.id, '--attribute', 'launchPermission')) as {
        LaunchPermissions: { UserId: string }[];
      };
      expect(cli.LaunchPermissions).toEqual([{ UserId: '111122223333' }]);
    } finally {
      await f.cleanup();
    }
  });
});
