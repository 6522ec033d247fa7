import { readFile } from 'node:fs/promises';
import ssh2 from 'ssh2';

const { utils } = ssh2;
import type { Logger } from '../../kernel/events.js';
import type { Connection, ConnectionTarget, Transport } from '../transport.js';
import { connectOnce, type Credentials, type SshSettings } from './connect-once.js';
import { SshConnection } from './connection.js';
import { SshSetupError } from './errors.js';
import { HostKeyPolicy } from './host-key.js';
import { applyTransportOverrides, hostKeyMode } from './overrides.js';
import type { SshTransportOptions } from './schema.js';
import { waitUntilReady } from './wait-until-ready.js';

const DEFAULT_MAX_WAIT_MS = 5 * 60_000;
const BASE_DELAY_MS = 500;

/** The transport block's options; `name` is optional so that library callers can pass `{}`. */
export type SshTransportConfig = Partial<SshTransportOptions> & { projectDir?: string };

/**
 * The `ssh` transport (ssh2, no OpenSSH client needed). `connect` waits for
 * the machine with backoff, pins its host key, and returns one reusable
 * Connection.
 *
 * Pass `connect` the driver's target as is: the transport block's options are
 * applied on top of it here (applyTransportOverrides), as Kitchen does. That
 * is idempotent for absolute paths; a relative `ssh_key` is resolved against
 * `projectDir`, else the current directory, so a caller that resolves paths
 * itself should hand over absolute ones.
 */
export class SshTransport implements Transport {
  readonly name = 'ssh';
  private readonly settings: SshSettings;
  private readonly maxDelayMs: number;

  constructor(private readonly options: SshTransportConfig = {}) {
    const compression = options.compression;
    this.settings = {
      connectionTimeoutMs: (options.connection_timeout ?? 15) * 1000,
      keepaliveIntervalMs: options.keepalive === false ? 0 : (options.keepalive_interval ?? 60) * 1000,
      keepaliveCountMax: options.keepalive_maxcount ?? 3,
      compression: compression === true || compression === 'zlib' || compression === 'zlib@openssh.com',
    };
    this.maxDelayMs = Math.max(BASE_DELAY_MS, (options.connection_retry_sleep ?? 5) * 1000);
  }

  resolveTarget(driverTarget: ConnectionTarget): ConnectionTarget {
    return applyTransportOverrides(driverTarget, this.options, this.options.projectDir);
  }

  async connect(driverTarget: ConnectionTarget, opts: { signal?: AbortSignal; log: Logger }): Promise<Connection> {
    const target = this.resolveTarget(driverTarget);
    const where = `${target.username}@${target.hostname}:${target.port}${
      target.gateway ? ` via ${target.gateway.username}@${target.gateway.hostname}:${target.gateway.port}` : ''
    }`;
    if (hostKeyMode(this.options.verify_host_key) === 'always' && !target.hostKey?.expected) {
      throw new SshSetupError(`verify_host_key is "always" but the host key of ${where} is not known beforehand`, {
        hint: 'use verify_host_key: accept_new to record the key on first connection',
      });
    }
    if (target.hostKey?.insecure) opts.log.warn(`not checking the SSH host key of ${where} (verify_host_key: never)`);
    const creds = await loadCredentials(target);
    const policy = new HostKeyPolicy(where, target.hostKey);
    const { client, gateway } = await waitUntilReady(
      async (timeLeftMs) => {
        try {
          return await connectOnce(target, creds, policy, this.settings, Math.min(this.settings.connectionTimeoutMs, timeLeftMs), opts.signal);
        } catch (err) {
          // ssh2 only says "Host denied"; the policy knows why.
          throw policy.failure ?? err;
        }
      },
      {
        where,
        maxWaitMs: target.maxWaitUntilReadyMs ?? DEFAULT_MAX_WAIT_MS,
        baseDelayMs: BASE_DELAY_MS,
        maxDelayMs: this.maxDelayMs,
        consoleLogPath: target.consoleLogPath,
        signal: opts.signal,
        log: opts.log,
      },
    );
    opts.log.debug(`connected to ${where} (host key ${policy.seen ?? 'unknown'})`);
    return new SshConnection(client, gateway, where, target.username, opts.log);
  }
}

async function readKey(file: string, what: string): Promise<Buffer> {
  const buf = await readFile(file).catch((err: NodeJS.ErrnoException) => {
    throw new SshSetupError(`cannot read the ${what} ${file}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`, {
      cause: err,
      hint: 'check ssh_key in the transport block, or that the driver created the key',
    });
  });
  const parsed = utils.parseKey(buf);
  if (parsed instanceof Error) {
    throw new SshSetupError(`the ${what} ${file} is not a usable private key: ${parsed.message}`, {
      cause: parsed,
      hint: 'use an unencrypted OpenSSH or PEM private key (RSA, ECDSA or Ed25519)',
    });
  }
  return buf;
}

/** Reads keys once, before waiting: a missing key file will not appear by retrying. */
async function loadCredentials(target: ConnectionTarget): Promise<Credentials> {
  if (!target.privateKeyPath && target.password === undefined) {
    throw new SshSetupError(`no SSH credentials for ${target.username}@${target.hostname}: neither a key nor a password`, {
      hint: 'set ssh_key or password in the transport block',
    });
  }
  const creds: Credentials = {};
  if (target.privateKeyPath) creds.privateKey = await readKey(target.privateKeyPath, 'SSH private key');
  if (target.password !== undefined) creds.password = target.password;
  const gwKey = target.gateway?.privateKeyPath;
  if (gwKey && gwKey !== target.privateKeyPath) creds.gatewayKey = await readKey(gwKey, 'SSH gateway key');
  return creds;
}
