import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chown, mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Logger } from '../../../kernel/events.js';
import { atomicWrite } from '../../../kernel/journal.js';
import { backingFilesOfRunningQemu, qcow2BackingFile } from '../prune.js';
import { refsDir } from './paths.js';

/**
 * An overlay younger than this whose file does not exist yet is taken as being
 * created (its reference is written before `qemu-img create`).
 */
const CREATING_GRACE_MS = 60 * 60_000;

interface BaseRef {
  overlay: string;
  base: string;
}

/**
 * Notes in the base cache that `overlay` is (about to be) backed by `baseFile`,
 * a file in that cache. Called before the overlay is created, so a build that
 * runs meanwhile does not remove the base. Overlays live in any project's
 * `.hallmark/`, so the cache cannot find them otherwise. Idempotent; a
 * reference outlives its overlay harmlessly: baseFilesInUse drops it.
 */
export async function recordBaseReference(baseFile: string, overlay: string, log: Logger): Promise<void> {
  const ref: BaseRef = { overlay: resolve(overlay), base: resolve(baseFile) };
  const key = createHash('sha256').update(ref.overlay).digest('hex').slice(0, 16);
  try {
    const dir = refsDir(dirname(baseFile));
    await mkdir(dir, { recursive: true });
    await atomicWrite(join(dir, `${key}.json`), JSON.stringify(ref) + '\n');
  } catch (err) {
    // Not a reason to refuse the machine (a cache made by `sudo hallmark base build` may not be ours to write).
    log.warn(
      `could not record in the base-image cache that this machine uses ${baseFile} (${(err as Error).message}): ` +
        'a rebuild of the base may remove that file while the machine is stopped',
    );
  }
}

/**
 * Makes the cache's refs directory, owned by the user who ran sudo when a
 * build runs under sudo, so that user's machines can record their base.
 * Called by the build, which runs as root.
 */
export async function makeRefsDir(cacheDir: string): Promise<void> {
  const dir = refsDir(cacheDir);
  await mkdir(dir, { recursive: true });
  const uid = Number(process.env.SUDO_UID);
  const gid = Number(process.env.SUDO_GID);
  if (process.getuid?.() === 0 && Number.isInteger(uid) && uid > 0 && Number.isInteger(gid)) await chown(dir, uid, gid).catch(() => {});
}

/**
 * Absolute paths of the cache's base files that something uses, each with a
 * reason: an overlay recorded by recordBaseReference whose qcow2 header still
 * names the file as its backing file, or a running qemu (whatever made its
 * overlay: tests, benchmarks, Packer). References whose overlay is gone or
 * now backed by something else are removed.
 */
export async function baseFilesInUse(cacheDir: string, now = Date.now()): Promise<Map<string, string>> {
  const used = new Map<string, string>();
  const dir = refsDir(cacheDir);
  for (const n of (await readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith('.json'))) {
    const file = join(dir, n);
    let ref: BaseRef;
    try {
      ref = JSON.parse(await readFile(file, 'utf8')) as BaseRef;
      if (typeof ref.overlay !== 'string' || typeof ref.base !== 'string') throw new Error('not a reference');
    } catch {
      continue; // being written, or not ours: never a reason to remove a base, never removed here
    }
    if (existsSync(ref.overlay)) {
      const backing = await qcow2BackingFile(ref.overlay);
      if (backing !== undefined && resolve(dirname(ref.overlay), backing) === ref.base) {
        used.set(ref.base, `overlay ${ref.overlay} is backed by it`);
        continue;
      }
    } else {
      const age = now - (await stat(file).then((s) => s.mtimeMs, () => 0));
      if (age < CREATING_GRACE_MS) {
        used.set(ref.base, `overlay ${ref.overlay} is being created on it`);
        continue;
      }
    }
    await rm(file, { force: true });
  }
  for (const [file, pid] of await backingFilesOfRunningQemu()) {
    if (!used.has(file)) used.set(file, `qemu PID ${pid} runs from it`);
  }
  return used;
}
