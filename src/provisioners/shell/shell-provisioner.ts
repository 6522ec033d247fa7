import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError } from '../../kernel/errors.js';
import { shJoin, shQuote } from '../../transports/ssh/quote.js';
import type { ProvisionContext, Provisioner } from '../provisioner.js';
import { retryOptions } from './exit-retry.js';
import { runRemote } from './remote-run.js';
import { DEFAULT_ROOT_PATH, type ShellProvisionerOptions } from './schema.js';

/** One unit of work: a script (uploaded first) or a command run as written. */
type Unit = { kind: 'script'; local: string; remote: string; label: string } | { kind: 'command'; command: string; label: string };

/**
 * The `shell` provisioner. Every script, inline command and `command` runs
 * over the instance's connection with `environment` exported and, unless
 * `sudo: false`, through `sudo -n` (a no-op for root). Each one is retried on
 * Kitchen's `retry_on_exit_code`; the first that still fails ends the
 * provisioning with CommandFailedError naming it.
 */
export class ShellProvisioner implements Provisioner {
  readonly name = 'shell';

  constructor(private readonly options: ShellProvisionerOptions) {}

  async provision(ctx: ProvisionContext): Promise<void> {
    const o = this.options;
    const rootPath = o.root_path ?? DEFAULT_ROOT_PATH;
    const sudo = (o.sudo ?? true) && ctx.target.username !== 'root';
    const units = await this.plan(ctx, rootPath);
    const dataPath = o.data_path ? await localPath(ctx, o.data_path, 'provisioner.data_path') : undefined;
    if (units.length === 0) {
      ctx.log.warn('shell provisioner: nothing to run (no script, scripts, inline or command, and no bootstrap.sh)');
      return;
    }

    const common = { connection: ctx.connection, log: ctx.log, signal: ctx.signal };
    if (units.some((u) => u.kind === 'script') || dataPath) {
      // The login user must own root_path: data_path goes over SFTP as that user.
      const prep = sudo
        ? `mkdir -p ${shQuote(rootPath)} && rm -rf ${shQuote(`${rootPath}/data`)} && chown ${shQuote(ctx.target.username)} ${shQuote(rootPath)}`
        : `mkdir -p ${shQuote(rootPath)} && rm -rf ${shQuote(`${rootPath}/data`)}`;
      const prepHint = 'root_path must be creatable by the login user, or use sudo';
      let prepared = false;
      if (dataPath) {
        await runRemote(prep, { ...common, sudo, what: `preparing ${rootPath}`, hint: prepHint });
        prepared = true;
        ctx.log.info(`uploading ${o.data_path} to ${rootPath}/data`);
        await ctx.connection.upload(dataPath, `${rootPath}/data`, { signal: ctx.signal });
      }
      // A script is written by the command that prepares root_path, its bytes
      // on stdin: one exec instead of an exec, an SFTP session (a
      // sftp-server process on the machine) and an open/write/chmod/close.
      for (const u of units) {
        if (u.kind !== 'script') continue;
        const write = `${prepared ? '' : `${prep} && `}${writeFileCommand(u.remote)}`;
        await runRemote(write, {
          ...common,
          sudo,
          stdin: await readFile(u.local),
          what: prepared ? `uploading ${u.label}` : `preparing ${rootPath} and uploading ${u.label}`,
          hint: prepHint,
        });
        prepared = true;
      }
    }

    const args = o.arguments === undefined ? '' : Array.isArray(o.arguments) ? ` ${shJoin(o.arguments)}` : ` ${o.arguments}`;
    for (const u of units) {
      const command = u.kind === 'script' ? `${shQuote(u.remote)}${args}` : u.command;
      ctx.log.info(`running ${u.label}`);
      await runRemote(command, {
        ...common,
        sudo,
        env: o.environment,
        timeoutMs: o.timeout ? o.timeout * 1000 : undefined,
        what: u.label,
        retry: retryOptions(o, u.label, ctx.log, ctx.signal),
        hint: u.kind === 'script' ? `run it by hand with: hallmark login ${ctx.instance.name}` : undefined,
      });
    }
  }

  /** Resolves what to run; local files are checked before anything happens on the machine. */
  private async plan(ctx: ProvisionContext, rootPath: string): Promise<Unit[]> {
    const o = this.options;
    const scripts: { file: string; key: string }[] = [];
    if (o.script) scripts.push({ file: o.script, key: 'provisioner.script' });
    (o.scripts ?? []).forEach((file, i) => scripts.push({ file, key: `provisioner.scripts[${i}]` }));
    const inline = o.inline === undefined ? [] : Array.isArray(o.inline) ? o.inline : [o.inline];
    if (scripts.length === 0 && inline.length === 0 && !o.command) {
      // Kitchen's default: bootstrap.sh in the project, when there is one.
      const dflt = path.join(ctx.instance.projectDir, 'bootstrap.sh');
      if (await isFile(dflt)) scripts.push({ file: 'bootstrap.sh', key: 'provisioner.script' });
    }
    const names = scripts.map((s) => path.basename(s.file));
    const units: Unit[] = [];
    for (const [i, s] of scripts.entries()) {
      const local = await localPath(ctx, s.file, s.key, true);
      const base = names[i]!;
      // Two scripts with one name (a/setup.sh, b/setup.sh) must not overwrite each other.
      const remoteName = names.indexOf(base) !== names.lastIndexOf(base) ? `${i}-${base}` : base;
      units.push({ kind: 'script', local, remote: `${rootPath}/${remoteName}`, label: `script ${s.file}` });
    }
    inline.forEach((command, i) =>
      units.push({ kind: 'command', command, label: inline.length > 1 ? `inline command ${i + 1} of ${inline.length}` : 'inline command' }),
    );
    if (o.command) units.push({ kind: 'command', command: o.command, label: 'command' });
    return units;
  }
}

/** Writes stdin to `remote` (replacing it), executable. */
function writeFileCommand(remote: string): string {
  const q = shQuote(remote);
  return `rm -f ${q} && cat > ${q} && chmod 0755 ${q}`;
}

async function isFile(p: string): Promise<boolean> {
  return (await stat(p).catch(() => undefined))?.isFile() ?? false;
}

/** A local path from the config, relative to the project directory, that must exist. */
export async function localPath(ctx: { instance: ProvisionContext['instance'] }, p: string, key: string, mustBeFile = false): Promise<string> {
  const abs = path.resolve(ctx.instance.projectDir, p);
  const st = await stat(abs).catch(() => undefined);
  if (!st || (mustBeFile && !st.isFile())) {
    throw new ConfigError([
      {
        file: ctx.instance.file,
        path: key,
        message: st ? 'is not a file' : 'no such file or directory',
        expected: mustBeFile ? 'a file' : 'a file or directory',
        found: abs,
        hint: 'paths are relative to the project directory',
      },
    ]);
  }
  return abs;
}
