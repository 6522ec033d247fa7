import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CreateImageCommand, EC2Client, RegisterImageCommand, RunInstancesCommand } from '@aws-sdk/client-ec2';
import type { InstanceConfig } from '../../src/config/types.js';
import { silentLogger, type Logger } from '../../src/kernel/events.js';
import { Journal } from '../../src/kernel/journal.js';
import type { DriverContext } from '../../src/drivers/driver.js';
import { Ec2Driver } from '../../src/drivers/ec2/ec2-driver.js';
import { ec2Schema } from '../../src/drivers/ec2/schema.js';
import type { Moto } from '../helpers/moto.js';

/** Test scaffolding for the ec2 driver against moto: a project dir, a journal, a context. */
export interface Ec2Fixture {
  dir: string;
  ctx: DriverContext;
  driver: Ec2Driver;
  cleanup(): Promise<void>;
}

export function instanceConfig(dir: string, name = 'default-amazon2023', over: Partial<InstanceConfig> = {}): InstanceConfig {
  return {
    name,
    suite: 'default',
    platform: name.replace(/^default-/, ''),
    driver: { name: 'ec2' },
    transport: { name: 'ssh' },
    provisioner: { name: 'shell' },
    verifier: { name: 'spec' },
    image: { name: 'img', tags: {}, boot_test: false },
    distribute: {
      regions: [],
      accounts: [],
      organization_arns: [],
      ou_arns: [],
      share_snapshots: false,
      atomic: true,
      concurrency: 4,
      kms_key_ids: {},
      targets: [],
      format: 'qcow2',
    },
    publish: { env_properties: false, manifest: false, junit: false, ci_outputs: false },
    file: path.join(dir, 'hallmark.yml'),
    projectDir: dir,
    ...over,
  };
}

export async function fixture(
  endpoint: string,
  moto: Moto,
  options: Record<string, unknown>,
  opts: { instance?: string; buildId?: string; signal?: AbortSignal; log?: Logger; dir?: string; distribute?: Partial<InstanceConfig['distribute']> } = {},
): Promise<Ec2Fixture> {
  const dir = opts.dir ?? (await mkdtemp(path.join(os.tmpdir(), 'hallmark-ec2-')));
  const stateDir = path.join(dir, '.hallmark');
  const inst = instanceConfig(dir, opts.instance);
  inst.distribute = { ...inst.distribute, ...opts.distribute };
  const journal = await Journal.open(stateDir, inst.name);
  const parsed = ec2Schema().parse({ name: 'ec2', region: 'us-east-1', endpoint, delay: 0.05, retryable_sleep: 0.05, ...options });
  const driver = new Ec2Driver(parsed, { credentials: moto.credentials });
  const ctx: DriverContext = {
    instance: inst,
    journal,
    log: opts.log ?? silentLogger,
    signal: opts.signal ?? new AbortController().signal,
    buildId: opts.buildId ?? `b${Date.now().toString(36)}`,
    stateDir,
  };
  return {
    dir,
    ctx,
    driver,
    cleanup: async () => {
      driver.dispose();
      if (!opts.dir) await rm(dir, { recursive: true, force: true });
    },
  };
}

export function sdk(moto: Moto, region: string, endpoint = moto.endpoint): EC2Client {
  return new EC2Client({ region, endpoint, credentials: moto.credentials, maxAttempts: 1 });
}

/** Registers a base image with a name (moto keeps CreationDate with 1 s resolution). */
export async function registerImage(client: EC2Client, name: string): Promise<string> {
  const out = await client.send(new RegisterImageCommand({ Name: name, RootDeviceName: '/dev/xvda', Architecture: 'x86_64' }));
  return out.ImageId!;
}

/** An image with a snapshot, made the way a build makes one: from an instance. */
export async function imageWithSnapshot(client: EC2Client, baseImage: string, name: string): Promise<string> {
  const run = await client.send(new RunInstancesCommand({ ImageId: baseImage, MinCount: 1, MaxCount: 1, InstanceType: 't3.micro' }));
  const out = await client.send(new CreateImageCommand({ InstanceId: run.Instances![0]!.InstanceId!, Name: name }));
  return out.ImageId!;
}
