import { chmod, lstat, mkdir, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { SFTPWrapper, Stats } from 'ssh2';
import { throwIfAborted } from '../../kernel/abort.js';
import { HallmarkError } from '../../kernel/errors.js';

/**
 * Recursive file transfer over one SFTP session. Semantics match `cp -r`
 * into a path that does not exist yet, as LocalConnection does: after
 * `upload('dir', '/tmp/x')`, `/tmp/x` is a copy of `dir`. Parent
 * directories are created. Permission bits travel with the files (SFTP
 * creates files under the server's umask, so they are set explicitly).
 * Symbolic links are followed.
 */

export class TransferError extends HallmarkError {
  override readonly code = 'SSH_TRANSFER';
}

const p = <T>(fn: (cb: (err: Error | undefined | null, v?: T) => void) => void): Promise<T> =>
  new Promise<T>((resolve, reject) => fn((err, v) => (err ? reject(err) : resolve(v as T))));

function remoteStat(sftp: SFTPWrapper, file: string): Promise<Stats | undefined> {
  return new Promise((resolve, reject) =>
    sftp.stat(file, (err, st) => {
      // SFTP status 2 is "no such file".
      if (err && (err as { code?: number }).code === 2) return resolve(undefined);
      if (err) return reject(err);
      resolve(st);
    }),
  );
}

/** `mkdir -p` over SFTP; created directories get `mode` (before any umask fix-up by chmod). */
async function mkdirp(sftp: SFTPWrapper, dir: string): Promise<void> {
  const st = await remoteStat(sftp, dir);
  if (st) {
    if (!st.isDirectory()) throw new TransferError(`cannot create remote directory ${dir}: a file is in the way`);
    return;
  }
  const parent = path.posix.dirname(dir);
  if (parent !== dir) await mkdirp(sftp, parent);
  await p<void>((cb) => sftp.mkdir(dir, cb)).catch(async (err: unknown) => {
    // Lost a race with another creator: fine if it is a directory now.
    if (!(await remoteStat(sftp, dir))?.isDirectory()) throw err;
  });
}

export async function upload(
  sftp: SFTPWrapper,
  localPath: string,
  remotePath: string,
  opts: { signal?: AbortSignal; mode?: number },
): Promise<void> {
  const st = await stat(localPath).catch((err: NodeJS.ErrnoException) => {
    throw new TransferError(`cannot upload ${localPath}: ${err.code === 'ENOENT' ? 'no such file or directory' : err.message}`, { cause: err });
  });
  await mkdirp(sftp, path.posix.dirname(remotePath));
  try {
    await uploadEntry(sftp, localPath, remotePath, st.isDirectory(), opts.signal);
    if (opts.mode !== undefined) await p<void>((cb) => sftp.chmod(remotePath, opts.mode!, cb));
  } catch (err) {
    if (err instanceof HallmarkError) throw err;
    throw new TransferError(`upload of ${localPath} to ${remotePath} failed: ${(err as Error).message}`, { cause: err });
  }
}

async function uploadEntry(sftp: SFTPWrapper, local: string, remote: string, isDir: boolean, signal?: AbortSignal): Promise<void> {
  throwIfAborted(signal);
  const mode = (await stat(local)).mode & 0o7777;
  if (!isDir) {
    await p<void>((cb) => sftp.fastPut(local, remote, { mode }, cb));
    await p<void>((cb) => sftp.chmod(remote, mode, cb));
    return;
  }
  const existing = await remoteStat(sftp, remote);
  if (!existing) await p<void>((cb) => sftp.mkdir(remote, { mode: 0o700 }, cb));
  else if (!existing.isDirectory()) throw new TransferError(`cannot upload directory ${local}: ${remote} is a file`);
  for (const name of (await readdir(local)).sort()) {
    const child = path.join(local, name);
    const cst = await stat(child).catch(() => undefined);
    if (!cst) continue; // dangling symlink
    if (!cst.isDirectory() && !cst.isFile()) continue; // sockets, fifos, devices
    await uploadEntry(sftp, child, path.posix.join(remote, name), cst.isDirectory(), signal);
  }
  // Set the directory's own mode last, so that a read-only directory can still be filled.
  await p<void>((cb) => sftp.chmod(remote, mode, cb));
}

export async function download(
  sftp: SFTPWrapper,
  remotePath: string,
  localPath: string,
  opts: { signal?: AbortSignal },
): Promise<void> {
  const st = await remoteStat(sftp, remotePath);
  if (!st) throw new TransferError(`cannot download ${remotePath}: no such file or directory on the machine`);
  await mkdir(path.dirname(localPath), { recursive: true });
  try {
    await downloadEntry(sftp, remotePath, localPath, st, opts.signal);
  } catch (err) {
    if (err instanceof HallmarkError) throw err;
    throw new TransferError(`download of ${remotePath} to ${localPath} failed: ${(err as Error).message}`, { cause: err });
  }
}

async function downloadEntry(sftp: SFTPWrapper, remote: string, local: string, st: Stats, signal?: AbortSignal): Promise<void> {
  throwIfAborted(signal);
  const mode = st.mode & 0o7777;
  if (st.isFile()) {
    await p<void>((cb) => sftp.fastGet(remote, local, cb));
    await chmod(local, mode);
    return;
  }
  if (!st.isDirectory()) return; // sockets, fifos, devices
  const existing = await lstat(local).catch(() => undefined);
  if (!existing) await mkdir(local, { mode: 0o700 });
  const list = await p<{ filename: string }[]>((cb) => sftp.readdir(remote, cb));
  for (const { filename } of list.sort((a, b) => a.filename.localeCompare(b.filename))) {
    if (filename === '.' || filename === '..') continue;
    const child = path.posix.join(remote, filename);
    const cst = await remoteStat(sftp, child); // follows symlinks
    if (!cst) continue;
    await downloadEntry(sftp, child, path.join(local, filename), cst, signal);
  }
  await chmod(local, mode);
}
