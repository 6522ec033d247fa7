import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { Client } from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InstanceConfig } from '../../src/config/types.js';
import { silentLogger } from '../../src/kernel/events.js';
import { Journal } from '../../src/kernel/journal.js';
import type { DriverContext } from '../../src/drivers/driver.js';
import { detectAccelerator } from '../../src/drivers/qemu/accel.js';
import { buildBaseImage, resolveBaseImage } from '../../src/drivers/qemu/base/index.js';
import { QemuDriver } from '../../src/drivers/qemu/driver.js';
import { generateEd25519 } from '../../src/drivers/qemu/keys.js';
import { freeLoopbackPort, probeSshBanner, waitForSshBanner } from '../../src/drivers/qemu/net.js';
import { isOurQemu, readPidFile, stopQemu } from '../../src/drivers/qemu/process.js';
import { isAlive as pidAlive } from '../../src/kernel/process.js';
import { imageInfo, sha256File } from '../../src/drivers/qemu/qemu-img.js';
import { qemuDriverSchema } from '../../src/drivers/qemu/schema.js';
import { getImage, imageFiles } from '../../src/drivers/qemu/store.js';

/**
 * The qemu driver against real VMs (KVM when it works here, else TCG) on the
 * debian-12 base image. One VM carries create -> SSH -> capture -> destroy;
 * a second is started and its creator SIGKILLed to show destroy works from
 * the journal alone; the captured image is booted once under plain qemu.
 * Every qemu started here is stopped by its PID in afterAll, pass or fail.
 */
let root: string;
let stateDir: string;
let storeDir: string;
let baseImage: string;
const startedPids = new Set<number>();
const startedOverlays = new Map<number, string>();
const signal = () => AbortSignal.timeout(900_000);

function ctxFor(instance: string, journal: Journal): DriverContext {
  return {
    instance: { name: instance, projectDir: root } as InstanceConfig,
    journal,
    log: silentLogger,
    signal: signal(),
    buildId: 'build-test-1',
    stateDir,
  };
}

function fp(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/** Runs one command over SSH; the connection is refused unless the host key has `expectedFp`. */
function sshExec(port: number, username: string, keyPath: string, expectedFp: string, command: string): Promise<{ code: number | null; stdout: string }> {
  return readFile(keyPath).then(
    (privateKey) =>
      new Promise((resolve, reject) => {
        const c = new Client();
        let seen = '';
        c.on('ready', () => {
          c.exec(command, (err, stream) => {
            if (err) return reject(err);
            let stdout = '';
            stream.on('data', (d: Buffer) => (stdout += d.toString()));
            stream.stderr.on('data', () => {});
            stream.on('close', (code: number | null) => {
              c.end();
              resolve({ code, stdout });
            });
          });
        });
        c.on('error', (e) => reject(new Error(`${e.message} (host key seen: ${seen})`)));
        c.connect({
          host: '127.0.0.1',
          port,
          username,
          privateKey,
          readyTimeout: 60_000,
          hostVerifier: (key: Buffer) => {
            seen = fp(key);
            return seen === expectedFp;
          },
        });
      }),
  );
}

async function journalOnDisk(instance: string): Promise<{ driver: Record<string, unknown> } | undefined> {
  try {
    return JSON.parse(await readFile(path.join(stateDir, `${instance}.json`), 'utf8'));
  } catch {
    return undefined;
  }
}

async function waitForJournalPid(instance: string, ms: number): Promise<{ driver: Record<string, unknown> }> {
  const deadline = Date.now() + ms;
  for (;;) {
    const j = await journalOnDisk(instance);
    if (typeof j?.driver.pid === 'number') {
      startedPids.add(j.driver.pid);
      startedOverlays.set(j.driver.pid, String(j.driver.overlay));
      return j;
    }
    if (Date.now() > deadline) throw new Error(`no PID in the journal of ${instance} after ${ms} ms: ${JSON.stringify(j)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'hallmark-qemu-'));
  stateDir = path.join(root, '.hallmark');
  storeDir = path.join(root, 'store');
  process.env.HALLMARK_IMAGE_STORE = storeDir;
  if (process.env.HALLMARK_TEST_BASE_IMAGE) {
    // A specific bootable image (e.g. while the base cache is being rebuilt).
    baseImage = path.resolve(process.env.HALLMARK_TEST_BASE_IMAGE);
    return;
  }
  try {
    baseImage = (await resolveBaseImage('debian-12')).path;
  } catch {
    // Shared with every other user of the cache: built once, ~1-2 min.
    await buildBaseImage({ distro: 'debian-12', rebuildStale: true, log: silentLogger, signal: signal() });
    baseImage = (await resolveBaseImage('debian-12')).path;
  }
}, 1_200_000);

afterAll(async () => {
  for (const pid of startedPids) {
    const overlay = startedOverlays.get(pid);
    if (overlay) await stopQemu(pid, overlay, { graceMs: 3000 });
  }
  if (root) await rm(root, { recursive: true, force: true });
});

describe('qemu driver on a real VM', () => {
  const imageOption = process.env.HALLMARK_TEST_BASE_IMAGE ? path.resolve(process.env.HALLMARK_TEST_BASE_IMAGE) : 'debian-12';
  const driver = new QemuDriver(qemuDriverSchema().parse({ name: 'qemu', image: imageOption, boot_timeout: 600, memory: 768 }));
  let ctx: DriverContext;

  it('create journals the PID, port, overlay and keys before the guest is up; SSH works with the pinned host key', async () => {
    ctx = ctxFor('main-debian-12', await Journal.open(stateDir, 'main-debian-12'));
    const creating = driver.create(ctx);
    creating.catch(() => {});
    const early = await waitForJournalPid('main-debian-12', 120_000);
    const d = early.driver as Record<string, string | number>;
    // Recorded while the guest is still booting: its SSH server does not answer yet.
    expect(await probeSshBanner(d.port as number, 1000)).toBe(false);
    expect(d).toMatchObject({ overlay: expect.stringContaining('overlay.qcow2'), privateKeyPath: expect.any(String), hostKeyFingerprint: expect.stringMatching(/^SHA256:/) });
    expect(['kvm', 'tcg']).toContain(d.accel);
    expect(await isOurQemu(d.pid as number, d.overlay as string)).toBe(true);
    const t0 = Date.now();
    await creating;
    console.log(`[qemu] ${d.accel}: guest SSH answered ${((Date.now() - t0) / 1000).toFixed(1)}s after the PID was journaled`);

    const target = await driver.connectionTarget(ctx);
    expect(target).toMatchObject({ hostname: '127.0.0.1', port: d.port, username: 'debian', hostKey: { expected: d.hostKeyFingerprint } });
    const { stdout: keygen } = await execa('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${ctx.journal.state.driver.hostKeyPath}.pub`]);
    expect(keygen.split(' ')[1]).toBe(target.hostKey!.expected);

    const who = await sshExec(target.port, target.username, target.privateKeyPath!, target.hostKey!.expected!, 'id -un && sudo -n id -u');
    expect(who).toEqual({ code: 0, stdout: 'debian\n0\n' });
    // The pin means something: a different expected key is refused.
    await expect(sshExec(target.port, target.username, target.privateKeyPath!, 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', 'true')).rejects.toThrow();
    expect((await readFile(target.consoleLogPath!, 'utf8')).length).toBeGreaterThan(0);
  }, 900_000);

  it('capture writes one standalone qcow2 with the guest\'s changes, faster than a plain zlib convert, that boots under plain qemu', async () => {
    const target = await driver.connectionTarget(ctx);
    const run = (cmd: string) => sshExec(target.port, target.username, target.privateKeyPath!, target.hostKey!.expected!, cmd);
    expect((await run('echo marker-7f3a | sudo tee /var/lib/hallmark-marker >/dev/null && sudo dd if=/dev/urandom of=/var/tmp/junk bs=1M count=64 status=none && sudo rm /var/tmp/junk')).code).toBe(0);
    const overlay = String(ctx.journal.state.driver.overlay);
    const pid = Number(ctx.journal.state.driver.pid);

    const image = await driver.capture(ctx, {
      name: 'web-{{build}}-1',
      tags: { 'hallmark:build-id': 'build-test-1', 'hallmark:verification': 'sha256:feed' },
      shutdown: async () => {
        await run('sudo fstrim -av; sudo rm -f /etc/ssh/ssh_host_*; sync; sudo systemctl poweroff').catch(() => {});
      },
    });
    expect(pidAlive(pid) && (await isOurQemu(pid, overlay))).toBe(false);
    expect(ctx.journal.state.images).toEqual([{ id: image.id, role: 'source', name: 'web-{{build}}-1' }]);

    const stored = (await getImage(image.id, storeDir))!;
    const file = imageFiles(image.id, storeDir).qcow2;
    const info = await imageInfo(file);
    expect(info.backingFilename).toBeUndefined();
    expect(info.format).toBe('qcow2');
    expect(stored).toMatchObject({
      id: image.id,
      name: 'web-{{build}}-1',
      buildId: 'build-test-1',
      instance: 'main-debian-12',
      verification: 'sha256:feed',
      format: 'qcow2',
      base: { name: imageOption, path: baseImage },
      virtualSizeBytes: info.virtualSizeBytes,
      sizeBytes: (await stat(file)).size,
    });
    expect(stored.sha256).toBe(await sha256File(file));

    // How capture compares with a plain `qemu-img convert -c` is measured in bench/build, not asserted here.
    // Boot the stored image by itself under plain qemu (-snapshot: the store entry stays untouched).
    const keys = await generateEd25519(path.join(root, 'boot-key'), 'boot');
    const host = await generateEd25519(path.join(root, 'boot-host'), 'boot-host');
    await writeFile(path.join(root, 'boot-authorized'), keys.publicKey + '\n');
    const port = await freeLoopbackPort();
    const pidFile = path.join(root, 'boot.pid');
    const accel = await detectAccelerator({});
    await execa('qemu-system-x86_64', [
      ...accel.args, '-m', '768', '-snapshot', '-display', 'none',
      '-drive', `file=${file},if=virtio`,
      '-netdev', `user,id=n0,hostfwd=tcp:127.0.0.1:${port}-:22`, '-device', 'virtio-net-pci,netdev=n0',
      '-fw_cfg', `name=opt/hallmark/authorized_keys,file=${path.join(root, 'boot-authorized')}`,
      '-fw_cfg', `name=opt/hallmark/ssh_host_ed25519_key,file=${host.privateKeyPath}`,
      '-serial', `file:${path.join(root, 'boot.console.log')}`,
      '-pidfile', pidFile, '-daemonize',
    ]);
    const bootPid = (await readPidFile(pidFile))!;
    startedPids.add(bootPid);
    startedOverlays.set(bootPid, file);
    await waitForSshBanner(port, { maxWaitMs: 600_000, stillRunning: () => pidAlive(bootPid), consoleLogPath: path.join(root, 'boot.console.log') });
    const marker = await sshExec(port, 'debian', keys.privateKeyPath, host.fingerprint, 'cat /var/lib/hallmark-marker; ls /etc/ssh/ssh_host_*_key | wc -l');
    expect(marker.stdout.split('\n')[0]).toBe('marker-7f3a');
    // Host keys removed before capture were made anew at this boot.
    expect(Number(marker.stdout.split('\n')[1])).toBeGreaterThanOrEqual(1);
    expect(await stopQemu(bootPid, file)).toBe(true);
  }, 1_200_000);

  it('destroy removes the machine\'s files and forgets it; a second destroy is a no-op', async () => {
    const s = { ...ctx.journal.state.driver } as { instanceDir: string; pid: number; overlay: string };
    await driver.destroy(ctx);
    await expect(stat(s.instanceDir)).rejects.toThrow();
    expect(await isOurQemu(s.pid, s.overlay)).toBe(false);
    expect(ctx.journal.state.driver).toEqual({});
    await driver.destroy(ctx);
    await expect(driver.connectionTarget(ctx)).rejects.toThrow(/has no qemu machine/);
  }, 120_000);
});

describe('qemu failing to start', () => {
  it('is reported with qemu\'s own stderr, and destroy cleans up after it', async () => {
    const disk = path.join(root, 'tiny.qcow2');
    await execa('qemu-img', ['create', '-q', '-f', 'qcow2', disk, '16M']);
    const ctx = ctxFor('bad-args', await Journal.open(stateDir, 'bad-args'));
    const driver = new QemuDriver(qemuDriverSchema().parse({ name: 'qemu', image: disk, accel: 'tcg', qemu_args: ['-no-such-option'] }));
    await expect(driver.create(ctx)).rejects.toThrow(/qemu failed to start[\s\S]*-no-such-option/);
    const instanceDir = String(ctx.journal.state.driver.instanceDir);
    await driver.destroy(ctx);
    await expect(stat(instanceDir)).rejects.toThrow();
  }, 60_000);
});

describe('crash safety', () => {
  it('destroy from a fresh journal stops a VM whose creator was killed with SIGKILL mid-boot', async () => {
    // The creator runs in its own node process (bundled with rolldown), so it can really be SIGKILLed.
    const dir = path.join(root, 'child');
    const script = path.join(dir, 'create.ts');
    await execa('mkdir', ['-p', dir]);
    const src = path.resolve('src');
    await writeFile(
      script,
      [
        `import { Journal } from '${src}/kernel/journal.js';`,
        `import { silentLogger } from '${src}/kernel/events.js';`,
        `import { QemuDriver } from '${src}/drivers/qemu/driver.js';`,
        `import { qemuDriverSchema } from '${src}/drivers/qemu/schema.js';`,
        'const [stateDir, projectDir, image] = process.argv.slice(2);',
        "const journal = await Journal.open(stateDir!, 'crash-debian-12');",
        "const driver = new QemuDriver(qemuDriverSchema().parse({ name: 'qemu', image, boot_timeout: 600, memory: 512, cpus: 1 }));",
        "await driver.create({ instance: { name: 'crash-debian-12', projectDir } as never, journal, log: silentLogger, signal: new AbortController().signal, buildId: 'b', stateDir: stateDir! });",
      ].join('\n'),
    );
    await execa('npx', ['rolldown', script, '--dir', path.join(dir, 'out'), '--platform', 'node'], { cwd: process.cwd() });
    let child: ChildProcess | undefined = spawn(process.execPath, [path.join(dir, 'out', 'create.js'), stateDir, root, baseImage], { stdio: 'ignore' });
    try {
      const j = await waitForJournalPid('crash-debian-12', 120_000);
      const { pid, overlay, instanceDir } = j.driver as { pid: number; overlay: string; instanceDir: string };
      const exited = new Promise((r) => child!.once('exit', r));
      process.kill(child.pid!, 'SIGKILL');
      await exited;
      child = undefined;
      // qemu is daemonized: it outlives its creator.
      expect(await isOurQemu(pid, overlay)).toBe(true);

      const fresh = ctxFor('crash-debian-12', await Journal.open(stateDir, 'crash-debian-12'));
      const driver = new QemuDriver(qemuDriverSchema().parse({ name: 'qemu' }));
      await driver.destroy(fresh);
      expect(pidAlive(pid) && (await isOurQemu(pid, overlay))).toBe(false);
      await expect(stat(instanceDir)).rejects.toThrow();
      await driver.destroy(await Promise.resolve(ctxFor('crash-debian-12', await Journal.open(stateDir, 'crash-debian-12'))));
    } finally {
      if (child?.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
    }
  }, 300_000);
});
