import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { execa } from 'execa';
import { CancelledError } from '../../kernel/errors.js';
import { QemuError } from './errors.js';

/** Thin, signal-aware wrappers around qemu-img. Errors carry its stderr. */

export interface ImageInfo {
  format: string;
  virtualSizeBytes: number;
  /** Bytes the file takes on disk. */
  actualSizeBytes: number;
  backingFilename?: string;
}

export async function qemuImg(args: string[], signal?: AbortSignal, what = 'qemu-img'): Promise<string> {
  const r = await execa('qemu-img', args, { reject: false, cancelSignal: signal, stdin: 'ignore' });
  if (r.isCanceled || signal?.aborted) throw new CancelledError('interrupted', { cause: signal?.reason });
  if (r.exitCode !== 0) {
    throw new QemuError(`${what} failed (qemu-img ${args.join(' ')}): ${(r.stderr || r.stdout).trim()}`, {
      hint: 'check the image path and free disk space',
    });
  }
  return r.stdout;
}

export async function imageInfo(file: string, signal?: AbortSignal): Promise<ImageInfo> {
  // -U: read even while a running qemu holds the image's write lock.
  const out = await qemuImg(['info', '-U', '--output=json', file], signal, `reading ${file}`);
  const j = JSON.parse(out) as { format: string; 'virtual-size': number; 'actual-size'?: number; 'backing-filename'?: string };
  return {
    format: j.format,
    virtualSizeBytes: j['virtual-size'],
    actualSizeBytes: j['actual-size'] ?? 0,
    backingFilename: j['backing-filename'],
  };
}

/** sha256 (hex) of a file, streamed; observes the signal. */
export async function sha256File(file: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  const stream = createReadStream(file, { highWaterMark: 4 << 20, signal });
  try {
    for await (const chunk of stream) hash.update(chunk as Buffer);
  } catch (err) {
    if (signal?.aborted) throw new CancelledError('interrupted', { cause: err });
    throw err;
  }
  return hash.digest('hex');
}
