import { randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { atomicWrite } from '../../kernel/journal.js';

/**
 * The local image store: one directory with `<id>.qcow2` + `<id>.json` per
 * captured image. The json is written last (atomically), so an entry without
 * it is an unfinished capture: it is not listed, and removeImage deletes it.
 *
 * Location: $HALLMARK_IMAGE_STORE, else ${XDG_DATA_HOME:-~/.local/share}/hallmark/images.
 */
export function defaultStoreDir(): string {
  if (process.env.HALLMARK_IMAGE_STORE) return path.resolve(process.env.HALLMARK_IMAGE_STORE);
  const data = process.env.XDG_DATA_HOME || path.join(homedir(), '.local', 'share');
  return path.join(data, 'hallmark', 'images');
}

export const storedImageSchema = z.object({
  id: z.string().regex(/^img-[0-9a-f]+$/),
  name: z.string(),
  tags: z.record(z.string(), z.string()),
  base: z.object({ name: z.string(), path: z.string(), sha256: z.string().optional() }),
  buildId: z.string(),
  instance: z.string(),
  /** Digest of the verification report that passed on this machine (from the build's tags). */
  verification: z.string().nullable(),
  createdAt: z.string(),
  sizeBytes: z.number(),
  virtualSizeBytes: z.number(),
  sha256: z.string(),
  format: z.literal('qcow2'),
  /** The guest gets its user and keys from cloud-init (a NoCloud seed) rather than hallmark's fw_cfg unit. */
  cloudInit: z.boolean().optional(),
  /** How long the conversion took, for comparisons; informational. */
  captureMs: z.number().optional(),
});

export type StoredImage = z.output<typeof storedImageSchema>;

export function newImageId(): string {
  return `img-${randomBytes(8).toString('hex')}`;
}

export function isImageId(s: string): boolean {
  return /^img-[0-9a-f]+$/.test(s);
}

export function imageFiles(id: string, dir = defaultStoreDir()) {
  return {
    qcow2: path.join(dir, `${id}.qcow2`),
    json: path.join(dir, `${id}.json`),
    /** The conversion writes here and renames when complete. */
    partial: path.join(dir, `${id}.qcow2.partial`),
  };
}

/** Every complete image, oldest first. Unreadable or foreign json files are skipped. */
export async function listImages(dir = defaultStoreDir()): Promise<StoredImage[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const images: StoredImage[] = [];
  for (const n of names) {
    if (!/^img-[0-9a-f]+\.json$/.test(n)) continue;
    try {
      const parsed = storedImageSchema.safeParse(JSON.parse(await readFile(path.join(dir, n), 'utf8')));
      if (parsed.success) images.push(parsed.data);
    } catch {
      /* being written or removed right now */
    }
  }
  return images.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
}

/** An image by id, or else the newest image with that name. */
export async function getImage(idOrName: string, dir = defaultStoreDir()): Promise<StoredImage | undefined> {
  const all = await listImages(dir);
  return all.find((i) => i.id === idOrName) ?? all.filter((i) => i.name === idOrName).pop();
}

/** Path of an image's qcow2 (which exists when getImage found it). */
export function imagePath(image: Pick<StoredImage, 'id'>, dir = defaultStoreDir()): string {
  return imageFiles(image.id, dir).qcow2;
}

/** Writes the metadata that makes an entry complete. */
export async function writeImageEntry(image: StoredImage, dir = defaultStoreDir()): Promise<void> {
  await mkdir(dir, { recursive: true });
  await atomicWrite(imageFiles(image.id, dir).json, JSON.stringify(storedImageSchema.parse(image), null, 2) + '\n');
}

/**
 * Sets (or, with null, removes) tags of a stored image, rewriting its entry
 * atomically. Returns false when the image is not in the store.
 */
export async function setImageTags(id: string, tags: Record<string, string | null>, dir = defaultStoreDir()): Promise<boolean> {
  const image = (await listImages(dir)).find((i) => i.id === id);
  if (!image) return false;
  const next = { ...image.tags };
  for (const [k, v] of Object.entries(tags)) {
    if (v === null) delete next[k];
    else next[k] = v;
  }
  await writeImageEntry({ ...image, tags: next }, dir);
  return true;
}

/**
 * Removes an image and any unfinished parts of it. Idempotent: returns false
 * when there was nothing to remove. The json goes first, so a crash half-way
 * never leaves a listed image without its disk.
 */
export async function removeImage(id: string, dir = defaultStoreDir()): Promise<boolean> {
  if (!isImageId(id)) return false;
  const f = imageFiles(id, dir);
  let removed = false;
  for (const file of [f.json, f.qcow2, f.partial]) {
    try {
      await rm(file);
      removed = true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  return removed;
}
