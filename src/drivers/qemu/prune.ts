import { open, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { TAG_FAMILY } from '../../config/image-family.js';
import type { Logger } from '../../kernel/events.js';
import type { PrunedImage, PruneResult } from '../driver.js';
import { defaultStoreDir, imagePath, listImages, removeImage, type StoredImage } from './store.js';

/** The "region" a local store's prune result carries. */
export const STORE_REGION = 'local';

const summary = (i: StoredImage): PrunedImage => ({ id: i.id, name: i.name, created: i.createdAt, snapshots: [] });

/**
 * image.keep for the local image store: the family's images (tag
 * `hallmark:family`) beyond the newest `keep` are removed, except those in
 * `spare` and those a running qemu runs from (its disk is an overlay on the
 * image: removing it would pull the disk from under the machine). Stopped
 * machines of other projects are not known here; their overlays would lose
 * their backing file, as with `hallmark images rm`.
 */
export async function pruneStore(a: { family: string; keep: number; spare?: string[]; dryRun?: boolean; dir?: string; log: Logger }): Promise<PruneResult> {
  const dir = a.dir ?? defaultStoreDir();
  const images = (await listImages(dir)).filter((i) => i.tags[TAG_FAMILY] === a.family).reverse(); // newest first
  const result: PruneResult = { region: STORE_REGION, kept: images.slice(0, a.keep).map(summary), removed: [], inUse: [] };
  const older = images.slice(a.keep);
  if (older.length === 0) return result;
  const running = await backingFilesOfRunningQemu();
  for (const img of older) {
    const file = path.resolve(imagePath(img, dir));
    const reason = a.spare?.includes(img.id) ? 'this build just published it' : running.has(file) ? `qemu PID ${running.get(file)} runs from it` : undefined;
    if (reason) {
      result.inUse.push({ ...summary(img), reason });
      a.log.info(`keeping ${img.id} (${img.name}): ${reason}`);
      continue;
    }
    if (!a.dryRun) {
      await removeImage(img.id, dir);
      a.log.info(`removed ${img.id} (${img.name}) from the image store, beyond the newest ${a.keep} of ${a.family}`);
    }
    result.removed.push(summary(img));
  }
  return result;
}

/**
 * Absolute paths of the images running qemu processes use directly or as the
 * backing file of their disk overlay, each with the PID. Linux /proc; empty
 * elsewhere.
 */
export async function backingFilesOfRunningQemu(): Promise<Map<string, number>> {
  const used = new Map<string, number>();
  for (const name of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(name)) continue;
    const args = (await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '')).split('\0');
    if (!args[0] || !path.basename(args[0]).startsWith('qemu-system')) continue;
    const cwd = `/proc/${name}/cwd`;
    for (const disk of args.flatMap(driveFiles)) {
      const file = path.resolve(cwd, disk);
      used.set(file, Number(name));
      const backing = await qcow2BackingFile(file);
      if (backing) used.set(path.resolve(path.dirname(file), backing), Number(name));
    }
  }
  return used;
}

/** The `file=` of a `-drive` option value (qemu doubles commas inside values). */
export function driveFiles(arg: string): string[] {
  const m = /(?:^|,)file=((?:[^,]|,,)*)/.exec(arg);
  return m ? [m[1]!.replaceAll(',,', ',')] : [];
}

/** The backing file a qcow2 header names (offset 8: u64 offset, 16: u32 length), or undefined. */
export async function qcow2BackingFile(file: string): Promise<string | undefined> {
  const fh = await open(file, 'r').catch(() => undefined);
  if (!fh) return undefined;
  try {
    const head = Buffer.alloc(20);
    const { bytesRead } = await fh.read(head, 0, 20, 0);
    if (bytesRead < 20 || head.readUInt32BE(0) !== 0x514649fb) return undefined; // "QFI\xfb"
    const offset = Number(head.readBigUInt64BE(8));
    const length = head.readUInt32BE(16);
    if (offset === 0 || length === 0 || length > 4096) return undefined;
    const name = Buffer.alloc(length);
    await fh.read(name, 0, length, offset);
    return name.toString('utf8');
  } finally {
    await fh.close();
  }
}
