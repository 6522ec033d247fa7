/**
 * Ad-hoc verification of a machine hallmark did not make, with no config file
 * (`hallmark verify --target ssh://user@host[:port]` or `--target local`), the
 * way `inspec exec -t ssh://...` works: connect, run the spec checks in one
 * round trip, return the report. Failures are results, not exceptions.
 *
 * SSH host keys: `hostKey` pins one; otherwise the known-hosts JSON file
 * (`{ "host:port": "SHA256:..." }`) is consulted and, for a host not in it,
 * the first key seen is recorded there (trust on first use). A key that
 * differs from the pinned or recorded one is a HostKeyMismatchError.
 */
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { HallmarkError, UsageError } from '../kernel/errors.js';
import type { Logger } from '../kernel/events.js';
import { writeFileAtomic } from '../kernel/journal.js';
import { HostKeyMismatchError } from '../transports/ssh/errors.js';
import type { Connection, ConnectionTarget } from '../transports/transport.js';
import type { ResourceSpec } from './spec/types.js';
import type { VerifyReport } from './verifier.js';

/** How long to wait for an existing machine to answer: it should be up already. */
const READY_WAIT_MS = 30_000;

export type Target = { kind: 'local' } | { kind: 'ssh'; username: string; hostname: string; port: number };

/** Parses `local` or `ssh://USER@HOST[:PORT]` (IPv6 in brackets). Throws UsageError naming what is wrong. */
export function parseTarget(s: string): Target {
  const text = s.trim();
  if (text === 'local' || text === 'local://') return { kind: 'local' };
  const bad = (why: string) =>
    new UsageError(`invalid --target "${s}": ${why}`, { hint: 'expected ssh://USER@HOST[:PORT] (e.g. ssh://admin@10.0.0.5:22) or local' });
  if (!/^ssh:\/\//i.test(text)) throw bad(/^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? `unsupported scheme "${text.split(':')[0]}"` : 'no ssh:// scheme');
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw bad('not a valid URL');
  }
  if (!url.username) throw bad('no user name (USER@ before the host)');
  if (url.password) throw bad('a password in the target is not supported; give a private key with --key');
  if (!url.hostname) throw bad('no host');
  if (url.pathname !== '' && url.pathname !== '/') throw bad(`unexpected path "${url.pathname}"`);
  if (url.search || url.hash) throw bad('unexpected query or fragment');
  const port = url.port === '' ? 22 : Number(url.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw bad(`port out of range: ${url.port}`);
  const hostname = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return { kind: 'ssh', username: decodeURIComponent(url.username), hostname, port };
}

/** `host:port` as the known-hosts file keys it (IPv6 in brackets). */
export function knownHostsKey(hostname: string, port: number): string {
  return `${hostname.includes(':') ? `[${hostname}]` : hostname}:${port}`;
}

export function defaultKnownHostsFile(env: NodeJS.ProcessEnv = process.env): string {
  const cache = env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(cache, 'hallmark', 'known_hosts.json');
}

/** Reads the known-hosts file; a missing file is empty, a damaged one an error (never silently trusted anew). */
export async function readKnownHosts(file: string): Promise<Record<string, string>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw err;
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    data = undefined;
  }
  if (!data || typeof data !== 'object' || Array.isArray(data) || Object.values(data).some((v) => typeof v !== 'string')) {
    throw new HallmarkError(`the known-hosts file ${file} is not a JSON object of "host:port": "SHA256:..." entries`, {
      hint: 'fix or delete the file (deleting it trusts every host anew on next use)',
    });
  }
  return data as Record<string, string>;
}

/** Adds one entry, re-reading the file first so entries written meanwhile by other runs are kept. */
async function recordKnownHost(file: string, key: string, fingerprint: string): Promise<void> {
  const hosts = await readKnownHosts(file);
  hosts[key] = fingerprint;
  await writeFileAtomic(file, JSON.stringify(hosts, null, 2) + '\n');
}

export interface VerifyTargetOptions {
  target: string;
  /** Private key file for ssh targets. */
  key?: string;
  /** Expected host key fingerprint (`SHA256:...`); wins over the known-hosts file, which it does not change. */
  hostKey?: string;
  /** Gossfiles, and names of shipped profiles (`baseline`). */
  specFiles: string[];
  profiles: string[];
  /** Vars files for the gossfile templates (goss --vars), merged in order. */
  varsFiles?: string[];
  /** Inline vars, JSON or YAML (goss --vars-inline): replace the files' top-level keys. */
  varsInline?: string;
  /** Inline vars as data (for library callers), used when varsInline is not given. */
  vars?: Record<string, unknown>;
  signal?: AbortSignal;
  log: Logger;
  /** Default: `${XDG_CACHE_HOME:-~/.cache}/hallmark/known_hosts.json`. */
  knownHostsFile?: string;
}

/**
 * Verifies one machine. Gossfiles are loaded and validated before connecting
 * (a typo fails fast, with file and line). The checks run as root: through
 * `sudo -n` when the login user is not root.
 */
export async function verifyTarget(opts: VerifyTargetOptions): Promise<VerifyReport> {
  const start = Date.now();
  const target = parseTarget(opts.target);
  if (opts.specFiles.length === 0 && opts.profiles.length === 0) {
    throw new UsageError('nothing to verify: no gossfiles and no profiles', { hint: 'give --spec FILE and/or --profile baseline' });
  }
  // The connection opens while the gossfiles load: the SSH handshake is
  // mostly waiting on the network and the server, loading is CPU work here, so
  // the two overlap instead of adding up. Nothing reaches the machine before
  // the checks are valid: a gossfile error aborts the handshake and wins over
  // any connection error, and a host key seen for the first time is recorded
  // only once the checks loaded (connectSsh awaits `loaded`).
  const ac = new AbortController();
  const onAbort = () => ac.abort(opts.signal?.reason);
  if (opts.signal?.aborted) onAbort();
  else opts.signal?.addEventListener('abort', onAbort, { once: true });
  let loadedOk!: () => void;
  let loadedFailed!: (err: unknown) => void;
  const loaded = new Promise<void>((resolve, reject) => {
    loadedOk = resolve;
    loadedFailed = reject;
  });
  loaded.catch(() => undefined);
  // Each kind's transport is imported when used: an ssh target loads no execa, local no ssh2.
  const connecting: Promise<Connection> =
    target.kind === 'local'
      ? import('../transports/local/connection.js').then((m) => new m.LocalConnection())
      : connectSsh(target, { ...opts, signal: ac.signal }, loaded);
  connecting.catch(() => undefined);
  let specs: ResourceSpec[];
  let files: string[];
  try {
    ({ specs, files } = await loadChecks(opts));
    loadedOk();
  } catch (err) {
    loadedFailed(err);
    ac.abort(err);
    await connecting.then((c) => c.close(), () => undefined);
    throw err;
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }
  const connection = await connecting;
  try {
    const { runSpecChecks } = await import('./spec/run.js');
    const name = target.kind === 'local' ? 'local' : `ssh://${target.username}@${knownHostsKey(target.hostname, target.port)}`;
    const asRoot = target.kind === 'local' ? process.getuid?.() === 0 : target.username === 'root';
    opts.log.info(`verify: ${specs.length} resources from ${files.length} file(s) on ${name}`);
    const run = await runSpecChecks(connection, specs, { sudo: !asRoot, signal: opts.signal, log: opts.log });
    return { instance: name, verifier: 'spec', results: run.results, durationMs: Date.now() - start };
  } finally {
    await connection.close();
  }
}

/** The gossfiles and profiles with their vars, loaded and validated (ConfigError with file and line). */
async function loadChecks(opts: VerifyTargetOptions): Promise<{ specs: ResourceSpec[]; files: string[] }> {
  const [{ loadSpecFiles }, { profileFiles }, { loadVars, varsFromConfig }] = await Promise.all([
    import('./spec/load.js'),
    import('./spec/files.js'),
    import('./spec/template.js'),
  ]);
  const files = opts.specFiles.map((f) => path.resolve(f));
  for (const p of opts.profiles) files.push(...(await profileFiles(p, '--profile')));
  let vars;
  try {
    vars = await loadVars((opts.varsFiles ?? []).map((f) => path.resolve(f)), opts.varsInline ?? (opts.vars ? varsFromConfig(opts.vars) : undefined));
  } catch (e) {
    throw new UsageError(`--vars: ${(e as Error).message}`, { hint: 'vars are a JSON or YAML map: --vars FILE, --vars-inline "{name: value}"' });
  }
  return { specs: await loadSpecFiles(files, { vars }), files };
}

/** Connects to an ssh target; a host key seen for the first time is recorded only after `loaded` resolves. */
async function connectSsh(target: Extract<Target, { kind: 'ssh' }>, opts: VerifyTargetOptions, loaded: Promise<void>): Promise<Connection> {
  if (!opts.key) {
    throw new UsageError(`no private key for ${opts.target}`, { hint: 'give the key to log in with: --key ~/.ssh/id_ed25519' });
  }
  const file = opts.knownHostsFile ?? defaultKnownHostsFile();
  const key = knownHostsKey(target.hostname, target.port);
  let hostKey: ConnectionTarget['hostKey'];
  let pinnedBy: string;
  if (opts.hostKey) {
    hostKey = { expected: opts.hostKey };
    pinnedBy = '--host-key';
  } else {
    const recorded = (await readKnownHosts(file))[key];
    pinnedBy = file;
    hostKey = recorded
      ? { expected: recorded }
      : {
          record: async (fp) => {
            await loaded;
            await recordKnownHost(file, key, fp);
            opts.log.info(`verify: accepted the SSH host key of ${key} on first use: ${fp} (recorded in ${file})`);
          },
        };
  }
  const { SshTransport } = await import('../transports/ssh/transport.js');
  const connectionTarget: ConnectionTarget = {
    hostname: target.hostname,
    port: target.port,
    username: target.username,
    privateKeyPath: path.resolve(opts.key),
    hostKey,
    maxWaitUntilReadyMs: READY_WAIT_MS,
  };
  try {
    return await new SshTransport({}).connect(connectionTarget, { signal: opts.signal, log: opts.log });
  } catch (err) {
    if (err instanceof HostKeyMismatchError) {
      throw new HostKeyMismatchError(key, err.expected, err.actual, {
        cause: err,
        hint:
          pinnedBy === '--host-key'
            ? 'check the fingerprint given with --host-key (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub on the machine)'
            : `if the machine was legitimately rebuilt, remove "${key}" from ${file}`,
      });
    }
    throw err;
  }
}
