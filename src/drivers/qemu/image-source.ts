import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CancelledError } from '../../kernel/errors.js';
import { defaultCacheDir, resolveBaseImage } from './base/index.js';
import { QemuImageError } from './errors.js';
import { sha256File } from './qemu-img.js';
import { getImage, imagePath, isImageId } from './store.js';

/** Where an instance's disk comes from, once `image:` is resolved. */
export interface ResolvedImage {
  /** Absolute path of the backing image. */
  path: string;
  /** What the user wrote, for messages and image metadata. */
  name: string;
  kind: 'base' | 'store' | 'file' | 'url';
  sha256?: string;
  /**
   * True when the image was built by hallmark with the hallmark-guest unit
   * (fw_cfg key injection); false for cloud-init images, which need a seed.
   */
  hallmarkGuest: boolean;
  /** For a base image built by an older recipe: the warning to show (see staleRecipe). */
  stale?: string;
}

interface BaseInfo {
  name?: string;
  variant?: string;
  sha256?: string;
}

function isCloudInitVariant(info: BaseInfo): boolean {
  return /cloud/i.test(info.variant ?? '') || /cloud-?init/i.test(info.name ?? '');
}

/**
 * Resolves a platform's `image:`: an http(s) URL (fetched into the cache and
 * checked against `image_checksum`), a local image store id or name, a path
 * to a disk image, or a base image name looked up in the base cache.
 * Throws QemuImageError with the next step when nothing matches.
 */
export async function resolveImage(
  image: string,
  opts: { projectDir: string; checksum?: string; cacheDir?: string; storeDir?: string; signal?: AbortSignal },
): Promise<ResolvedImage> {
  if (/^https?:\/\//i.test(image)) {
    if (!opts.checksum) {
      throw new QemuImageError(`driver.image is a URL (${image}) but driver.image_checksum is not set`, {
        hint: 'add image_checksum: <sha256 of the file> so the download can be verified',
      });
    }
    const cacheDir = opts.cacheDir ?? defaultCacheDir();
    const file = await fetchVerified(image, opts.checksum, path.join(cacheDir, 'downloads'), opts.signal);
    return { path: file, name: image, kind: 'url', sha256: normalizeChecksum(opts.checksum), hallmarkGuest: false };
  }

  if (isImageId(image) || !looksLikePath(image)) {
    const stored = await getImage(image, opts.storeDir);
    if (stored) {
      return {
        path: imagePath(stored, opts.storeDir),
        name: stored.name,
        kind: 'store',
        sha256: stored.sha256,
        hallmarkGuest: !stored.cloudInit,
      };
    }
  }

  if (looksLikePath(image)) {
    const file = path.resolve(opts.projectDir, image.startsWith('~/') ? path.join(homedir(), image.slice(2)) : image);
    if (!(await exists(file))) {
      throw new QemuImageError(`driver.image: no such file ${file}`, { hint: 'give the path of a qcow2 or raw disk image, or a base image name such as debian-12' });
    }
    // A path is taken as it is unless image_checksum is given: then it must match,
    // as a download must (a cloud image copied by hand, a file replaced under the same name).
    const sha256 = opts.checksum ? await verifyFile(file, opts.checksum, opts.signal) : undefined;
    // A base cache file (`debian-12.qcow2`, or a versioned `debian-12.<sha256[:16]>.qcow2`) has `debian-12.json` beside it.
    const sidecar = await readFile(file.replace(/(\.[0-9a-f]{16})?\.(qcow2|img|raw)$/, '') + '.json', 'utf8').then((t) => JSON.parse(t) as BaseInfo & { distro?: string }, () => undefined);
    return { path: file, name: image, kind: 'file', sha256, hallmarkGuest: !!sidecar?.distro && !isCloudInitVariant(sidecar) };
  }

  try {
    const r = await resolveBaseImage(image, opts.cacheDir);
    return {
      path: path.resolve(r.path),
      name: image,
      kind: 'base',
      sha256: r.info?.sha256,
      hallmarkGuest: !!r.info && !isCloudInitVariant(r.info),
      ...(r.stale ? { stale: r.stale } : {}),
    };
  } catch (err) {
    if (err instanceof QemuImageError) throw err;
    const msg = err instanceof Error ? err.message : String(err);
    throw new QemuImageError(`driver.image: base image "${image}" is not available: ${msg}`, {
      hint: (err as { hint?: string }).hint ?? `build it with: hallmark base build ${image}`,
      cause: err,
    });
  }
}

function looksLikePath(s: string): boolean {
  return s.includes('/') || /\.(qcow2|img|raw)$/i.test(s);
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    (s) => s.isFile(),
    () => false,
  );
}

/** sha256 of a local image file, which must equal `checksum`; returns it. */
async function verifyFile(file: string, checksum: string, signal?: AbortSignal): Promise<string> {
  const want = normalizeChecksum(checksum);
  const got = await sha256File(file, signal);
  if (got !== want) {
    throw new QemuImageError(`driver.image ${file} has sha256 ${got}, but driver.image_checksum is ${want}`, {
      hint: 'the file is not the one the checksum names: check the path, or update image_checksum',
    });
  }
  return got;
}

function normalizeChecksum(c: string): string {
  return c.replace(/^sha256:/i, '').toLowerCase();
}

/**
 * Downloads `url` into `dir/<sha256>.img` unless it is there already, hashing
 * while writing; a mismatch deletes the download. The file name is the
 * checksum, so a verified download is reused by every platform naming it.
 */
export async function fetchVerified(url: string, checksum: string, dir: string, signal?: AbortSignal): Promise<string> {
  const want = normalizeChecksum(checksum);
  const file = path.join(dir, `${want}.img`);
  if (await exists(file)) {
    if ((await sha256File(file, signal)) === want) return file;
    await rm(file, { force: true });
  }
  await mkdir(dir, { recursive: true });
  const partial = `${file}.${process.pid}.partial`;
  const hash = createHash('sha256');
  try {
    const res = await fetch(url, { signal });
    if (!res.ok || !res.body) {
      throw new QemuImageError(`downloading ${url} failed: HTTP ${res.status} ${res.statusText}`, { hint: 'check the URL in driver.image' });
    }
    const body = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
    body.on('data', (c: Buffer) => hash.update(c));
    await pipeline(body, createWriteStream(partial), { signal });
    const got = hash.digest('hex');
    if (got !== want) {
      throw new QemuImageError(`the download of ${url} has sha256 ${got}, but driver.image_checksum is ${want}`, {
        hint: 'the file changed upstream or the checksum is wrong; check the publisher\'s SHA256SUMS',
      });
    }
    await rename(partial, file);
    return file;
  } catch (err) {
    await rm(partial, { force: true });
    if (signal?.aborted) throw new CancelledError('interrupted', { cause: err });
    if (err instanceof QemuImageError) throw err;
    throw new QemuImageError(`downloading ${url} failed: ${(err as Error).message}`, { cause: err, hint: 'check the URL and the network' });
  }
}
