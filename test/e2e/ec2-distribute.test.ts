/**
 * `hallmark distribute AMI --from R --to R1,R2 --accounts A,B --endpoint URL`
 * (and --ssm-parameter, --launch-template) on an AMI that already exists
 * (made outside hallmark), through the CLI against moto; the AWS CLI checks
 * the copies and launch permissions.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  CreateImageCommand,
  CreateLaunchTemplateCommand,
  DescribeLaunchTemplatesCommand,
  DescribeLaunchTemplateVersionsCommand,
  EC2Client,
  RegisterImageCommand,
  RunInstancesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { startFaultProxy } from '../helpers/fault-proxy.js';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMoto, type Moto } from '../helpers/moto.js';
import { ACCOUNTS, aws, builtImages, hallmark, repoRoot, seedBaseImage, tagMap } from '../fixtures/ec2-e2e/project.js';

let moto: Moto;
let dir: string;

beforeAll(async () => {
  moto = await startMoto();
  dir = await mkdtemp(path.join(os.tmpdir(), 'hallmark-ec2-distribute-'));
});
afterAll(async () => {
  await moto?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** An AMI with a snapshot, made the way people make one by hand: from an instance. */
async function existingAmi(name = 'golden-by-hand-1'): Promise<string> {
  const client = new EC2Client({ region: 'us-east-1', endpoint: moto.endpoint, credentials: moto.credentials, maxAttempts: 1 });
  try {
    const base = await seedBaseImage(moto);
    const run = await client.send(new RunInstancesCommand({ ImageId: base, MinCount: 1, MaxCount: 1, InstanceType: 't3.micro' }));
    const instanceId = run.Instances![0]!.InstanceId!;
    const out = await client.send(new CreateImageCommand({ InstanceId: instanceId, Name: name }));
    await client.send(new TerminateInstancesCommand({ InstanceIds: [instanceId] }));
    return out.ImageId!;
  } finally {
    client.destroy();
  }
}

describe('hallmark distribute', () => {
  it('copies an existing AMI to two regions and shares every image with two accounts', async () => {
    const ami = await existingAmi();
    const env = { ...moto.env, CI: '1' };
    const r = await hallmark(dir, ['distribute', ami, '--from', 'us-east-1', '--to', 'us-west-2,eu-west-1', '--accounts', ACCOUNTS.join(','), '--endpoint', moto.endpoint], env, 120_000);
    expect(r.exitCode, r.all).toBe(0);

    for (const region of ['us-west-2', 'eu-west-1']) {
      const imgs = await builtImages(moto, region);
      expect(imgs, region).toHaveLength(1);
      const copy = imgs[0]!;
      expect(r.stdout).toContain(`${region}: ${copy.ImageId}`);
      expect(copy.Name).toBe('golden-by-hand-1');
      expect(tagMap(copy.Tags)).toMatchObject({ 'hallmark:source-image': `us-east-1/${ami}` });
    }
    for (const region of ['us-east-1', 'us-west-2', 'eu-west-1']) {
      const id = region === 'us-east-1' ? ami : (await builtImages(moto, region))[0]!.ImageId;
      const perms = await aws<{ LaunchPermissions: { UserId?: string }[] }>(moto, region, ['describe-image-attribute', '--image-id', id, '--attribute', 'launchPermission']);
      expect(perms.LaunchPermissions.map((p) => p.UserId).sort(), region).toEqual([...ACCOUNTS].sort());
    }
    // The source stays where it was, once.
    expect((await builtImages(moto, 'us-east-1')).map((i) => i.ImageId)).toEqual([ami]);
  }, 150_000);

  it('an unknown AMI: a clear error, non-zero exit, nothing copied', async () => {
    const r = await hallmark(dir, ['distribute', 'ami-0123456789abcdef0', '--from', 'us-east-1', '--to', 'us-west-2', '--endpoint', moto.endpoint], { ...moto.env, CI: '1' }, 120_000);
    expect(r.exitCode, r.all).not.toBe(0);
    expect(r.all).toContain('ami-0123456789abcdef0');
    expect((await builtImages(moto, 'us-west-2')).filter((i) => i.Name !== 'golden-by-hand-1')).toEqual([]);
    // The SDK's notice about Node versions (issue 14) stays out of hallmark's output.
    expect(r.all).not.toContain('NodeVersionSupportWarning');
  }, 150_000);

  // The control for the assertion above: under this Node the SDK itself does
  // print the notice when a client is made (it does so only below Node 22).
  it.skipIf(Number(process.versions.node.split('.')[0]) >= 22)('the AWS SDK alone prints its NodeVersionSupportWarning under this Node', async () => {
    const { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: _, ...env } = process.env;
    const r = await execa(process.execPath, ['--input-type=module', '-e', "import { EC2Client } from '@aws-sdk/client-ec2'; new EC2Client({ region: 'us-east-1' }).destroy();"], {
      cwd: repoRoot,
      env,
      extendEnv: false,
      reject: false,
    });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toContain('NodeVersionSupportWarning');
  });

  it('--ssm-parameter and --launch-template commit with the copies; a commit step failing after them puts the parameter and the templates back and removes the copies', async () => {
    const proxy = await startFaultProxy(moto.endpoint);
    const ec2 = (r: string) => new EC2Client({ region: r, endpoint: moto.endpoint, credentials: moto.credentials, maxAttempts: 1 });
    const ssm = (r: string) => new SSMClient({ region: r, endpoint: moto.endpoint, credentials: moto.credentials, maxAttempts: 1 });
    const [east, west] = [ec2('us-east-1'), ec2('eu-west-1')];
    try {
      const base = await seedBaseImage(moto);
      await east.send(new CreateLaunchTemplateCommand({ LaunchTemplateName: 'by-hand-fleet', LaunchTemplateData: { ImageId: base } }));
      const westBase = (await west.send(new RegisterImageCommand({ Name: 'west-base', RootDeviceName: '/dev/xvda' }))).ImageId!;
      const westLt = (await west.send(new CreateLaunchTemplateCommand({ LaunchTemplateName: 'by-hand-fleet', LaunchTemplateData: { ImageId: westBase } }))).LaunchTemplate!.LaunchTemplateId!;
      const defaultOf = async (c: EC2Client, name: string) => {
        const lt = (await c.send(new DescribeLaunchTemplatesCommand({ LaunchTemplateNames: [name] }))).LaunchTemplates![0]!;
        const v = (await c.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: lt.LaunchTemplateId!, Versions: ['$Default'] }))).LaunchTemplateVersions![0]!;
        return [v.VersionNumber, v.LaunchTemplateData?.ImageId];
      };
      const param = async (r: string) => {
        const c = ssm(r);
        try {
          return (await c.send(new GetParameterCommand({ Name: '/golden/by-hand' }))).Parameter!.Value;
        } finally {
          c.destroy();
        }
      };
      const env = { ...moto.env, CI: '1' };
      const args = (ami: string) => ['distribute', ami, '--from', 'us-east-1', '--to', 'eu-west-1', '--endpoint', proxy.endpoint, '--ssm-parameter', '/golden/by-hand', '--launch-template', 'by-hand-fleet', '--launch-template', `${westLt}@eu-west-1`];

      const ami = await existingAmi('golden-by-hand-2');
      const r = await hallmark(dir, args(ami), env, 120_000);
      expect(r.exitCode, r.all).toBe(0);
      const copy = (await builtImages(moto, 'eu-west-1')).find((i) => i.Name === 'golden-by-hand-2')!.ImageId;
      expect(await param('us-east-1')).toBe(ami);
      expect(await param('eu-west-1')).toBe(copy);
      expect(await defaultOf(east, 'by-hand-fleet')).toEqual([2, ami]);
      expect(await defaultOf(west, 'by-hand-fleet')).toEqual([2, copy]);
      expect(r.stdout).toContain(`launch template by-hand-fleet in us-east-1: version 2 = ${ami} (default)`);

      // The published tag is refused in us-east-1, after the parameter and the templates were written: everything of this run is undone.
      proxy.faults.push({ action: 'CreateTags', region: 'us-east-1', code: 'UnauthorizedOperation', status: 403, message: 'You are not authorized to perform: ec2:CreateTags' });
      const ami3 = await existingAmi('golden-by-hand-3');
      const f = await hallmark(dir, args(ami3), env, 120_000);
      expect(f.exitCode, f.all).toBe(4);
      expect(f.all).toContain('UnauthorizedOperation');
      expect(proxy.forwarded('PutParameter', 'eu-west-1')).toBe(3); // run 1, run 2, and run 2 put back
      expect((await builtImages(moto, 'eu-west-1')).filter((i) => i.Name === 'golden-by-hand-3')).toEqual([]);
      expect(await param('us-east-1')).toBe(ami);
      expect(await param('eu-west-1')).toBe(copy);
      expect(await defaultOf(east, 'by-hand-fleet')).toEqual([2, ami]);
      expect(await defaultOf(west, 'by-hand-fleet')).toEqual([2, copy]);
      expect(proxy.templateVersionDeletions.map((d) => [d.region, d.versions])).toEqual([['us-east-1', [3]], ['eu-west-1', [3]]]);
      // The AMI given stays: it was never this command's.
      expect((await builtImages(moto, 'us-east-1')).some((i) => i.ImageId === ami3)).toBe(true);
    } finally {
      east.destroy();
      west.destroy();
      await proxy.close();
    }
  }, 200_000);
});
