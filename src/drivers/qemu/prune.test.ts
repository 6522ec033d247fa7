/**
 * keep-N for the local image store: real store entries in a temporary
 * directory, real qcow2 overlays made by qemu-img, and a real process whose
 * command line is a qemu's (argv[0] qemu-system-*, a -drive), so that
 * "a running machine uses it" is read from /proc as for a real qemu.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../kernel/events.js';
import { backingFilesOfRunningQemu, driveFiles, pruneStore, qcow2BackingFile } from './prune.js';
import { imagePath, listImages, writeImageEntry, type StoredImage } from './store.js';

let dir: string;
let n = 0;
const children: ChildProcess[] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'hallmark-prune-'));
});
afterAll(async () => {
  for (const c of children) c.kill('SIGTERM');
  await rm(dir, { recursive: true, force: true });
});

/** A complete store entry of `family`, created at `createdAt`, with a real (tiny) qcow2. */
async function entry(family: string | undefined, createdAt: string): Promise<StoredImage> {
  const id = `img-${(++n).toString(16).padStart(8, '0')}`;
  const image: StoredImage = {
    id,
    name: `img-${n}`,
    tags: family ? { 'hallmark:family': family } : {},
    base: { name: 'debian-12', path: '/nowhere' },
    buildId: `b${n}`,
    instance: 'default-debian-12',
    verification: null,
    createdAt,
    sizeBytes: 1,
    virtualSizeBytes: 1,
    sha256: '0'.repeat(64),
    format: 'qcow2',
  };
  await execa('qemu-img', ['create', '-q', '-f', 'qcow2', imagePath(image, dir), '1M']);
  await writeImageEntry(image, dir);
  return image;
}

describe('pruneStore', () => {
  it('keeps the newest N of the family, spares what it is told to, leaves other families alone; dry run removes nothing', async () => {
    const fam = await Promise.all(['2026-01-01', '2026-01-02', '2026-01-03', '2026-01-04'].map((d) => entry('web', `${d}T00:00:00Z`)));
    const other = await entry('db', '2026-01-01T00:00:00Z');
    const untagged = await entry(undefined, '2025-01-01T00:00:00Z');

    const dry = await pruneStore({ family: 'web', keep: 1, spare: [fam[1]!.id], dryRun: true, dir, log: silentLogger });
    expect(dry.kept.map((i) => i.id)).toEqual([fam[3]!.id]);
    expect(dry.removed.map((i) => i.id)).toEqual([fam[2]!.id, fam[0]!.id]);
    expect(dry.inUse).toEqual([expect.objectContaining({ id: fam[1]!.id, reason: 'this build just published it' })]);
    expect((await listImages(dir)).length).toBe(6);

    const done = await pruneStore({ family: 'web', keep: 1, spare: [fam[1]!.id], dir, log: silentLogger });
    expect(done.removed.map((i) => i.id)).toEqual(dry.removed.map((i) => i.id));
    expect((await listImages(dir)).map((i) => i.id).sort()).toEqual([fam[1]!.id, fam[3]!.id, other.id, untagged.id].sort());
    // Idempotent: a second run has nothing left to remove.
    expect((await pruneStore({ family: 'web', keep: 1, spare: [fam[1]!.id], dir, log: silentLogger })).removed).toEqual([]);
  });

  it('never removes an image a running qemu has as the backing file of its disk', async () => {
    const [old, , newest] = await Promise.all(['2026-02-01', '2026-02-02', '2026-02-03'].map((d) => entry('api', `${d}T00:00:00Z`)));
    const overlay = path.join(dir, 'machine, one.qcow2');
    await execa('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', 'qcow2', '-b', imagePath(old!, dir), overlay]);
    expect(await qcow2BackingFile(overlay)).toBe(imagePath(old!, dir));
    // A process that shows a qemu's command line (argv[0] and -drive) in /proc.
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1e6)', '--', '-drive', `file=${overlay.replaceAll(',', ',,')},format=qcow2,if=virtio`], {
      argv0: path.join(dir, 'qemu-system-x86_64'),
      stdio: 'ignore',
    });
    children.push(child);
    await new Promise((r) => setTimeout(r, 200));
    expect((await backingFilesOfRunningQemu()).get(path.resolve(imagePath(old!, dir)))).toBe(child.pid);

    const r = await pruneStore({ family: 'api', keep: 1, dir, log: silentLogger });
    expect(r.kept.map((i) => i.id)).toEqual([newest!.id]);
    expect(r.inUse).toEqual([expect.objectContaining({ id: old!.id, reason: `qemu PID ${child.pid} runs from it` })]);
    expect(r.removed).toHaveLength(1);
    child.kill('SIGTERM');
  });

  it('reads the file of a -drive value with doubled commas, and no backing file from a file that is not a qcow2', async () => {
    expect(driveFiles('file=/a,,b/c.qcow2,format=qcow2')).toEqual(['/a,b/c.qcow2']);
    expect(driveFiles('if=virtio,file=/x.img')).toEqual(['/x.img']);
    expect(driveFiles('format=raw')).toEqual([]);
    const plain = path.join(dir, 'plain.raw');
    await writeFile(plain, 'not a qcow2 image at all');
    expect(await qcow2BackingFile(plain)).toBeUndefined();
    expect(await qcow2BackingFile(path.join(dir, 'missing'))).toBeUndefined();
  });
});
