import { createReadStream } from 'node:fs';
import { copyFile, mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { CancelledError } from '../../kernel/errors.js';
import type { Logger } from '../../kernel/events.js';
import type { ImageRecord } from '../../kernel/journal.js';
import { ImageStoreError } from './errors.js';
import { qemuImg } from './qemu-img.js';
import type { StoredImage } from './store.js';

/**
 * Exports a stored image to directories and S3 buckets (`distribute.targets`
 * of a qemu platform). Each export is a disk file plus `<file>.json` with the
 * image's metadata. The location is journaled (through `record`) before any
 * byte is written, so a failed or interrupted build can delete partial
 * exports; an export never overwrites an existing file or object.
 */
export interface ExportOptions {
  format: 'qcow2' | 'raw';
  s3Endpoint?: string;
  signal?: AbortSignal;
  log: Logger;
  /** Journals one copy; called before the copy is written. */
  record: (copy: ImageRecord) => Promise<void>;
}

export function exportFileName(image: Pick<StoredImage, 'name' | 'id'>, format: 'qcow2' | 'raw'): string {
  const safe = image.name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[-.]+/, '') || image.id;
  return `${safe}.${format}`;
}

export function parseS3Url(u: string): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(u);
  if (!m) throw new ImageStoreError(`not an S3 URL: ${u}`, { hint: 'write S3 targets as s3://bucket/prefix' });
  return { bucket: m[1]!, prefix: m[2]!.replace(/\/+$/, '') };
}

export async function s3Client(endpoint?: string): Promise<S3Client> {
  const { S3Client } = await import('@aws-sdk/client-s3');
  const ep = endpoint ?? process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL;
  return new S3Client({
    region: process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
    ...(ep ? { endpoint: ep, forcePathStyle: true } : {}),
  });
}

export async function exportImage(image: StoredImage, source: string, target: string, opts: ExportOptions): Promise<ImageRecord> {
  const fileName = exportFileName(image, opts.format);
  const meta = JSON.stringify({ ...image, format: opts.format, file: fileName, exportedFrom: image.id }, null, 2) + '\n';

  if (target.startsWith('s3://')) {
    const { bucket, prefix } = parseS3Url(target);
    const key = prefix ? `${prefix}/${fileName}` : fileName;
    const location = `s3://${bucket}/${key}`;
    const client = await s3Client(opts.s3Endpoint);
    try {
      const { HeadObjectCommand, PutObjectCommand } = await import('@aws-sdk/client-s3');
      const exists = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: opts.signal }).then(
        () => true,
        (err: { name?: string; $metadata?: { httpStatusCode?: number } }) => {
          if (err.name === 'NotFound' || err.$metadata?.httpStatusCode === 404) return false;
          throw err;
        },
      );
      if (exists) {
        throw new ImageStoreError(`${location} already exists; an export never overwrites`, {
          hint: 'put {{timestamp}} or {{build_id}} in the image name, or delete the object',
        });
      }
      const copy: ImageRecord = { id: location, role: 'copy', region: target, name: image.name };
      await opts.record(copy);
      let file = source;
      if (opts.format === 'raw') {
        file = `${source}.${process.pid}.raw.tmp`;
        await qemuImg(['convert', '-O', 'raw', source, file], opts.signal, 'converting to raw');
      }
      try {
        opts.log.info(`uploading ${image.id} to ${location}`);
        await upload(client, bucket, key, file, opts);
      } finally {
        if (file !== source) await rm(file, { force: true });
      }
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: `${key}.json`, Body: meta, ContentType: 'application/json' }), {
        abortSignal: opts.signal,
      });
      return copy;
    } finally {
      client.destroy();
    }
  }

  const dir = path.resolve(target);
  const dest = path.join(dir, fileName);
  if (await stat(dest).then(() => true, () => false)) {
    throw new ImageStoreError(`${dest} already exists; an export never overwrites`, {
      hint: 'put {{timestamp}} or {{build_id}} in the image name, or remove the file',
    });
  }
  const copy: ImageRecord = { id: dest, role: 'copy', region: target, name: image.name };
  await opts.record(copy);
  await mkdir(dir, { recursive: true });
  const partial = `${dest}.partial`;
  opts.log.info(`exporting ${image.id} to ${dest}`);
  try {
    if (opts.format === 'raw') await qemuImg(['convert', '-O', 'raw', source, partial], opts.signal, 'exporting as raw');
    else await copyFile(source, partial);
    await writeFile(`${dest}.json`, meta);
    await rename(partial, dest);
  } catch (err) {
    await rm(partial, { force: true });
    if (opts.signal?.aborted) throw new CancelledError('interrupted', { cause: err });
    throw err;
  }
  return copy;
}

async function upload(client: S3Client, bucket: string, key: string, file: string, opts: ExportOptions): Promise<void> {
  const { Upload } = await import('@aws-sdk/lib-storage');
  const abortController = new AbortController();
  const onAbort = () => abortController.abort();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const size = (await stat(file)).size;
  try {
    const up = new Upload({
      client,
      params: { Bucket: bucket, Key: key, Body: createReadStream(file), ContentLength: size },
      partSize: 16 << 20,
      queueSize: 4,
      leavePartsOnError: false,
      abortController,
    });
    up.on('httpUploadProgress', (p) => {
      if (p.loaded !== undefined && size > 0) opts.log.progress(`uploading ${key}`, Math.round((p.loaded / size) * 100));
    });
    await up.done();
  } catch (err) {
    if (opts.signal?.aborted) throw new CancelledError('interrupted', { cause: err });
    throw err;
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }
}

/** Removes one export (disk and json). Idempotent. */
export async function deleteExport(copy: ImageRecord, opts: { s3Endpoint?: string; signal?: AbortSignal }): Promise<void> {
  if (copy.id.startsWith('s3://')) {
    const { bucket, prefix: key } = parseS3Url(copy.id);
    const { DeleteObjectCommand } = await import('@aws-sdk/client-s3');
    const client = await s3Client(opts.s3Endpoint);
    try {
      for (const k of [key, `${key}.json`]) {
        await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: k }), { abortSignal: opts.signal });
      }
    } finally {
      client.destroy();
    }
    return;
  }
  for (const f of [copy.id, `${copy.id}.json`, `${copy.id}.partial`]) await rm(f, { force: true });
}
