/**
 * The qemu driver's orphan reaper against real processes and files, without
 * booting a guest: a real qemu-system (paused with -S, so no VM boots) run as
 * hallmark runs one, whose `.hallmark/` is then deleted; a pending store
 * entry, a published one, one from before hallmark:state, an unfinished
 * capture. What no journal claims and is not committed goes; the rest stays.
 */
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { LeftoverQuery } from '../../src/drivers/driver.js';
import { findQemuLeftovers, removeQemuLeftovers } from '../../src/drivers/qemu/leftovers.js';
import { isOurQemu, readPidFile } from '../../src/drivers/qemu/process.js';
import { isAlive as pidAlive } from '../../src/kernel/process.js';
import { qemuArgs } from '../../src/drivers/qemu/qemu-args.js';
import { instancePaths } from '../../src/drivers/qemu/state.js';
import { writeImageEntry, type StoredImage } from '../../src/drivers/qemu/store.js';
import { silentLogger } from '../../src/kernel/events.js';

const started: number[] = [];
const dirs: string[] = [];
afterAll(async () => {
  for (const pid of started) if (pidAlive(pid)) process.kill(pid, 'SIGKILL');
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

function entry(id: string, tags: Record<string, string>): StoredImage {
  return {
    id,
    name: `n-${id}`,
    tags,
    base: { name: 'debian-12', path: '/nonexistent' },
    buildId: '20260101000000-aaaaaa',
    instance: 'default-x',
    verification: null,
    createdAt: new Date(Date.now() - 3_600_000).toISOString(),
    sizeBytes: 1,
    virtualSizeBytes: 1,
    sha256: 'x',
    format: 'qcow2',
  };
}

describe('qemu leftovers', () => {
  it('a qemu whose .hallmark/ is gone, pending and unfinished store entries go; published and older entries stay', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'hallmark-orphans-'));
    dirs.push(dir);
    const stateDir = path.join(dir, '.hallmark');
    const store = path.join(dir, 'store');
    process.env.HALLMARK_IMAGE_STORE = store;
    await mkdir(store, { recursive: true });
    const p = instancePaths(stateDir, 'default-debian-12');
    await mkdir(p.instanceDir, { recursive: true });
    await execa('qemu-img', ['create', '-q', '-f', 'qcow2', p.overlay, '64M']);
    await writeFile(p.authorizedKeys, 'ssh-ed25519 AAAA test\n');
    const args = qemuArgs({
      instance: 'default-debian-12',
      memoryMiB: 64,
      cpus: 1,
      accelArgs: ['-accel', 'tcg'],
      overlay: p.overlay,
      sshPort: 1, // never listened on: the guest is paused before it starts
      consoleLogPath: path.join(dir, 'console.log'),
      pidFile: p.pidFile,
      qmpSocket: undefined,
      authorizedKeysFile: p.authorizedKeys,
      extraArgs: ['-S'],
    });
    await execa('qemu-system-x86_64', args.map((a) => (a.startsWith('user,id=net0') ? 'user,id=net0' : a)));
    const pid = (await readPidFile(p.pidFile))!;
    started.push(pid);
    expect(pidAlive(pid)).toBe(true);

    // The CI runner's workspace lost its .hallmark/ (journal, overlay and all); the qemu lives on.
    await rm(stateDir, { recursive: true, force: true });
    await writeImageEntry(entry('img-00000000000000a1', { 'hallmark:state': 'pending' }), store);
    await writeFile(path.join(store, 'img-00000000000000a1.qcow2'), 'x');
    await writeImageEntry(entry('img-00000000000000b2', { 'hallmark:state': 'published' }), store);
    await writeFile(path.join(store, 'img-00000000000000b2.qcow2'), 'x');
    await writeImageEntry(entry('img-00000000000000c3', {}), store); // captured before hallmark:state existed
    await writeFile(path.join(store, 'img-00000000000000c3.qcow2'), 'x');
    await writeFile(path.join(store, 'img-00000000000000d4.qcow2.partial'), 'x'); // a capture killed mid-convert

    const q = (over: Partial<LeftoverQuery> = {}): LeftoverQuery => ({
      regions: [],
      olderThanMs: 0,
      now: new Date(Date.now() + 1000),
      parameterNames: [],
      claimed: new Set(),
      stateDir,
      signal: AbortSignal.timeout(60_000),
      log: silentLogger,
      ...over,
    });
    const young = await findQemuLeftovers(q({ olderThanMs: 6 * 3_600_000, now: new Date() }));
    expect(young.find((l) => l.id === String(pid))).toMatchObject({ kept: true });

    const found = await findQemuLeftovers(q());
    const ours = found.filter((l) => l.id === String(pid) || l.where === 'local').filter((l) => l.kind !== 'process' || l.id === String(pid));
    expect(ours.map((l) => `${l.kind} ${l.id}${l.kept ? ' kept' : ''}`).sort()).toEqual(
      [`process ${pid}`, 'store-entry img-00000000000000a1', 'store-entry img-00000000000000d4'].sort(),
    );
    expect(found.find((l) => l.id === String(pid))?.detail).toMatch(/overlay is gone/);

    const removals = await removeQemuLeftovers(q(), ours);
    expect(removals.filter((r) => r.error)).toEqual([]);
    // Gone, or a zombie its reaper has not collected yet: not a running qemu of that overlay.
    expect(await isOurQemu(pid, p.overlay)).toBe(false);
    expect((await readdir(store)).sort()).toEqual(['img-00000000000000b2.json', 'img-00000000000000b2.qcow2', 'img-00000000000000c3.json', 'img-00000000000000c3.qcow2']);
    expect(existsSync(p.instanceDir)).toBe(false);
    delete process.env.HALLMARK_IMAGE_STORE;
  }, 60_000);
});
