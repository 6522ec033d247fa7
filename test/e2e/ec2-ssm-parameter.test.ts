/**
 * `hallmark build` with publish.ssm_parameter, end to end through the CLI:
 * moto_server plays EC2 and SSM, a real sshd plays the machine. The
 * parameter is read back with the SDK and the AWS CLI straight from moto;
 * the builds go through the fault proxy where a region's write must fail.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { GetParameterCommand, GetParameterHistoryCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { commitActions } from '../../src/pipeline/commit.js';
import { renderReport } from '../helpers/report-browser.js';
import { startMoto, type Moto } from '../helpers/moto.js';
import { startSshd, type Sshd } from '../helpers/sshd.js';
import {
  builtImages,
  cliEnv,
  hallmark,
  INSTANCE,
  instances,
  makeProject,
  REGIONS,
  seedBaseImage,
  ssmCli,
  type Project,
} from '../fixtures/ec2-e2e/project.js';

/** The fixture's suite and platform fill the template: /golden-images/default/amazon2023/latest. */
const TEMPLATE = '/golden-images/{{suite}}/{{platform}}/latest';
const PARAM = '/golden-images/default/amazon2023/latest';

let sshd: Sshd;
let moto: Moto;
let project: Project | undefined;
let proxy: FaultProxy | undefined;
const ssm: Record<string, SSMClient> = {};

beforeAll(async () => {
  sshd = await startSshd();
});
afterAll(async () => {
  await sshd?.stop();
});
beforeEach(async () => {
  moto = await startMoto();
  await seedBaseImage(moto);
  for (const r of REGIONS) ssm[r] = new SSMClient({ region: r, endpoint: moto.endpoint, credentials: moto.credentials, maxAttempts: 1 });
});
afterEach(async () => {
  for (const c of Object.values(ssm)) c.destroy();
  await proxy?.close();
  proxy = undefined;
  await moto?.stop();
  await project?.cleanup();
  project = undefined;
});

interface Seen {
  value: string;
  version: number;
  dataType?: string;
}

/** The parameter in every region, through the SDK straight to moto (undefined: absent). */
async function parameterNow(name = PARAM): Promise<Record<string, Seen | undefined>> {
  const entries = await Promise.all(
    REGIONS.map(async (r) => {
      try {
        const p = (await ssm[r]!.send(new GetParameterCommand({ Name: name }))).Parameter!;
        return [r, { value: p.Value!, version: p.Version!, dataType: p.DataType }] as const;
      } catch (err) {
        if ((err as Error).name !== 'ParameterNotFound') throw err;
        return [r, undefined] as const;
      }
    }),
  );
  return Object.fromEntries(entries);
}

/** The AMI of this build in each region, from the AWS CLI's describe-images (named by the build's prefix). */
async function amisNamed(prefix: string): Promise<Record<string, string>> {
  const entries = await Promise.all(
    REGIONS.map(async (r) => {
      const imgs = (await builtImages(moto, r)).filter((i) => i.Name === `${prefix}-amazon2023-img`);
      expect(imgs, r).toHaveLength(1);
      return [r, imgs[0]!.ImageId] as const;
    }),
  );
  return Object.fromEntries(entries);
}

async function manifestBuild(dir: string) {
  const m = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8'));
  return m.builds[0];
}

describe('hallmark build with publish.ssm_parameter (ec2 driver against moto)', () => {
  it('writes each region\'s AMI id to the parameter in that region; a second build overwrites it as version 2', async () => {
    project = await makeProject({ ssmParameter: TEMPLATE });
    const r1 = await hallmark(project.dir, ['build'], cliEnv(moto, sshd, moto.endpoint, 'e2e-ssm-one', project.dir));
    expect(r1.exitCode, r1.all).toBe(0);
    const first = await amisNamed('e2e-ssm-one');
    expect(new Set(Object.values(first)).size).toBe(3);

    const now1 = await parameterNow();
    for (const r of REGIONS) expect(now1[r], r).toEqual({ value: first[r], version: 1, dataType: 'aws:ec2:image' });
    // The AWS CLI, the independent witness, sees the same.
    const cli = await Promise.all(REGIONS.map((r) => ssmCli<{ Parameter: { Value: string; Version: number; Type: string } }>(moto, r, ['get-parameter', '--name', PARAM])));
    expect(cli.map((c) => [c.Parameter.Value, c.Parameter.Version, c.Parameter.Type])).toEqual(REGIONS.map((r) => [first[r], 1, 'String']));

    const b1 = await manifestBuild(project.dir);
    expect(b1.instance).toBe(INSTANCE);
    expect(b1.ssmParameter).toEqual({
      name: PARAM,
      regions: Object.fromEntries(REGIONS.map((r) => [r, { version: 1, value: first[r], previousVersion: null }])),
    });
    expect(Object.keys(b1.timings)).not.toContain('publish'); // the parameter is written by the build's commit, not by the instance
    // Published: nothing left in the state journal for `hallmark cleanup` to undo.
    const state = JSON.parse(await readFile(path.join(project.dir, '.hallmark', `${INSTANCE}.json`), 'utf8'));
    expect(state.parameters).toBeUndefined();
    expect(state.images).toEqual([]);

    const r2 = await hallmark(project.dir, ['build'], cliEnv(moto, sshd, moto.endpoint, 'e2e-ssm-two', project.dir));
    expect(r2.exitCode, r2.all).toBe(0);
    const second = await amisNamed('e2e-ssm-two');
    const now2 = await parameterNow();
    for (const r of REGIONS) {
      expect(second[r], r).not.toBe(first[r]);
      expect(now2[r], r).toEqual({ value: second[r], version: 2, dataType: 'aws:ec2:image' });
      const history = await ssm[r]!.send(new GetParameterHistoryCommand({ Name: PARAM }));
      expect(history.Parameters?.map((p) => [p.Version, p.Value]), r).toEqual([
        [1, first[r]],
        [2, second[r]],
      ]);
    }
    const b2 = await manifestBuild(project.dir);
    expect(b2.ssmParameter.regions).toEqual(Object.fromEntries(REGIONS.map((r) => [r, { version: 2, value: second[r], previousVersion: 1 }])));

    // The HTML report of the second build, as a browser shows it: what moto holds, what the manifest says.
    expect(r2.stdout).toContain('report: report.html');
    const page = await renderReport(path.join(project.dir, 'report.html'), 'ec2-build-published');
    expect(page.problems).toEqual([]);
    expect(page.result).toBe('PASSED');
    expect(page.facts['build id']).toBe(b2.buildId);
    expect(page.facts.hallmark).toMatch(/^\d+\.\d+\.\d+/);
    expect(page.summary).toEqual([[INSTANCE, 'ok', String(b2.verification.summary.passed), '0', '0', String(b2.verification.summary.skipped)]]);
    expect(page.images.map((i) => [i.role, i.region, i.id])).toEqual(REGIONS.map((r, k) => [k === 0 ? 'source' : 'copy', r, second[r]]));
    expect(page.sharing[INSTANCE]).toBe('account 111122223333, account 444455556666');
    expect(page.parameters).toEqual(REGIONS.map((r) => ({ instance: INSTANCE, name: PARAM, region: r, value: second[r], version: '2' })));
    const facts = page.instanceFacts[INSTANCE]!;
    expect(facts['verification digest (verify)']).toBe(b2.verification.digest);
    expect(facts['config digest']).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(facts['base image']).toContain('hallmark-e2e-base-*');
    expect(page.checks.length).toBe(b2.verification.summary.total);
    // every step of the instance and the build's commit on the timeline, in order
    const steps = page.spans.filter((s) => s.startsWith(`${INSTANCE} `)).map((s) => s.split(' ').slice(1).join(' '));
    expect(steps).toEqual(['load ok', 'prepare ok', 'create ok', 'converge ok', 'setup ok', 'verify ok', 'capture ok', 'boot-test skipped', 'distribute ok']);
    // the build's commit: every commit action that does something, in its order
    const commitSteps = commitActions().filter((a) => a.do).map((a) => a.name);
    expect(commitSteps).toEqual(expect.arrayContaining(['share', 'ssm-parameter', 'tag-published', 'outputs']));
    expect(page.spans.filter((s) => s.startsWith('commit ')).map((s) => s.split(' ').at(-2))).toEqual(commitSteps);
  }, 300_000);

  it('a failing check: exit 3, the parameter untouched in every region, no image and no outputs', async () => {
    project = await makeProject({ ssmParameter: TEMPLATE, failingCheck: true });
    // As the last good build left it: version 1 with that build's AMI per region.
    const good: Record<string, string> = { 'us-east-1': 'ami-0aaaaaaaaaaaaaaa1', 'us-west-2': 'ami-0aaaaaaaaaaaaaaa2', 'eu-west-1': 'ami-0aaaaaaaaaaaaaaa3' };
    for (const r of REGIONS) await ssm[r]!.send(new PutParameterCommand({ Name: PARAM, Value: good[r], Type: 'String', DataType: 'aws:ec2:image' }));
    const r = await hallmark(project.dir, ['build'], cliEnv(moto, sshd, moto.endpoint, 'e2e-ssm-fail', project.dir));
    expect(r.exitCode, r.all).toBe(3);
    expect(r.all).toContain('never-written');
    const now = await parameterNow();
    for (const region of REGIONS) {
      expect(now[region], region).toEqual({ value: good[region], version: 1, dataType: 'aws:ec2:image' });
      expect(await builtImages(moto, region), region).toEqual([]);
    }
    for (const f of ['env.properties', 'manifest.json', 'junit.xml']) expect(existsSync(path.join(project.dir, f)), f).toBe(false);

    // The report is written all the same: the failed check first, no image, nothing published.
    const page = await renderReport(path.join(project.dir, 'report.html'), 'ec2-build-failed-check');
    expect(page.problems).toEqual([]);
    expect(page.result).toBe('FAILED');
    expect(page.checks[0]).toMatchObject({ status: 'fail', id: expect.stringContaining('never-written'), visible: true });
    expect(page.checks.slice(1).every((c) => c.status !== 'fail')).toBe(true);
    expect(page.summary[0]!.slice(0, 2)).toEqual([INSTANCE, 'failed']);
    expect(page.images).toEqual([]);
    expect(page.parameters).toEqual([]);
    expect(page.facts.outputs).toBe('none (nothing was published)');
    expect(page.spans).toContain(`${INSTANCE} verify failed`);
  }, 180_000);

  it('PutParameter denied in one region: exit 4, the regions already written put back, every image of the build removed, no outputs', async () => {
    project = await makeProject({ ssmParameter: TEMPLATE });
    proxy = await startFaultProxy(moto.endpoint);
    proxy.faults.push({ action: 'PutParameter', region: 'eu-west-1', code: 'AccessDeniedException', status: 400, message: 'not authorized to perform: ssm:PutParameter' });
    // us-east-1 had a parameter; the other regions had none.
    await ssm['us-east-1']!.send(new PutParameterCommand({ Name: PARAM, Value: 'ami-0bbbbbbbbbbbbbbb1', Type: 'String', DataType: 'aws:ec2:image' }));
    const r = await hallmark(project.dir, ['build'], cliEnv(moto, sshd, proxy.endpoint, 'e2e-ssm-denied', project.dir));
    expect(r.exitCode, r.all).toBe(4);
    expect(r.all).toMatch(/PutParameter \/golden-images\/default\/amazon2023\/latest in eu-west-1 failed: AccessDeniedException/);
    // The other two regions were written, then put back, before the images went.
    expect(proxy.forwarded('PutParameter', 'us-east-1')).toBe(2);
    expect(proxy.forwarded('PutParameter', 'us-west-2')).toBe(1);
    expect(proxy.forwarded('DeleteParameter', 'us-west-2')).toBe(1);
    expect(proxy.forwarded('PutParameter', 'eu-west-1')).toBe(0);

    const now = await parameterNow();
    expect(now['us-east-1']).toEqual({ value: 'ami-0bbbbbbbbbbbbbbb1', version: 3, dataType: 'aws:ec2:image' });
    expect(now['us-west-2']).toBeUndefined();
    expect(now['eu-west-1']).toBeUndefined();
    for (const region of REGIONS) expect(await builtImages(moto, region), region).toEqual([]);
    for (const f of ['env.properties', 'manifest.json', 'junit.xml']) expect(existsSync(path.join(project.dir, f)), f).toBe(false);
    const state = JSON.parse(await readFile(path.join(project.dir, '.hallmark', `${INSTANCE}.json`), 'utf8'));
    expect(state.parameters).toBeUndefined();
    expect(state.images).toEqual([]);
  }, 180_000);

  it('two instances of one build that would write the same parameter in the same region: exit 2 before anything is launched', async () => {
    project = await makeProject({
      ssmParameter: '/golden-images/web/latest',
      edit: (yml) => yml.replace(/^platforms:\n {2}- name: amazon2023\n/m, 'platforms:\n  - name: amazon2023\n  - name: amazon2023-arm\n'),
    });
    const r = await hallmark(project.dir, ['build'], cliEnv(moto, sshd, moto.endpoint, 'e2e-ssm-shared', project.dir));
    expect(r.exitCode, r.all).toBe(2);
    expect(r.all).toContain('instances default-amazon2023 and default-amazon2023-arm would both write SSM parameter /golden-images/web/latest in us-east-1');
    expect(r.all).toContain('{{instance}}');
    for (const region of REGIONS) expect(await instances(moto, region), region).toEqual([]);
    expect((await parameterNow('/golden-images/web/latest'))['us-east-1']).toBeUndefined();
  }, 60_000);
});
