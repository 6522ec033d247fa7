/**
 * A real OpenSSH server for tests: `/usr/sbin/sshd -D -e` on 127.0.0.1 and a
 * free port, with its own host key, config and authorized key in a temporary
 * directory. Tests of the ssh transport, provisioners and verifiers use it.
 *
 * Logins: one key (privateKeyPath) is authorized for both
 * - `username` (`hallmark-test`, created if missing, shell /bin/sh, with
 *   passwordless sudo through /etc/sudoers.d/hallmark-test), to test `sudo`;
 * - `rootUsername` (`root`, PermitRootLogin prohibit-password).
 * AuthorizedKeysFile points at the temporary directory, so nothing in the
 * users' home directories is touched. Needs root (the tests run as root).
 *
 * Every server is stopped by PID in `stop()` (call it in afterAll/finally);
 * `stop()` also ends the per-connection sshd children this server forked.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const TEST_USER = 'hallmark-test';

export interface Sshd {
  host: '127.0.0.1';
  port: number;
  /** Non-root user with passwordless sudo. */
  username: string;
  /** `root`, authorized with the same key. */
  rootUsername: string;
  privateKeyPath: string;
  /** `SHA256:...` as printed by `ssh-keygen -l`. */
  hostKeyFingerprint: string;
  dir: string;
  pid: number;
  /** What sshd wrote to stderr so far (useful in failure messages). */
  log(): string;
  stop(): Promise<void>;
}

export interface StartSshdOptions {
  /** Listen on this port instead of a free one (e.g. to start late on a reserved port). */
  port?: number;
  /** Authorize this existing private key (its `.pub` beside it) instead of making a new one. */
  clientKeyPath?: string;
  /**
   * Extra sshd_config lines. They go first: for most keywords sshd keeps the
   * first value it reads, so these override the helper's defaults.
   */
  extraConfig?: string[];
}

/** A port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

function ensureTestUser(): void {
  const exists = () => {
    try {
      execFileSync('id', ['-u', TEST_USER], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  };
  if (!exists()) {
    try {
      execFileSync('useradd', ['--create-home', '--shell', '/bin/sh', TEST_USER], { stdio: 'pipe' });
    } catch (err) {
      // Another test file may have created it at the same moment.
      if (!exists()) throw err;
    }
  }
  // A '!' password (useradd's default) means "locked": with UsePAM no, sshd
  // then refuses even key logins. '*' means "no password login" only.
  execFileSync('usermod', ['-p', '*', TEST_USER], { stdio: 'pipe' });
  if (existsSync('/etc/sudoers.d') || existsSync('/usr/bin/sudo')) {
    execFileSync('sh', ['-c', `mkdir -p /etc/sudoers.d && printf '%s\\n' '${TEST_USER} ALL=(ALL) NOPASSWD:ALL' > /etc/sudoers.d/${TEST_USER} && chmod 0440 /etc/sudoers.d/${TEST_USER}`]);
  }
}

function keygen(file: string): void {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'hallmark-test', '-f', file], { stdio: 'pipe' });
}

export async function startSshd(opts: StartSshdOptions = {}): Promise<Sshd> {
  ensureTestUser();
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hallmark-sshd-'));
  // sshd reads authorized_keys as the target user: the directory must be traversable.
  await chmod(dir, 0o755);
  const hostKey = path.join(dir, 'host_ed25519');
  const clientKey = opts.clientKeyPath ?? path.join(dir, 'id_ed25519');
  keygen(hostKey);
  if (!opts.clientKeyPath) keygen(clientKey);
  await writeFile(path.join(dir, 'authorized_keys'), await readFile(`${clientKey}.pub`), { mode: 0o644 });
  await chmod(path.join(dir, 'authorized_keys'), 0o644);
  const fp = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${hostKey}.pub`], { encoding: 'utf8' }).split(' ')[1]!;

  for (let attempt = 1; ; attempt++) {
    const port = opts.port ?? (await freePort());
    const config = path.join(dir, 'sshd_config');
    await writeFile(
      config,
      [
        ...(opts.extraConfig ?? []),
        `Port ${port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${hostKey}`,
        `PidFile ${path.join(dir, 'sshd.pid')}`,
        `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`,
        'PermitRootLogin prohibit-password',
        'PubkeyAuthentication yes',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'StrictModes no',
        'UsePAM no',
        'MaxSessions 32',
        'MaxStartups 64',
        'PrintMotd no',
        'LogLevel VERBOSE',
        'Subsystem sftp internal-sftp',
        '',
      ].join('\n'),
    );
    const child = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    const ready = await new Promise<boolean>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`sshd did not start within 10s:\n${log}`)), 10_000);
      const check = () => {
        if (log.includes('Server listening on')) {
          clearTimeout(timer);
          resolve(true);
        }
      };
      child.stderr!.on('data', check);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve(false);
      });
      child.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
    if (!ready) {
      if (log.includes('Address already in use') && opts.port === undefined && attempt < 5) continue;
      throw new Error(`sshd exited during start:\n${log}`);
    }
    return {
      host: '127.0.0.1',
      port,
      username: TEST_USER,
      rootUsername: 'root',
      privateKeyPath: clientKey,
      hostKeyFingerprint: fp,
      dir,
      pid: child.pid!,
      log: () => log,
      stop: () => stopSshd(child, dir),
    };
  }
}

/** PIDs of the direct children of `pid` (the per-connection sshd processes). */
function childrenOf(pid: number): number[] {
  try {
    return execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' })
      .split('\n')
      .map((s) => Number(s.trim()))
      .filter((n) => n > 0);
  } catch {
    return []; // ps exits 1 when there are none
  }
}

async function stopSshd(child: ChildProcess, dirToRemove: string): Promise<void> {
  const pid = child.pid;
  if (pid !== undefined && child.exitCode === null && child.signalCode === null) {
    const kids = childrenOf(pid);
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    for (const k of kids) {
      try {
        process.kill(k, 'SIGTERM');
      } catch {
        /* already gone */
      }
    }
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
  await rm(dirToRemove, { recursive: true, force: true });
}
