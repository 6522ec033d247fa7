/**
 * An OpenSSH client configuration for external verifiers that make their own
 * SSH connection (testinfra's `ssh` backend runs the `ssh` binary). It pins
 * the host key the same way the transport does: hallmark pins SHA256
 * fingerprints while OpenSSH needs whole keys, so the keys are fetched with
 * ssh-keyscan and only one whose fingerprint equals the pin is written to a
 * private known_hosts; ssh then runs with StrictHostKeyChecking=yes against
 * it, so a server swapped in between is refused by OpenSSH itself.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { HallmarkError } from '../../kernel/errors.js';
import type { Logger } from '../../kernel/events.js';
import { knownHostsName, scanHostKeys, type ScannedKey } from '../../provisioners/ansible/known-hosts.js';
import type { ConnectionTarget } from '../../transports/transport.js';

export class VerifierHostKeyError extends HallmarkError {
  override readonly code = 'HOST_KEY_MISMATCH';
}

function sameFingerprint(a: string, b: string): boolean {
  const norm = (s: string) => s.trim().replace(/^SHA256:/i, '').replace(/=+$/, '');
  return norm(a) === norm(b);
}

/**
 * The host keys of `target` to trust, checked against its pin. Empty when the
 * user turned checking off. `tool` names the program in messages.
 */
export async function trustedHostKeys(target: ConnectionTarget, tool: string, log: Logger, signal: AbortSignal): Promise<ScannedKey[]> {
  const where = `${target.hostname}:${target.port}`;
  if (target.hostKey?.insecure) {
    log.warn(`${tool}: not checking the SSH host key of ${where} (verify_host_key: never)`);
    return [];
  }
  const scanned = await scanHostKeys(target.hostname, target.port, signal);
  if (scanned.length === 0) {
    throw new VerifierHostKeyError(`ssh-keyscan got no host key from ${where}; ${tool} was not started`, {
      hint: 'the machine stopped answering SSH, or something else listens on that port',
    });
  }
  const expected = target.hostKey?.expected;
  if (!expected) {
    log.warn(`${tool}: no pinned host key for ${where}; trusting the keys it presents now (${scanned.map((k) => k.fingerprint).join(', ')})`);
    return scanned;
  }
  const trusted = scanned.filter((k) => sameFingerprint(k.fingerprint, expected));
  if (trusted.length === 0) {
    throw new VerifierHostKeyError(
      `the SSH host key of ${where} does not match the pinned one: expected ${expected}, the server presented ` +
        `${scanned.map((k) => `${k.type} ${k.fingerprint}`).join(', ')}. ${tool} was not started.`,
      { hint: 'someone may be intercepting the connection, or the machine was replaced; destroy and recreate the instance' },
    );
  }
  return trusted;
}

export interface SshClientConfig {
  /** The `-F` file. */
  configFile: string;
  /** Control socket path: `ssh -F <config> -O exit <host>` ends the master. */
  controlPath: string;
}

const quote = (s: string) => (/[\s"]/.test(s) ? `"${s.replace(/"/g, '\\"')}"` : s);

/**
 * Writes `ssh_config` and `known_hosts` into `dir` (a private temporary
 * directory the caller removes). The `Host *` block applies to the target;
 * a gateway, when set, is reached through ProxyJump with its own block.
 */
export async function writeSshClientConfig(dir: string, target: ConnectionTarget, keys: ScannedKey[]): Promise<SshClientConfig> {
  const knownHosts = path.join(dir, 'known_hosts');
  const controlPath = path.join(dir, 'cm-%C');
  const name = knownHostsName(target.hostname, target.port);
  await writeFile(knownHosts, keys.map((k) => `${name} ${k.type} ${k.key}\n`).join(''), { mode: 0o600 });
  const checking = target.hostKey?.insecure
    ? ['StrictHostKeyChecking no', 'UserKnownHostsFile /dev/null']
    : ['StrictHostKeyChecking yes', `UserKnownHostsFile ${quote(knownHosts)}`, `HostKeyAlgorithms ${[...new Set(keys.map((k) => (k.type === 'ssh-rsa' ? 'rsa-sha2-512,rsa-sha2-256,ssh-rsa' : k.type)))].join(',')}`];
  const lines: string[] = [];
  const gw = target.gateway;
  if (gw) {
    // The gateway has no pin in ConnectionTarget: trust on first use for this run only.
    lines.push(
      'Host hallmark-gateway',
      `  HostName ${gw.hostname}`,
      `  Port ${gw.port}`,
      `  User ${gw.username}`,
      ...(gw.privateKeyPath ? [`  IdentityFile ${quote(gw.privateKeyPath)}`, '  IdentitiesOnly yes'] : []),
      '  ProxyJump none',
      '  StrictHostKeyChecking accept-new',
      `  UserKnownHostsFile ${quote(path.join(dir, 'known_hosts_gateway'))}`,
      '  BatchMode yes',
      '',
    );
  }
  lines.push(
    'Host *',
    `  HostName ${target.hostname}`,
    `  Port ${target.port}`,
    `  User ${target.username}`,
    ...(target.privateKeyPath ? [`  IdentityFile ${quote(target.privateKeyPath)}`, '  IdentitiesOnly yes'] : []),
    ...(gw ? ['  ProxyJump hallmark-gateway'] : []),
    ...checking.map((l) => `  ${l}`),
    '  GlobalKnownHostsFile /dev/null',
    '  BatchMode yes',
    '  PasswordAuthentication no',
    '  LogLevel ERROR',
    `  ControlPath ${quote(controlPath)}`,
    '  ServerAliveInterval 15',
    '',
  );
  const configFile = path.join(dir, 'ssh_config');
  await writeFile(configFile, lines.join('\n'), { mode: 0o600 });
  return { configFile, controlPath };
}
