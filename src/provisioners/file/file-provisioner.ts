import { stat } from 'node:fs/promises';
import path from 'node:path';
import { shQuote } from '../../transports/ssh/quote.js';
import type { ProvisionContext, Provisioner } from '../provisioner.js';
import { retryOptions } from '../shell/exit-retry.js';
import { runRemote } from '../shell/remote-run.js';
import { DEFAULT_ROOT_PATH } from '../shell/schema.js';
import { localPath } from '../shell/shell-provisioner.js';
import type { FileEntry, FileProvisionerOptions } from './schema.js';

/**
 * The `file` provisioner. Each entry is uploaded over SFTP as the login user
 * to a staging directory under `root_path`, then copied into place with sudo
 * (so that destinations such as /etc work for a non-root user), then chmod'ed
 * and chown'ed. The staging directory is removed afterwards, also on failure.
 * All local sources are checked before anything is uploaded.
 */
export class FileProvisioner implements Provisioner {
  readonly name = 'file';

  constructor(private readonly options: FileProvisionerOptions) {}

  async provision(ctx: ProvisionContext): Promise<void> {
    const o = this.options;
    const sudo = (o.sudo ?? true) && ctx.target.username !== 'root';
    const sources = await Promise.all(
      o.files.map(async (f, i) => {
        const abs = await localPath(ctx, f.source, `provisioner.files[${i}].source`);
        return { abs, isDir: (await stat(abs)).isDirectory() };
      }),
    );
    const stage = `${o.root_path ?? DEFAULT_ROOT_PATH}/files-${process.pid}-${Date.now().toString(36)}`;
    const common = { connection: ctx.connection, log: ctx.log, signal: ctx.signal };
    await runRemote(`mkdir -p ${shQuote(stage)} && chmod 700 ${shQuote(stage)}`, {
      ...common,
      sudo: false,
      what: `creating the staging directory ${stage}`,
      hint: 'set root_path to a directory the login user can write',
    });
    try {
      for (const [i, f] of o.files.entries()) {
        const src = sources[i]!;
        const staged = `${stage}/${i}`;
        const dest = f.destination.endsWith('/') ? path.posix.join(f.destination, path.basename(src.abs)) : f.destination;
        ctx.log.info(`uploading ${f.source} to ${dest}`);
        await ctx.connection.upload(src.abs, staged, { signal: ctx.signal });
        await runRemote(placeCommand(staged, dest, src.isDir, f), {
          ...common,
          sudo,
          what: `putting ${f.source} in place at ${dest}`,
          retry: retryOptions(o, `putting ${f.source} in place`, ctx.log, ctx.signal),
          hint: sudo ? undefined : 'the login user may lack permission there: enable sudo',
        });
      }
    } finally {
      // Best effort, on a fresh signal: the staging copy must not outlive a cancelled run.
      await ctx.connection
        .exec(`rm -rf ${shQuote(stage)}`, { sudo, signal: AbortSignal.timeout(30_000) })
        .catch((err: unknown) => ctx.log.warn(`could not remove ${stage}: ${(err as Error).message}`));
    }
  }
}

/**
 * The shell command that moves one staged upload to its destination and sets
 * its mode and owner. Exported for tests.
 */
export function placeCommand(staged: string, dest: string, isDir: boolean, f: Pick<FileEntry, 'mode' | 'owner' | 'group'>): string {
  const q = shQuote;
  const parts = isDir
    ? [`mkdir -p ${q(dest)}`, `cp -R ${q(`${staged}/.`)} ${q(`${dest}/`)}`]
    : [`mkdir -p ${q(path.posix.dirname(dest))}`, `cp ${q(staged)} ${q(dest)}`];
  const r = isDir ? '-R ' : '';
  if (f.mode) parts.push(`chmod ${r}${q(f.mode)} ${q(dest)}`);
  if (f.owner || f.group) parts.push(`chown ${r}${q(`${f.owner ?? ''}${f.group ? `:${f.group}` : ''}`)} ${q(dest)}`);
  return parts.join(' && ');
}
