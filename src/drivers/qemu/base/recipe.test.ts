import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RECIPE_REVISION, recipeDigest, staleRecipe } from './recipe.js';
import type { BaseImageInfo } from './types.js';

const MIRROR = 'http://deb.debian.org/debian';
const info = (over: Partial<BaseImageInfo> = {}): BaseImageInfo => ({
  name: 'debian-12', distro: 'debian-12', suite: 'bookworm', variant: 'hallmark', sha256: 'ab', sizeBytes: 1,
  virtualSizeBytes: 2, createdAt: '2026-01-01T00:00:00Z', packages: [], mirror: MIRROR, ...over,
});

describe('base image recipe digest', () => {
  it('is stable, and differs between distributions, variants and mirrors (sources.list is in the image)', () => {
    const d = recipeDigest({ distro: 'debian-12', cloudInit: false, mirror: MIRROR });
    expect(d).toMatch(/^[0-9a-f]{64}$/);
    expect(recipeDigest({ distro: 'debian-12', cloudInit: false, mirror: MIRROR })).toBe(d);
    const others = [
      recipeDigest({ distro: 'debian-13', cloudInit: false, mirror: MIRROR }),
      recipeDigest({ distro: 'debian-12', cloudInit: true, mirror: MIRROR }),
      recipeDigest({ distro: 'debian-12', cloudInit: false, mirror: 'http://mirror.example/debian' }),
    ];
    expect(new Set([d, ...others]).size).toBe(4);
  });

  it('calls a base current only when it records the digest of the recipe that builds it now', () => {
    expect(staleRecipe(info({ recipe: recipeDigest({ distro: 'debian-12', cloudInit: false, mirror: MIRROR }) }))).toBeUndefined();
    const ci = info({ name: 'debian-12-cloudinit', variant: 'cloudinit', recipe: recipeDigest({ distro: 'debian-12', cloudInit: false, mirror: MIRROR }) });
    expect(staleRecipe(ci)).toMatch(/^base image debian-12-cloudinit \(built 2026-01-01T00:00:00Z\) was built by a different recipe .*`hallmark base build debian-12 --cloud-init --force`/);
    expect(staleRecipe(info())).toMatch(/built before hallmark recorded base-image recipes.*`hallmark base build debian-12 --force`/);
  });

  // configure.ts and disk.ts say what the build does to the image in code, not data,
  // so the digest sees their changes only through RECIPE_REVISION. When this fails:
  // if the change alters the image's content, bump RECIPE_REVISION; either way, update the fingerprint.
  it('has its revision bumped when the build steps change (fingerprint of configure.ts and disk.ts)', () => {
    const code = ['configure.ts', 'disk.ts']
      .map((f) => readFileSync(new URL(f, import.meta.url), 'utf8'))
      .join('\n')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('//') && !l.startsWith('*') && !l.startsWith('/*'))
      .join('\n')
      .replace(/\s+/g, ' ');
    const fingerprint = createHash('sha256').update(code).digest('hex').slice(0, 16);
    expect({ revision: RECIPE_REVISION, fingerprint }).toEqual({ revision: 2, fingerprint: 'f6f10a4cc48be5b3' });
  });
});
