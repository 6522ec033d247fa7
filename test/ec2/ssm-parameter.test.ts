/**
 * publish.ssm_parameter in the ec2 driver against moto: the writes, what the
 * journal holds, and putting parameters back when a build does not pass. SSM
 * calls go through the fault proxy, which proves that the SSM clients use the
 * driver's endpoint (and lets a region fail); the checks read moto directly.
 */
import { DeleteParameterCommand, GetParameterCommand, GetParameterHistoryCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { EC2Client } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ImageRecord, ParameterRecord } from '../../src/kernel/journal.js';
import { Ec2Error } from '../../src/drivers/ec2/aws-errors.js';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { startMoto, type Moto } from '../helpers/moto.js';
import { fixture, registerImage, sdk, type Ec2Fixture } from './ec2-context.js';

const REGIONS = ['us-east-1', 'us-west-2', 'eu-west-1'];

let moto: Moto;
let proxy: FaultProxy;
const ec2: Record<string, EC2Client> = {};
const ssm: Record<string, SSMClient> = {};
let n = 0;

beforeAll(async () => {
  moto = await startMoto();
  proxy = await startFaultProxy(moto.endpoint);
  for (const r of REGIONS) {
    ec2[r] = sdk(moto, r);
    ssm[r] = new SSMClient({ region: r, endpoint: moto.endpoint, credentials: moto.credentials, maxAttempts: 1 });
  }
});

afterAll(async () => {
  for (const c of [...Object.values(ec2), ...Object.values(ssm)]) c.destroy();
  await proxy?.close();
  await moto?.stop();
});

beforeEach(() => {
  proxy.faults.length = 0;
  proxy.calls.length = 0;
});

/** One registered AMI per region, as a build's source image and copies. */
async function images(): Promise<ImageRecord[]> {
  const tag = `hm-ssm-${n++}`;
  return Promise.all(
    REGIONS.map(async (region, i) => ({ id: await registerImage(ec2[region]!, `${tag}-${region}`), region, name: tag, role: i === 0 ? ('source' as const) : ('copy' as const) })),
  );
}

/** The parameter as moto has it now, per region (undefined: absent). */
async function readAll(name: string): Promise<Record<string, { value?: string; version?: number; dataType?: string; type?: string } | undefined>> {
  const out: Record<string, { value?: string; version?: number; dataType?: string; type?: string } | undefined> = {};
  for (const r of REGIONS) {
    try {
      const p = (await ssm[r]!.send(new GetParameterCommand({ Name: name }))).Parameter!;
      out[r] = { value: p.Value, version: p.Version, dataType: p.DataType, type: p.Type };
    } catch (err) {
      if ((err as Error).name !== 'ParameterNotFound') throw err;
      out[r] = undefined;
    }
  }
  return out;
}

async function withDriver(options: Record<string, unknown>, fn: (f: Ec2Fixture) => Promise<void>): Promise<void> {
  const f = await fixture(proxy.endpoint, moto, options);
  try {
    await fn(f);
  } finally {
    await f.cleanup();
  }
}

describe('ec2 driver: publish.ssm_parameter against moto', () => {
  it('writes each region\'s AMI id to the parameter in that region (String, aws:ec2:image), journaled with what it replaced; a second publish overwrites', async () => {
    const name = '/hallmark-test/web/latest';
    const first = await images();
    const second = await images();
    await withDriver({}, async (f) => {
      const records = await f.driver.publish(f.ctx, first, { name });
      expect(records.map((r) => [r.region, r.value, r.version, r.previous])).toEqual(REGIONS.map((r, i) => [r, first[i]!.id, 1, null]));
      // The journal holds the same records, in the order the writes began (regions run in parallel).
      expect(f.ctx.journal.state.parameters).toHaveLength(3);
      expect(f.ctx.journal.state.parameters).toEqual(expect.arrayContaining(records));
      // Every SSM call went to the driver's endpoint (the proxy), each region's write signed for that region.
      for (const r of REGIONS) expect(proxy.forwarded('PutParameter', r), r).toBe(1);

      const now = await readAll(name);
      for (const [i, r] of REGIONS.entries()) expect(now[r], r).toEqual({ value: first[i]!.id, version: 1, dataType: 'aws:ec2:image', type: 'String' });

      const again = await f.driver.publish(f.ctx, second, { name });
      expect(again.map((r) => [r.region, r.value, r.version, r.previous?.value, r.previous?.version])).toEqual(
        REGIONS.map((r, i) => [r, second[i]!.id, 2, first[i]!.id, 1]),
      );
      const later = await readAll(name);
      for (const [i, r] of REGIONS.entries()) expect(later[r], r).toMatchObject({ value: second[i]!.id, version: 2 });
    });
  });

  it('throttled PutParameter is retried per call with the driver\'s retry settings: max_attempts 1 fails, the default succeeds with one version', async () => {
    const name = `/hallmark-test/throttle-${n}`;
    const imgs = await images();
    await withDriver({ max_attempts: 1 }, async (f) => {
      proxy.faults.push({ action: 'PutParameter', region: 'us-west-2', times: 1, code: 'ThrottlingException', status: 400, message: 'Rate exceeded' });
      const err = await f.driver.publish(f.ctx, imgs, { name }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Ec2Error);
      expect((err as Error).message).toMatch(/PutParameter .* in us-west-2 failed: ThrottlingException/);
      await f.driver.unpublish(f.ctx, f.ctx.journal.state.parameters ?? []);
    });
    expect(Object.values(await readAll(name))).toEqual([undefined, undefined, undefined]);

    await withDriver({}, async (f) => {
      proxy.faults.push({ action: 'PutParameter', times: 2, code: 'ThrottlingException', status: 400, message: 'Rate exceeded' });
      await f.driver.publish(f.ctx, imgs, { name });
      expect(proxy.injected('PutParameter', 'ThrottlingException')).toBe(3);
    });
    const now = await readAll(name);
    for (const [i, r] of REGIONS.entries()) expect(now[r], r).toMatchObject({ value: imgs[i]!.id, version: 1 });
  });

  it('a write failing in one region: the others stay journaled; unpublish puts back the previous value, deletes what the build created, and forgets them', async () => {
    const name = `/hallmark-test/rollback-${n}`;
    const before = await images();
    const build = await images();
    // us-east-1 had a previous version; us-west-2 and eu-west-1 had none.
    await ssm['us-east-1']!.send(new PutParameterCommand({ Name: name, Value: before[0]!.id, Type: 'String', DataType: 'aws:ec2:image' }));
    await withDriver({}, async (f) => {
      proxy.faults.push({ action: 'PutParameter', region: 'eu-west-1', code: 'AccessDeniedException', status: 400, message: 'not authorized to perform: ssm:PutParameter' });
      const err = await f.driver.publish(f.ctx, build, { name }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Ec2Error);
      expect((err as Ec2Error).region).toBe('eu-west-1');
      expect((err as Error).message).toContain(`PutParameter ${name} in eu-west-1 failed: AccessDeniedException`);

      const journaled = f.ctx.journal.state.parameters!;
      const byRegion = Object.fromEntries(journaled.map((r) => [r.region, r]));
      expect(byRegion['us-east-1']).toMatchObject({ value: build[0]!.id, version: 2, previous: { value: before[0]!.id, version: 1, dataType: 'aws:ec2:image' } });
      expect(byRegion['us-west-2']).toMatchObject({ value: build[1]!.id, version: 1, previous: null });
      // Recorded before the write, which never happened: no version.
      expect(byRegion['eu-west-1']).toEqual({ name, region: 'eu-west-1', value: build[2]!.id, previous: null });
      expect((await readAll(name))['us-west-2']).toMatchObject({ value: build[1]!.id });

      await f.driver.unpublish(f.ctx, journaled);
      expect(f.ctx.journal.state.parameters).toBeUndefined();
      // Idempotent: nothing left to do.
      await f.driver.unpublish(f.ctx, journaled);
    });
    const after = await readAll(name);
    expect(after['us-east-1']).toMatchObject({ value: before[0]!.id, version: 3, dataType: 'aws:ec2:image' });
    expect(after['us-west-2']).toBeUndefined();
    expect(after['eu-west-1']).toBeUndefined();
  });

  it('unpublish from the journal alone: a write whose version never came back is found by its value; a parameter written again since is left alone', async () => {
    const name = `/hallmark-test/crash-${n}`;
    const build = await images();
    const [east, west] = [build[0]!, build[1]!];
    // As a build killed right after PutParameter returned leaves it: value and previous, no version.
    await ssm['us-east-1']!.send(new PutParameterCommand({ Name: name, Value: 'ami-0000000000000000a', Type: 'String' }));
    await ssm['us-east-1']!.send(new PutParameterCommand({ Name: name, Value: east.id, Type: 'String', Overwrite: true }));
    // In us-west-2 the build wrote version 1, then someone else wrote version 2.
    await ssm['us-west-2']!.send(new PutParameterCommand({ Name: name, Value: west.id, Type: 'String' }));
    await ssm['us-west-2']!.send(new PutParameterCommand({ Name: name, Value: 'ami-0000000000000000b', Type: 'String', Overwrite: true }));
    const records: ParameterRecord[] = [
      { name, region: 'us-east-1', value: east.id, previous: { value: 'ami-0000000000000000a', version: 1, dataType: 'text' } },
      { name, region: 'us-west-2', value: west.id, version: 1, previous: null },
    ];
    await withDriver({}, async (f) => {
      for (const r of records) await f.ctx.journal.recordParameter(r);
      await f.driver.unpublish(f.ctx, records);
      expect(f.ctx.journal.state.parameters).toBeUndefined();
    });
    const after = await readAll(name);
    expect(after['us-east-1']).toMatchObject({ value: 'ami-0000000000000000a', version: 3 });
    expect(after['us-west-2']).toMatchObject({ value: 'ami-0000000000000000b', version: 2 });
    const history = await ssm['us-east-1']!.send(new GetParameterHistoryCommand({ Name: name }));
    expect(history.Parameters?.map((p) => p.Value)).toEqual(['ami-0000000000000000a', east.id, 'ami-0000000000000000a']);
  });

  it('prepare reports a parameter of another type (it would be clobbered) before anything is launched, and accepts an absent or String one', async () => {
    const base = await registerImage(ec2['us-east-1']!, `hm-ssm-prepare-${n++}`);
    const name = `/hallmark-test/prepare-${n}`;
    await ssm['us-west-2']!.send(new PutParameterCommand({ Name: name, Value: 'secret', Type: 'SecureString' }));
    await ssm['us-east-1']!.send(new PutParameterCommand({ Name: name, Value: base, Type: 'String' }));
    try {
      await withDriver({ image_id: base }, async (f) => {
        const err = await f.driver.prepare(f.ctx, { regions: ['us-west-2', 'eu-west-1'], parameterName: name }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(Ec2Error);
        expect((err as Error).message).toContain(`SSM parameter ${name} in us-west-2 is a SecureString`);
        expect((err as Error).message).not.toMatch(/in (us-east-1|eu-west-1) is/);
        await f.driver.prepare(f.ctx, { regions: ['eu-west-1'], parameterName: name });
      });
      expect((await readAll(name))['us-west-2']).toMatchObject({ type: 'SecureString', version: 1 });
    } finally {
      await ssm['us-west-2']!.send(new DeleteParameterCommand({ Name: name }));
    }
  });
});
