/**
 * Rebuilding a base image while a machine's overlay is backed by it: real
 * qcow2 files made by qemu-img, real overlays, contents read back through the
 * overlay with qemu-io, and the cache's install and clean-up steps exactly as
 * buildBaseImage runs them after debootstrap (which is not run here).
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Logger } from '../../../kernel/events.js';
import { buildBaseImage } from './build.js';
import { resolveBaseImage, sha256File } from './cache.js';
import { installBuiltImage, removeUnusedVersions } from './install.js';
import { refsDir } from './paths.js';
import { recipeDigest } from './recipe.js';
import { baseFilesInUse, recordBaseReference } from './refs.js';
import type { BaseImageInfo } from './types.js';

let cache: string;
let project: string;
let built = 0;
const lines: string[] = [];
const log: Logger = { debug() {}, info: (m) => lines.push(m), warn: (m) => lines.push(`warn: ${m}`), error() {}, progress() {}, output() {} };

beforeEach(async () => {
  cache = await mkdtemp(join(tmpdir(), 'hallmark-base-install-'));
  project = await mkdtemp(join(tmpdir(), 'hallmark-base-project-'));
  lines.length = 0;
});
afterEach(async () => {
  await rm(cache, { recursive: true, force: true });
  await rm(project, { recursive: true, force: true });
});

/** A finished "build" of debian-12 whose first MiB is `pattern`, installed into the cache as buildBaseImage does. */
async function build(pattern: number): Promise<BaseImageInfo> {
  const work = join(cache, `.build-debian-12-${++built}`);
  await mkdir(work);
  const qcow2 = join(work, 'image.qcow2');
  await execa('qemu-img', ['create', '-q', '-f', 'qcow2', qcow2, '4M']);
  await execa('qemu-io', ['-c', `write -P ${pattern} 0 1M`, qcow2]);
  const info = await installBuiltImage(cache, qcow2, {
    name: 'debian-12', distro: 'debian-12', suite: 'bookworm', variant: 'hallmark', sha256: await sha256File(qcow2),
    recipe: recipeDigest({ distro: 'debian-12', cloudInit: false, mirror: 'http://deb.debian.org/debian' }),
    sizeBytes: 1, virtualSizeBytes: 4 << 20, createdAt: new Date().toISOString(), packages: [], mirror: 'http://deb.debian.org/debian',
  });
  await rm(work, { recursive: true });
  await removeUnusedVersions(cache, info, log);
  return info;
}

/** What launchMachine does: resolve the name, record the reference, create the overlay. */
async function createMachine(name: string): Promise<string> {
  const base = (await resolveBaseImage('debian-12', cache)).path;
  const overlay = join(project, `${name}.qcow2`);
  await recordBaseReference(base, overlay, log);
  await execa('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', 'qcow2', '-b', base, overlay]);
  return overlay;
}

/** Whether the first MiB seen through `disk` is `pattern` (qemu-io exits 1 on a mismatch). */
async function reads(disk: string, pattern: number): Promise<boolean> {
  return (await execa('qemu-io', ['-r', '-c', `read -P ${pattern} 0 1M`, disk], { reject: false })).exitCode === 0;
}

const baseFiles = async () => (await readdir(cache)).filter((n) => n.endsWith('.qcow2')).sort();

describe('rebuilding a base image', () => {
  it('leaves a machine made on the earlier build on that build, byte for byte, and resolves the name to the new one', async () => {
    const first = await build(0xaa);
    const overlay = await createMachine('machine');
    const firstFile = (await resolveBaseImage('debian-12', cache)).path;
    const firstSha = await sha256File(firstFile);
    expect(await reads(overlay, 0xaa)).toBe(true);

    const second = await build(0xbb);
    // The machine's disk still reads the base it was made on, which is unchanged and kept.
    expect(await reads(overlay, 0xaa)).toBe(true);
    expect(await sha256File(firstFile)).toBe(firstSha);
    expect(second.sha256).not.toBe(first.sha256);
    const now = await resolveBaseImage('debian-12', cache);
    expect(now.path).not.toBe(firstFile);
    expect(await reads(now.path, 0xbb)).toBe(true);
    expect((await execa('qemu-img', ['check', overlay], { reject: false })).exitCode).toBe(0);
    expect(lines.join('\n')).toContain(`keeping the earlier build ${firstFile}: overlay ${overlay} is backed by it`);

    // A machine made now is on the new build.
    expect(await reads(await createMachine('machine-2'), 0xbb)).toBe(true);
  });

  it('removes an earlier build once no overlay uses it, and keeps the current one', async () => {
    await build(0x01);
    const overlay = await createMachine('machine');
    const firstFile = (await resolveBaseImage('debian-12', cache)).path;
    await build(0x02);
    expect(existsSync(firstFile)).toBe(true);

    // hallmark destroy removed the machine; its reference is left behind and old enough not to be a create in progress.
    await rm(overlay);
    for (const n of await readdir(refsDir(cache))) await utimes(join(refsDir(cache), n), new Date(0), new Date(0));
    const third = await build(0x03);
    expect(await baseFiles()).toEqual([third.file]);
    expect(await readdir(refsDir(cache))).toEqual([]);
    expect(await reads((await resolveBaseImage('debian-12', cache)).path, 0x03)).toBe(true);
  });

  it('keeps the unversioned file of builds made before versioning, and a base a fresh reference names', async () => {
    const legacy = join(cache, 'debian-12.qcow2');
    await execa('qemu-img', ['create', '-q', '-f', 'qcow2', legacy, '4M']);
    await writeFile(join(cache, 'debian-12.json'), JSON.stringify({ name: 'debian-12', distro: 'debian-12', sha256: 'x', mirror: 'http://deb.debian.org/debian' }));
    const old = await createMachine('before-versioning');
    expect(await execa('qemu-img', ['info', '--output=json', old]).then((r) => JSON.parse(r.stdout)['backing-filename'])).toBe(legacy);

    const first = await build(0x0a);
    // A create that recorded its reference and has not made its overlay yet.
    await recordBaseReference(join(cache, first.file!), join(project, 'being-created.qcow2'), log);
    await build(0x0b);
    expect(existsSync(legacy)).toBe(true);
    expect(existsSync(join(cache, first.file!))).toBe(true);
    expect(lines.join('\n')).toMatch(/kept .*debian-12\.qcow2, the debian-12 built before base images were versioned/);
    expect((await baseFilesInUse(cache)).get(join(cache, first.file!))).toMatch(/being created/);
  });

  it('still makes the machine when the cache cannot take its reference, and says what that risks', async () => {
    const info = await build(0x0c);
    await writeFile(refsDir(cache), 'not a directory'); // as a cache that is not ours to write would refuse it
    await recordBaseReference(join(cache, info.file!), join(project, 'machine.qcow2'), log);
    expect(lines.join('\n')).toMatch(/warn: could not record in the base-image cache that this machine uses .*a rebuild of the base may remove that file/);
  });
});

describe('a cached base built by another recipe', () => {
  it('is returned with a warning naming --force, and rebuilt instead with rebuildStale (as the tests build it)', async () => {
    const info = await build(0xaa);
    const json = join(cache, 'debian-12.json');
    await writeFile(json, JSON.stringify({ ...JSON.parse(await readFile(json, 'utf8')), recipe: 'f'.repeat(64) }));
    const cached = await buildBaseImage({ distro: 'debian-12', cacheDir: cache, log });
    expect(cached.sha256).toBe(info.sha256);
    expect(lines.join('\n')).toMatch(/warn: base image debian-12 .*different recipe.*hallmark base build debian-12 --force/);
    // With rebuildStale it does not return the stale image: it goes on to build (here cancelled at once).
    const cancelled = new AbortController();
    cancelled.abort();
    await expect(buildBaseImage({ distro: 'debian-12', cacheDir: cache, log, rebuildStale: true, signal: cancelled.signal })).rejects.toThrow();
    expect(lines.join('\n')).toMatch(/different recipe.*: rebuilding it/);
  });
});
