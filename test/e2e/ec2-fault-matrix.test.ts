/**
 * The fault matrix: `hallmark build` (ec2, moto behind the fault proxy) is
 * killed with SIGKILL at each EC2 step, while the proxy holds that step's
 * answer — the resource exists, and the killed hallmark never learnt its id:
 * after RunInstances, after CreateImage, during CopyImage, during sharing
 * (ModifyImageAttribute). Then either (a) `hallmark cleanup` with the journal,
 * or (b) `hallmark cleanup --orphans --older-than 0s` with `.hallmark/`
 * deleted. Either way nothing is left in any region: no running instance, key
 * pair, security group, image or snapshot — checked straight against moto,
 * never through hallmark's code.
 */
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { startMoto, type Moto } from '../helpers/moto.js';
import { startSshd, type Sshd } from '../helpers/sshd.js';
import { BIN, builtImages, cliEnv, hallmark, instances, leftovers, makeProject, REGIONS, seedBaseImage, snapshots, type Project } from '../fixtures/ec2-e2e/project.js';

let sshd: Sshd;
let moto: Moto | undefined;
let proxy: FaultProxy | undefined;
let project: Project | undefined;

beforeAll(async () => {
  sshd = await startSshd();
});
afterAll(async () => {
  await sshd?.stop();
});
afterEach(async () => {
  await proxy?.close();
  await moto?.stop();
  await project?.cleanup();
  proxy = moto = project = undefined;
});

const STEPS = [
  { step: 'after RunInstances', action: 'RunInstances', region: 'us-east-1' },
  { step: 'after CreateImage', action: 'CreateImage', region: 'us-east-1' },
  { step: 'during CopyImage', action: 'CopyImage', region: 'eu-west-1' },
  { step: 'during sharing', action: 'ModifyImageAttribute', region: undefined },
] as const;

async function expectNothingLeft(m: Moto, snapshotsBefore: Record<string, string[]>) {
  // One region after the other: parallel first uses of regions have made moto answer 500 under load.
  for (const region of REGIONS) {
    expect(await builtImages(m, region), region).toEqual([]);
    // moto's own seeded snapshots are there before any build.
    expect(await snapshots(m, region), region).toEqual(snapshotsBefore[region]);
    expect(await leftovers(m, region), region).toEqual({ keys: [], groups: [] });
    for (const i of await instances(m, region)) expect(i.State.Name, `${region} ${i.InstanceId}`).toBe('terminated');
  }
}

describe.each(STEPS)('SIGKILL $step', ({ step, action, region }) => {
  for (const how of ['cleanup', 'cleanup --orphans'] as const) {
    it(`then \`hallmark ${how}\`${how === 'cleanup' ? ' with the journal' : ' --older-than 0s with .hallmark/ deleted'}: nothing left in any region`, async () => {
      moto = await startMoto();
      await seedBaseImage(moto);
      proxy = await startFaultProxy(moto.endpoint);
      project = await makeProject();
      const snapshotsBefore: Record<string, string[]> = {};
      for (const r of REGIONS) snapshotsBefore[r] = await snapshots(moto, r);
      const env = cliEnv(moto, sshd, proxy.endpoint, 'e2e-matrix', project.dir);
      const held = proxy.hold(action, { region });
      const child = execa(BIN, ['build'], { cwd: project.dir, env, extendEnv: true, reject: false, all: true, timeout: 240_000 });
      const reached = await Promise.race([held.reached.then(() => true), child.then(() => false)]);
      child.kill('SIGKILL');
      const r = await child;
      held.release();
      expect(reached, `the build ended before ${action} was held:\n${r.all}`).toBe(true);
      expect(r.signal).toBe('SIGKILL');
      // The step happened: something is there to clean.
      const made = (await instances(moto, 'us-east-1')).filter((i) => i.State.Name !== 'terminated').length + (await builtImages(moto, region ?? 'us-east-1')).length;
      expect(made).toBeGreaterThan(0);

      if (how === 'cleanup') {
        const c = await hallmark(project.dir, ['cleanup'], env);
        expect(c.exitCode, c.all).toBe(0);
      } else {
        await rm(path.join(project.dir, '.hallmark'), { recursive: true, force: true });
        if (step === 'during sharing') {
          // Once (each CLI run costs seconds): --dry-run lists, removes nothing.
          const dry = await hallmark(project.dir, ['cleanup', '--orphans', '--older-than', '0s', '--dry-run'], env);
          expect(dry.exitCode, dry.all).toBe(0);
          expect(dry.stdout).toMatch(/would /);
          expect((await builtImages(moto, 'us-east-1')).length).toBeGreaterThan(0);
        }
        const c = await hallmark(project.dir, ['cleanup', '--orphans', '--older-than', '0s'], env);
        expect(c.exitCode, c.all).toBe(0);
        expect(c.stdout).toMatch(/removed/);
        expect(c.stdout).not.toMatch(/FAILED/);
      }
      await expectNothingLeft(moto, snapshotsBefore);
      for (const f of ['env.properties', 'manifest.json']) expect(existsSync(path.join(project.dir, f)), f).toBe(false);
    }, 300_000);
  }
});
