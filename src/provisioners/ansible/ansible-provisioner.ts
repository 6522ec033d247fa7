import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, HallmarkError } from '../../kernel/errors.js';
import type { PreflightContext, ProvisionContext, Provisioner } from '../provisioner.js';
import { retryOptions, runWithExitRetry } from '../shell/exit-retry.js';
import { runOnController } from './controller-process.js';
import { AnsibleFailedError } from './errors.js';
import { renderInventory, splitArgs } from './inventory.js';
import { hostKeyDecision } from './known-hosts.js';
import { locateAnsiblePlaybook } from './locate.js';
import { LineBuffer, makeMasker, PlaybookOutputParser } from './output.js';
import { installLocalRoles } from './requirements.js';
import { IGNORED_KITCHEN_ANSIBLE_OPTIONS, verbosityLevel, type AnsibleProvisionerOptions } from './schema.js';
import { writeVarsFiles } from './vars.js';

const DEFAULT_PYTHON = '/usr/bin/python3';

/**
 * The `ansible_playbook` provisioner, in push mode: `ansible-playbook` runs on
 * the controller against the instance over SSH, with a generated inventory,
 * the instance's key, and host key checking pinned to the key the transport
 * pinned (known-hosts.ts). Everything it writes lives in one 0700 temporary
 * directory, removed afterwards together with Ansible's SSH control masters.
 */
export class AnsibleProvisioner implements Provisioner {
  readonly name = 'ansible_playbook';

  constructor(private readonly options: AnsibleProvisionerOptions) {}

  /** ansible-playbook and the playbook exist (build prepare, before launching). */
  async preflight(ctx: PreflightContext): Promise<void> {
    const o = this.options;
    await locateAnsiblePlaybook(o.ansible_binary_path && path.resolve(ctx.instance.projectDir, o.ansible_binary_path));
    await this.findPlaybook(ctx);
  }

  async provision(ctx: ProvisionContext): Promise<void> {
    const o = this.options;
    const { instance, target, log } = ctx;
    const ignored = IGNORED_KITCHEN_ANSIBLE_OPTIONS.filter((k) => (o as Record<string, unknown>)[k] !== undefined);
    if (ignored.length) log.debug(`ansible_playbook: ignoring kitchen-ansible options that apply to running Ansible on the machine: ${ignored.join(', ')}`);

    const binary = await locateAnsiblePlaybook(o.ansible_binary_path && path.resolve(instance.projectDir, o.ansible_binary_path));
    if (!target.privateKeyPath) {
      throw new HallmarkError(`ansible_playbook needs an SSH key for ${target.username}@${target.hostname}; the target has only a password`, {
        hint: 'set ssh_key in the transport block (Ansible password logins would need sshpass)',
      });
    }
    if (target.gateway) {
      throw new HallmarkError('ansible_playbook does not support an ssh_gateway (bastion) yet', {
        hint: 'provision through a directly reachable address, or use the shell provisioner',
      });
    }
    const playbook = await this.findPlaybook(ctx);
    const rolesPaths = await this.rolesPaths(ctx);

    const tmp = await mkdtemp(path.join(os.tmpdir(), 'hallmark-ansible-'));
    const controlDir = path.join(tmp, 'cp');
    try {
      await mkdir(controlDir, { mode: 0o700 });
      await mkdir(path.join(tmp, 'local'), { mode: 0o700 });
      if (o.requirements_path) {
        const installed = await installLocalRoles(path.resolve(instance.projectDir, o.requirements_path), path.join(tmp, 'roles'));
        if (installed.length) rolesPaths.unshift(path.join(tmp, 'roles'));
      }

      const knownHosts = path.join(tmp, 'known_hosts');
      const hostKey = await hostKeyDecision(target, knownHosts, log, ctx.signal);
      await writeFile(knownHosts, hostKey.lines.join('\n') + '\n', { mode: 0o600 });

      const inventoryDir = path.join(tmp, 'inventory');
      await mkdir(inventoryDir, { mode: 0o700 });
      const inventory = path.join(inventoryDir, 'hosts.yml');
      await writeFile(
        inventory,
        renderInventory({
          host: instance.name,
          groups: o.hosts ?? [],
          hostname: target.hostname,
          port: target.port,
          username: target.username,
          privateKeyPath: target.privateKeyPath,
          pythonInterpreter: o.ansible_python_interpreter ?? DEFAULT_PYTHON,
          become: (o.ansible_sudo ?? true) && target.username !== 'root',
          sshOptions: hostKey.sshOptions,
        }),
        { mode: 0o600 },
      );
      // group_vars/host_vars beside the inventory are read by Ansible for it.
      for (const [key, name] of [['group_vars_path', 'group_vars'], ['host_vars_path', 'host_vars']] as const) {
        const p = o[key];
        if (p) {
          await symlink(await this.existing(ctx, p, `provisioner.${key}`), path.join(inventoryDir, name), 'dir');
        }
      }

      const vars = await writeVarsFiles(tmp, o.extra_vars, o.secret_extra_vars, instance.projectDir);
      const args = ['-i', inventory, ...vars.args, ...this.flags(), playbook];
      const env = await this.environment(ctx, { tmp, controlDir, rolesPaths });
      const mask = makeMasker(vars.secrets);
      const shown = `ansible-playbook ${path.relative(instance.projectDir, playbook) || playbook}`;
      log.info(`running ${mask([binary, ...args].join(' '))}`);

      const runOnce = async () => {
        const parser = new PlaybookOutputParser();
        let output = '';
        const sink = (stream: 'stdout' | 'stderr') =>
          new LineBuffer((text) => {
            const masked = mask(text);
            output += masked;
            parser.push(masked);
            log.output(stream, masked);
          });
        const out = sink('stdout');
        const err = sink('stderr');
        const r = await runOnController(binary, args, {
          cwd: instance.projectDir,
          env,
          signal: ctx.signal,
          onStdout: (s) => out.push(s),
          onStderr: (s) => err.push(s),
        });
        out.flush();
        err.flush();
        parser.end();
        return { ...r, output, parser };
      };
      const retry = retryOptions(o, 'ansible-playbook', log, ctx.signal);
      const r = await runWithExitRetry(runOnce, retry);
      if (r.exitCode !== 0) {
        throw new AnsibleFailedError(shown, r.exitCode, r.output, r.parser.summary(), r.parser.failures, {
          hint: 'fix the task, then run converge again (the machine is kept until destroy)',
        });
      }
      if (o.idempotency_test) {
        log.info('idempotency test: running the playbook a second time; nothing may change');
        const again = await runOnce();
        const changed = again.parser.recap.filter((e) => e.changed > 0);
        if (again.exitCode !== 0 || changed.length > 0) {
          throw new AnsibleFailedError(
            shown,
            again.exitCode,
            again.output,
            again.exitCode !== 0
              ? `second run for the idempotency test: ${again.parser.summary() ?? 'failed'}`
              : `idempotency test: the second run changed ${changed.map((c) => `${c.changed} task(s) on ${c.host}`).join(', ')}`,
            again.parser.failures,
            { hint: 'tasks that change something on every run are not idempotent (look for "changed:" in the output)' },
          );
        }
      }
    } finally {
      await closeControlMasters(controlDir);
      await rm(tmp, { recursive: true, force: true });
    }
  }

  /** ansible-playbook flags from the options (no secrets here: they are in vars files). */
  private flags(): string[] {
    const o = this.options;
    const f: string[] = [];
    const v = verbosityLevel(o);
    if (v > 0) f.push(`-${'v'.repeat(v)}`);
    if (o.ansible_check) f.push('--check');
    if (o.ansible_diff) f.push('--diff');
    if (o.tags?.length) f.push('--tags', o.tags.join(','));
    if (o.skip_tags?.length) f.push('--skip-tags', o.skip_tags.join(','));
    if (o.ansible_vault_password_file) f.push('--vault-password-file', o.ansible_vault_password_file);
    if (o.ansible_extra_flags !== undefined) {
      f.push(...(Array.isArray(o.ansible_extra_flags) ? o.ansible_extra_flags : splitArgs(o.ansible_extra_flags)));
    }
    return f;
  }

  private async environment(ctx: ProvisionContext, d: { tmp: string; controlDir: string; rolesPaths: string[] }): Promise<Record<string, string>> {
    const o = this.options;
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
    const rel = async (p: string | undefined, key: string) => (p ? await this.existing(ctx, p, `provisioner.${key}`) : undefined);
    const config = o.ansible_config ?? o.ansible_cfg_path;
    const pathVars: [string, string | undefined][] = [
      ['ANSIBLE_CONFIG', await rel(config, o.ansible_config ? 'ansible_config' : 'ansible_cfg_path')],
      ['ANSIBLE_LIBRARY', await rel(o.modules_path ?? o.library_plugins_path, o.modules_path ? 'modules_path' : 'library_plugins_path')],
      ['ANSIBLE_CALLBACK_PLUGINS', await rel(o.callback_plugins_path, 'callback_plugins_path')],
      ['ANSIBLE_FILTER_PLUGINS', await rel(o.filter_plugins_path, 'filter_plugins_path')],
      ['ANSIBLE_LOOKUP_PLUGINS', await rel(o.lookup_plugins_path, 'lookup_plugins_path')],
    ];
    for (const [k, v] of pathVars) if (v) env[k] = v;
    if (d.rolesPaths.length) env.ANSIBLE_ROLES_PATH = d.rolesPaths.join(path.delimiter);
    Object.assign(env, o.env_vars ?? {});
    // Last, so that neither env_vars nor an ansible.cfg can turn them off:
    // readable live output, and host key checking against our known_hosts.
    Object.assign(env, {
      PYTHONUNBUFFERED: '1',
      ANSIBLE_FORCE_COLOR: '0',
      ANSIBLE_NOCOLOR: '1',
      ANSIBLE_STDOUT_CALLBACK: 'default',
      ANSIBLE_RETRY_FILES_ENABLED: '0',
      ANSIBLE_HOST_KEY_CHECKING: ctx.target.hostKey?.insecure ? 'False' : 'True',
      ANSIBLE_SSH_CONTROL_PATH_DIR: d.controlDir,
      ANSIBLE_LOCAL_TEMP: path.join(d.tmp, 'local'),
      ANSIBLE_PIPELINING: env.ANSIBLE_PIPELINING ?? 'True',
    });
    return env;
  }

  /** kitchen-ansible's search for the playbook (calculate_path), relative to the project. */
  private async findPlaybook(ctx: PreflightContext): Promise<string> {
    const { projectDir, suite, file } = ctx.instance;
    if (this.options.playbook) return this.existing(ctx, this.options.playbook, 'provisioner.playbook', true);
    const base = path.join(projectDir, 'test', 'integration');
    const candidates = [path.join(base, suite, 'ansible', 'default.yml'), path.join(base, suite, 'default.yml'), path.join(base, 'default.yml'), path.join(projectDir, 'default.yml')];
    for (const c of candidates) if ((await stat(c).catch(() => undefined))?.isFile()) return c;
    throw new ConfigError([
      {
        file,
        path: 'provisioner.playbook',
        message: 'no playbook given, and none found where kitchen-ansible looks',
        expected: 'playbook: <file>',
        found: `none of ${candidates.map((c) => path.relative(projectDir, c)).join(', ')}`,
      },
    ]);
  }

  private async rolesPaths(ctx: ProvisionContext): Promise<string[]> {
    const { projectDir, suite } = ctx.instance;
    if (this.options.roles_path) return [await this.existing(ctx, this.options.roles_path, 'provisioner.roles_path')];
    const base = path.join(projectDir, 'test', 'integration');
    for (const c of [path.join(base, suite, 'ansible', 'roles'), path.join(base, suite, 'roles'), path.join(base, 'roles'), path.join(projectDir, 'roles')]) {
      if ((await stat(c).catch(() => undefined))?.isDirectory()) return [c];
    }
    // A role's own repository: the role is the project directory, found under its name.
    if ((await stat(path.join(projectDir, 'meta', 'main.yml')).catch(() => undefined))?.isFile()) return [path.dirname(projectDir)];
    return [];
  }

  private async existing(ctx: PreflightContext, p: string, key: string, mustBeFile = false): Promise<string> {
    const abs = path.resolve(ctx.instance.projectDir, p);
    const st = await stat(abs).catch(() => undefined);
    if (!st || (mustBeFile && !st.isFile())) {
      throw new ConfigError([
        { file: ctx.instance.file, path: key, message: st ? 'is not a file' : 'no such file or directory', found: abs, hint: 'paths are relative to the project directory' },
      ]);
    }
    return abs;
  }
}

/** Ends the ControlPersist ssh masters Ansible left in `dir` (they would linger for 60 s otherwise). */
async function closeControlMasters(dir: string): Promise<void> {
  const sockets = await readdir(dir).catch(() => [] as string[]);
  await Promise.all(
    sockets.map(
      (s) =>
        new Promise<void>((resolve) => {
          execFile('ssh', ['-o', `ControlPath=${path.join(dir, s)}`, '-O', 'exit', 'hallmark-control-master'], { timeout: 10_000 }, () => resolve());
        }),
    ),
  );
}
