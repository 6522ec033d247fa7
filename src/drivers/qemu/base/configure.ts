import { existsSync } from 'node:fs';
import { chmod, mkdir, readdir, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { HallmarkError } from '../../../kernel/errors.js';
import type { Logger } from '../../../kernel/events.js';
import { GUEST_UID, GUEST_USER, guestFiles } from './guest-files.js';
import { run } from './run.js';
import { APT_PACKAGES_CLOUD_INIT } from './types.js';

export interface ConfigureOptions {
  root: string;
  /** The whole-disk loop device grub is installed to. */
  disk: string;
  /** The root partition's loop device. */
  part: string;
  suite: string;
  mirror: string;
  cloudInit: boolean;
  signal?: AbortSignal;
  log: Logger;
}

const CHROOT_ENV = {
  DEBIAN_FRONTEND: 'noninteractive',
  LC_ALL: 'C.UTF-8',
  PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
};

/** Runs a command inside the image tree (needs the chroot bind mounts). */
export function inChroot(o: ConfigureOptions, args: string[], extra: { input?: string; stream?: boolean } = {}): Promise<string> {
  return run('chroot', [o.root, ...args], { signal: o.signal, log: o.log, env: CHROOT_ENV, what: args[0], ...extra });
}

/**
 * Turns a debootstrapped tree into an image satisfying the guest contract:
 * files, user, services, boot loader, initramfs check, then removes
 * everything that must be unique per machine (host keys, machine-id) and the
 * apt caches. Order matters: DNS is still the host's while apt may run.
 */
export async function configureGuest(o: ConfigureOptions): Promise<void> {
  const { root, log } = o;

  // trixie and later may ship networkd as its own package; install it if debootstrap did not.
  if (!existsSync(join(root, 'usr/lib/systemd/systemd-networkd')) && !existsSync(join(root, 'lib/systemd/systemd-networkd'))) {
    log.info('systemd-networkd is not in the base set; installing it');
    await inChroot(o, ['apt-get', 'install', '-y', '--no-install-recommends', 'systemd-networkd'], { stream: true });
  }

  if (o.cloudInit) {
    log.info(`installing ${APT_PACKAGES_CLOUD_INIT.join(', ')} with apt-get`);
    // No service may start inside the build chroot.
    const policy = join(root, 'usr/sbin/policy-rc.d');
    await writeFile(policy, '#!/bin/sh\nexit 101\n');
    await chmod(policy, 0o755);
    try {
      await inChroot(o, ['apt-get', 'update'], { stream: true });
      await inChroot(o, ['apt-get', 'install', '-y', '--no-install-recommends', ...APT_PACKAGES_CLOUD_INIT], { stream: true });
    } finally {
      await rm(policy, { force: true });
    }
  }

  log.info('writing guest configuration (serial console, DHCP, fw_cfg key injection)');
  for (const f of guestFiles({ suite: o.suite, mirror: o.mirror, cloudInit: o.cloudInit })) {
    const p = join(root, f.path);
    await mkdir(dirname(p), { recursive: true });
    await writeFile(p, f.content);
    await chmod(p, f.mode);
  }

  if (!o.cloudInit) {
    log.info(`creating user ${GUEST_USER} (uid ${GUEST_UID}, passwordless sudo, no password login)`);
    await inChroot(o, ['useradd', '--create-home', '--uid', String(GUEST_UID), '--user-group', '--groups', 'adm,sudo', '--shell', '/bin/bash', '--comment', 'Debian', GUEST_USER]);
    await inChroot(o, ['passwd', '--lock', GUEST_USER]);
  }

  const units = ['systemd-networkd.service', 'serial-getty@ttyS0.service'];
  await inChroot(o, ['systemctl', 'enable', ...units]);
  // e2scrub_reap removes stale LVM snapshots of e2scrub: these disks have no
  // LVM, and at boot it took 15-20 s of an emulated CPU that sshd waits for.
  if (existsSync(join(root, 'lib/systemd/system/e2scrub_reap.service')) || existsSync(join(root, 'usr/lib/systemd/system/e2scrub_reap.service'))) {
    await inChroot(o, ['systemctl', 'disable', 'e2scrub_reap.service']);
  }
  await inChroot(o, ['systemctl', o.cloudInit ? 'disable' : 'enable', 'hallmark-guest.service']);

  // QEMU user networking's DNS forwarder. systemd-resolved (which would learn it
  // from DHCP) fails to configure inside debootstrap, and these images only run
  // under QEMU user networking; a provisioner may install resolved later.
  await rm(join(root, 'etc/resolv.conf'), { force: true });
  await writeFile(join(root, 'etc/resolv.conf'), 'nameserver 10.0.2.3\n');

  log.info('installing grub (BIOS, serial console)');
  await inChroot(o, ['debconf-set-selections'], { input: 'grub-pc grub-pc/install_devices multiselect /dev/vda\n' });
  await inChroot(o, ['grub-install', '--target=i386-pc', '--modules=part_msdos ext2', o.disk], { stream: true });
  await inChroot(o, ['update-grub'], { stream: true });
  await pinRootByUuid(o);

  const kernels = (await readdir(join(root, 'boot'))).filter((n) => n.startsWith('vmlinuz-'));
  if (kernels.length === 0) throw new HallmarkError('no kernel was installed in the image', { hint: 'check the debootstrap output' });
  // debootstrap's kernel made its initramfs before the guest files chose MODULES=list.
  log.info('regenerating the initramfs with only the modules a virtual machine needs');
  await inChroot(o, ['update-initramfs', '-u', '-k', 'all'], { stream: true });
  for (const k of kernels) {
    const version = k.slice('vmlinuz-'.length);
    const listing = await inChroot(o, ['lsinitramfs', `/boot/initrd.img-${version}`]).catch(() => '');
    if (!/virtio_blk\.ko/.test(listing) || !/\/ext4\.ko/.test(listing)) {
      throw new HallmarkError(`the initramfs of ${version} lacks virtio_blk or ext4: the image would not find its root disk`, {
        hint: `check /etc/initramfs-tools in the image and the update-initramfs output above`,
      });
    }
  }

  log.info('removing host keys, machine-id and apt caches');
  for (const n of await readdir(join(root, 'etc/ssh'))) {
    if (n.startsWith('ssh_host_')) await unlink(join(root, 'etc/ssh', n));
  }
  await writeFile(join(root, 'etc/machine-id'), '');
  await rm(join(root, 'var/lib/dbus/machine-id'), { force: true });
  await inChroot(o, ['apt-get', 'clean']);
  await rm(join(root, 'var/lib/apt/lists'), { recursive: true, force: true });
  await mkdir(join(root, 'var/lib/apt/lists/partial'), { recursive: true });
  await rm(join(root, 'var/cache/debconf/templates.dat-old'), { force: true });
}

/**
 * update-grub names the kernel's root by UUID only when /dev/disk/by-uuid
 * exists, which needs udev; in a container it writes `root=/dev/loopNp1`,
 * a device the VM never has. Rewrite it to the filesystem UUID (later
 * update-grub runs inside the VM, where udev exists, keep using UUIDs).
 */
async function pinRootByUuid(o: ConfigureOptions): Promise<void> {
  const cfgPath = join(o.root, 'boot/grub/grub.cfg');
  const uuid = (await run('blkid', ['-s', 'UUID', '-o', 'value', o.part], { signal: o.signal, what: 'blkid' })).trim();
  if (!uuid) throw new HallmarkError(`the root filesystem on ${o.part} has no UUID`);
  const cfg = await readFile(cfgPath, 'utf8');
  const fixed = cfg.split(`root=${o.part} `).join(`root=UUID=${uuid} `);
  if (/root=\/dev\/loop/.test(fixed) || !fixed.includes(`root=UUID=${uuid}`)) {
    throw new HallmarkError('grub.cfg does not name the root filesystem by UUID', {
      hint: `check ${cfgPath} in a kept build tree`,
    });
  }
  if (fixed !== cfg) {
    o.log.debug(`grub.cfg: root=${o.part} -> root=UUID=${uuid}`);
    await writeFile(cfgPath, fixed);
  }
}
