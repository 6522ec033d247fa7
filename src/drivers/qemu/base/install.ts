import { existsSync } from 'node:fs';
import { readdir, rename, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Logger } from '../../../kernel/events.js';
import { atomicWrite } from '../../../kernel/journal.js';
import { infoPath, isVersionedImageFile, legacyImagePath, versionedImagePath } from './paths.js';
import { baseFilesInUse } from './refs.js';
import type { BaseImageInfo } from './types.js';

/**
 * Moves a finished build's qcow2 (`built`, in the same filesystem) into the
 * cache as a new versioned file and makes it the current `<name>`. No file an
 * overlay may name is ever written to: the new file has its own name, and
 * `<name>.json` is replaced atomically, so at every moment the name resolves
 * to a complete image. `onInstalled` is called with the new file's path
 * right after it appears (so a cancelled build can remove it). Returns the
 * info as written (with `file`). Call while holding the build lock.
 */
export async function installBuiltImage(
  cacheDir: string,
  built: string,
  info: Omit<BaseImageInfo, 'file'>,
  onInstalled: (file: string) => void = () => {},
): Promise<BaseImageInfo> {
  const dest = versionedImagePath(cacheDir, info.name, info.sha256);
  if (existsSync(dest)) {
    // Content-addressed: the same bytes are there already (and may be in use).
    await rm(built, { force: true });
  } else {
    await rename(built, dest);
    onInstalled(dest);
  }
  const full: BaseImageInfo = { ...info, file: basename(dest) };
  await atomicWrite(infoPath(cacheDir, info.name), JSON.stringify(full, null, 2) + '\n');
  return full;
}

/**
 * Removes the earlier builds of `name` that nothing uses (see baseFilesInUse);
 * the current one stays. The unversioned `<name>.qcow2` of builds before
 * versioned files is never removed: overlays made then were not recorded, so
 * only the user can tell that none is left. Returns the paths removed.
 * Call while holding the build lock.
 */
export async function removeUnusedVersions(cacheDir: string, current: BaseImageInfo, log: Logger): Promise<string[]> {
  const name = current.name;
  const keep = current.file ?? basename(legacyImagePath(cacheDir, name));
  const names = await readdir(cacheDir).catch(() => [] as string[]);
  const older = names.filter((n) => n !== keep && isVersionedImageFile(n, name));
  const removed: string[] = [];
  if (older.length) {
    const used = await baseFilesInUse(cacheDir);
    for (const n of older) {
      const file = join(cacheDir, n);
      const reason = used.get(file);
      if (reason) {
        log.info(`keeping the earlier build ${file}: ${reason}`);
        continue;
      }
      await rm(file, { force: true });
      removed.push(file);
      log.info(`removed the earlier build ${file}: nothing uses it`);
    }
  }
  const legacy = legacyImagePath(cacheDir, name);
  if (keep !== basename(legacy) && existsSync(legacy)) {
    log.info(
      `kept ${legacy}, the ${name} built before base images were versioned: machines created on it before still need it. ` +
        `Remove it once none is left (hallmark destroy in their projects).`,
    );
  }
  return removed;
}
