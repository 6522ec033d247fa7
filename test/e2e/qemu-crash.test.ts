/**
 * hallmark killed with SIGKILL (no cleanup of its own can run), then the
 * journal is all that is left: `hallmark destroy` stops the orphaned VM and
 * removes its files; `hallmark cleanup` also removes the image a build killed
 * mid-capture had already journaled. With the journal gone too (an ephemeral
 * runner), `hallmark cleanup --orphans` finds the VM and the half-written
 * image by what they are and removes them. Through the CLI, on real VMs.
 */
import { existsSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { alive, BOOT_TIMEOUT_S, makeProject, smallProject, waitFor, type Project } from './qemu-cli.js';

const projects: Project[] = [];
afterAll(async () => {
  for (const p of projects) await p.sweep();
});

const INSTANCE = 'default-debian-12';

describe('after kill -9 of hallmark', () => {
  it('during converge: the VM outlives it; `hallmark destroy` stops it and removes its files; list shows it not created', async () => {
    const p = await makeProject(smallProject('sleep 120', 'file:\n  /etc/hostname:\n    exists: true\n'));
    projects.push(p);
    const child = p.start(['build', 'debian-12']);
    try {
      await waitFor(async () => (await p.journal(INSTANCE))?.driver?.bootMs !== undefined || child.exitCode !== null, BOOT_TIMEOUT_S * 1000 + 60_000, 'the VM to reach SSH');
      expect(child.exitCode, 'the build ended before the VM was up').toBeNull();
      await new Promise((r) => setTimeout(r, 8000));
      child.kill('SIGKILL');
      await child;
    } finally {
      if (child.exitCode === null && child.pid) child.kill('SIGKILL');
    }
    const [qemu] = await p.qemuPids();
    expect(qemu).toBeDefined();
    expect((await p.qemuFiles()).length).toBeGreaterThan(0);

    const r = await p.run(['destroy', 'debian-12']);
    expect(r.exitCode, r.all).toBe(0);
    expect(alive(qemu!)).toBe(false);
    expect(await p.qemuPids()).toEqual([]);
    expect(await p.qemuFiles()).toEqual([]);
    const list = JSON.parse((await p.run(['list', '--json'])).stdout);
    expect(list[0]).toMatchObject({ instance: INSTANCE, lastAction: '<Not Created>' });
  }, 1_500_000);

  it('during capture: `hallmark cleanup` removes the journaled image from the store and the machine', async () => {
    const p = await makeProject(smallProject('echo ok > /etc/hallmark-e2e', 'file:\n  /etc/hallmark-e2e:\n    exists: true\n'));
    projects.push(p);
    const child = p.start(['build', 'debian-12']);
    let imageId = '';
    try {
      await waitFor(async () => {
        imageId = (await p.journal(INSTANCE))?.images?.[0]?.id ?? '';
        return imageId !== '' || child.exitCode !== null;
      }, 900_000, 'the capture to journal an image id');
      expect(imageId, 'the build ended before capture').not.toBe('');
      // Kill while the disk is being converted into the store, if we can see it; else right away.
      await waitFor(() => existsSync(path.join(p.store, `${imageId}.qcow2.partial`)) || child.exitCode !== null, 60_000, 'the capture to write').catch(() => {});
      const inFlight = existsSync(path.join(p.store, `${imageId}.qcow2.partial`));
      console.log(`[e2e] killed during capture (${inFlight ? 'convert in flight' : 'before the convert'})`);
      child.kill('SIGKILL');
      await child;
    } finally {
      if (child.exitCode === null && child.pid) child.kill('SIGKILL');
    }
    expect((await p.journal(INSTANCE))?.images.map((i) => i.id)).toEqual([imageId]);
    // A qemu-img convert the killed build started may still run (an orphan writing the .partial):
    // cleanup removes the files regardless; we wait for it below, and sweep() stops it by PID at worst.

    const r = await p.run(['cleanup']);
    expect(r.exitCode, r.all).toBe(0);
    await waitFor(async () => (await p.qemuPids()).length === 0, 120_000, 'qemu processes of the killed build to end');
    expect(await readdir(p.store)).toEqual([]);
    expect(await p.qemuFiles()).toEqual([]);
    expect((await p.journal(INSTANCE))?.images).toEqual([]);
    expect(JSON.parse((await p.run(['images', '--json'])).stdout)).toEqual([]);
    for (const f of ['env.properties', 'manifest.json']) expect(existsSync(path.join(p.dir, f)), f).toBe(false);
  }, 1_500_000);
});

/** SIGKILL at `when`, then `.hallmark/` deleted: only what is on the machine is left to find. */
describe('after kill -9 of hallmark and the loss of .hallmark/, cleanup --orphans', () => {
  async function killBuild(p: Project, ready: () => Promise<boolean>, what: string): Promise<void> {
    const child = p.start(['build', 'debian-12']);
    try {
      await waitFor(async () => (await ready()) || child.exitCode !== null, BOOT_TIMEOUT_S * 1000 + 60_000, what);
      expect(child.exitCode, `the build ended before ${what}`).toBeNull();
      child.kill('SIGKILL');
      await child;
    } finally {
      if (child.exitCode === null && child.pid) child.kill('SIGKILL');
    }
    await rm(path.join(p.dir, '.hallmark'), { recursive: true, force: true });
  }

  it('during converge: the VM whose files are gone is found and stopped', async () => {
    const p = await makeProject(smallProject('sleep 120', 'file:\n  /etc/hostname:\n    exists: true\n'));
    projects.push(p);
    let qemu: number | undefined;
    await killBuild(p, async () => (await p.journal(INSTANCE))?.driver?.bootMs !== undefined && ([qemu] = await p.qemuPids()).length > 0, 'the VM to reach SSH');
    expect(alive(qemu!)).toBe(true);

    const dry = await p.run(['cleanup', '--orphans', '--older-than', '0s', '--dry-run']);
    expect(dry.exitCode, dry.all).toBe(0);
    expect(dry.all).toContain(String(qemu));
    expect(alive(qemu!)).toBe(true);

    const r = await p.run(['cleanup', '--orphans', '--older-than', '0s']);
    expect(r.exitCode, r.all).toBe(0);
    await waitFor(async () => !alive(qemu!), 60_000, 'the orphaned qemu to stop');
    expect(await p.qemuPids()).toEqual([]);
    expect(existsSync(path.join(p.dir, '.hallmark', 'qemu'))).toBe(false);
  }, 1_500_000);

  it('during capture: the uncommitted store entry and any convert in flight are removed', async () => {
    const p = await makeProject(smallProject('echo ok > /etc/hallmark-e2e', 'file:\n  /etc/hallmark-e2e:\n    exists: true\n'));
    projects.push(p);
    await killBuild(
      p,
      async () => (await readdir(p.store)).some((f) => f.endsWith('.partial') || f.endsWith('.qcow2')),
      'the capture to start writing into the store',
    );
    expect((await readdir(p.store)).length).toBeGreaterThan(0);

    const r = await p.run(['cleanup', '--orphans', '--older-than', '0s']);
    expect(r.exitCode, r.all).toBe(0);
    await waitFor(async () => (await p.qemuPids()).length === 0, 120_000, 'qemu processes of the killed build to end');
    expect(await readdir(p.store)).toEqual([]);
    expect(JSON.parse((await p.run(['images', '--json'])).stdout)).toEqual([]);
    for (const f of ['env.properties', 'manifest.json']) expect(existsSync(path.join(p.dir, f)), f).toBe(false);
  }, 1_500_000);
});
