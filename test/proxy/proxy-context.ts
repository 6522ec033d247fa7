import { execFileSync } from 'node:child_process';
import { chmod, mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { InstanceConfig } from '../../src/config/types.js';
import { silentLogger, type Logger } from '../../src/kernel/events.js';
import { Journal } from '../../src/kernel/journal.js';
import type { DriverContext } from '../../src/drivers/driver.js';

/** A project directory (world-writable, so the non-root sshd user can leave marker files in it). */
export async function projectDir(prefix = 'hallmark-proxy-'): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  await chmod(dir, 0o777);
  return dir;
}

/** A client key of the test's own, so that a restarted sshd (new host key) still authorizes it. */
export function clientKey(dir: string): string {
  const file = path.join(dir, 'id_ed25519');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'hallmark-proxy-test', '-f', file], { stdio: 'pipe' });
  return file;
}

export async function driverContext(
  dir: string,
  opts: { name?: string; transport?: Record<string, unknown>; log?: Logger; signal?: AbortSignal } = {},
): Promise<DriverContext> {
  const name = opts.name ?? 'default-existing';
  const instance: InstanceConfig = {
    name,
    suite: 'default',
    platform: 'existing',
    driver: { name: 'proxy' },
    transport: { name: 'ssh', ...opts.transport },
    provisioner: { name: 'shell' },
    verifier: { name: 'spec' },
    image: { name: 'img', tags: {}, boot_test: false },
    distribute: {
      regions: [],
      accounts: [],
      organization_arns: [],
      ou_arns: [],
      share_snapshots: false,
      atomic: true,
      concurrency: 1,
      kms_key_ids: {},
      targets: [],
      format: 'qcow2',
    },
    publish: { env_properties: false, manifest: false, junit: false, ci_outputs: false },
    file: path.join(dir, 'hallmark.yml'),
    projectDir: dir,
  };
  const stateDir = path.join(dir, '.hallmark');
  return {
    instance,
    journal: await Journal.open(stateDir, name),
    log: opts.log ?? silentLogger,
    signal: opts.signal ?? new AbortController().signal,
    buildId: 'test',
    stateDir,
  };
}
