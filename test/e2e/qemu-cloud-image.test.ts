/**
 * An official-cloud-image platform through the qemu DRIVER and the CLI:
 * `image:` is a path (with image_checksum) to a qcow2 that has cloud-init and
 * no hallmark fw_cfg key injection. The image is the debian-12-cloudinit base
 * (built here into the base cache when missing), linked into the project
 * under a cloud-image name with no sidecar json, as a downloaded
 * genericcloud image would sit. The driver must write a NoCloud seed that
 * gives the guest its user, the per-machine client key and host key; create,
 * verify, exec and destroy go through `bin/hallmark`. Every qemu started here
 * is stopped in afterAll (sweep, by PID), pass or fail.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, stat, symlink } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Logger } from '../../src/kernel/events.js';
import { buildBaseImage, defaultCacheDir, resolveBaseImage, type BaseImageInfo } from '../../src/drivers/qemu/base/index.js';
import { alive, BOOT_TIMEOUT_S, makeProject, type Project } from './qemu-cli.js';

const cacheDir = process.env.HALLMARK_BASE_CACHE ?? defaultCacheDir();
const INSTANCE = 'default-genericcloud';
const LINK = 'images/debian-12-genericcloud-amd64.qcow2';

let p: Project;
let info: BaseImageInfo;
let source: string;
let sourceStat: { size: number; mtimeMs: number };

function progressLogger(): Logger {
  const say = (m: string) => console.log(`[e2e] cloud-init base: ${m}`);
  return { debug: () => {}, info: say, warn: say, error: say, progress: () => {}, output: () => {} };
}

function config(sha256: string): string {
  const platform = (name: string, checksum: string) => [
    `  - name: ${name}`,
    '    driver:',
    `      image: ${LINK}`,
    `      image_checksum: sha256:${checksum}`,
  ];
  return [
    'driver:',
    '  name: qemu',
    '  memory: 768',
    '  cpus: 2',
    `  boot_timeout: ${BOOT_TIMEOUT_S}`,
    'provisioner:',
    '  name: shell',
    '  inline: "echo converged > /etc/hallmark-e2e"',
    'verifier:',
    '  name: spec',
    'platforms:',
    ...platform('genericcloud', sha256),
    ...platform('badsum', '0'.repeat(64)),
    'suites:',
    '  - name: default',
    '',
  ].join('\n');
}

// Checks that hold only when cloud-init set the machine up from the driver's seed.
const CHECKS = `file:
  /etc/hallmark-e2e:
    exists: true
    contents: [converged]
  /home/debian/.ssh/authorized_keys:
    exists: true
    owner: debian
    mode: "0600"
    contents: ["hallmark@${INSTANCE}"]
  /var/lib/cloud/data/instance-id:
    exists: true
    contents: ["/^hallmark-${INSTANCE}-[0-9]+$/"]
service:
  hallmark-guest:
    enabled: false
    running: false
command:
  hostname:
    exit-status: 0
    stdout: ["/^${INSTANCE}$/"]
`;

beforeAll(async () => {
  const t = Date.now();
  info = await buildBaseImage({ distro: 'debian-12', cloudInit: true, rebuildStale: true, cacheDir, log: progressLogger() });
  console.log(`[e2e] debian-12-cloudinit build/reuse: ${((Date.now() - t) / 1000).toFixed(0)}s`);
  source = (await resolveBaseImage('debian-12-cloudinit', cacheDir)).path;
  const st = await stat(source);
  sourceStat = { size: st.size, mtimeMs: st.mtimeMs };
  p = await makeProject({ 'hallmark.yml': config(info.sha256), 'test/integration/default/checks.yml': CHECKS });
  await mkdir(path.join(p.dir, 'images'));
  await symlink(source, path.join(p.dir, LINK));
}, 1_200_000);

afterAll(async () => {
  await p?.sweep();
});

describe('qemu driver on a cloud image (cloud-init, NoCloud seed made by the driver)', () => {
  const instanceDir = () => path.join(p.dir, '.hallmark', 'qemu', INSTANCE);
  let pid = 0;

  it('refuses an image file whose sha256 is not image_checksum, before starting anything', async () => {
    const r = await p.run(['create', 'badsum']);
    expect(r.exitCode, r.all).toBe(2);
    expect(r.all).toContain(`has sha256 ${info.sha256}, but driver.image_checksum is ${'0'.repeat(64)}`);
    expect(await p.qemuPids()).toEqual([]);
    expect(await p.qemuFiles()).toEqual([]);
  }, 120_000);

  it('create boots it with a seed carrying the per-machine client key and host key', async () => {
    const t = Date.now();
    const c = await p.run(['create', 'genericcloud']);
    console.log(`[e2e] create (cloud image): ${((Date.now() - t) / 1000).toFixed(0)}s`);
    expect(c.exitCode, c.all).toBe(0);

    const j = (await p.journal(INSTANCE))!;
    expect(j.driver).toMatchObject({ cloudInit: true, baseImage: path.join(p.dir, LINK), baseName: LINK, baseSha256: info.sha256 });
    pid = j.driver.pid as number;
    expect(await p.qemuPids()).toEqual([pid]);

    // The seed is on the machine's command line, and no host key goes through fw_cfg.
    const seed = path.join(instanceDir(), 'seed.iso');
    const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
    expect(cmdline).toContain(`file=${seed},format=raw,if=virtio,media=cdrom,readonly=on`);
    expect(cmdline.join(' ')).not.toContain('opt/hallmark/ssh_host_ed25519_key');

    const clientPub = (await readFile(path.join(instanceDir(), 'id_ed25519.pub'), 'utf8')).trim();
    const hostPub = (await readFile(path.join(instanceDir(), 'ssh_host_ed25519_key.pub'), 'utf8')).trim();
    const iso = (f: string) => execa('isoinfo', ['-i', seed, '-R', '-x', `/${f}`]).then((r) => r.stdout);
    const userData = await iso('user-data');
    expect(userData.startsWith('#cloud-config\n')).toBe(true);
    expect(userData).toContain(JSON.stringify(clientPub));
    expect(userData).toContain(JSON.stringify(hostPub));
    expect(await iso('meta-data')).toMatch(new RegExp(`^instance-id: hallmark-${INSTANCE}-\\d+\\nlocal-hostname: ${INSTANCE}$`));
  }, 1_200_000);

  it('verify converges and runs the spec checks over SSH with the seeded key', async () => {
    const v = await p.run(['verify', 'genericcloud']);
    expect(v.exitCode, v.all).toBe(0);
    const results = JSON.parse(await readFile(path.join(p.dir, '.hallmark', 'verify', INSTANCE, 'results.json'), 'utf8')) as {
      passed: boolean;
      summary: { total: number; passed: number };
      instances: { instance: string; results: { id: string; status: string }[] }[];
    };
    // Every attribute of CHECKS is one result, and all of them passed on this machine.
    expect(results.instances.map((i) => i.instance)).toEqual([INSTANCE]);
    expect(results.summary).toMatchObject({ total: 12, passed: 12 });
    expect(results.passed).toBe(true);
    expect(results.instances[0]!.results.map((r) => r.id)).toEqual(
      expect.arrayContaining(['file:/home/debian/.ssh/authorized_keys:contents', 'file:/var/lib/cloud/data/instance-id:contents', 'service:hallmark-guest:running']),
    );
  }, 1_200_000);

  it('exec reaches the user cloud-init made from the seed, with the driver-made key and host key', async () => {
    const cmd = [
      'echo "user=$(id -un)"',
      'echo "host=$(hostname)"',
      'echo "keys=$(cat ~/.ssh/authorized_keys)"',
      'echo "hostkey=$(sudo -n cut -d" " -f1,2 /etc/ssh/ssh_host_ed25519_key.pub)"',
      'echo "hosts=$(getent hosts "$(hostname)")"',
      'echo "unit=$(systemctl is-active hallmark-guest.service)"',
      // cloud-init's own copy of the user-data it read from the seed.
      'echo "seeded=$(sudo -n grep -c "$(cut -d" " -f2 ~/.ssh/authorized_keys)" /var/lib/cloud/instance/user-data.txt)"',
    ].join('; ');
    const e = await p.run(['exec', INSTANCE, '-c', cmd]);
    expect(e.exitCode, e.all).toBe(0);
    const clientPub = (await readFile(path.join(instanceDir(), 'id_ed25519.pub'), 'utf8')).trim();
    const hostPub = (await readFile(path.join(instanceDir(), 'ssh_host_ed25519_key.pub'), 'utf8')).trim().split(' ').slice(0, 2).join(' ');
    const out = e.stdout;
    expect(out).toMatch(/^user=debian$/m);
    expect(out).toMatch(new RegExp(`^host=${INSTANCE}$`, 'm'));
    expect(out).toContain(`\nkeys=${clientPub}\n`);
    expect(out).toContain(`\nhostkey=${hostPub}\n`);
    expect(out).toMatch(/^unit=inactive$/m);
    expect(out).toMatch(/^seeded=1$/m);
    // The hostname the seed gave resolves (sudo would warn on every call otherwise).
    expect(out).toMatch(new RegExp(`^hosts=127\\.0\\.1\\.1\\s.*\\b${INSTANCE}\\b`, 'm'));
    expect(e.all).not.toContain('unable to resolve host');
  }, 300_000);

  it('destroy stops the machine and removes its files; the source image is untouched', async () => {
    expect(pid).toBeGreaterThan(0);
    const d = await p.run(['destroy', 'genericcloud']);
    expect(d.exitCode, d.all).toBe(0);
    expect(alive(pid)).toBe(false);
    expect(await p.qemuPids()).toEqual([]);
    expect(await p.qemuFiles()).toEqual([]);
    expect(existsSync(instanceDir())).toBe(false);
    const list = JSON.parse((await p.run(['list', '--json'])).stdout) as { instance: string; lastAction: string }[];
    expect(list.find((r) => r.instance === INSTANCE)?.lastAction).toBe('<Not Created>');
    const st = await stat(source);
    expect({ size: st.size, mtimeMs: st.mtimeMs }).toEqual(sourceStat);
  }, 300_000);
});
