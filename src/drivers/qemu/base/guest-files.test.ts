import { describe, expect, it } from 'vitest';
import { CLOUD_CFG, GUEST_SCRIPT, GUEST_UNIT, guestFiles, sourcesList } from './guest-files.js';

const byPath = (cloudInit: boolean) =>
  new Map(guestFiles({ suite: 'bookworm', mirror: 'http://deb.debian.org/debian', cloudInit }).map((f) => [f.path, f]));

describe('guest files (the contract with the qemu driver)', () => {
  it('gives debian passwordless sudo and forbids root and password logins', () => {
    const f = byPath(false);
    expect(f.get('/etc/sudoers.d/90-debian')).toMatchObject({ content: 'debian ALL=(ALL) NOPASSWD:ALL\n', mode: 0o440 });
    expect(f.get('/etc/ssh/sshd_config.d/90-hallmark.conf')?.content).toMatch(/PermitRootLogin no\nPasswordAuthentication no/);
  });

  it('puts the kernel and grub on the serial console', () => {
    const grub = byPath(false).get('/etc/default/grub.d/90-hallmark.cfg')!.content;
    expect(grub).toContain('GRUB_CMDLINE_LINUX="console=tty0 console=ttyS0,115200n8"');
    expect(grub).toContain('GRUB_TERMINAL="console serial"');
  });

  it('boots without a menu wait, a quiet kernel, a small initramfs and no wireless stack', () => {
    const f = byPath(false);
    const grub = f.get('/etc/default/grub.d/90-hallmark.cfg')!.content;
    expect(grub).toMatch(/^GRUB_TIMEOUT=0$/m);
    expect(grub).toMatch(/^GRUB_CMDLINE_LINUX_DEFAULT="quiet"$/m);
    expect(f.get('/etc/initramfs-tools/conf.d/hallmark.conf')!.content).toMatch(/^MODULES=list$/m);
    const modules = f.get('/etc/initramfs-tools/modules')!.content.split('\n');
    for (const m of ['virtio_pci', 'virtio_blk', 'virtio_net', 'ext4', 'nvme', 'ahci']) expect(modules).toContain(m);
    expect(f.get('/etc/modprobe.d/hallmark-no-wireless.conf')!.content).toMatch(/^blacklist cfg80211$/m);
  });

  it('mounts root by label and runs DHCP on every en*/eth* NIC', () => {
    const f = byPath(false);
    expect(f.get('/etc/fstab')!.content).toMatch(/^LABEL=root\t\/\text4\t/);
    expect(f.get('/etc/systemd/network/80-hallmark-dhcp.network')!.content).toMatch(/Name=en\* eth\*[\s\S]*DHCP=yes/);
  });

  it('installs fw_cfg keys before sshd and generates missing host keys', () => {
    expect(GUEST_UNIT).toMatch(/Before=ssh\.service/);
    expect(GUEST_UNIT).toMatch(/After=systemd-modules-load\.service/);
    expect(GUEST_UNIT).toMatch(/WantedBy=multi-user\.target/);
    expect(GUEST_SCRIPT).toContain('/sys/firmware/qemu_fw_cfg/by_name');
    expect(GUEST_SCRIPT).toContain('opt/hallmark/authorized_keys/raw');
    expect(GUEST_SCRIPT).toContain('opt/hallmark/ssh_host_ed25519_key/raw');
    expect(GUEST_SCRIPT).toMatch(/install -m 0600 -o debian -g debian "\$keys" \/home\/debian\/\.ssh\/authorized_keys/);
    expect(GUEST_SCRIPT).toMatch(/ssh-keygen -y -f \/etc\/ssh\/ssh_host_ed25519_key/);
    // A missing host key is generated at boot (ed25519 only: RSA takes minutes under TCG).
    expect(GUEST_SCRIPT).toMatch(/if \[ ! -s \/etc\/ssh\/ssh_host_ed25519_key \]; then\n\s+ssh-keygen -q -t ed25519/);
    expect(GUEST_SCRIPT).toContain('HostKey /etc/ssh/ssh_host_ed25519_key');
    expect(byPath(false).get('/etc/modules-load.d/hallmark.conf')!.content).toBe('qemu_fw_cfg\n');
  });

  it('the cloud-init variant uses NoCloud, the debian user and keeps hallmark-guest disabled', () => {
    const f = byPath(true);
    expect(f.has('/etc/sudoers.d/90-debian')).toBe(false);
    expect(f.get('/etc/cloud/cloud.cfg.d/99-hallmark.cfg')!.content).toBe(CLOUD_CFG);
    expect(CLOUD_CFG).toMatch(/datasource_list: \[ NoCloud, None \]/);
    expect(CLOUD_CFG).toMatch(/default_user:\n\s+name: debian/);
    expect(f.get('/etc/systemd/system-preset/80-hallmark.preset')!.content).toMatch(/^disable hallmark-guest\.service$/m);
    expect(byPath(false).get('/etc/systemd/system-preset/80-hallmark.preset')!.content).toMatch(/^enable hallmark-guest\.service$/m);
  });

  it('adds security updates only for the default mirror', () => {
    expect(sourcesList('bookworm', 'http://deb.debian.org/debian')).toContain(
      'deb http://deb.debian.org/debian-security bookworm-security main',
    );
    expect(sourcesList('trixie', 'http://mirror.example/debian')).toBe(
      'deb http://mirror.example/debian trixie main\ndeb http://mirror.example/debian trixie-updates main\n',
    );
  });
});
