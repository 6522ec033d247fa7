import { CopyImageCommand, CreateSecurityGroupCommand, DescribeImagesCommand, RegisterImageCommand, DescribeRegionsCommand, DescribeSecurityGroupsCommand } from '@aws-sdk/client-ec2';
import { GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { startMoto, type Moto } from '../helpers/moto.js';
import { sdk } from './ec2-context.js';
import '../../src/builtin-plugins.js';
import { loadPlugin } from '../../src/plugins.js';
import { Ec2Driver } from '../../src/drivers/ec2/ec2-driver.js';

// The fault proxy is a fake of AWS's failure behaviour; it is tested like one.
let moto: Moto;
let proxy: FaultProxy;

beforeAll(async () => {
  moto = await startMoto();
  proxy = await startFaultProxy(moto.endpoint);
});

afterAll(async () => {
  await proxy?.close();
  await moto?.stop();
});

it('passes calls through, tells regions apart from the SigV4 scope, and injects errors the SDK reads as AWS errors', async () => {
  const eu = sdk(moto, 'eu-west-1', proxy.endpoint);
  const us = sdk(moto, 'us-east-1', proxy.endpoint);
  try {
    expect((await eu.send(new DescribeRegionsCommand({}))).Regions?.length).toBeGreaterThan(10);
    proxy.faults.push({ action: 'DescribeImages', region: 'eu-west-1', times: 1, code: 'RequestLimitExceeded', status: 503 });
    await expect(us.send(new DescribeImagesCommand({ Owners: ['self'] }))).resolves.toBeDefined();
    const err = await eu.send(new DescribeImagesCommand({ Owners: ['self'] })).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'RequestLimitExceeded', $metadata: { httpStatusCode: 503 } });
    await expect(eu.send(new DescribeImagesCommand({ Owners: ['self'] }))).resolves.toBeDefined(); // `times` used up
    expect(proxy.calls.map(({ seq: _seq, ...c }) => c)).toEqual([
      { action: 'DescribeRegions', region: 'eu-west-1', outcome: 'forwarded' },
      { action: 'DescribeImages', region: 'us-east-1', outcome: 'forwarded' },
      { action: 'DescribeImages', region: 'eu-west-1', outcome: 'RequestLimitExceeded' },
      { action: 'DescribeImages', region: 'eu-west-1', outcome: 'forwarded' },
    ]);
  } finally {
    eu.destroy();
    us.destroy();
  }
});

it('`after: N` lets the first N matching calls through, then injects the fault', async () => {
  const eu = sdk(moto, 'eu-west-1', proxy.endpoint);
  proxy.calls.length = 0;
  try {
    proxy.faults.push({ action: 'DescribeImages', region: 'eu-west-1', after: 2, times: 1, code: 'UnauthorizedOperation', status: 403 });
    const call = () => eu.send(new DescribeImagesCommand({ Owners: ['self'] })).then(() => 'ok', (e: unknown) => (e as Error).name);
    expect([await call(), await call(), await call(), await call()]).toEqual(['ok', 'ok', 'UnauthorizedOperation', 'ok']);
    expect(proxy.injected('DescribeImages', 'UnauthorizedOperation')).toBe(1);
    expect(proxy.forwarded('DescribeImages', 'eu-west-1')).toBe(3);
  } finally {
    eu.destroy();
  }
});

it('tells JSON protocol actions (SSM) apart by X-Amz-Target and answers their faults in JSON, as the SDK expects', async () => {
  const ssm = (region: string) => new SSMClient({ region, endpoint: proxy.endpoint, credentials: moto.credentials, maxAttempts: 1 });
  const eu = ssm('eu-west-1');
  const us = ssm('us-east-1');
  proxy.calls.length = 0;
  try {
    proxy.faults.push({ action: 'PutParameter', region: 'eu-west-1', times: 1, code: 'AccessDeniedException', status: 400, message: 'not allowed' });
    const put = (c: SSMClient) => c.send(new PutParameterCommand({ Name: '/fault-proxy/p', Value: 'v', Type: 'String', Overwrite: true }));
    await expect(put(us)).resolves.toMatchObject({ Version: 1 });
    const err = await put(eu).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'AccessDeniedException', message: 'not allowed', $metadata: { httpStatusCode: 400 } });
    // The injected call never reached moto: eu-west-1 has no parameter.
    expect(await eu.send(new GetParameterCommand({ Name: '/fault-proxy/p' })).catch((e: unknown) => (e as Error).name)).toBe('ParameterNotFound');
    expect(proxy.calls.map(({ seq: _seq, ...c }) => c)).toEqual([
      { action: 'PutParameter', region: 'us-east-1', outcome: 'forwarded' },
      { action: 'PutParameter', region: 'eu-west-1', outcome: 'AccessDeniedException' },
      { action: 'GetParameter', region: 'eu-west-1', outcome: 'forwarded' },
    ]);
  } finally {
    eu.destroy();
    us.destroy();
  }
});

it('holds a call before the upstream (nothing made yet) or after it (made, the caller not told) until released', async () => {
  const us = sdk(moto, 'us-east-1', proxy.endpoint);
  const direct = sdk(moto, 'us-east-1');
  const groups = async () => ((await direct.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'group-name', Values: ['held-*'] }] }))).SecurityGroups ?? []).map((g) => g.GroupName).sort();
  try {
    const before = proxy.hold('CreateSecurityGroup', { region: 'us-east-1', phase: 'request' });
    let answered = false;
    const first = us.send(new CreateSecurityGroupCommand({ GroupName: 'held-1', Description: 'x' })).then((o) => ((answered = true), o));
    await before.reached;
    await new Promise((r) => setTimeout(r, 300));
    expect(answered).toBe(false);
    expect(await groups()).toEqual([]);
    before.release();
    expect((await first).GroupId).toMatch(/^sg-/);
    expect(await groups()).toEqual(['held-1']);

    const after = proxy.hold('CreateSecurityGroup', { region: 'us-east-1' });
    answered = false;
    const second = us.send(new CreateSecurityGroupCommand({ GroupName: 'held-2', Description: 'x' })).then((o) => ((answered = true), o));
    await after.reached;
    expect(await groups()).toEqual(['held-1', 'held-2']);
    await new Promise((r) => setTimeout(r, 300));
    expect(answered).toBe(false);
    after.release();
    expect((await second).GroupId).toMatch(/^sg-/);
    // A hold is used once: the next call goes through.
    await expect(us.send(new CreateSecurityGroupCommand({ GroupName: 'held-3', Description: 'x' }))).resolves.toBeDefined();
  } finally {
    us.destroy();
    direct.destroy();
  }
});

it('applies CopyImage\'s TagSpecifications to the copy before the caller hears of it, as EC2 does (moto drops them)', async () => {
  const east = sdk(moto, 'us-east-1');
  const west = sdk(moto, 'us-west-2', proxy.endpoint);
  const direct = sdk(moto, 'us-west-2');
  try {
    const source = (await east.send(new RegisterImageCommand({ Name: 'copy-tags-src', RootDeviceName: '/dev/xvda', Architecture: 'x86_64' }))).ImageId!;
    const held = proxy.hold('CopyImage', { region: 'us-west-2' });
    const copying = west.send(
      new CopyImageCommand({ SourceImageId: source, SourceRegion: 'us-east-1', Name: 'copy-tags', TagSpecifications: [{ ResourceType: 'image', Tags: [{ Key: 'hallmark:state', Value: 'pending' }] }] }),
    );
    await held.reached;
    const copies = (await direct.send(new DescribeImagesCommand({ Owners: ['self'], Filters: [{ Name: 'name', Values: ['copy-tags'] }] }))).Images ?? [];
    expect(copies.map((i) => i.Tags)).toEqual([[{ Key: 'hallmark:state', Value: 'pending' }]]);
    held.release();
    expect((await copying).ImageId).toBe(copies[0]!.ImageId);
  } finally {
    east.destroy();
    west.destroy();
    direct.destroy();
  }
});

it('pendCopies keeps copies pending in DescribeImages until enough copies were made, records when each showed available, and counts open requests', async () => {
  const east = sdk(moto, 'us-east-1');
  const via = (r: string) => sdk(moto, r, proxy.endpoint);
  const eu = via('eu-west-1');
  const ap = via('ap-southeast-2');
  const direct = sdk(moto, 'eu-west-1');
  const state = async (c: ReturnType<typeof sdk>, id: string) => (await c.send(new DescribeImagesCommand({ ImageIds: [id] }))).Images?.[0]?.State;
  try {
    proxy.copies.length = 0;
    proxy.pendCopies({ untilCopies: 2 });
    const source = (await east.send(new RegisterImageCommand({ Name: 'pend-src', RootDeviceName: '/dev/xvda', Architecture: 'x86_64' }))).ImageId!;
    const copy = (c: ReturnType<typeof sdk>) => c.send(new CopyImageCommand({ SourceImageId: source, SourceRegion: 'us-east-1', Name: 'pend' })).then((o) => o.ImageId!);
    const first = await copy(eu);
    expect(await state(eu, first)).toBe('pending');
    expect(await state(direct, first)).toBe('available'); // moto's own view: only the proxy's answers change
    expect(proxy.copies[0]).toMatchObject({ region: 'eu-west-1', imageId: first });
    expect(proxy.copies[0]!.shownAvailableSeq).toBeUndefined();
    const second = await copy(ap);
    expect(await state(eu, first)).toBe('available');
    expect(await state(ap, second)).toBe('available');
    const describes = proxy.calls.filter((c) => c.action === 'DescribeImages').map((c) => c.seq);
    expect(proxy.copies.map((c) => c.shownAvailableSeq)).toEqual(describes.slice(-2));
    expect(proxy.copies[1]!.seq).toBeLessThan(proxy.copies[0]!.shownAvailableSeq!);

    // Two CopyImage answers held at once: two open requests of that action, never more.
    proxy.pendCopies(undefined);
    const holds = ['eu-west-1', 'ap-southeast-2'].map((region) => proxy.hold('CopyImage', { region }));
    const both = Promise.all([copy(eu), copy(ap)]);
    await Promise.all(holds.map((h) => h.reached));
    expect(proxy.maxInFlight('CopyImage')).toBe(2);
    for (const h of holds) h.release();
    await both;
    expect(proxy.maxInFlight('CopyImage')).toBe(2);
  } finally {
    proxy.pendCopies(undefined);
    for (const c of [east, eu, ap, direct]) c.destroy();
  }
});

it('the registry loads the ec2 driver from its block', async () => {
  const d = await loadPlugin('driver', { name: 'ec2', region: 'eu-west-1', image_id: 'ami-0123456789abcdef0', endpoint: moto.endpoint });
  expect(d.machines).toBeInstanceOf(Ec2Driver);
  expect(d.capabilities).toEqual(['images', 'sharing', 'parameters', 'launchTemplates', 'deprecation', 'leftovers']);
  d.dispose();
});
