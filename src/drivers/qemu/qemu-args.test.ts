import { describe, expect, it } from 'vitest';
import { forcedAccelArgs, qemuArgs } from './qemu-args.js';
import { toBytes } from './launch.js';

const base = {
  instance: 'default-debian-12',
  memoryMiB: 1024,
  cpus: 2,
  accelArgs: forcedAccelArgs('tcg'),
  overlay: '/p/.hallmark/qemu/i/overlay.qcow2',
  sshPort: 40022,
  consoleLogPath: '/p/.hallmark/logs/i.console.log',
  pidFile: '/p/.hallmark/qemu/i/qemu.pid',
  authorizedKeysFile: '/p/.hallmark/qemu/i/authorized_keys',
  extraArgs: [],
};

function optionOf(args: string[], flag: string): string[] {
  return args.flatMap((a, i) => (a === flag ? [args[i + 1]!] : []));
}

describe('qemuArgs', () => {
  it('forwards SSH on loopback only, saves the console, daemonizes with a pidfile', () => {
    const a = qemuArgs(base);
    expect(optionOf(a, '-netdev')).toEqual(['user,id=net0,hostfwd=tcp:127.0.0.1:40022-:22']);
    expect(optionOf(a, '-serial')).toEqual(['file:/p/.hallmark/logs/i.console.log']);
    expect(optionOf(a, '-pidfile')).toEqual([base.pidFile]);
    expect(a).toContain('-daemonize');
    expect(optionOf(a, '-drive')[0]).toMatch(/^file=\/p\/.hallmark\/qemu\/i\/overlay.qcow2,format=qcow2,if=virtio,discard=unmap,detect-zeroes=unmap/);
    expect(optionOf(a, '-fw_cfg')).toEqual(['name=opt/hallmark/authorized_keys,file=/p/.hallmark/qemu/i/authorized_keys']);
  });

  it('injects the host key, adds the seed and QMP when given, doubles commas in paths, appends qemu_args last', () => {
    const a = qemuArgs({
      ...base,
      overlay: '/a,b/overlay.qcow2',
      hostKeyFile: '/k/ssh_host_ed25519_key',
      seedIso: '/k/seed.iso',
      qmpSocket: '/k/qmp.sock',
      extraArgs: ['-device', 'virtio-balloon'],
    });
    expect(optionOf(a, '-drive')[0]).toMatch(/^file=\/a,,b\/overlay.qcow2,/);
    expect(optionOf(a, '-fw_cfg')).toContain('name=opt/hallmark/ssh_host_ed25519_key,file=/k/ssh_host_ed25519_key');
    expect(optionOf(a, '-drive')[1]).toBe('file=/k/seed.iso,format=raw,if=virtio,media=cdrom,readonly=on');
    expect(optionOf(a, '-qmp')).toEqual(['unix:/k/qmp.sock,server=on,wait=off']);
    expect(a.slice(-2)).toEqual(['-device', 'virtio-balloon']);
  });

  it('reads sizes in binary units as qemu-img does', () => {
    expect(toBytes('8G')).toBe(8 * 2 ** 30);
    expect(toBytes('512M')).toBe(512 * 2 ** 20);
    expect(toBytes('1.5G')).toBe(1.5 * 2 ** 30);
    expect(toBytes('4096')).toBe(4096);
    expect(() => toBytes('big')).toThrow(/not a size/);
  });
});
