import path from 'node:path';
import type { ConnectionTarget } from '../transport.js';
import type { SshTransportOptions } from './schema.js';

// What the ssh transport does with its options block; kept apart from the zod
// schema (schema.ts) so that connecting loads no zod.

export type HostKeyMode = 'never' | 'accept_new' | 'always';

export function hostKeyMode(v: SshTransportOptions['verify_host_key']): HostKeyMode {
  if (v === false || v === 'never') return 'never';
  if (v === true || v === 'always' || v === 'very' || v === 'secure') return 'always';
  return 'accept_new';
}

/**
 * The target the transport connects to: what the driver returned, with every
 * field the transport block sets taking precedence. Idempotent. `baseDir`
 * resolves relative key paths (the project directory).
 */
export function applyTransportOverrides(
  target: ConnectionTarget,
  options: Partial<SshTransportOptions>,
  baseDir: string = process.cwd(),
): ConnectionTarget {
  const abs = (p: string) => path.resolve(baseDir, p);
  const out: ConnectionTarget = { ...target };
  if (options.hostname !== undefined) out.hostname = options.hostname;
  if (options.port !== undefined) out.port = options.port;
  if (options.username !== undefined) out.username = options.username;
  if (options.ssh_key !== undefined) out.privateKeyPath = abs(options.ssh_key);
  if (options.password !== undefined) out.password = options.password;
  if (options.max_wait_until_ready !== undefined) out.maxWaitUntilReadyMs = options.max_wait_until_ready * 1000;
  const gw = options.ssh_gateway ?? target.gateway?.hostname;
  if (gw !== undefined) {
    out.gateway = {
      hostname: gw,
      port: options.ssh_gateway_port ?? target.gateway?.port ?? 22,
      username: options.ssh_gateway_username ?? target.gateway?.username ?? out.username,
      privateKeyPath:
        options.ssh_gateway_key !== undefined
          ? abs(options.ssh_gateway_key)
          : (target.gateway?.privateKeyPath ?? out.privateKeyPath),
    };
  }
  if (hostKeyMode(options.verify_host_key) === 'never') out.hostKey = { ...target.hostKey, insecure: true };
  return out;
}
