/** The distributions `hallmark base build` knows, by base-image name. */
export const DISTROS = {
  'debian-12': { suite: 'bookworm', version: '12' },
  'debian-13': { suite: 'trixie', version: '13' },
} as const;

export type Distro = keyof typeof DISTROS;

export const DEFAULT_MIRROR = 'http://deb.debian.org/debian';

/** The metadata written beside every cached base image as `<name>.json`. */
export interface BaseImageInfo {
  /** `debian-12` or `debian-12-cloudinit`. */
  name: string;
  distro: Distro;
  suite: string;
  variant: 'hallmark' | 'cloudinit';
  /** sha256 of the qcow2 file, hex. */
  sha256: string;
  /**
   * The qcow2's file name in the cache (`<name>.<sha256[:16]>.qcow2`). Absent
   * in bases built before versioned files: theirs is `<name>.qcow2`.
   */
  file?: string;
  /** recipeDigest() of the recipe that built it; absent in bases built before digests were recorded. */
  recipe?: string;
  sizeBytes: number;
  virtualSizeBytes: number;
  createdAt: string;
  /** Packages installed on top of debootstrap's minbase. */
  packages: string[];
  mirror: string;
}

export function isDistro(s: string): s is Distro {
  return Object.hasOwn(DISTROS, s);
}

export function baseImageName(distro: Distro, cloudInit: boolean): string {
  return cloudInit ? `${distro}-cloudinit` : distro;
}

/**
 * Packages on top of minbase. The guest contract needs: a kernel and grub for
 * a BIOS boot, systemd with networkd (DHCP on every en and eth interface),
 * udev (for /dev/disk/by-label), dbus (systemctl/hostnamectl as a user), sshd, sudo, python3 (Ansible),
 * ca-certificates, iproute2; e2fsprogs for fsck; util-linux (fstrim) is
 * already in minbase.
 */
export function packagesFor(distro: Distro, cloudInit: boolean): string[] {
  const pkgs = [
    'linux-image-amd64', 'grub-pc', 'systemd-sysv', 'udev', 'kmod',
    'dbus', 'openssh-server', 'sudo', 'python3', 'ca-certificates', 'iproute2', 'e2fsprogs',
    'curl', 'less', 'procps',
  ];
  void distro; // same list for bookworm and trixie; networkd is checked after debootstrap
  return cloudInit ? [...pkgs, ...APT_PACKAGES_CLOUD_INIT] : pkgs;
}

/**
 * Installed with apt-get in the chroot after debootstrap, not by debootstrap:
 * its second stage cannot order the configuration of deep dependency trees
 * (cloud-init's python3-cryptography fails there).
 */
export const APT_PACKAGES_CLOUD_INIT = ['cloud-init'];

/** What debootstrap's --include gets: the list without the apt-installed extras. */
export function debootstrapPackages(distro: Distro, cloudInit: boolean): string[] {
  return packagesFor(distro, cloudInit).filter((p) => !APT_PACKAGES_CLOUD_INIT.includes(p));
}
