import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { CancelledError, lastLines } from '../../kernel/errors.js';
import type { DriverContext } from '../driver.js';
import { chooseAccelerator } from './accelerator.js';
import { QemuError, QemuImageError } from './errors.js';
import { recordBaseReference } from './base/index.js';
import { resolveImage } from './image-source.js';
import { generateEd25519 } from './keys.js';
import { freeLoopbackPort, waitForSshBanner } from './net.js';
import { readPidFile } from './process.js';
import { isAlive } from '../../kernel/process.js';
import { qemuArgs } from './qemu-args.js';
import { imageInfo, qemuImg } from './qemu-img.js';
import type { QemuDriverOptions } from './schema.js';
import { writeSeedIso } from './seed.js';
import { instancePaths, type QemuState } from './state.js';

/**
 * `create` for the qemu driver: overlay on the base image, fresh client and
 * host keys, qemu daemonized with the SSH port forwarded to 127.0.0.1, then
 * a wait for the guest's SSH banner. Every path is journaled before qemu
 * starts and the PID right after, so destroy can always find what exists.
 */
export async function launchMachine(ctx: DriverContext, opts: QemuDriverOptions): Promise<QemuState> {
  const { journal, log, signal } = ctx;
  const name = ctx.instance.name;
  const p = instancePaths(ctx.stateDir, name);

  const image = await resolveImage(opts.image, { projectDir: ctx.instance.projectDir, checksum: opts.image_checksum, signal });
  if (image.stale) log.warn(image.stale);
  const base = await imageInfo(image.path, signal);
  const cloudInit = opts.cloud_init ?? !image.hallmarkGuest;
  // Unix socket paths are limited to 107 bytes; a deep project gets its QMP socket in the temp dir.
  const qmpSocket =
    p.qmpSocket.length < 100 ? p.qmpSocket : path.join(tmpdir(), `hallmark-qmp-${createHash('sha256').update(p.overlay).digest('hex').slice(0, 16)}.sock`);

  const state: QemuState = {
    instanceDir: p.instanceDir,
    overlay: p.overlay,
    baseImage: image.path,
    baseName: image.name,
    baseSha256: image.sha256,
    privateKeyPath: p.privateKeyPath,
    hostKeyPath: p.hostKeyPath,
    username: opts.username,
    consoleLogPath: p.consoleLogPath,
    qmpSocket,
    pidFile: p.pidFile,
    cloudInit,
  };
  // Recorded before anything is made: destroy removes the instance dir and
  // finds a qemu by its overlay path even if hallmark dies before the PID is known.
  await journal.recordDriver({ ...state });

  await mkdir(p.instanceDir, { recursive: true, mode: 0o700 });
  await mkdir(path.dirname(p.consoleLogPath), { recursive: true });
  await writeFile(p.consoleLogPath, '');

  const [accel, clientKey, hostKey] = await Promise.all([
    chooseAccelerator(opts.accel, signal, log),
    generateEd25519(p.privateKeyPath, `hallmark@${name}`, signal),
    generateEd25519(p.hostKeyPath, `host@${name}`, signal),
  ]);
  state.hostKeyFingerprint = hostKey.fingerprint;
  state.accel = accel.accel;
  state.accelReason = accel.reason;
  await journal.recordDriver({ hostKeyFingerprint: hostKey.fingerprint, accel: accel.accel, accelReason: accel.reason });
  log.info(`qemu: using ${accel.accel === 'kvm' ? 'KVM' : 'TCG (software emulation)'}: ${accel.reason}`);
  await writeFile(p.authorizedKeys, clientKey.publicKey + '\n', { mode: 0o600 });

  const size = opts.disk_size ? toBytes(opts.disk_size) : undefined;
  if (size !== undefined && size < base.virtualSizeBytes) {
    throw new QemuImageError(
      `driver.disk_size ${opts.disk_size} is smaller than the image's disk (${(base.virtualSizeBytes / 2 ** 30).toFixed(1)} GiB)`,
      { hint: 'raise disk_size or leave it out to keep the image\'s size' },
    );
  }
  // Before the overlay exists, so a base build meanwhile keeps the file (image.path is
  // that build's own file, never rewritten: a rebuild of the base cannot change this disk).
  if (image.kind === 'base') await recordBaseReference(image.path, p.overlay, log);
  await qemuImg(
    ['create', '-q', '-f', 'qcow2', '-F', base.format, '-b', image.path, p.overlay, ...(size !== undefined ? [String(size)] : [])],
    signal,
    'creating the instance overlay',
  );
  log.info(`qemu: disk is an overlay on ${image.path} (${image.kind} image ${image.name}; keys through ${cloudInit ? 'a cloud-init seed' : 'fw_cfg'})`);

  if (cloudInit) {
    await writeSeedIso(
      p.seedIso,
      {
        instanceId: `hallmark-${name}-${Date.now()}`,
        hostname: name.toLowerCase().replace(/[^a-z0-9-]+/g, '-').slice(0, 63),
        username: opts.username,
        authorizedKey: clientKey.publicKey,
        hostKey: { privateKey: await readFile(p.hostKeyPath, 'utf8'), publicKey: hostKey.publicKey },
      },
      signal,
    );
  }

  // hostfwd fails when another process took the port between our probe and
  // qemu's bind: try again with a new port.
  for (let attempt = 1; ; attempt++) {
    const port = await freeLoopbackPort();
    state.port = port;
    await journal.recordDriver({ port });
    await rm(p.pidFile, { force: true });
    const args = qemuArgs({
      instance: name,
      memoryMiB: opts.memory,
      cpus: opts.cpus,
      accelArgs: accel.args,
      overlay: p.overlay,
      sshPort: port,
      consoleLogPath: p.consoleLogPath,
      pidFile: p.pidFile,
      qmpSocket,
      authorizedKeysFile: p.authorizedKeys,
      hostKeyFile: cloudInit ? undefined : p.hostKeyPath,
      seedIso: cloudInit ? p.seedIso : undefined,
      extraArgs: opts.qemu_args,
    });
    log.debug(`qemu-system-x86_64 ${args.join(' ')}`);
    const r = await execa('qemu-system-x86_64', args, { reject: false, cancelSignal: signal, stdin: 'ignore', timeout: 120_000 });
    // With -daemonize the pidfile exists once the parent returns, even when it was cancelled late.
    const pid = await readPidFile(p.pidFile);
    if (pid !== undefined) {
      state.pid = pid;
      state.startedAt = new Date().toISOString();
      await journal.recordDriver({ pid, startedAt: state.startedAt });
    }
    if (r.isCanceled || signal.aborted) throw new CancelledError('interrupted while starting qemu');
    if (r.exitCode === 0 && pid !== undefined) break;
    const stderr = (r.stderr || r.stdout || '').trim();
    if (attempt < 3 && /hostfwd|host forwarding|Address already in use/i.test(stderr)) {
      log.debug(`qemu could not forward port ${port} (${stderr}); trying another port`);
      continue;
    }
    throw new QemuError(`qemu failed to start (exit code ${r.exitCode ?? 'none'}):\n${lastLines(stderr, 20) || '(no output)'}`, {
      hint:
        accel.accel === 'kvm'
          ? 'if KVM is the problem, set accel: tcg in the driver block'
          : 'check driver.qemu_args and that the image is a bootable disk',
    });
  }

  log.info(`qemu: started PID ${state.pid}, SSH forwarded to 127.0.0.1:${state.port}; waiting for the guest to boot`);
  const t0 = Date.now();
  await waitForSshBanner(state.port!, {
    maxWaitMs: opts.boot_timeout * 1000,
    signal,
    stillRunning: () => isAlive(state.pid!),
    consoleLogPath: p.consoleLogPath,
    onPoll: (ms) => log.progress(`waiting for the guest's SSH server (${Math.round(ms / 1000)}s)`),
  });
  state.bootMs = Date.now() - t0;
  await journal.recordDriver({ bootMs: state.bootMs });
  log.info(`qemu: the guest's SSH server answered after ${Math.round(state.bootMs / 1000)}s`);
  return state;
}

/** `8G`, `512M`, `1.5T`, plain bytes: binary units, as qemu-img reads them. */
export function toBytes(size: string): number {
  const m = /^(\d+(?:\.\d+)?)([KMGT]?)$/i.exec(size.trim());
  if (!m) throw new QemuImageError(`not a size: ${size}`, { hint: 'write sizes such as 8G or 20480M' });
  const exp = { '': 0, K: 1, M: 2, G: 3, T: 4 }[m[2]!.toUpperCase() as '' | 'K' | 'M' | 'G' | 'T'];
  return Math.round(Number(m[1]) * 1024 ** exp);
}
