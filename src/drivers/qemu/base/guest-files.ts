/**
 * The files that make a debootstrapped tree satisfy the guest contract shared
 * with the qemu driver (see the builder task: user `debian`, serial console,
 * fw_cfg key injection, DHCP on every NIC, no shipped host keys). Pure
 * functions, so the contract can be unit tested without building an image.
 */

export interface GuestFile {
  path: string;
  content: string;
  mode: number;
}

/** fw_cfg names the driver passes with `-fw_cfg name=...,file=...`. */
export const FW_CFG_AUTHORIZED_KEYS = 'opt/hallmark/authorized_keys';
export const FW_CFG_HOST_KEY = 'opt/hallmark/ssh_host_ed25519_key';

export const GUEST_USER = 'debian';
export const GUEST_UID = 1000;

export const KERNEL_CONSOLE = 'console=tty0 console=ttyS0,115200n8';

/**
 * What the initramfs holds (MODULES=list): virtio disks and NIC, the SATA,
 * SCSI and NVMe disks other hypervisors give an exported image, and ext4.
 */
export const INITRAMFS_MODULES = ['virtio_pci', 'virtio_blk', 'virtio_scsi', 'virtio_net', 'sd_mod', 'ahci', 'ata_piix', 'nvme', 'ext4'];

/**
 * Runs at every boot before sshd. Installs the keys QEMU passed through
 * fw_cfg, then generates whatever host keys are still missing, so an image
 * never ships host keys and every machine gets its own unless one is injected.
 */
export const GUEST_SCRIPT = `#!/bin/sh
# hallmark-guest: install SSH keys passed by QEMU fw_cfg (runs at every boot, before ssh.service).
set -eu
modprobe qemu_fw_cfg 2>/dev/null || true
base=/sys/firmware/qemu_fw_cfg/by_name
i=0
while [ ! -d "$base" ] && [ "$i" -lt 30 ]; do sleep 0.1; i=$((i + 1)); done
keys="$base/${FW_CFG_AUTHORIZED_KEYS}/raw"
hostkey="$base/${FW_CFG_HOST_KEY}/raw"
if [ -r "$keys" ]; then
  install -d -m 0700 -o ${GUEST_USER} -g ${GUEST_USER} /home/${GUEST_USER}/.ssh
  install -m 0600 -o ${GUEST_USER} -g ${GUEST_USER} "$keys" /home/${GUEST_USER}/.ssh/authorized_keys
  echo "hallmark-guest: installed authorized_keys for ${GUEST_USER}"
fi
if [ -r "$hostkey" ]; then
  rm -f /etc/ssh/ssh_host_ed25519_key /etc/ssh/ssh_host_ed25519_key.pub
  install -m 0600 -o root -g root "$hostkey" /etc/ssh/ssh_host_ed25519_key
  ssh-keygen -y -f /etc/ssh/ssh_host_ed25519_key > /etc/ssh/ssh_host_ed25519_key.pub
  chmod 0644 /etc/ssh/ssh_host_ed25519_key.pub
  echo "hallmark-guest: installed the injected ed25519 host key"
fi
# Only an ed25519 host key: RSA key generation takes minutes under software
# emulation (TCG), and every current SSH client speaks ed25519.
if [ ! -s /etc/ssh/ssh_host_ed25519_key ]; then
  ssh-keygen -q -t ed25519 -N '' -f /etc/ssh/ssh_host_ed25519_key
  echo "hallmark-guest: generated a new ed25519 host key"
fi
mkdir -p /etc/ssh/sshd_config.d
printf 'HostKey /etc/ssh/ssh_host_ed25519_key\n' > /etc/ssh/sshd_config.d/00-hallmark-hostkey.conf
`;

// Early boot (no default dependencies): it needs only the root file system
// writable and qemu_fw_cfg loaded, so it runs beside the rest of sysinit
// instead of after basic.target, where it held ssh.service back by seconds
// under emulation.
export const GUEST_UNIT = `[Unit]
Description=hallmark: install SSH keys passed by QEMU fw_cfg
DefaultDependencies=no
After=systemd-modules-load.service systemd-remount-fs.service local-fs.target
Before=ssh.service sysinit.target shutdown.target
Conflicts=shutdown.target

[Service]
Type=oneshot
ExecStart=/usr/local/sbin/hallmark-guest
RemainAfterExit=yes
StandardOutput=journal+console

[Install]
WantedBy=multi-user.target
`;

export interface GuestOptions {
  suite: string;
  mirror: string;
  cloudInit: boolean;
}

export function guestFiles(o: GuestOptions): GuestFile[] {
  const files: GuestFile[] = [
    { path: '/etc/hostname', content: 'debian\n', mode: 0o644 },
    { path: '/etc/hosts', content: '127.0.0.1\tlocalhost\n127.0.1.1\tdebian\n::1\tlocalhost ip6-localhost ip6-loopback\n', mode: 0o644 },
    { path: '/etc/fstab', content: 'LABEL=root\t/\text4\tdefaults,errors=remount-ro\t0\t1\n', mode: 0o644 },
    { path: '/etc/apt/sources.list', content: sourcesList(o.suite, o.mirror), mode: 0o644 },
    {
      // As Debian's container images do (debuerreotype's docker-no-languages):
      // no Translation-* indexes. They were 6 of the 16 MB a first `apt-get
      // update` fetched, and parsing them, under emulation; `apt show` then
      // gives the short description only.
      path: '/etc/apt/apt.conf.d/90hallmark-no-languages',
      content: '# hallmark: package descriptions are not translated on a server image\nAcquire::Languages "none";\n',
      mode: 0o644,
    },
    {
      path: '/etc/systemd/network/80-hallmark-dhcp.network',
      content: '# DHCP on every wired NIC (QEMU user networking answers with 10.0.2.15).\n[Match]\nName=en* eth*\n\n[Network]\nDHCP=yes\n',
      mode: 0o644,
    },
    {
      // Booting must not stall on links that never come up (extra NICs).
      path: '/etc/systemd/system/systemd-networkd-wait-online.service.d/hallmark.conf',
      content: '[Service]\nExecStart=\nExecStart=/lib/systemd/systemd-networkd-wait-online --any --timeout=30\n',
      mode: 0o644,
    },
    {
      path: '/etc/default/grub.d/90-hallmark.cfg',
      content: [
        // No menu wait (nobody types at a build machine's serial console), and a
        // quiet kernel: under software emulation every console line costs
        // emulated UART writes, and boot messages on ttyS0 delayed boot by seconds.
        'GRUB_TIMEOUT=0',
        'GRUB_CMDLINE_LINUX_DEFAULT="quiet"',
        `GRUB_CMDLINE_LINUX="${KERNEL_CONSOLE}"`,
        'GRUB_TERMINAL="console serial"',
        'GRUB_SERIAL_COMMAND="serial --speed=115200 --unit=0 --word=8 --parity=no --stop=1"',
        'GRUB_DISABLE_OS_PROBER=true',
        '',
      ].join('\n'),
      mode: 0o644,
    },
    { path: '/etc/initramfs-tools/modules', content: INITRAMFS_MODULES.join('\n') + '\n', mode: 0o644 },
    {
      // Only the listed modules (and their dependencies) in the initramfs, not
      // Debian's MODULES=most: 7 MiB instead of 36, which the boot loader reads
      // through the emulated BIOS and the kernel unpacks on every boot.
      path: '/etc/initramfs-tools/conf.d/hallmark.conf',
      content: '# hallmark: a small initramfs for virtual machines (see /etc/initramfs-tools/modules)\nMODULES=list\nCOMPRESS=gzip\n',
      mode: 0o644,
    },
    {
      // systemd-networkd asks for nl80211, whose alias loads cfg80211 and its
      // regulatory database: seconds under emulation, before network.target
      // (and so sshd) on a machine that has no wireless device.
      path: '/etc/modprobe.d/hallmark-no-wireless.conf',
      content: '# hallmark: virtual machines have no wireless devices\nblacklist cfg80211\n',
      mode: 0o644,
    },
    { path: '/etc/modules-load.d/hallmark.conf', content: 'qemu_fw_cfg\n', mode: 0o644 },
    {
      path: '/etc/ssh/sshd_config.d/90-hallmark.conf',
      content: 'PermitRootLogin no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n',
      mode: 0o644,
    },
    {
      // pam_nologin refuses every login but root's while /run/nologin exists,
      // which systemd-user-sessions removes late in boot; Debian's ssh.service
      // is not ordered after it, so an early login failed ("System is booting
      // up"). sshd answers once a login can succeed, and readiness is true.
      path: '/etc/systemd/system/ssh.service.d/hallmark-user-sessions.conf',
      content: '[Unit]\nAfter=systemd-user-sessions.service\n',
      mode: 0o644,
    },
    { path: '/usr/local/sbin/hallmark-guest', content: GUEST_SCRIPT, mode: 0o755 },
    { path: '/etc/systemd/system/hallmark-guest.service', content: GUEST_UNIT, mode: 0o644 },
    {
      // An empty machine-id makes the first boot apply presets; keep the unit's state as built.
      path: '/etc/systemd/system-preset/80-hallmark.preset',
      content: `${o.cloudInit ? 'disable' : 'enable'} hallmark-guest.service\nenable systemd-networkd.service\n`,
      mode: 0o644,
    },
  ];
  if (o.cloudInit) {
    files.push(
      { path: '/etc/cloud/cloud.cfg.d/99-hallmark.cfg', content: CLOUD_CFG, mode: 0o644 },
      {
        // sshd must start with cloud-init's freshly generated host keys.
        path: '/etc/systemd/system/ssh.service.d/hallmark-cloud-init.conf',
        content: '[Unit]\nAfter=cloud-init.service\n',
        mode: 0o644,
      },
    );
  } else {
    files.push({
      path: `/etc/sudoers.d/90-${GUEST_USER}`,
      content: `${GUEST_USER} ALL=(ALL) NOPASSWD:ALL\n`,
      mode: 0o440,
    });
  }
  return files;
}

/** cloud-init: NoCloud only, the same `debian` user, networking left to networkd. */
export const CLOUD_CFG = `# hallmark: NoCloud seed (ISO labelled cidata) gives the user and keys.
datasource_list: [ NoCloud, None ]
disable_root: true
ssh_pwauth: false
network:
  config: disabled
system_info:
  default_user:
    name: ${GUEST_USER}
    lock_passwd: true
    gecos: Debian
    groups: [adm, sudo]
    sudo: ["ALL=(ALL) NOPASSWD:ALL"]
    shell: /bin/bash
`;

export function sourcesList(suite: string, mirror: string): string {
  const lines = [`deb ${mirror} ${suite} main`, `deb ${mirror} ${suite}-updates main`];
  // Security updates come from the same CDN when the default mirror is used.
  if (/^https?:\/\/deb\.debian\.org\/debian\/?$/.test(mirror)) {
    lines.push(`deb ${mirror.replace(/\/debian\/?$/, '/debian-security')} ${suite}-security main`);
  }
  return lines.join('\n') + '\n';
}
