import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, isAbsolute, join, resolve } from 'node:path';
import { HallmarkError } from '../../../kernel/errors.js';
import { defaultCacheDir, infoPath, legacyImagePath } from './paths.js';
import { staleRecipe } from './recipe.js';
import type { BaseImageInfo } from './types.js';

export interface CachedBaseImage {
  /** The current build's qcow2: a file whose content never changes (see versionedImagePath). */
  path: string;
  info: BaseImageInfo;
  /** Set when the current recipe differs from the one that built it (see staleRecipe). */
  stale?: string;
}

/** sha256 of a file, hex; reading observes `signal`. */
export async function sha256File(path: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { signal })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * The qcow2 of the build `info` describes: the versioned file it names, or
 * `<name>.qcow2` for bases built before versioned files.
 */
export function baseImageFile(cacheDir: string, info: Pick<BaseImageInfo, 'name' | 'file'>): string {
  return info.file ? join(cacheDir, basename(info.file)) : legacyImagePath(cacheDir, info.name);
}

/**
 * The info of the current build of a cached base image, or undefined when the
 * json or the image it names is missing or the json is unreadable. The json is
 * written last by the builder, so its presence means the qcow2 it names is complete.
 */
export async function readBaseImageInfo(cacheDir: string, name: string): Promise<BaseImageInfo | undefined> {
  try {
    const info = JSON.parse(await readFile(infoPath(cacheDir, name), 'utf8')) as BaseImageInfo;
    if (info.name !== name || typeof info.sha256 !== 'string') return undefined;
    return existsSync(baseImageFile(cacheDir, info)) ? info : undefined;
  } catch {
    return undefined;
  }
}

/** Every complete base image in the cache, sorted by name. */
export async function listBaseImages(cacheDir: string = defaultCacheDir()): Promise<CachedBaseImage[]> {
  let names: string[];
  try {
    names = await readdir(cacheDir);
  } catch {
    return [];
  }
  const out: CachedBaseImage[] = [];
  for (const n of names.filter((f) => f.endsWith('.json')).sort()) {
    const name = n.slice(0, -'.json'.length);
    const info = await readBaseImageInfo(cacheDir, name);
    if (!info) continue;
    const stale = staleRecipe(info);
    out.push({ path: baseImageFile(cacheDir, info), info, ...(stale ? { stale } : {}) });
  }
  return out;
}

export interface ResolvedImage {
  /** For a base name, the current build's own file: overlays made on it keep their content when the base is rebuilt. */
  path: string;
  /** Present for base images from the cache. */
  info?: BaseImageInfo;
  /** Present when the cached base was built by another recipe (see staleRecipe): what to tell the user. */
  stale?: string;
}

/**
 * Resolves a platform's `image:`: a base name (`debian-12`) from the cache,
 * or a path to a disk image. A missing base name is an error whose hint is
 * the command that builds it. URLs are not resolved here (they need
 * `image_checksum` and a download into the cache).
 */
export async function resolveBaseImage(nameOrPath: string, cacheDir: string = defaultCacheDir()): Promise<ResolvedImage> {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(nameOrPath)) {
    throw new HallmarkError(`image "${nameOrPath}" is a URL; downloading base images is not supported yet`, {
      hint: 'download it yourself and give its path, or use a built base image (hallmark base build debian-12)',
    });
  }
  const looksLikePath = nameOrPath.includes('/') || /\.(qcow2|img|raw)$/i.test(nameOrPath);
  if (looksLikePath) {
    const path = isAbsolute(nameOrPath) ? nameOrPath : resolve(nameOrPath);
    const st = await stat(path).catch(() => undefined);
    if (!st?.isFile()) {
      throw new HallmarkError(`image file ${path} does not exist`, {
        hint: 'give the path of a qcow2 image, or a base image name such as debian-12',
      });
    }
    return { path };
  }
  const info = await readBaseImageInfo(cacheDir, nameOrPath);
  if (!info) {
    const m = /^(.*)-cloudinit$/.exec(nameOrPath);
    const cmd = m ? `hallmark base build ${m[1]} --cloud-init` : `hallmark base build ${nameOrPath}`;
    const known = (await listBaseImages(cacheDir)).map((b) => b.info.name);
    throw new HallmarkError(
      `base image "${nameOrPath}" is not in ${cacheDir}` + (known.length ? ` (built: ${known.join(', ')})` : ' (none built yet)'),
      { hint: `run \`${cmd}\`` },
    );
  }
  const stale = staleRecipe(info);
  return { path: baseImageFile(cacheDir, info), info, ...(stale ? { stale } : {}) };
}
