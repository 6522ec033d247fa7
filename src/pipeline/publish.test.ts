import { afterAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { InstanceConfig } from '../config/types.js';
import type { VerifyReport } from '../verifiers/verifier.js';
import { ApiCallLedger } from '../drivers/api-calls.js';
import { envKey, envProperties, manifest, writeOutputs, type BuildOutcome } from './publish.js';

function instance(name: string, publish: Partial<InstanceConfig['publish']> = {}): InstanceConfig {
  const [suite, ...rest] = name.split('-');
  return {
    name,
    suite: suite!,
    platform: rest.join('-'),
    driver: { name: 'ec2' },
    transport: { name: 'ssh' },
    provisioner: { name: 'shell' },
    verifier: { name: 'spec' },
    image: { name: '{{instance}}', tags: {}, boot_test: false },
    distribute: { regions: [], accounts: [], organization_arns: [], ou_arns: [], share_snapshots: false, atomic: true, concurrency: 2, kms_key_ids: {}, targets: [], format: 'qcow2' },
    publish: { env_properties: 'env.properties', manifest: 'manifest.json', junit: 'junit.xml', ci_outputs: false, ...publish },
    file: '/p/hallmark.yml',
    projectDir: '/p',
  };
}

const report = (name: string): VerifyReport => ({
  instance: name,
  verifier: 'spec',
  durationMs: 5,
  results: [
    { id: 'package:nginx:installed', resourceType: 'package', resource: 'nginx', property: 'installed', title: 'nginx is installed', expected: 'true', found: 'true', status: 'pass', durationMs: 1 },
  ],
});

function outcome(name: string, id: string, region?: string, copies: [string, string][] = []): BuildOutcome {
  return {
    instance: instance(name),
    buildId: '20260101000000-abcdef',
    imageName: `img-${name}`,
    image: { id, region, role: 'source' },
    copies: copies.map(([cid, r]) => ({ id: cid, region: r, role: 'copy' })),
    report: report(name),
    timings: { create: 10 },
    ok: true,
  };
}

const parse = (text: string) => Object.fromEntries(text.trim().split('\n').map((l) => l.split('=') as [string, string]));

describe('envProperties', () => {
  it('envKey upper-cases and replaces non-alphanumerics', () => {
    expect(envKey('web-debian-12')).toBe('WEB_DEBIAN_12');
    expect(envKey('us-east-1')).toBe('US_EAST_1');
    expect(envKey('-a.b-')).toBe('A_B');
  });

  it('one instance: IMAGE_ID, IMAGE_NAME, per-instance and per-region keys', () => {
    const env = parse(envProperties([outcome('web-debian-12', 'ami-1', 'us-east-1', [['ami-2', 'eu-west-1']])]));
    expect(env).toEqual({
      IMAGE_ID: 'ami-1',
      IMAGE_ID_WEB_DEBIAN_12: 'ami-1',
      IMAGE_NAME: 'img-web-debian-12',
      IMAGE_ID_US_EAST_1: 'ami-1',
      IMAGE_ID_EU_WEST_1: 'ami-2',
      BUILD_ID: '20260101000000-abcdef',
    });
  });

  it('one local image without region: no region keys', () => {
    const env = parse(envProperties([outcome('web-debian-12', 'local:abc')]));
    expect(Object.keys(env).sort()).toEqual(['BUILD_ID', 'IMAGE_ID', 'IMAGE_ID_WEB_DEBIAN_12', 'IMAGE_NAME']);
  });

  it('several instances: no bare IMAGE_ID; copies keyed by instance and region', () => {
    const env = parse(
      envProperties([outcome('web-debian-12', 'ami-1', 'us-east-1', [['ami-2', 'eu-west-1']]), outcome('db-debian-12', 'ami-3', 'us-east-1')]),
    );
    expect(env).toEqual({
      IMAGE_ID_WEB_DEBIAN_12: 'ami-1',
      IMAGE_ID_WEB_DEBIAN_12_EU_WEST_1: 'ami-2',
      IMAGE_ID_DB_DEBIAN_12: 'ami-3',
      BUILD_ID: '20260101000000-abcdef',
    });
  });
});

describe('manifest', () => {
  it('has one build entry per instance with image, copies, verification digest and summary', () => {
    const m = manifest([outcome('web-debian-12', 'ami-1', 'us-east-1', [['ami-2', 'eu-west-1']])], { 'web-debian-12': { extra: 1 } });
    expect(m.schema).toBe('hallmark.manifest/v1');
    expect(Number.isNaN(Date.parse(m.generatedAt))).toBe(false);
    expect(m.builds).toHaveLength(1);
    const b = m.builds[0]!;
    expect(b).toMatchObject({
      instance: 'web-debian-12',
      suite: 'web',
      platform: 'debian-12',
      driver: 'ec2',
      buildId: '20260101000000-abcdef',
      imageName: 'img-web-debian-12',
      image: { id: 'ami-1', region: 'us-east-1', role: 'source' },
      copies: [{ id: 'ami-2', region: 'eu-west-1', role: 'copy' }],
      timings: { create: 10 },
      extra: 1,
    });
    expect(b.verification?.digest).toMatch(/\S{16,}/);
    expect(b.verification?.summary).toMatchObject({ total: 1, passed: 1 });
  });
});

describe('manifest apiCalls', () => {
  it('lists each build\'s calls (its machine\'s and boot test\'s ledgers together) and their sum over the builds at the top, as counted when it is written', () => {
    const machine = new ApiCallLedger();
    const bootTest = new ApiCallLedger();
    const other = new ApiCallLedger();
    const count = (l: ApiCallLedger, region: string, action: string, throttled = false) => {
      l.call('ec2', region, action);
      l.request('ec2', region, action, { retry: false, throttled });
      if (throttled) l.request('ec2', region, action, { retry: true, throttled: false });
    };
    count(machine, 'us-east-1', 'RunInstances');
    count(machine, 'eu-west-1', 'CopyImage', true);
    count(bootTest, 'us-east-1', 'RunInstances');
    count(other, 'us-east-1', 'RunInstances');
    const withCalls = { ...outcome('web-a', 'ami-1', 'us-east-1'), apiCalls: [machine, bootTest] };
    const m = manifest([withCalls, { ...outcome('web-b', 'ami-2', 'us-east-1'), apiCalls: [other] }, outcome('web-c', 'ami-3')]);
    count(machine, 'us-east-1', 'DeregisterImage'); // after the manifest was made: not in it
    expect(m.builds[0]!.apiCalls).toEqual({
      total: { calls: 3, requests: 4, retries: 1, throttled: 1, failed: 0 },
      byAction: [
        { service: 'ec2', region: 'eu-west-1', action: 'CopyImage', calls: 1, requests: 2, retries: 1, throttled: 1, failed: 0 },
        { service: 'ec2', region: 'us-east-1', action: 'RunInstances', calls: 2, requests: 2, retries: 0, throttled: 0, failed: 0 },
      ],
    });
    expect(m.builds[2]).not.toHaveProperty('apiCalls');
    expect(m.apiCalls?.total).toEqual({ calls: 4, requests: 5, retries: 1, throttled: 1, failed: 0 });
    expect(m.apiCalls?.byAction.find((c) => c.action === 'RunInstances')?.calls).toBe(3);
    expect(JSON.parse(JSON.stringify(m)).apiCalls).toEqual(m.apiCalls);
    // No driver counted: no apiCalls at all.
    expect(manifest([outcome('web-c', 'ami-3')])).not.toHaveProperty('apiCalls');
  });
});

describe('writeOutputs', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('writes the enabled files in the project dir, and skips disabled ones', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'hallmark-publish-'));
    dirs.push(dir);
    const o = outcome('web-debian-12', 'ami-1', 'us-east-1');
    o.instance = instance('web-debian-12', { junit: false, manifest: 'out/manifest.json' });
    const written = await writeOutputs(dir, [o]);
    expect(written).toEqual([path.join(dir, 'out/manifest.json'), path.join(dir, 'env.properties')]);
    expect((await readdir(dir)).sort()).toEqual(['env.properties', 'out']);
    expect(await readFile(path.join(dir, 'env.properties'), 'utf8')).toContain('IMAGE_ID=ami-1\n');
    expect(JSON.parse(await readFile(path.join(dir, 'out/manifest.json'), 'utf8')).builds[0].image.id).toBe('ami-1');
  });
});
