import { afterAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { lockFile, tryLockFile } from './lock.js';
import { isAlive } from './process.js';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const d = await mkdtemp(path.join(tmpdir(), 'hallmark-lock-'));
  dirs.push(d);
  return d;
}
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0']);
  await new Promise((r) => child.once('exit', r));
  return child.pid!;
}

describe('isAlive', () => {
  it('is true for this process and pid 1, false for an exited one', async () => {
    expect(isAlive(process.pid)).toBe(true);
    expect(isAlive(1)).toBe(true);
    expect(isAlive(await deadPid())).toBe(false);
  });
});

describe('the PID lock file', () => {
  it('is taken once; the holder is named; release frees it', async () => {
    const file = path.join(await tempDir(), 'x.lock');
    const first = await tryLockFile(file);
    expect('lock' in first).toBe(true);
    expect(await readFile(file, 'utf8')).toBe(`${process.pid}\n`);
    expect(await tryLockFile(file)).toEqual({ holder: process.pid }); // held by this process
    const other = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)']);
    try {
      await writeFile(file, `${other.pid}\n`);
      expect(await tryLockFile(file)).toEqual({ holder: other.pid });
    } finally {
      other.kill('SIGKILL');
      await new Promise((r) => other.once('exit', r));
    }
    // The holder died: stale, removed, then taken.
    expect(await tryLockFile(file)).toEqual({ stale: other.pid });
    const again = await tryLockFile(file);
    expect('lock' in again).toBe(true);
    if ('lock' in again) await again.lock.release();
    expect(existsSync(file)).toBe(false);
  });

  it('our own PID in a lock this process does not hold is an earlier process that had our PID: stale', async () => {
    const file = path.join(await tempDir(), 'x.lock');
    await writeFile(file, `${process.pid}\n`);
    expect(await tryLockFile(file)).toEqual({ stale: process.pid });
  });

  it('a file without a PID is a writer between create and write for a while, then stale', async () => {
    const file = path.join(await tempDir(), 'x.lock');
    await writeFile(file, '');
    expect(await tryLockFile(file)).toEqual({ holder: undefined });
    const old = new Date(Date.now() - 60_000);
    await utimes(file, old, old);
    expect(await tryLockFile(file)).toEqual({ stale: undefined });
  });

  it("an older hallmark's lock directory (PID in dir/pid) is honoured, and taken over when its holder is dead", async () => {
    const file = path.join(await tempDir(), '.lock-bookworm');
    await mkdir(file);
    await writeFile(path.join(file, 'pid'), String(process.ppid));
    expect(await tryLockFile(file)).toEqual({ holder: process.ppid });
    const dead = await deadPid();
    await writeFile(path.join(file, 'pid'), String(dead));
    expect(await tryLockFile(file)).toEqual({ stale: dead });
    expect(existsSync(file)).toBe(false);
  });

  it('lockFile waits for the holder, says so once, and stops waiting when cancelled', async () => {
    const file = path.join(await tempDir(), 'x.lock');
    const held = await lockFile(file);
    const waits: (number | undefined)[] = [];
    const order: string[] = [];
    const second = lockFile(file, { pollMs: 20, onWait: (h) => waits.push(h) }).then((l) => {
      order.push('second acquired');
      return l;
    });
    await new Promise((r) => setTimeout(r, 150));
    expect(waits).toEqual([process.pid]); // told once, while it waited

    order.push('first releases');
    await held.release();
    await (await second).release();
    expect(order).toEqual(['first releases', 'second acquired']);

    const again = await lockFile(file);
    const ac = new AbortController();
    const other = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)']);
    try {
      await writeFile(file, `${other.pid}\n`);
      const waiting = lockFile(file, { pollMs: 20, signal: ac.signal, onWait: (h) => waits.push(h) });
      setTimeout(() => ac.abort(), 100);
      await expect(waiting).rejects.toMatchObject({ code: 'CANCELLED' });
      expect(waits.at(-1)).toBe(other.pid);
    } finally {
      other.kill('SIGKILL');
      await new Promise((r) => other.once('exit', r));
      await again.release();
    }
  });
});
