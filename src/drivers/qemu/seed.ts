import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { QemuError } from './errors.js';

export interface SeedContent {
  instanceId: string;
  hostname: string;
  username: string;
  authorizedKey: string;
  /** The per-instance host key, so the transport can pin it from the first contact. */
  hostKey?: { privateKey: string; publicKey: string };
}

/** cloud-init user-data giving the guest its user, key and (optionally) its ed25519 host key. */
export function userData(c: SeedContent): string {
  const lines = [
    '#cloud-config',
    'users:',
    `  - name: ${JSON.stringify(c.username)}`,
    '    sudo: "ALL=(ALL) NOPASSWD:ALL"',
    '    shell: /bin/bash',
    '    lock_passwd: true',
    '    ssh_authorized_keys:',
    `      - ${JSON.stringify(c.authorizedKey.trim())}`,
    'disable_root: true',
    'ssh_pwauth: false',
    // meta-data renames the guest to the instance; without a hosts entry for
    // that name every sudo warns "unable to resolve host" and waits on DNS.
    'manage_etc_hosts: localhost',
  ];
  if (c.hostKey) {
    lines.push(
      'ssh_deletekeys: true',
      'ssh_genkeytypes: [rsa, ecdsa]',
      'ssh_keys:',
      '  ed25519_private: |',
      ...c.hostKey.privateKey.trim().split('\n').map((l) => `    ${l}`),
      `  ed25519_public: ${JSON.stringify(c.hostKey.publicKey.trim())}`,
    );
  }
  return lines.join('\n') + '\n';
}

/**
 * Writes a NoCloud seed ISO (volume label `cidata`, files user-data and
 * meta-data) with genisoimage. A new instance-id each time makes cloud-init
 * treat every machine, including one booted from a captured image, as new.
 */
export async function writeSeedIso(file: string, c: SeedContent, signal?: AbortSignal): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'hallmark-seed-'));
  try {
    await writeFile(path.join(dir, 'user-data'), userData(c), { mode: 0o600 });
    await writeFile(path.join(dir, 'meta-data'), `instance-id: ${c.instanceId}\nlocal-hostname: ${c.hostname}\n`);
    const r = await execa('genisoimage', ['-quiet', '-output', file, '-volid', 'cidata', '-joliet', '-rock', 'user-data', 'meta-data'], {
      cwd: dir,
      reject: false,
      cancelSignal: signal,
      stdin: 'ignore',
    });
    if (r.isCanceled) throw new QemuError('interrupted while writing the cloud-init seed');
    if (r.exitCode !== 0) {
      throw new QemuError(`genisoimage failed writing the cloud-init seed ${file}: ${r.stderr}`, {
        hint: 'install genisoimage (Debian package genisoimage)',
      });
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
