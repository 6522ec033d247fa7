import { createHash } from 'node:crypto';
import { execa } from 'execa';
import { HallmarkError } from '../../kernel/errors.js';
import type { Logger } from '../../kernel/events.js';
import type { ConnectionTarget } from '../../transports/transport.js';

/**
 * Host key checking for the OpenSSH client Ansible uses, consistent with the
 * transport's pinning. OpenSSH needs whole public keys in a known_hosts file,
 * while hallmark pins SHA256 fingerprints, so the keys are fetched with
 * ssh-keyscan and only a key whose fingerprint equals the pin is written.
 * A server that presents no such key is refused before Ansible starts; and
 * since Ansible's ssh then runs with StrictHostKeyChecking=yes against that
 * file, a server swapped in between is refused by OpenSSH itself.
 */

export class AnsibleHostKeyError extends HallmarkError {
  override readonly code = 'HOST_KEY_MISMATCH';
}

export interface ScannedKey {
  type: string;
  /** base64 of the key blob, as in known_hosts. */
  key: string;
  fingerprint: string;
}

/** The fingerprint `ssh-keygen -l -E sha256` prints for a base64 key blob. */
export function keyFingerprint(base64Blob: string): string {
  return `SHA256:${createHash('sha256').update(Buffer.from(base64Blob, 'base64')).digest('base64').replace(/=+$/, '')}`;
}

function sameFingerprint(a: string, b: string): boolean {
  const norm = (s: string) => s.trim().replace(/^SHA256:/i, '').replace(/=+$/, '');
  return norm(a) === norm(b);
}

/** Parses ssh-keyscan output (`host type base64` lines; `#` lines are comments). */
export function parseKeyscan(output: string): ScannedKey[] {
  const keys: ScannedKey[] = [];
  for (const line of output.split('\n')) {
    const parts = line.trim().split(/\s+/);
    if (parts.length < 3 || parts[0]!.startsWith('#')) continue;
    const [, type, key] = parts as [string, string, string];
    keys.push({ type, key, fingerprint: keyFingerprint(key) });
  }
  return keys;
}

/** The host pattern OpenSSH looks up: `[host]:port` unless the port is 22. */
export function knownHostsName(hostname: string, port: number): string {
  return port === 22 ? hostname : `[${hostname}]:${port}`;
}

/**
 * The host keys `hostname` presents. ssh-keyscan opens one connection per key
 * type in parallel and silently drops a type whose exchange exceeds `-T`; on
 * a busy machine (a VM under software emulation) that is often the ed25519
 * key. Callers that look for one key rescan the missing types (`types`) one
 * at a time with a longer timeout.
 */
export async function scanHostKeys(
  hostname: string,
  port: number,
  signal: AbortSignal,
  opts: { types?: string[]; timeoutSec?: number } = {},
): Promise<ScannedKey[]> {
  const typeArgs = opts.types?.length ? ['-t', opts.types.join(',')] : [];
  const r = await execa('ssh-keyscan', ['-T', String(opts.timeoutSec ?? 10), ...typeArgs, '-p', String(port), hostname], {
    reject: false,
    cancelSignal: signal,
    forceKillAfterDelay: 2000,
    encoding: 'utf8',
    stdin: 'ignore',
  }).catch((err: unknown) => {
    if (signal.aborted) throw err;
    throw new HallmarkError(`cannot run ssh-keyscan: ${(err as Error).message}`, {
      cause: err,
      hint: 'install the OpenSSH client: apt-get install openssh-client',
    });
  });
  if (signal.aborted) throw r;
  return parseKeyscan(String(r.stdout ?? ''));
}

/** ssh-keyscan's `-t` names, most likely pinned first. */
const SCAN_TYPES = ['ed25519', 'ecdsa', 'rsa'];

/** ssh-keyscan's `-t` name for a known_hosts key type. */
function keyTypeName(type: string): string {
  if (type === 'ssh-ed25519') return 'ed25519';
  if (type.startsWith('ecdsa-')) return 'ecdsa';
  if (type === 'ssh-rsa') return 'rsa';
  return type;
}

/** Host key algorithms OpenSSH should offer for a known_hosts key type. */
function algorithmsFor(type: string): string[] {
  if (type === 'ssh-rsa') return ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];
  return [type];
}

export interface HostKeyDecision {
  /** known_hosts lines to write; empty when checking is off. */
  lines: string[];
  /** ssh options for Ansible's connection. */
  sshOptions: string[];
}

/**
 * Decides how Ansible's ssh checks the host key of `target`:
 * - `insecure` (verify_host_key: never): no checking, as the user asked;
 * - a pinned fingerprint: only the scanned key with that fingerprint is
 *   trusted; none matching is an AnsibleHostKeyError;
 * - no pin (trust on first use): the keys ssh-keyscan sees now are trusted
 *   for this run, with a warning.
 */
export async function hostKeyDecision(
  target: ConnectionTarget,
  knownHostsFile: string,
  log: Logger,
  signal: AbortSignal,
): Promise<HostKeyDecision> {
  const where = `${target.hostname}:${target.port}`;
  if (target.hostKey?.insecure) {
    log.warn(`ansible: not checking the SSH host key of ${where} (verify_host_key: never)`);
    return { lines: [], sshOptions: ['-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null'] };
  }
  const scanned = await scanHostKeys(target.hostname, target.port, signal);
  const expected = target.hostKey?.expected;
  if (expected && !scanned.some((k) => sameFingerprint(k.fingerprint, expected))) {
    // A type ssh-keyscan dropped under load may hold the pinned key: ask again, one type at a time.
    for (const type of SCAN_TYPES.filter((t) => !scanned.some((k) => keyTypeName(k.type) === t))) {
      scanned.push(...(await scanHostKeys(target.hostname, target.port, signal, { types: [type], timeoutSec: 30 })));
      if (scanned.some((k) => sameFingerprint(k.fingerprint, expected))) break;
    }
  }
  if (scanned.length === 0) {
    throw new AnsibleHostKeyError(`ssh-keyscan got no host key from ${where}`, {
      hint: 'the machine stopped answering SSH, or something else listens on that port',
    });
  }
  let trusted: ScannedKey[];
  if (expected) {
    trusted = scanned.filter((k) => sameFingerprint(k.fingerprint, expected));
    if (trusted.length === 0) {
      throw new AnsibleHostKeyError(
        `the SSH host key of ${where} does not match the pinned one: expected ${expected}, the server presented ` +
          `${scanned.map((k) => `${k.type} ${k.fingerprint}`).join(', ')}. Ansible was not started.`,
        { hint: 'someone may be intercepting the connection, or the machine was replaced; destroy and recreate the instance' },
      );
    }
  } else {
    log.warn(`ansible: no pinned host key for ${where}; trusting the keys it presents now (${scanned.map((k) => k.fingerprint).join(', ')})`);
    trusted = scanned;
  }
  const name = knownHostsName(target.hostname, target.port);
  const algorithms = [...new Set(trusted.flatMap((k) => algorithmsFor(k.type)))];
  return {
    lines: trusted.map((k) => `${name} ${k.type} ${k.key}`),
    sshOptions: [
      '-o', 'StrictHostKeyChecking=yes',
      '-o', `UserKnownHostsFile=${knownHostsFile}`,
      '-o', 'GlobalKnownHostsFile=/dev/null',
      '-o', `HostKeyAlgorithms=${algorithms.join(',')}`,
    ],
  };
}
