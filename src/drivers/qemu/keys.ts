import { createHash } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { execa } from 'execa';
import { QemuError } from './errors.js';

export interface KeyPair {
  privateKeyPath: string;
  publicKeyPath: string;
  /** The `.pub` line: `ssh-ed25519 AAAA... comment`. */
  publicKey: string;
  /** OpenSSH's `SHA256:...` fingerprint, as `ssh-keygen -l` prints it. */
  fingerprint: string;
}

/**
 * Makes a fresh ed25519 key pair with ssh-keygen (no passphrase). Used for
 * the per-instance client key and the per-instance host key, which the
 * driver injects so the transport can pin it from the first contact.
 * Overwrites an existing pair at the same path.
 */
export async function generateEd25519(file: string, comment: string, signal?: AbortSignal): Promise<KeyPair> {
  await rm(file, { force: true });
  await rm(`${file}.pub`, { force: true });
  const r = await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file], {
    reject: false,
    cancelSignal: signal,
    stdin: 'ignore',
  });
  if (r.isCanceled) throw new QemuError('interrupted while generating an SSH key');
  if (r.exitCode !== 0) {
    throw new QemuError(`ssh-keygen failed for ${file}: ${r.stderr || r.stdout}`, {
      hint: 'check that openssh-client is installed and the state directory is writable',
    });
  }
  const publicKey = (await readFile(`${file}.pub`, 'utf8')).trim();
  return { privateKeyPath: file, publicKeyPath: `${file}.pub`, publicKey, fingerprint: publicKeyFingerprint(publicKey) };
}

/** SHA256 fingerprint of an OpenSSH public key line (`type base64 [comment]`). */
export function publicKeyFingerprint(line: string): string {
  const blob = line.trim().split(/\s+/)[1];
  if (!blob) throw new QemuError(`not an OpenSSH public key: ${line.slice(0, 40)}`);
  const digest = createHash('sha256').update(Buffer.from(blob, 'base64')).digest('base64');
  return `SHA256:${digest.replace(/=+$/, '')}`;
}
