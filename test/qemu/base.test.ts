/**
 * Real base images: debootstrap from Debian's mirror, boot under plain QEMU
 * (no -kernel), SSH in with keys injected through fw_cfg (or cloud-init for
 * the cloud-init variant). The build is slow, so it lands in the user's base
 * cache (HALLMARK_BASE_CACHE overrides) and later runs reuse it; a fresh CI
 * machine builds it here, as part of the test.
 */
import { constants, existsSync } from 'node:fs';
import { access, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Logger } from '../../src/kernel/events.js';
import { detectAccelerator, findProbeKernel } from '../../src/drivers/qemu/accel.js';
import {
  buildBaseImage, defaultCacheDir, listBaseImages, resolveBaseImage, sha256File, type BaseImageInfo,
} from '../../src/drivers/qemu/base/index.js';
import { bootVm, presentedHostKey, sshExec, waitForSsh, type BootedVm } from '../helpers/vm.js';

const cacheDir = process.env.HALLMARK_BASE_CACHE ?? defaultCacheDir();
const canRun = process.getuid?.() === 0 && existsSync('/usr/sbin/debootstrap');

function recordingLogger(lines: string[]): Logger {
  const add = (level: string) => (m: string) => lines.push(`${level}: ${m}`);
  return { debug: add('debug'), info: add('info'), warn: add('warn'), error: add('error'), progress: add('progress'), output: () => {} };
}

describe.runIf(canRun)('debian-12 base image', () => {
  let info: BaseImageInfo;
  let image: string;
  const vms: BootedVm[] = [];
  let vm: BootedVm;
  let bootSecs = 0;

  beforeAll(async () => {
    const lines: string[] = [];
    const t = Date.now();
    info = await buildBaseImage({ distro: 'debian-12', rebuildStale: true, cacheDir, log: recordingLogger(lines) });
    console.log(`debian-12 build/reuse took ${((Date.now() - t) / 1000).toFixed(0)}s\n${lines.filter((l) => !l.startsWith('debug')).join('\n')}`);
    image = (await resolveBaseImage('debian-12', cacheDir)).path;
    vm = await bootVm({ image });
    vms.push(vm);
    bootSecs = (await waitForSsh(vm)) / 1000;
    console.log(`boot to SSH: ${bootSecs.toFixed(1)}s (${(await detectAccelerator()).accel})`);
  }, 900_000);

  afterAll(async () => {
    for (const v of vms) await v.stop();
  });

  it('caches a compressed qcow2 with matching metadata', async () => {
    expect(info).toMatchObject({ name: 'debian-12', distro: 'debian-12', suite: 'bookworm', variant: 'hallmark' });
    expect(info.packages).toEqual(expect.arrayContaining(['openssh-server', 'python3', 'sudo', 'grub-pc']));
    expect(await sha256File(image)).toBe(info.sha256);
    const q = JSON.parse((await execa('qemu-img', ['info', '--output=json', image])).stdout);
    expect(q.format).toBe('qcow2');
    expect(q['virtual-size']).toBe(info.virtualSizeBytes);
    // zstd clusters: each boot's reads and each capture's convert inflate them (zlib was slower).
    expect(q['format-specific']?.data?.['compression-type']).toBe('zstd');
    expect(info.sizeBytes).toBeLessThan(info.virtualSizeBytes / 2);
    expect((await listBaseImages(cacheDir)).map((b) => b.info.name)).toContain('debian-12');
  });

  it('explains how to build a missing base image', async () => {
    await expect(resolveBaseImage('debian-13', join(tmpdir(), 'hallmark-empty-cache'))).rejects.toMatchObject({
      hint: 'run `hallmark base build debian-13`',
    });
  });

  it('boots from its own boot loader and presents the injected host key', async () => {
    // waitForSsh already pinned the injected key (StrictHostKeyChecking=yes); check it again explicitly.
    const injected = (await readFile(vm.hostPublicKeyPath!, 'utf8')).trim().split(/\s+/).slice(0, 2).join(' ');
    expect(await presentedHostKey(vm)).toBe(injected);
    const cmdline = await sshExec(vm, 'cat /proc/cmdline');
    expect(cmdline.stdout).toContain('console=ttyS0,115200n8');
    expect(await readFile(vm.consoleLog, 'utf8')).toMatch(/hallmark-guest|Debian GNU\/Linux 12/);
  });

  it('boots lean: a quiet kernel, a small initramfs, no wireless stack, no e2scrub_reap, keys installed early, no apt translations', async () => {
    const r = await sshExec(
      vm,
      'cat /proc/cmdline; echo "initrd $(stat -c %s /boot/initrd.img-$(uname -r))"; ' +
        'echo "cfg80211 $(grep -c ^cfg80211 /proc/modules)"; echo "e2scrub_reap $(systemctl is-enabled e2scrub_reap.service 2>&1)"; ' +
        'echo "networkd $(systemctl is-active systemd-networkd.service)"; apt-config dump | grep "^Acquire::Languages"; ' +
        'echo "guest-start $(systemctl show -P InactiveExitTimestampMonotonic hallmark-guest.service)"; ' +
        'echo "basic $(systemctl show -P ActiveEnterTimestampMonotonic basic.target)"; ' +
        'echo "sessions $(systemctl show -P ActiveEnterTimestampMonotonic systemd-user-sessions.service)"; ' +
        'echo "sshd $(systemctl show -P ExecMainStartTimestampMonotonic ssh.service)"',
    );
    expect(r.stdout).toMatch(/\bquiet\b/);
    const initrd = Number(/^initrd (\d+)$/m.exec(r.stdout)?.[1]);
    // MODULES=most made 36 MiB; the listed modules make about 7.
    expect(initrd).toBeGreaterThan(1024 * 1024);
    expect(initrd).toBeLessThan(16 * 1024 * 1024);
    expect(r.stdout).toMatch(/^cfg80211 0$/m);
    expect(r.stdout).toMatch(/^e2scrub_reap disabled$/m);
    expect(r.stdout).toMatch(/^networkd active$/m);
    // No Translation-* indexes for apt-get update to fetch and parse.
    expect(r.stdout).toMatch(/^Acquire::Languages:: "none";$/m);
    // The key installer runs in early boot, beside sysinit, not after basic.target.
    const guestStart = Number(/^guest-start (\d+)$/m.exec(r.stdout)?.[1]);
    const basic = Number(/^basic (\d+)$/m.exec(r.stdout)?.[1]);
    expect(guestStart).toBeGreaterThan(0);
    expect(guestStart).toBeLessThan(basic);
    // sshd starts once logins are permitted (/run/nologin removed), so its banner means a login can succeed.
    const sessions = Number(/^sessions (\d+)$/m.exec(r.stdout)?.[1]);
    const sshd = Number(/^sshd (\d+)$/m.exec(r.stdout)?.[1]);
    expect(sessions).toBeGreaterThan(0);
    expect(sshd).toBeGreaterThan(sessions);
  });

  it('logs in as debian (uid 1000) with passwordless sudo and python3', async () => {
    const r = await sshExec(vm, 'id -u; sudo -n true && echo SUDO_OK; python3 -c "print(42)"; ip -4 -o addr show scope global');
    expect(r.exitCode).toBe(0);
    const out = r.stdout;
    expect(out).toMatch(/^1000$/m);
    expect(out).toContain('SUDO_OK');
    expect(out).toMatch(/^42$/m);
    expect(out).toContain('10.0.2.15');
    const sshd = await sshExec(vm, 'sudo -n sshd -T | grep -Ei "^(permitrootlogin|passwordauthentication) "');
    expect(sshd.stdout).toMatch(/permitrootlogin no/);
    expect(sshd.stdout).toMatch(/passwordauthentication no/);
    const root = await sshExec(vm, 'true', 'root');
    expect(root.exitCode).not.toBe(0);
    const trim = await sshExec(vm, 'sudo -n fstrim -v /');
    expect(trim.exitCode).toBe(0);
  });

  it('gives a second machine its own host key when none is injected', async () => {
    const second = await bootVm({ image, injectHostKey: false });
    vms.push(second);
    await waitForSsh(second);
    const k2 = await presentedHostKey(second);
    expect(k2).toMatch(/^ssh-ed25519 AAAA/);
    expect(k2).not.toBe(await presentedHostKey(vm));
    const r = await sshExec(second, 'test -s /etc/ssh/ssh_host_ed25519_key && echo HOSTKEY_OK');
    expect(r.stdout).toContain('HOSTKEY_OK');
    await second.stop();
  }, 600_000);

  it('probes the accelerator with the image kernel, on hosts with and without /dev/kvm', async () => {
    const kernel = await findProbeKernel({ ...process.env, XDG_CACHE_HOME: join(cacheDir, '..', '..') });
    const dir = await mkdtemp(join(tmpdir(), 'hallmark-accel-'));
    try {
      const t = Date.now();
      const v = await detectAccelerator({ cacheDir: dir, env: {}, kernel: kernel ?? join(cacheDir, 'debian-12.vmlinuz') });
      console.log(`accelerator probe: ${v.accel} (${v.reason}) in ${((Date.now() - t) / 1000).toFixed(1)}s`);
      let usable = true;
      try {
        await access('/dev/kvm', constants.R_OK | constants.W_OK);
      } catch {
        usable = false;
      }
      if (usable) {
        // Working or failing KVM: the real kernel was booted and the verdict cached.
        expect(v.reason).toMatch(/KVM/);
        expect(existsSync(join(dir, 'accel.json'))).toBe(true);
        const again = await detectAccelerator({ cacheDir: dir, env: {}, kernel: kernel ?? join(cacheDir, 'debian-12.vmlinuz') });
        expect(again).toMatchObject({ accel: v.accel });
        expect(again.reason).toMatch(/cached/);
      } else {
        // No device: TCG, nothing probed, nothing cached (a later host with KVM probes afresh).
        expect(v).toMatchObject({ accel: 'tcg' });
        expect(v.reason).toContain('/dev/kvm is missing');
        expect(existsSync(join(dir, 'accel.json'))).toBe(false);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe.runIf(canRun)('debian-12 cloud-init variant', () => {
  let vm: BootedVm | undefined;
  let seedDir: string;

  afterAll(async () => {
    await vm?.stop();
    if (seedDir) await rm(seedDir, { recursive: true, force: true });
  });

  it('builds, and takes its user and key from a NoCloud seed', async () => {
    const lines: string[] = [];
    const info = await buildBaseImage({ distro: 'debian-12', cloudInit: true, rebuildStale: true, cacheDir, log: recordingLogger(lines) });
    expect(info).toMatchObject({ name: 'debian-12-cloudinit', variant: 'cloudinit' });
    expect(info.packages).toContain('cloud-init');

    seedDir = await mkdtemp(join(tmpdir(), 'hallmark-seed-'));
    const key = join(seedDir, 'id_ed25519');
    await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
    const pub = (await readFile(`${key}.pub`, 'utf8')).trim();
    await writeFile(join(seedDir, 'user-data'), `#cloud-config\nssh_authorized_keys:\n  - ${pub}\n`);
    await writeFile(join(seedDir, 'meta-data'), 'instance-id: hallmark-test\nlocal-hostname: seeded\n');
    const iso = join(seedDir, 'seed.iso');
    await execa('genisoimage', ['-quiet', '-o', iso, '-V', 'cidata', '-r', '-J', join(seedDir, 'user-data'), join(seedDir, 'meta-data')]);

    vm = await bootVm({
      image: (await resolveBaseImage('debian-12-cloudinit', cacheDir)).path,
      keyDir: seedDir, injectHostKey: false, injectAuthorizedKey: false, seedIso: iso,
    });
    await waitForSsh(vm, 600_000);
    const r = await sshExec(vm, 'id -un; hostname; sudo -n true && echo SUDO_OK; echo "guest-unit: $(systemctl is-active hallmark-guest.service 2>&1)"');
    expect(r.stdout).toMatch(/^debian$/m);
    expect(r.stdout).toMatch(/^seeded$/m);
    expect(r.stdout).toContain('SUDO_OK');
    // cloud-init owns keys here: the fw_cfg unit must not have run.
    expect(r.stdout, r.stdout).toMatch(/^guest-unit: inactive$/m);
  }, 1_200_000);
});
