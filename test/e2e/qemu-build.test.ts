/**
 * The README's first command, end to end: scripts/quickstart-project.sh (what
 * scripts/quickstart.sh runs after its installs) as it is, in an empty dir:
 * `hallmark init --driver qemu --provisioner shell`, `base build debian-12`,
 * `hallmark build` on a real VM (the real apt install of nginx), its outputs
 * and report; then the captured image booting BY ITSELF under plain qemu (no
 * overlay, no driver) and still serving the nginx page through a hostfwd.
 * Every qemu started here is stopped by PID.
 */
import { existsSync } from 'node:fs';
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectAccelerator } from '../../src/drivers/qemu/accel.js';
import { FW_CFG_AUTHORIZED_KEYS, FW_CFG_HOST_KEY } from '../../src/drivers/qemu/base/guest-files.js';
import { generateEd25519 } from '../../src/drivers/qemu/keys.js';
import { freeLoopbackPort, waitForSshBanner } from '../../src/drivers/qemu/net.js';
import { readPidFile } from '../../src/drivers/qemu/process.js';
import { sha256File } from '../../src/drivers/qemu/qemu-img.js';
import { renderReport } from '../helpers/report-browser.js';
import { alive, BOOT_TIMEOUT_S, killPid, makeProject, repoRoot, type Project } from './qemu-cli.js';

let p: Project;
const bootPids: number[] = [];

beforeAll(async () => {
  // An empty project dir but for a local overlay (Kitchen's *.local.yml, which init does not write):
  // a longer boot timeout for a shared CI box running TCG under load. The scaffold itself is init's.
  p = await makeProject({ 'hallmark.local.yml': `driver:\n  boot_timeout: ${BOOT_TIMEOUT_S}\n` });
});

afterAll(async () => {
  for (const pid of bootPids) await killPid(pid);
  await p?.sweep();
});

describe('the quickstart: hallmark init, then a build of the scaffold (qemu, real nginx install)', () => {
  let imageId = '';
  let imageFile = '';

  it('scaffolds with init, builds, and writes env.properties, manifest.json, junit.xml and the report that name the stored image', async () => {
    const t0 = Date.now();
    const r = await execa('bash', [path.join(repoRoot, 'scripts', 'quickstart-project.sh'), p.dir], { env: p.env, reject: false, all: true, timeout: 1_400_000 });
    console.log(`[e2e] quickstart (init, base build/reuse, build): ${((Date.now() - t0) / 1000).toFixed(0)}s`);
    const all = String(r.all);
    expect(r.exitCode, all).toBe(0);
    // init wrote the scaffold that was built.
    expect(all).toContain('hallmark init --driver qemu --provisioner shell');
    for (const f of ['hallmark.yml', '.gitignore', 'provision.sh', 'test/integration/default/web.yml']) expect(existsSync(path.join(p.dir, f)), f).toBe(true);
    expect(await readFile(path.join(p.dir, 'hallmark.yml'), 'utf8')).toMatch(/^provisioner:\n {2}name: shell\n {2}script: provision.sh$/m);

    const env = await readFile(path.join(p.dir, 'env.properties'), 'utf8');
    imageId = /^IMAGE_ID=(img-[0-9a-f]+)$/m.exec(env)?.[1] ?? '';
    expect(imageId, env).toMatch(/^img-/);
    // The script shows env.properties and where the report is.
    expect(String(r.stdout)).toContain(`IMAGE_ID=${imageId}`);
    expect(String(r.stdout)).toContain(`Outputs in ${p.dir}:`);
    expect(String(r.stdout)).toMatch(/report\.html +the report/);

    const m = JSON.parse(await readFile(path.join(p.dir, 'manifest.json'), 'utf8'));
    const b = m.builds[0];
    expect(m.builds).toHaveLength(1);
    expect(b).toMatchObject({ instance: 'default-debian-12', driver: 'qemu', image: { id: imageId, role: 'source' } });
    expect(b.imageName).toMatch(/^web-debian-12-\d{8}T\d{6}Z$/);
    for (const t of ['create', 'converge', 'verify', 'capture']) expect(b.timings[t], t).toBeGreaterThan(0);
    const art = b.artifacts.images[0];
    imageFile = art.path;
    expect(art).toMatchObject({ id: imageId, path: path.join(p.store, `${imageId}.qcow2`), sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(art.sha256).toBe(await sha256File(imageFile));
    expect(art.sizeBytes).toBe((await stat(imageFile)).size);
    expect(b.verification.summary).toMatchObject({ failed: 0, errors: 0 });
    // Every check of init's gossfile ran on the machine and passed (nginx, its page, its port, the hardening).
    expect(b.verification.summary.passed).toBe(b.verification.summary.total);
    expect(b.verification.summary.passed).toBeGreaterThan(10);

    const junit = await readFile(path.join(p.dir, 'junit.xml'), 'utf8');
    expect(junit).toMatch(/^<\?xml version="1\.0"/);
    expect(junit).toMatch(/<testsuites?[\s>]/);
    expect(junit).not.toMatch(/<failure/);
    // Well-formed XML (Python's parser: no xmllint here).
    const lint = await execa('python3', ['-c', 'import sys, xml.dom.minidom as m; m.parse(sys.argv[1])', path.join(p.dir, 'junit.xml')], { reject: false });
    expect(lint.exitCode, String(lint.stderr)).toBe(0);
    expect((junit.match(/<testcase/g) ?? []).length).toBe(b.verification.summary.total);

    // The HTML report in a browser: the qcow2 with its checksum and size, every check passed, no console error.
    const page = await renderReport(path.join(p.dir, 'report.html'), 'qemu-build-quickstart-init');
    expect(page.problems).toEqual([]);
    expect(page.result).toBe('PASSED');
    expect(page.facts['build id']).toBe(b.buildId);
    expect(page.images).toEqual([
      { instance: 'default-debian-12', role: 'source', region: '', id: imageId, file: imageFile, sha256: art.sha256, size: art.sizeBytes >= 1024 ** 3 ? `${(art.sizeBytes / 1024 ** 3).toFixed(1)} GiB` : `${(art.sizeBytes / 1024 ** 2).toFixed(1)} MiB` },
    ]);
    expect(page.instanceFacts['default-debian-12']).toMatchObject({ driver: 'qemu', 'base image': 'debian-12', 'verification digest (verify)': b.verification.digest });
    expect(page.checks).toHaveLength(b.verification.summary.total);
    expect(page.checks.every((c) => c.status !== 'fail' && c.status !== 'error')).toBe(true);

    const images = JSON.parse((await p.run(['images', '--json'])).stdout) as { id: string; sha256: string }[];
    expect(images.map((i) => i.id)).toEqual([imageId]);
    expect(images[0]!.sha256).toBe(art.sha256);
    // The machine is gone once the image exists.
    expect(await p.qemuPids()).toEqual([]);
    expect(await p.qemuFiles()).toEqual([]);
  }, 1_500_000);

  it('the stored image boots by itself under plain qemu and serves the nginx page on port 80', async () => {
    expect(imageFile).not.toBe('');
    const dir = p.dir;
    const keys = await generateEd25519(path.join(dir, 'boot-key'), 'boot');
    const host = await generateEd25519(path.join(dir, 'boot-host'), 'boot-host');
    await writeFile(path.join(dir, 'boot-authorized'), keys.publicKey + '\n');
    const sshPort = await freeLoopbackPort();
    let httpPort = await freeLoopbackPort();
    while (httpPort === sshPort) httpPort = await freeLoopbackPort();
    const pidFile = path.join(dir, 'boot.pid');
    const consoleLog = path.join(dir, 'boot.console.log');
    const accel = await detectAccelerator({});
    await execa('qemu-system-x86_64', [
      ...accel.args, '-m', '768', '-smp', '2', '-display', 'none', '-snapshot',
      '-drive', `file=${imageFile},if=virtio`,
      '-netdev', `user,id=n0,hostfwd=tcp:127.0.0.1:${sshPort}-:22,hostfwd=tcp:127.0.0.1:${httpPort}-:80`,
      '-device', 'virtio-net-pci,netdev=n0',
      '-fw_cfg', `name=${FW_CFG_AUTHORIZED_KEYS},file=${path.join(dir, 'boot-authorized')}`,
      '-fw_cfg', `name=${FW_CFG_HOST_KEY},file=${host.privateKeyPath}`,
      '-serial', `file:${consoleLog}`, '-pidfile', pidFile, '-daemonize',
    ]);
    const pid = (await readPidFile(pidFile))!;
    bootPids.push(pid);
    const t0 = Date.now();
    await waitForSshBanner(sshPort, { maxWaitMs: 600_000, stillRunning: () => alive(pid), consoleLogPath: consoleLog });
    console.log(`[e2e] captured image reached SSH in ${((Date.now() - t0) / 1000).toFixed(0)}s (${accel.accel})`);
    // nginx may start a moment after sshd.
    let body = '';
    for (let i = 0; i < 60 && !body.includes('built and verified by hallmark'); i++) {
      const c = await execa('curl', ['-s', '--max-time', '5', `http://127.0.0.1:${httpPort}/`], { reject: false });
      body = String(c.stdout);
      if (!body.includes('built and verified')) await new Promise((r) => setTimeout(r, 2000));
    }
    expect(body).toContain('<h1>built and verified by hallmark</h1>');
    const head = await execa('curl', ['-sI', '--max-time', '5', `http://127.0.0.1:${httpPort}/`], { reject: false });
    expect(String(head.stdout)).toMatch(/^Server: nginx\r?$/m);
    await killPid(pid);
    expect(alive(pid)).toBe(false);
  }, 1_500_000);
});
