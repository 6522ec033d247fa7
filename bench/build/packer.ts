/**
 * The reference side of bench/build: Packer's qemu builder (Debian's packer
 * 1.6.6) doing the quickstart's work from the same base image, as a user who
 * knows the builder would configure it. What is the same as hallmark's build:
 *
 *  - the disk: an overlay on the current debian-12 base file in ~/.cache/hallmark/base
 *    (`debian-12.<sha256[:16]>.qcow2`, which `debian-12.json` names)
 *    (`disk_image` + `use_backing_file`; the download step uses a local
 *    `iso_url` in place, while `iso_skip_cache` fails on one with "No byte
 *    serving support", hashicorp/packer-plugin-qemu#220), converted at the end into one standalone compressed qcow2
 *    (Packer's `disk_compression`: `qemu-img convert -c -O qcow2`, zlib);
 *  - the machine: TCG, 2 vCPUs, 1024 MiB, virtio disk and NIC, `-cpu max`
 *    and a virtio-rng (hallmark's own qemu arguments: Packer's default CPU
 *    is qemu64, a slower guest, which would favour hallmark);
 *  - the keys: the base image's hallmark-guest unit installs
 *    authorized_keys and the ed25519 host key from the same fw_cfg names the
 *    qemu driver uses, passed with `qemuargs`; Packer logs in with the
 *    matching private key (`ssh_private_key_file`);
 *  - the work: examples/quickstart/provision.sh through Packer's shell
 *    provisioner with sudo, then a clean power-off (`shutdown_command`).
 *
 * What Packer is spared: verification (it has none) and hallmark's pre-capture
 * fstrim and host-key/machine-id removal. Packer's 10 s `boot_wait` is set to
 * 1 s (it only sleeps before typing a boot command, and there is none; 1.6.6
 * reads "0s" as unset and waits 10 s), so the number is Packer at its best,
 * not at its defaults.
 *
 * Networking: QEMU user networking only; the default `-netdev` (hostfwd on
 * every interface) is replaced with one that forwards 127.0.0.1 only, and
 * VNC stays on Packer's default 127.0.0.1.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';

export interface PackerRun {
  totalMs: number;
  /** From Packer's -timestamp-ui lines; undefined where a line was not seen. */
  bootMs?: number;
  provisionMs?: number;
  shutdownMs?: number;
  convertMs?: number;
  imagePath: string;
  version: string;
}

/** Whether `packer` is on PATH, with its version ("1.6.6"), else undefined. */
export async function packerVersion(): Promise<string | undefined> {
  const r = await execa('packer', ['version'], { reject: false, env: { CHECKPOINT_DISABLE: '1' } }).catch(() => undefined);
  if (!r || r.exitCode !== 0) return undefined;
  return /Packer v?(\S+)/.exec(String(r.stdout))?.[1] ?? String(r.stdout).trim();
}

export interface PackerWork {
  dir: string;
  baseImage: string;
  provisionScript: string;
  memoryMiB: number;
  cpus: number;
}

/** The template: a JSON object (packer 1.6.6 reads JSON templates). */
export function packerTemplate(w: PackerWork, keys: { privateKey: string; authorizedKeys: string; hostKey: string }, out: string): object {
  return {
    builders: [
      {
        type: 'qemu',
        iso_url: w.baseImage,
        iso_checksum: 'none',
        disk_image: true,
        use_backing_file: true,
        // qemu-img >= 6.1 refuses -b without the backing format; Packer 1.6.6 does not pass it.
        qemu_img_args: { create: ['-F', 'qcow2'] },
        skip_resize_disk: true,
        disk_size: '4096M',
        format: 'qcow2',
        disk_compression: true,
        disk_interface: 'virtio',
        net_device: 'virtio-net',
        accelerator: 'tcg',
        headless: true,
        memory: w.memoryMiB,
        cpus: w.cpus,
        boot_wait: '1s',
        output_directory: out,
        vm_name: 'image.qcow2',
        qemuargs: [
          ['-netdev', 'user,id=user.0,hostfwd=tcp:127.0.0.1:{{ .SSHHostPort }}-:22'],
          ['-cpu', 'max'],
          ['-device', 'virtio-rng-pci'],
          ['-device', 'virtio-net,netdev=user.0'],
          ['-fw_cfg', `name=opt/hallmark/authorized_keys,file=${keys.authorizedKeys}`],
          ['-fw_cfg', `name=opt/hallmark/ssh_host_ed25519_key,file=${keys.hostKey}`],
        ],
        communicator: 'ssh',
        ssh_username: 'debian',
        ssh_private_key_file: keys.privateKey,
        ssh_timeout: '10m',
        shutdown_command: 'sudo -n systemctl poweroff',
        shutdown_timeout: '5m',
      },
    ],
    provisioners: [
      {
        type: 'shell',
        script: w.provisionScript,
        execute_command: "chmod +x {{ .Path }}; {{ .Vars }} sudo -n -E sh -c '{{ .Path }}'",
      },
    ],
  };
}

/**
 * Runs `packer build` of the template above in `w.dir` and returns its wall
 * time with a breakdown read from Packer's timestamped UI lines. Packer stops
 * its VM itself (on success and on failure); the caller removes `w.dir`.
 */
export async function runPacker(w: PackerWork): Promise<PackerRun> {
  const version = (await packerVersion()) ?? '?';
  await mkdir(w.dir, { recursive: true });
  const keyDir = path.join(w.dir, 'keys');
  await mkdir(keyDir);
  const privateKey = path.join(keyDir, 'id_ed25519');
  const hostKey = path.join(keyDir, 'ssh_host_ed25519_key');
  await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'packer-bench', '-f', privateKey]);
  await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'packer-bench-host', '-f', hostKey]);
  const out = path.join(w.dir, 'output');
  const template = path.join(w.dir, 'template.json');
  await writeFile(template, JSON.stringify(packerTemplate(w, { privateKey, authorizedKeys: `${privateKey}.pub`, hostKey }, out), null, 2));

  const t0 = Date.now();
  const r = await execa('packer', ['build', '-timestamp-ui', '-color=false', template], {
    cwd: w.dir,
    reject: false,
    all: true,
    env: { CHECKPOINT_DISABLE: '1', PACKER_CACHE_DIR: path.join(w.dir, 'cache'), PACKER_CONFIG_DIR: w.dir },
  });
  const totalMs = Date.now() - t0;
  const log = String(r.all);
  await writeFile(path.join(w.dir, 'packer.log'), log);
  if (r.exitCode !== 0) throw new Error(`packer build exited ${r.exitCode}:\n${log.split('\n').slice(-30).join('\n')}`);

  // -timestamp-ui prefixes each UI line with an RFC 3339 time.
  const at = (re: RegExp): number | undefined => {
    for (const line of log.split('\n')) {
      if (!re.test(line)) continue;
      const t = Date.parse(line.slice(0, line.indexOf(' ')).replace(/:$/, ''));
      if (Number.isFinite(t)) return t;
    }
    return undefined;
  };
  const started = at(/Starting VM, booting disk image/);
  const connected = at(/Connected to SSH!/);
  const provisioning = at(/Provisioning with shell script/);
  const halting = at(/Gracefully halting virtual machine/);
  const converting = at(/Converting hard drive/);
  const finished = at(/Build 'qemu' finished/);
  const diff = (a?: number, b?: number) => (a !== undefined && b !== undefined ? b - a : undefined);
  return {
    totalMs,
    bootMs: diff(started, connected),
    provisionMs: diff(provisioning, halting),
    shutdownMs: diff(halting, converting),
    convertMs: diff(converting, finished),
    imagePath: path.join(out, 'image.qcow2'),
    version,
  };
}
