import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import {
  detachLoopsUnder, endProcessesInside, findBuildLeftovers, loopDevicesUnder, mountsUnder, processesInside, removeWorkDir, sweepStaleBuilds,
  unmountAllUnder,
} from './release.js';

const isRoot = process.getuid?.() === 0;
const dirs: string[] = [];
const pids: number[] = [];
async function tempDir(): Promise<string> {
  const d = await mkdtemp(path.join(tmpdir(), 'hallmark-release-'));
  dirs.push(d);
  return d;
}
afterAll(async () => {
  for (const p of pids) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  for (const d of dirs) {
    // Only what these tests made: mounts and loop devices under their own temp dirs.
    if (isRoot) {
      for (const m of await mountsUnder(d)) await execa('umount', ['-l', m], { reject: false });
      for (const l of await loopDevicesUnder(d)) await execa('losetup', ['-d', l.device], { reject: false });
    }
    await rm(d, { recursive: true, force: true });
  }
});

function sleeper(cwd: string, ignoreTerm = false): number {
  const c = spawn('sh', ['-c', ignoreTerm ? 'trap "" TERM; exec sleep 300' : 'exec sleep 300'], { cwd, stdio: 'ignore' });
  pids.push(c.pid!);
  return c.pid!;
}

describe('processesInside / endProcessesInside', () => {
  it('finds processes working inside the directory (not a sibling with the same prefix) and ends them, SIGKILL for those ignoring SIGTERM', async () => {
    const d = await tempDir();
    await mkdir(path.join(d, 'root/deep'), { recursive: true });
    await mkdir(`${d}-sibling`);
    dirs.push(`${d}-sibling`);
    const a = sleeper(path.join(d, 'root/deep'));
    const b = sleeper(path.join(d, 'root'), true);
    const other = sleeper(`${d}-sibling`);
    // Wait for both to have changed directory (spawn returns before exec).
    for (let i = 0; i < 100 && (await processesInside(path.join(d, 'root'))).length < 2; i++) await new Promise((r) => setTimeout(r, 20));
    const found = (await processesInside(path.join(d, 'root'))).map((p) => p.pid).sort();
    expect(found).toEqual([a, b].sort());
    await new Promise((r) => setTimeout(r, 100)); // let sh run its trap before it execs sleep
    await endProcessesInside(path.join(d, 'root'), { graceMs: 300 });
    expect(await processesInside(path.join(d, 'root'))).toEqual([]);
    expect((await processesInside(`${d}-sibling`)).map((p) => p.pid)).toEqual([other]);
    await endProcessesInside(path.join(d, 'root')); // idempotent
  });
});

describe.runIf(isRoot)('mounts and loop devices under a directory', () => {
  it('lists mounts deepest first with escaped names decoded, and unmounts them all (keeping the top one on request)', async () => {
    const d = await tempDir();
    const top = path.join(d, 'root');
    const spaced = path.join(top, 'with space');
    await mkdir(top);
    await execa('mount', ['-t', 'tmpfs', 'tmpfs', top]);
    await mkdir(path.join(top, 'a'));
    await mkdir(spaced);
    await execa('mount', ['-t', 'tmpfs', 'tmpfs', path.join(top, 'a')]);
    await mkdir(path.join(top, 'a/b'));
    await execa('mount', ['-t', 'tmpfs', 'tmpfs', path.join(top, 'a/b')]);
    await execa('mount', ['-t', 'tmpfs', 'tmpfs', spaced]);
    const listed = await mountsUnder(d);
    expect(listed[0]).toBe(path.join(top, 'a/b'));
    expect(listed.at(-1)).toBe(top);
    expect(listed.sort()).toEqual([top, path.join(top, 'a'), path.join(top, 'a/b'), spaced].sort());
    // A process working in a mount makes the plain unmount fail: the lazy one still detaches it.
    sleeper(path.join(top, 'a/b'));
    await unmountAllUnder(top, { keepDir: true });
    expect(await mountsUnder(d)).toEqual([top]);
    await unmountAllUnder(d);
    expect(await mountsUnder(d)).toEqual([]);
  });

  it('finds the loop devices backed by files in the directory and detaches them', async () => {
    const d = await tempDir();
    const f = path.join(d, 'disk.raw');
    await writeFile(f, '');
    await truncate(f, 1024 * 1024);
    const dev = (await execa('losetup', ['--find', '--show', f])).stdout.trim();
    expect(await loopDevicesUnder(d)).toEqual([{ device: dev, file: f }]);
    expect(await loopDevicesUnder(`${d}-x`)).toEqual([]);
    await detachLoopsUnder(d);
    expect(await loopDevicesUnder(d)).toEqual([]);
  });
});

describe('findBuildLeftovers', () => {
  it("takes an image's own work directories only (debian-12's are not debian-12-cloudinit's)", async () => {
    const cache = await tempDir();
    await mkdir(path.join(cache, '.build-debian-12-AbC123'));
    await mkdir(path.join(cache, '.build-debian-12-cloudinit-XyZ789'));
    await writeFile(path.join(cache, 'debian-12.json'), '{}');
    expect((await findBuildLeftovers(cache, 'debian-12')).workDirs).toEqual([path.join(cache, '.build-debian-12-AbC123')]);
    expect((await findBuildLeftovers(cache, 'debian-12-cloudinit')).workDirs).toEqual([path.join(cache, '.build-debian-12-cloudinit-XyZ789')]);
    expect(await findBuildLeftovers(path.join(cache, 'none'), 'debian-12')).toEqual({ workDirs: [], processes: [], mounts: [], loops: [] });
  });
});

describe.runIf(isRoot)('sweepStaleBuilds', () => {
  it("releases and removes what an earlier build of the image left (not another image's), and removeWorkDir never deletes through a mount", async () => {
    const cache = await tempDir();
    const stale = path.join(cache, '.build-debian-12-Qw3rTy');
    const other = path.join(cache, '.build-debian-12-cloudinit-Qw3rTy');
    const root = path.join(stale, 'root');
    await mkdir(path.join(root, 'proc'), { recursive: true });
    await mkdir(other);
    await writeFile(path.join(stale, 'disk.raw'), '');
    await truncate(path.join(stale, 'disk.raw'), 1024 * 1024);
    await execa('losetup', ['--find', '--show', path.join(stale, 'disk.raw')]);
    await execa('mount', ['-t', 'tmpfs', 'tmpfs', root]);
    await mkdir(path.join(root, 'proc'));
    await execa('mount', ['-t', 'proc', 'proc', path.join(root, 'proc')]);
    const pid = sleeper(root);
    await expect(removeWorkDir(stale)).rejects.toThrow(/still mounted/);
    expect(existsSync(path.join(root, 'proc/self'))).toBe(true);
    expect(await sweepStaleBuilds(cache, 'debian-12')).toEqual([stale]);
    expect(existsSync(stale)).toBe(false);
    expect(existsSync(other)).toBe(true);
    expect(await mountsUnder(cache)).toEqual([]);
    expect(await loopDevicesUnder(cache)).toEqual([]);
    expect((await processesInside(cache)).map((p) => p.pid)).not.toContain(pid);
  });
});
