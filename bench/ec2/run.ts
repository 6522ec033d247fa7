/**
 * Benchmark: copying an AMI to 1 region vs K regions through the ec2 driver's
 * distribute (the code a build runs), against moto_server behind the fault
 * proxy, which keeps each copy `pending` for a fixed time after its CopyImage
 * answered (a real copy takes minutes; moto's is available at once). Prints
 * the wall time of each, the ratio K/1, and the API calls the driver counted.
 *
 * Runs: 1 region; K regions with distribute.concurrency >= K (the default 4);
 * K regions with concurrency 1 (each copy starts once the one before has
 * started, not finished: still about one copy time). Before copies started
 * side by side, a concurrency below K took ceil(K/concurrency) copy times.
 *
 *   npx tsc -p tsconfig.json --outDir /tmp/hm-bench && node /tmp/hm-bench/bench/ec2/run.js [--copy-ms 3000] [--regions 4]
 *
 * Starts one moto_server and one proxy on loopback ports and stops both.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DescribeImagesCommand, EC2Client, RunInstancesCommand, CreateImageCommand, RegisterImageCommand } from '@aws-sdk/client-ec2';
import { Ec2Driver } from '../../src/drivers/ec2/ec2-driver.js';
import { ec2Schema } from '../../src/drivers/ec2/schema.js';
import { silentLogger } from '../../src/kernel/events.js';
import { Journal } from '../../src/kernel/journal.js';
import type { ImageRecord } from '../../src/kernel/journal.js';
import { instanceConfig } from '../../test/ec2/ec2-context.js';
import { startFaultProxy } from '../../test/helpers/fault-proxy.js';
import { startMoto } from '../../test/helpers/moto.js';

const arg = (name: string, d: number) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : d;
};
const copyMs = arg('--copy-ms', 3000);
const k = arg('--regions', 4);
const ALL = ['eu-west-1', 'us-west-2', 'ap-southeast-2', 'eu-central-1', 'ap-northeast-1', 'sa-east-1', 'ca-central-1', 'eu-north-1'];

async function main(): Promise<void> {
  if (k > ALL.length) throw new Error(`--regions at most ${ALL.length}`);
  const moto = await startMoto();
  const proxy = await startFaultProxy(moto.endpoint);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hallmark-bench-ec2-'));
  const east = new EC2Client({ region: 'us-east-1', endpoint: moto.endpoint, credentials: moto.credentials, maxAttempts: 1 });
  try {
    const base = (await east.send(new RegisterImageCommand({ Name: 'bench-base', RootDeviceName: '/dev/xvda', Architecture: 'x86_64' }))).ImageId!;
    const run = await east.send(new RunInstancesCommand({ ImageId: base, MinCount: 1, MaxCount: 1, InstanceType: 't3.micro' }));
    proxy.pendCopies({ delayMs: copyMs });

    const distribute = async (label: string, regions: string[], concurrency: number) => {
      const name = `bench-${label.replace(/\W+/g, '-')}`;
      const id = (await east.send(new CreateImageCommand({ InstanceId: run.Instances![0]!.InstanceId!, Name: name }))).ImageId!;
      const img = (await east.send(new DescribeImagesCommand({ ImageIds: [id] }))).Images![0]!;
      const source: ImageRecord = { id, region: 'us-east-1', name, role: 'source', snapshots: img.BlockDeviceMappings!.map((b) => b.Ebs!.SnapshotId!) };
      const inst = instanceConfig(dir, `default-${label.replace(/\W+/g, '-')}`);
      const journal = await Journal.open(path.join(dir, '.hallmark'), inst.name);
      // delay: the copy waits poll every 0.5 s, as `delay:` in a config would (default 15 s).
      const driver = new Ec2Driver(ec2Schema().parse({ name: 'ec2', region: 'us-east-1', endpoint: proxy.endpoint, delay: 0.5 }), { credentials: moto.credentials });
      const ctx = { instance: inst, journal, log: silentLogger, signal: new AbortController().signal, buildId: `bench-${Date.now().toString(36)}`, stateDir: path.join(dir, '.hallmark') };
      const t0 = Date.now();
      const copies = await driver.distribute(ctx, source, { regions, concurrency, kmsKeyIds: {}, tags: {}, targets: [], format: 'qcow2' });
      const ms = Date.now() - t0;
      const calls = driver.apiCalls.summary().total;
      driver.dispose();
      if (copies.length !== regions.length) throw new Error(`${label}: ${copies.length} copies for ${regions.length} regions`);
      return { label, ms, calls };
    };

    const rows = [
      await distribute('1 region', ALL.slice(0, 1), 4),
      await distribute(`${k} regions, concurrency ${Math.max(4, k)}`, ALL.slice(0, k), Math.max(4, k)),
      await distribute(`${k} regions, concurrency 1`, ALL.slice(0, k), 1),
    ];
    const one = rows[0]!.ms;
    const load = os.loadavg().map((l) => l.toFixed(1)).join(' ');
    process.stdout.write(`ec2 distribute: each copy pending ${(copyMs / 1000).toFixed(1)} s after CopyImage (fault proxy), polls every 0.5 s; load ${load}, ${os.cpus().length} cores\n`);
    for (const r of rows) {
      process.stdout.write(
        `  ${r.label.padEnd(28)} ${(r.ms / 1000).toFixed(2).padStart(6)} s   ${(r.ms / one).toFixed(2)}x one region   ${r.calls.calls} calls, ${r.calls.requests} requests\n`,
      );
    }
    process.stdout.write(`  copies one after another would take about ${((k * copyMs) / 1000).toFixed(1)} s for ${k} regions\n`);
  } finally {
    east.destroy();
    await proxy.close();
    await moto.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
