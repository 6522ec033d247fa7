import ssh2, { type Client, type ClientChannel, type ConnectConfig } from 'ssh2';

const SshClient = ssh2.Client;
import { CancelledError } from '../../kernel/errors.js';
import type { ConnectionTarget } from '../transport.js';
import type { HostKeyPolicy } from './host-key.js';

/** Per-connection settings from the transport block (see schema.ts). */
export interface SshSettings {
  /** One attempt: TCP connect + handshake + authentication. */
  connectionTimeoutMs: number;
  /** 0 disables keepalives. */
  keepaliveIntervalMs: number;
  keepaliveCountMax: number;
  compression: boolean;
}

export interface Credentials {
  privateKey?: Buffer;
  password?: string;
  gatewayKey?: Buffer;
}

export interface OpenClients {
  client: Client;
  /** The bastion's client, when tunnelling; ends when `client` ends. */
  gateway?: Client;
}

/**
 * Opens an ssh2 Client and resolves once it is authenticated ('ready').
 * On any failure or abort the client is destroyed before rejecting, so a
 * failed attempt leaves no socket behind. Errors are ssh2's, with its
 * `level` ('client-socket', 'client-timeout', 'client-authentication', ...),
 * which the retry loop classifies.
 */
export function openClient(config: ConnectConfig, signal: AbortSignal | undefined): Promise<Client> {
  return new Promise((resolve, reject) => {
    const client = new SshClient();
    let settled = false;
    const finish = (err?: unknown) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      if (err === undefined) return resolve(client);
      client.destroy();
      reject(err);
    };
    const onAbort = () => finish(new CancelledError('interrupted', { cause: signal?.reason }));
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    client.once('ready', () => finish());
    // Stays attached for the client's life: after 'ready', errors are handled
    // by the Connection, and an 'error' event without a listener would crash.
    client.on('error', (err) => finish(err));
    client.once('close', () => finish(new Error('connection closed during the SSH handshake')));
    try {
      client.connect(config);
    } catch (err) {
      finish(err);
    }
  });
}

function forwardOut(gateway: Client, host: string, port: number, signal: AbortSignal | undefined): Promise<ClientChannel> {
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(new CancelledError('interrupted', { cause: signal?.reason }));
    signal?.addEventListener('abort', onAbort, { once: true });
    gateway.forwardOut('127.0.0.1', 0, host, port, (err, stream) => {
      signal?.removeEventListener('abort', onAbort);
      if (err) {
        // ssh2 reports the bastion's "open failed" reason (e.g. "Connection refused").
        const e = new Error(`the gateway could not reach ${host}:${port}: ${err.message}`, { cause: err });
        (e as Error & { level?: string }).level = 'gateway-forward';
        return reject(e);
      }
      if (signal?.aborted) {
        stream.destroy();
        return;
      }
      resolve(stream);
    });
  });
}

/** Prefixes an ssh2 error's message, keeping its `level` and `code` for classification. */
function annotate(err: unknown, prefix: string): unknown {
  if (!(err instanceof Error) || err instanceof CancelledError) return err;
  const e = new Error(prefix + err.message, { cause: err }) as Error & { level?: string; code?: string };
  e.level = (err as { level?: string }).level;
  e.code = (err as { code?: string }).code;
  return e;
}

function baseConfig(settings: SshSettings, timeoutMs: number): ConnectConfig {
  return {
    readyTimeout: timeoutMs,
    keepaliveInterval: settings.keepaliveIntervalMs,
    keepaliveCountMax: settings.keepaliveCountMax,
    ...(settings.compression
      ? { algorithms: { compress: ['zlib@openssh.com', 'zlib', 'none'] } }
      : {}),
  };
}

/**
 * One connection attempt, through the gateway when the target has one. The
 * gateway's own host key is not pinned (ConnectionTarget has no place for it);
 * the target's key is, end to end through the tunnel.
 */
export async function connectOnce(
  target: ConnectionTarget,
  creds: Credentials,
  policy: HostKeyPolicy,
  settings: SshSettings,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<OpenClients> {
  const auth = {
    username: target.username,
    ...(creds.privateKey ? { privateKey: creds.privateKey } : {}),
    ...(creds.password !== undefined ? { password: creds.password } : {}),
  };
  let gateway: Client | undefined;
  try {
    let sock: ClientChannel | undefined;
    if (target.gateway) {
      const gw = target.gateway;
      const gwKey = creds.gatewayKey ?? creds.privateKey;
      gateway = await openClient(
        {
          ...baseConfig(settings, timeoutMs),
          host: gw.hostname,
          port: gw.port,
          username: gw.username,
          ...(gwKey ? { privateKey: gwKey } : {}),
        },
        signal,
      ).catch((err: unknown) => {
        throw annotate(err, `gateway ${gw.username}@${gw.hostname}:${gw.port}: `);
      });
      sock = await forwardOut(gateway, target.hostname, target.port, signal);
    }
    const client = await openClient(
      {
        ...baseConfig(settings, timeoutMs),
        ...(sock ? { sock } : { host: target.hostname, port: target.port }),
        ...auth,
        hostVerifier: policy.verify,
      },
      signal,
    );
    if (gateway) {
      const g = gateway;
      client.once('close', () => g.end());
      // A dropped bastion drops the tunnel; the client sees its socket close.
      g.on('close', () => client.destroy());
    }
    return { client, gateway };
  } catch (err) {
    gateway?.destroy();
    throw err;
  }
}
