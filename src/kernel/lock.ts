import { open, readFile, rm, stat } from 'node:fs/promises';
import { constants as fsConstants } from 'node:fs';
import { join, resolve } from 'node:path';
import { poll } from './abort.js';
import { isAlive } from './process.js';

/**
 * The one cross-process lock of hallmark (instance locks, base-image builds):
 * a file created with O_EXCL that holds its holder's PID. A lock whose holder
 * is gone (crash, kill -9) is taken over; a file still without a PID is
 * another process between create and write, and counts as held for a while.
 */
export interface FileLock {
  file: string;
  release(): Promise<void>;
}

/** Lock files this process holds now. */
const heldHere = new Set<string>();

/** How long a lock file may stay without a PID before it is taken for a crashed writer's. */
const UNWRITTEN_GRACE_MS = 5_000;

export type TryLock = { lock: FileLock } | { holder: number | undefined } | { stale: number | undefined };

/** One attempt: the lock, or who holds it. A stale lock is removed and reported (`stale`); the caller tries again. */
export async function tryLockFile(file: string): Promise<TryLock> {
  try {
    const fh = await open(file, fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_WRONLY, 0o600);
    try {
      await fh.writeFile(`${process.pid}\n`);
    } finally {
      await fh.close();
    }
    const key = resolve(file);
    heldHere.add(key);
    const release = async () => {
      heldHere.delete(key);
      await rm(file, { force: true });
    };
    return { lock: { file, release } };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  // A directory is the lock of an older hallmark (mkdir-based, PID in dir/pid).
  const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) =>
    err.code === 'EISDIR' ? readFile(join(file, 'pid'), 'utf8').catch(() => 'dead') : '',
  );
  const holder = Number.parseInt(text, 10);
  if (Number.isFinite(holder) && holder > 0) {
    // Our own PID: held when this process took it, else left by an earlier process that had our PID (containers reuse small PIDs).
    if (holder === process.pid ? heldHere.has(resolve(file)) : isAlive(holder)) return { holder };
  } else {
    const age = await stat(file).then((s) => Date.now() - s.mtimeMs, () => Infinity);
    if (age < UNWRITTEN_GRACE_MS) return { holder: undefined };
  }
  await rm(file, { recursive: true, force: true });
  return { stale: Number.isFinite(holder) ? holder : undefined };
}

/**
 * Takes the lock, waiting while a live process holds it (polling every
 * `pollMs`, observing `signal`). `onWait` is told once who holds it;
 * `onTakeover` each time a dead holder's lock is removed.
 */
export async function lockFile(
  file: string,
  opts: { signal?: AbortSignal; pollMs?: number; onWait?: (holder: number | undefined) => void; onTakeover?: (holder: number | undefined) => void } = {},
): Promise<FileLock> {
  let told = false;
  const lock = await poll(
    async () => {
      for (;;) {
        const r = await tryLockFile(file);
        if ('lock' in r) return r.lock;
        if ('stale' in r) {
          opts.onTakeover?.(r.stale);
          continue; // removed: try again at once
        }
        if (!told) opts.onWait?.(r.holder);
        told = true;
        return undefined;
      }
    },
    { delayMs: opts.pollMs ?? 2000, maxWaitMs: Infinity, signal: opts.signal },
  );
  return lock!;
}
