/**
 * The qemu command line of one instance, as a pure function so it can be
 * checked without starting anything.
 */
export interface QemuLaunch {
  instance: string;
  memoryMiB: number;
  cpus: number;
  /** From detectAccelerator() or forcedAccelArgs(). */
  accelArgs: string[];
  overlay: string;
  sshPort: number;
  consoleLogPath: string;
  pidFile: string;
  qmpSocket?: string;
  /** fw_cfg key injection read by the hallmark-guest unit of hallmark base images. */
  authorizedKeysFile: string;
  hostKeyFile?: string;
  /** NoCloud seed ISO (label cidata) for cloud-init images. */
  seedIso?: string;
  extraArgs: string[];
}

/** Accelerator arguments when the user chose one (accel: kvm|tcg) instead of auto. */
export function forcedAccelArgs(accel: 'kvm' | 'tcg'): string[] {
  return accel === 'kvm' ? ['-accel', 'kvm', '-cpu', 'host'] : ['-accel', 'tcg,thread=multi', '-cpu', 'max'];
}

/** Escapes a value for qemu's comma-separated option syntax (a comma is doubled). */
export function qemuOptValue(v: string): string {
  return v.replace(/,/g, ',,');
}

export function qemuArgs(l: QemuLaunch): string[] {
  const args = [
    '-name', `hallmark-${l.instance}`,
    // No default devices (VGA, floppy, parallel, default NIC): only what is listed here.
    '-nodefaults',
    '-display', 'none',
    ...l.accelArgs,
    '-m', String(l.memoryMiB),
    '-smp', String(l.cpus),
    // discard=unmap lets the guest's fstrim free clusters in the overlay, so
    // capture does not copy blocks the guest has deleted.
    '-drive', `file=${qemuOptValue(l.overlay)},format=qcow2,if=virtio,discard=unmap,detect-zeroes=unmap,cache=writeback`,
    '-netdev', `user,id=net0,hostfwd=tcp:127.0.0.1:${l.sshPort}-:22`,
    '-device', 'virtio-net-pci,netdev=net0',
    // Entropy for the guest, which generates missing host keys at boot.
    '-device', 'virtio-rng-pci',
    '-serial', `file:${l.consoleLogPath}`,
    '-fw_cfg', `name=opt/hallmark/authorized_keys,file=${qemuOptValue(l.authorizedKeysFile)}`,
  ];
  if (l.hostKeyFile) args.push('-fw_cfg', `name=opt/hallmark/ssh_host_ed25519_key,file=${qemuOptValue(l.hostKeyFile)}`);
  if (l.seedIso) args.push('-drive', `file=${qemuOptValue(l.seedIso)},format=raw,if=virtio,media=cdrom,readonly=on`);
  if (l.qmpSocket) args.push('-qmp', `unix:${qemuOptValue(l.qmpSocket)},server=on,wait=off`);
  // Daemonized: qemu outlives hallmark (a later `hallmark login` reuses the
  // machine); the parent exits once the VM is set up, with the error on
  // stderr when it is not, and the pidfile is written before that.
  args.push('-pidfile', l.pidFile, '-daemonize');
  args.push(...l.extraArgs);
  return args;
}
