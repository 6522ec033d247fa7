/**
 * Test helper: boots a disk image under plain QEMU as a throwaway qcow2
 * overlay, reachable over SSH on a free loopback port, with keys injected
 * through fw_cfg (the guest contract of hallmark base images). Not the qemu
 * driver: just enough for integration tests. `stop()` kills the VM by its PID
 * and removes the overlay; call it in afterAll/finally.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { sleep } from '../../src/kernel/abort.js';
import { isAlive } from '../../src/kernel/process.js';
import { detectAccelerator } from '../../src/drivers/qemu/accel.js';

export interface BootVmOptions {
  image: string;
  /** Where the keys and the overlay go; default a fresh temp dir (removed by stop()). */
  keyDir?: string;
  /** Inject a fresh ed25519 host key through fw_cfg (default true). */
  injectHostKey?: boolean;
  /** Inject the client key through fw_cfg (default true). */
  injectAuthorizedKey?: boolean;
  /** Extra disk attached read-only (a NoCloud seed ISO). */
  seedIso?: string;
  memoryMiB?: number;
}

export interface BootedVm {
  sshPort: number;
  privateKeyPath: string;
  /** Public half of the injected host key, when one was injected. */
  hostPublicKeyPath?: string;
  pid: number;
  consoleLog: string;
  dir: string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (addr && typeof addr === 'object' ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

async function keygen(path: string): Promise<void> {
  if (!existsSync(path)) await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'hallmark-test', '-f', path]);
}

export async function bootVm(opts: BootVmOptions): Promise<BootedVm> {
  const ownDir = !opts.keyDir;
  const dir = opts.keyDir ?? (await mkdtemp(join(tmpdir(), 'hallmark-vm-')));
  const privateKeyPath = join(dir, 'id_ed25519');
  await keygen(privateKeyPath);
  const overlay = join(dir, `overlay-${process.pid}-${Date.now()}.qcow2`);
  await execa('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', 'qcow2', '-b', opts.image, overlay]);
  const sshPort = await freePort();
  const consoleLog = join(dir, `console-${sshPort}.log`);
  const pidFile = join(dir, `qemu-${sshPort}.pid`);
  const accel = await detectAccelerator();
  const args = [
    ...accel.args,
    '-nodefaults', '-display', 'none', '-m', String(opts.memoryMiB ?? 1024), '-smp', '2',
    '-drive', `file=${overlay},if=virtio,format=qcow2,discard=unmap`,
    '-netdev', `user,id=n0,hostfwd=tcp:127.0.0.1:${sshPort}-:22`,
    '-device', 'virtio-net-pci,netdev=n0',
    '-serial', `file:${consoleLog}`,
    '-daemonize', '-pidfile', pidFile,
  ];
  if (opts.injectAuthorizedKey ?? true) args.push('-fw_cfg', `name=opt/hallmark/authorized_keys,file=${privateKeyPath}.pub`);
  let hostPublicKeyPath: string | undefined;
  if (opts.injectHostKey ?? true) {
    const hostKey = join(dir, `host-${sshPort}_ed25519`);
    await keygen(hostKey);
    args.push('-fw_cfg', `name=opt/hallmark/ssh_host_ed25519_key,file=${hostKey}`);
    hostPublicKeyPath = `${hostKey}.pub`;
  }
  if (opts.seedIso) args.push('-drive', `file=${opts.seedIso},if=virtio,format=raw,readonly=on`);
  await execa('qemu-system-x86_64', args);
  const pid = Number((await readFile(pidFile, 'utf8')).trim());

  const stop = async () => {
    if (isAlive(pid)) {
      process.kill(pid, 'SIGTERM');
      for (let i = 0; i < 50 && isAlive(pid); i++) await sleep(100);
      if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    }
    await rm(overlay, { force: true });
    if (ownDir) await rm(dir, { recursive: true, force: true });
  };
  return { sshPort, privateKeyPath, hostPublicKeyPath, pid, consoleLog, dir, stop };
}

/** Runs `command` on the VM as `user` with the ssh client; pins the host key when one was injected. */
export async function sshExec(vm: BootedVm, command: string, user = 'debian') {
  const knownHosts = join(vm.dir, `known_hosts-${vm.sshPort}`);
  const pin = vm.hostPublicKeyPath
    ? ['-o', 'StrictHostKeyChecking=yes', '-o', `UserKnownHostsFile=${knownHosts}`]
    : ['-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null'];
  if (vm.hostPublicKeyPath && !existsSync(knownHosts)) {
    const pub = (await readFile(vm.hostPublicKeyPath, 'utf8')).trim().split(/\s+/).slice(0, 2).join(' ');
    await writeFile(knownHosts, `[127.0.0.1]:${vm.sshPort} ${pub}\n`);
  }
  return execa('ssh', [
    '-i', vm.privateKeyPath, '-p', String(vm.sshPort), ...pin,
    '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=10', '-o', 'LogLevel=ERROR', '-o', 'IdentitiesOnly=yes',
    `${user}@127.0.0.1`, command,
  ], { reject: false, timeout: 60_000 });
}

/** Waits until `ssh true` succeeds; the error carries the console tail. */
export async function waitForSsh(vm: BootedVm, maxWaitMs = 480_000, user = 'debian'): Promise<number> {
  const started = Date.now();
  let last = '';
  while (Date.now() - started < maxWaitMs) {
    if (!isAlive(vm.pid)) break;
    const r = await sshExec(vm, 'true', user);
    if (r.exitCode === 0) return Date.now() - started;
    last = `${r.stderr}`.trim();
    await sleep(2000);
  }
  const tail = existsSync(vm.consoleLog) ? (await readFile(vm.consoleLog, 'utf8')).split('\n').slice(-30).join('\n') : '';
  throw new Error(`SSH to 127.0.0.1:${vm.sshPort} did not answer in ${maxWaitMs / 1000}s (alive: ${isAlive(vm.pid)}): ${last}\n--- console ---\n${tail}`);
}

/** The ed25519 host key the server presents, as `ssh-ed25519 AAAA...`. */
export async function presentedHostKey(vm: BootedVm): Promise<string> {
  const r = await execa('ssh-keyscan', ['-p', String(vm.sshPort), '-t', 'ed25519', '127.0.0.1'], { reject: false, timeout: 30_000 });
  const line = r.stdout.split('\n').find((l) => l.includes('ssh-ed25519')) ?? '';
  return line.split(/\s+/).slice(1, 3).join(' ');
}
