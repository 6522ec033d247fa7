import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { spawn, type ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { InstanceLock, Journal, atomicWrite, listStateFiles, readInstanceState } from './journal.js';
import { z } from 'zod';
import { LockedError, StateFileError, exitCodeOf } from './errors.js';

const dirs: string[] = [];
const children: ChildProcess[] = [];
async function tempDir(): Promise<string> {
  const d = await mkdtemp(path.join(tmpdir(), 'hallmark-journal-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const c of children.splice(0)) if (c.pid && c.exitCode === null && c.signalCode === null) process.kill(c.pid, 'SIGKILL');
});
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('a damaged journal', () => {
  const schema = z.object({ overlay: z.string(), pid: z.number().int().optional() });

  it.each([
    ['truncated JSON', '{"instance": "web", "driver": {"pid": 4', /is not valid JSON/],
    ['not an object', '[1, 2]', /not a hallmark state file: expected a JSON object/],
    ['driver not an object', '{"driver": "qemu"}', /"driver" is not an object/],
    ['images not a list', '{"driver": {}, "images": {"id": "ami-1"}}', /"images" is not a list/],
    ['an image without id', '{"driver": {}, "images": [{"region": "eu-west-1"}]}', /images\[0\] has no id/],
  ])('%s: opening it is a StateFileError naming the file, exit 4', async (_what, text, message) => {
    const dir = await tempDir();
    const file = path.join(dir, 'web.json');
    await writeFile(file, text);
    const err = await Journal.open(dir, 'web').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StateFileError);
    expect((err as StateFileError).message).toContain(file);
    expect((err as StateFileError).message).toMatch(message);
    expect((err as StateFileError).hint).toMatch(/repair it/);
    expect(exitCodeOf(err)).toBe(4);
    await expect(readInstanceState(dir, 'web')).rejects.toBeInstanceOf(StateFileError);
    expect(await readFile(file, 'utf8')).toBe(text); // never rewritten
  });

  it('a driver record that fails its schema is an error, never "no machine"', async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'web.json'), JSON.stringify({ driverName: 'qemu', driver: { overlay: 7, pid: 'x' } }));
    const j = await Journal.open(dir, 'web');
    expect(() => j.driverRecord(schema, 'qemu')).toThrow(StateFileError);
    expect(() => j.driverRecord(schema, 'qemu')).toThrow(/qemu driver's record of the machine is damaged \(overlay: .*; pid: /);
  });

  it("another driver's record is an error naming that driver; an empty record is no machine", async () => {
    const dir = await tempDir();
    const j = await Journal.open(dir, 'web');
    expect(j.driverRecord(schema, 'qemu')).toBeUndefined();
    await j.update((s) => {
      s.driverName = 'qemu';
    });
    await j.recordDriver({ overlay: '/x/overlay.qcow2', pid: 42 });
    expect(j.driverRecord(schema, 'qemu')).toEqual({ overlay: '/x/overlay.qcow2', pid: 42 });
    expect(() => j.driverRecord(z.object({}), 'ec2')).toThrow(/records a machine made by the qemu driver, but this instance now uses ec2/);
    await j.resetMachine();
    expect(j.driverRecord(z.object({}), 'ec2')).toBeUndefined();
  });
});

describe('Journal', () => {
  it('starts empty and persists every update', async () => {
    const dir = await tempDir();
    const j = await Journal.open(dir, 'web');
    expect(j.state).toMatchObject({ instance: 'web', driver: {}, images: [], timings: {} });
    await j.recordDriver({ vmId: 'vm-1' });
    await j.recordDriver({ pid: 42 });
    const onDisk = JSON.parse(await readFile(path.join(dir, 'web.json'), 'utf8'));
    expect(onDisk.driver).toEqual({ vmId: 'vm-1', pid: 42 });
    expect(typeof onDisk.updatedAt).toBe('string');
    const again = await Journal.open(dir, 'web');
    expect(again.state.driver).toEqual({ vmId: 'vm-1', pid: 42 });
    expect(await listStateFiles(dir)).toEqual(['web']);
    expect((await readInstanceState(dir, 'missing')).images).toEqual([]);
  });

  it('concurrent updates leave valid JSON holding the last state, and no temp file', async () => {
    const dir = await tempDir();
    const j = await Journal.open(dir, 'web');
    await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        j.update((s) => {
          s.timings[`t${i}`] = i;
          s.lastAction = `a${i}`;
        }),
      ),
    );
    const onDisk = JSON.parse(await readFile(path.join(dir, 'web.json'), 'utf8'));
    expect(onDisk.lastAction).toBe('a49');
    expect(Object.keys(onDisk.timings)).toHaveLength(50);
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('two journals of the same file racing still leave one whole JSON document', async () => {
    const dir = await tempDir();
    const [a, b] = [await Journal.open(dir, 'x'), await Journal.open(dir, 'x')];
    await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).update((s) => void (s.lastAction = `n${i}`))));
    const text = await readFile(path.join(dir, 'x.json'), 'utf8');
    expect(() => JSON.parse(text)).not.toThrow();
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('atomicWrite replaces content whole', async () => {
    const dir = await tempDir();
    const f = path.join(dir, 'f.json');
    await atomicWrite(f, 'old');
    await atomicWrite(f, 'new');
    expect(await readFile(f, 'utf8')).toBe('new');
    expect(await readdir(dir)).toEqual(['f.json']);
  });

  it('recordImage adds and merges by id+region; forgetImage removes only that one', async () => {
    const dir = await tempDir();
    const j = await Journal.open(dir, 'web');
    await j.recordImage({ id: 'ami-1', region: 'us-east-1', role: 'source' });
    await j.recordImage({ id: 'ami-2', region: 'eu-west-1', role: 'copy' });
    await j.recordImage({ id: 'ami-1', region: 'us-east-1', role: 'source', published: true });
    expect(j.state.images).toEqual([
      { id: 'ami-1', region: 'us-east-1', role: 'source', published: true },
      { id: 'ami-2', region: 'eu-west-1', role: 'copy' },
    ]);
    await j.forgetImage('ami-1', 'eu-west-1'); // wrong region: nothing
    expect(j.state.images).toHaveLength(2);
    await j.forgetImage('ami-1', 'us-east-1');
    const onDisk = await readInstanceState(dir, 'web');
    expect(onDisk.images.map((i) => i.id)).toEqual(['ami-2']);
  });

  it('resetMachine forgets the machine but keeps images', async () => {
    const dir = await tempDir();
    const j = await Journal.open(dir, 'web');
    await j.update((s) => {
      s.created = s.converged = true;
      s.driver = { vmId: 'v' };
    });
    await j.recordImage({ id: 'img', role: 'source' });
    await j.resetMachine();
    const s = await readInstanceState(dir, 'web');
    expect(s.driver).toEqual({});
    expect(s.created).toBe(false);
    expect(s.converged).toBe(false);
    expect(s.images).toHaveLength(1);
  });
});

describe('InstanceLock', () => {
  it('is exclusive in-process until released', async () => {
    const dir = await tempDir();
    const lock = await InstanceLock.acquire(dir, 'web');
    expect(await readFile(path.join(dir, 'web.lock'), 'utf8')).toBe(`${process.pid}\n`);
    await lock.release();
    const again = await InstanceLock.acquire(dir, 'web');
    await again.release();
    expect(await readdir(dir)).toEqual([]);
  });

  it('refuses a lock held by another live process and names its PID', async () => {
    const dir = await tempDir();
    const holderScript = `
      const fs = require('node:fs');
      fs.writeFileSync(${JSON.stringify(path.join(dir, 'web.lock'))}, process.pid + '\\n', { flag: 'wx' });
      process.stdout.write('locked\\n');
      setInterval(() => {}, 1000);
    `;
    const child = spawn(process.execPath, ['-e', holderScript], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(child);
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', () => resolve());
      child.on('exit', (c) => reject(new Error(`holder exited ${c}`)));
    });
    const err = await InstanceLock.acquire(dir, 'web').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LockedError);
    expect((err as LockedError).message).toContain(`PID ${child.pid}`);
    expect((err as LockedError).hint).toContain(`kill ${child.pid}`);
    process.kill(child.pid!, 'SIGKILL');
    await new Promise((r) => child.once('exit', r));
    // The holder is gone now: the stale lock is taken over.
    const lock = await InstanceLock.acquire(dir, 'web');
    expect(await readFile(path.join(dir, 'web.lock'), 'utf8')).toBe(`${process.pid}\n`);
    await lock.release();
  });

  it('takes over a stale lock whose PID is dead', async () => {
    const dir = await tempDir();
    const dead = spawn(process.execPath, ['-e', '0']);
    await new Promise((r) => dead.once('exit', r));
    await writeFile(path.join(dir, 'web.lock'), `${dead.pid}\n`);
    const lock = await InstanceLock.acquire(dir, 'web');
    expect(await readFile(path.join(dir, 'web.lock'), 'utf8')).toBe(`${process.pid}\n`);
    await lock.release();
  });

  it('a lock file without a PID is another process starting for a few seconds, then garbage taken over', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'web.lock');
    await writeFile(file, 'garbage');
    await expect(InstanceLock.acquire(dir, 'web')).rejects.toThrow(/locked by another hallmark process \(starting\)/);
    const old = new Date(Date.now() - 60_000);
    await utimes(file, old, old);
    const lock = await InstanceLock.acquire(dir, 'web');
    await lock.release();
  });

  it('is exclusive within one process too (two runs of the library)', async () => {
    const dir = await tempDir();
    const lock = await InstanceLock.acquire(dir, 'web');
    await expect(InstanceLock.acquire(dir, 'web')).rejects.toThrow(`PID ${process.pid}`);
    await lock.release();
  });
});
