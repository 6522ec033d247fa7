import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HallmarkError } from '../../../kernel/errors.js';
import { listBaseImages, resolveBaseImage, sha256File } from './cache.js';
import { recipeDigest } from './recipe.js';
import { defaultCacheDir, isVersionedImageFile, versionedImagePath } from './paths.js';
import type { BaseImageInfo } from './types.js';

let dir: string;
const info = (name: string): BaseImageInfo => ({
  name, distro: 'debian-12', suite: 'bookworm', variant: 'hallmark', sha256: 'ab', sizeBytes: 1,
  virtualSizeBytes: 2, createdAt: '2024-01-01T00:00:00Z', packages: [], mirror: 'http://deb.debian.org/debian',
});

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hallmark-base-cache-'));
  await writeFile(join(dir, 'debian-12.qcow2'), 'x');
  await writeFile(join(dir, 'debian-12.json'), JSON.stringify(info('debian-12')));
  // json without its image (interrupted copy) and image without json (interrupted build): neither counts
  await writeFile(join(dir, 'debian-13.json'), JSON.stringify(info('debian-13')));
  await writeFile(join(dir, 'debian-12-cloudinit.qcow2'), 'x');
  await mkdir(join(dir, 'debs'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('base image cache', () => {
  it('lists only complete images', async () => {
    expect((await listBaseImages(dir)).map((b) => b.info.name)).toEqual(['debian-12']);
    expect(await listBaseImages(join(dir, 'missing'))).toEqual([]);
  });

  it('resolves a base built before versioned files to <name>.qcow2 with its info', async () => {
    const r = await resolveBaseImage('debian-12', dir);
    expect(r.path).toBe(join(dir, 'debian-12.qcow2'));
    expect(r.info?.suite).toBe('bookworm');
  });

  it('resolves a versioned build to the file its json names, and flags one built by another recipe', async () => {
    const v = await mkdtemp(join(tmpdir(), 'hallmark-base-cache-v-'));
    try {
      const sha = 'c0ffee'.padEnd(64, '0');
      const current: BaseImageInfo = { ...info('debian-12'), sha256: sha, file: 'debian-12.c0ffee0000000000.qcow2', recipe: recipeDigest({ distro: 'debian-12', cloudInit: false, mirror: info('x').mirror }) };
      await writeFile(join(v, 'debian-12.c0ffee0000000000.qcow2'), 'x');
      await writeFile(join(v, 'debian-12.qcow2'), 'an older build, which overlays made before versioning name');
      await writeFile(join(v, 'debian-12.json'), JSON.stringify(current));
      const r = await resolveBaseImage('debian-12', v);
      expect(r.path).toBe(join(v, 'debian-12.c0ffee0000000000.qcow2'));
      expect(r.stale).toBeUndefined();
      expect((await listBaseImages(v)).map((b) => [b.path, b.stale])).toEqual([[r.path, undefined]]);

      await writeFile(join(v, 'debian-12.json'), JSON.stringify({ ...current, recipe: 'f'.repeat(64) }));
      expect((await resolveBaseImage('debian-12', v)).stale).toMatch(/different recipe.*`hallmark base build debian-12 --force`/);
      // The json names a file that is not there: not a complete image.
      await rm(join(v, 'debian-12.c0ffee0000000000.qcow2'));
      expect(await listBaseImages(v)).toEqual([]);
    } finally {
      await rm(v, { recursive: true, force: true });
    }
  });

  it('says a base built before recipes were recorded may be outdated', async () => {
    expect((await resolveBaseImage('debian-12', dir)).stale).toMatch(/before hallmark recorded base-image recipes.*`hallmark base build debian-12 --force`/);
  });

  it('says which command builds a missing base image', async () => {
    const err = await resolveBaseImage('debian-13', dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HallmarkError);
    expect((err as HallmarkError).hint).toBe('run `hallmark base build debian-13`');
    expect((err as HallmarkError).message).toContain('built: debian-12');
    const ci = (await resolveBaseImage('debian-12-cloudinit', dir).catch((e: unknown) => e)) as HallmarkError;
    expect(ci.hint).toBe('run `hallmark base build debian-12 --cloud-init`');
  });

  it('accepts paths to existing images and rejects missing ones and URLs', async () => {
    expect((await resolveBaseImage(join(dir, 'debian-12.qcow2'))).path).toBe(join(dir, 'debian-12.qcow2'));
    await expect(resolveBaseImage(join(dir, 'nope.qcow2'))).rejects.toThrow(/does not exist/);
    await expect(resolveBaseImage('https://example.com/x.qcow2')).rejects.toThrow(/URL/);
  });

  it('hashes files with sha256', async () => {
    expect(await sha256File(join(dir, 'debian-12.qcow2'))).toBe('2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881');
  });

  it('names each build of a base by its sha256, never confusing debian-12 with debian-12-cloudinit', () => {
    expect(versionedImagePath('/c', 'debian-12', '0123456789abcdef'.repeat(4))).toBe('/c/debian-12.0123456789abcdef.qcow2');
    expect(isVersionedImageFile('debian-12.0123456789abcdef.qcow2', 'debian-12')).toBe(true);
    for (const other of ['debian-12-cloudinit.0123456789abcdef.qcow2', 'debian-12.qcow2', 'debian-12.0123456789abcdef.qcow2.tmp', 'debian-12.json']) {
      expect(isVersionedImageFile(other, 'debian-12')).toBe(false);
    }
  });

  it('follows XDG_CACHE_HOME', () => {
    expect(defaultCacheDir({ XDG_CACHE_HOME: '/x/cache', HOME: '/home/u' })).toBe('/x/cache/hallmark/base');
    expect(defaultCacheDir({ HOME: '/home/u' })).toBe('/home/u/.cache/hallmark/base');
  });
});
