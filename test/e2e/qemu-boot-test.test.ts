/**
 * image.boot_test on the qemu driver, through `hallmark build`: after capture
 * a second VM boots from the captured image and the suite's checks run again
 * on it, before the image is exported or published. A check that holds only
 * on the build machine (a file in /run, which a reboot empties) fails the
 * build with exit 3 and leaves no image; a build killed with SIGKILL while the
 * boot VM runs is cleaned up by `hallmark cleanup`. Each project has its own
 * image store; one VM runs at a time; every qemu started here is stopped in
 * afterAll (sweep, by PID), pass or fail.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { alive, makeProject, smallProject, waitFor, type Project } from './qemu-cli.js';

const INSTANCE = 'default-debian-12';
const BOOT = `${INSTANCE}-boot-test`;

const projects: Project[] = [];
afterAll(async () => {
  for (const p of projects) await p.sweep();
});

/** A project whose build writes /etc/hallmark-e2e (kept in the image) and /run/hallmark-e2e (gone after a reboot). */
async function bootTestProject(checks: string): Promise<Project> {
  const p = await makeProject(
    smallProject(
      'echo built > /etc/hallmark-e2e && echo volatile > /run/hallmark-e2e',
      checks,
      ['  name: "e2e-boot-{{platform}}-{{timestamp}}"', '  boot_test: true'],
      ['distribute:', '  targets: [exports]'], // relative: <project>/exports
    ),
  );
  projects.push(p);
  return p;
}

// The machine-id check passes on both machines; the test compares what each one reported.
const MACHINE_ID = 'command:\n  machine-id:\n    exec: cat /etc/machine-id\n    exit-status: 0\n    stdout: ["/^[0-9a-f]{32}$/"]\n';
const KEPT = `${MACHINE_ID}file:\n  /etc/hallmark-e2e:\n    exists: true\n    contents: [built]\n`;
const VOLATILE = `${KEPT}  /run/hallmark-e2e:\n    exists: true\n    contents: [volatile]\n`;

interface Results {
  passed: boolean;
  summary: { total: number; passed: number; failed: number };
  instances: { instance: string; results: { id: string; status: string; found: string }[] }[];
}
const results = async (p: Project, instance: string): Promise<Results> =>
  JSON.parse(await readFile(path.join(p.dir, '.hallmark', 'verify', instance, 'results.json'), 'utf8')) as Results;
const log = (p: Project, instance: string) => readFile(path.join(p.dir, '.hallmark', 'logs', `${instance}.log`), 'utf8');
/** The time of the first log line matching `re`, in ms (NaN when there is none). */
const lineTime = (text: string, re: RegExp) => Date.parse(text.split('\n').find((l) => re.test(l))?.split(' ')[0] ?? '');
const startedPids = (text: string) => [...text.matchAll(/qemu: started PID (\d+)/g)].map((m) => Number(m[1]));

describe('hallmark build with image.boot_test (qemu)', () => {
  it('boots a second VM from the captured image, verifies it, and only then exports and publishes', async () => {
    const p = await bootTestProject(KEPT);
    const t0 = Date.now();
    const r = await p.run(['build', 'debian-12']);
    console.log(`[e2e] build with boot test: ${((Date.now() - t0) / 1000).toFixed(0)}s`);
    expect(r.exitCode, r.all).toBe(0);

    const imageId = /^IMAGE_ID=(img-[0-9a-f]+)$/m.exec(await readFile(path.join(p.dir, 'env.properties'), 'utf8'))?.[1] ?? '';
    expect(imageId).toMatch(/^img-/);
    const stored = path.join(p.store, `${imageId}.qcow2`);

    // The manifest carries the boot test's own verification, of the published image.
    const b = JSON.parse(await readFile(path.join(p.dir, 'manifest.json'), 'utf8')).builds[0];
    expect(b.image.id).toBe(imageId);
    expect(b.bootTest).toMatchObject({ instance: BOOT, image: imageId, verification: { summary: { total: 4, passed: 4, failed: 0, errors: 0 } } });
    expect(b.timings['boot-test']).toBeGreaterThan(0);
    expect(Object.keys(b.timings)).toEqual(['load', 'prepare', 'create', 'converge', 'setup', 'verify', 'capture', 'boot-test', 'distribute']);

    // The same checks passed on both machines.
    const built = await results(p, INSTANCE);
    const booted = await results(p, BOOT);
    expect(built.passed && booted.passed).toBe(true);
    expect(booted.instances[0]!.results.map((x) => [x.id, x.status])).toEqual(built.instances[0]!.results.map((x) => [x.id, 'pass']));
    // Capture emptied /etc/machine-id: the machine from the image made its own, not the build machine's.
    const machineId = (r: Results) => r.instances[0]!.results.find((x) => x.id === 'command:machine-id:stdout')!.found.trim();
    expect(machineId(built)).toMatch(/^[0-9a-f]{32}$/);
    expect(machineId(booted)).toMatch(/^[0-9a-f]{32}$/);
    expect(machineId(booted)).not.toBe(machineId(built));

    // Two different qemu processes; the second one's disk sat on the stored image.
    const main = await log(p, INSTANCE);
    const boot = await log(p, BOOT);
    const [buildPid] = startedPids(main);
    const [bootPid] = startedPids(boot);
    expect(buildPid).toBeGreaterThan(0);
    expect(bootPid).toBeGreaterThan(0);
    expect(bootPid).not.toBe(buildPid);
    expect(boot).toContain(`qemu: disk is an overlay on ${stored} (store image e2e-boot-debian-12-`);
    expect(boot).toMatch(/PASS .*\/etc\/hallmark-e2e/);
    expect(main).toContain(`boot test: a machine from ${imageId} (${BOOT})`);
    expect(await readFile(path.join(p.dir, '.hallmark', 'logs', `${BOOT}.console.log`), 'utf8')).toContain('hallmark-guest: installed authorized_keys');

    // Order: capture, then the boot VM's whole life, then the export, then the outputs.
    const captured = lineTime(main, /<- capture ok/);
    const bootStart = lineTime(main, /-> boot-test$/);
    const bootEnd = lineTime(main, /<- boot-test ok/);
    const distribute = lineTime(main, /-> distribute$/);
    expect(captured).toBeLessThanOrEqual(bootStart);
    expect(lineTime(boot, /boot-test started/)).toBeGreaterThanOrEqual(bootStart);
    expect(lineTime(boot, /cleanup create ok/)).toBeLessThanOrEqual(bootEnd);
    expect(bootEnd).toBeLessThanOrEqual(distribute);
    const exported = (await readdir(path.join(p.dir, 'exports'))).filter((f) => f.endsWith('.qcow2'));
    expect(exported).toHaveLength(1);
    const exportedAt = (await stat(path.join(p.dir, 'exports', `${exported[0]}.json`))).mtimeMs;
    expect(exportedAt).toBeGreaterThanOrEqual(bootEnd);
    expect((await stat(path.join(p.dir, 'env.properties'))).mtimeMs).toBeGreaterThanOrEqual(exportedAt);

    // Both machines are gone; the boot machine's journal says so.
    expect(alive(bootPid!)).toBe(false);
    expect(await p.qemuPids()).toEqual([]);
    expect(await p.qemuFiles()).toEqual([]);
    expect(await p.journal(BOOT)).toMatchObject({ lastAction: 'boot-test', lastError: null, created: false, driver: {} });
    expect((JSON.parse((await p.run(['images', '--json'])).stdout) as { id: string }[]).map((i) => i.id)).toEqual([imageId]);
  }, 1_800_000);

  it('a check that fails only on the booted image fails the build with exit 3 and leaves no image', async () => {
    const p = await bootTestProject(VOLATILE);
    const t0 = Date.now();
    const r = await p.run(['build', 'debian-12']);
    console.log(`[e2e] build with a failing boot test: ${((Date.now() - t0) / 1000).toFixed(0)}s`);
    expect(r.exitCode, r.all).toBe(3);
    // goss's absent-resource rule: exists fails, so contents is skipped, not failed.
    expect(r.all).toMatch(new RegExp(`${BOOT}: 1 of 6 checks failed`));
    expect(r.all).toMatch(/SKIP File: \/run\/hallmark-e2e: contents: skipped: exists did not pass/);
    expect(r.all).toContain('/run/hallmark-e2e');
    expect(r.all).toContain('nothing was published');

    // The build machine passed every check; the machine booted from its image did not.
    expect((await results(p, INSTANCE)).summary).toMatchObject({ total: 6, passed: 6 });
    const booted = await results(p, BOOT);
    expect(booted.passed).toBe(false);
    expect(booted.instances[0]!.results.filter((x) => x.status !== 'pass').map((x) => x.id).sort()).toEqual([
      'file:/run/hallmark-e2e:contents',
      'file:/run/hallmark-e2e:exists',
    ]);
    expect(booted.instances[0]!.results.find((x) => x.id === 'file:/run/hallmark-e2e:contents')?.status).toBe('skip');
    const main = await log(p, INSTANCE);
    const imageId = /boot test: a machine from (img-[0-9a-f]+)/.exec(main)?.[1];
    expect(imageId).toBeDefined();
    expect(main).toContain(`removed source image ${imageId}`);
    expect(main).not.toMatch(/-> distribute$/m);

    expect(await readdir(p.store)).toEqual([]);
    expect(JSON.parse((await p.run(['images', '--json'])).stdout)).toEqual([]);
    expect(existsSync(path.join(p.dir, 'exports'))).toBe(false);
    for (const f of ['env.properties', 'manifest.json', 'junit.xml']) expect(existsSync(path.join(p.dir, f)), f).toBe(false);
    expect(await p.qemuPids()).toEqual([]);
    expect(await p.qemuFiles()).toEqual([]);
    expect((await p.journal(INSTANCE))?.images).toEqual([]);
    expect(await p.journal(BOOT)).toMatchObject({ lastError: expect.stringMatching(/checks failed/), created: false, driver: {} });
  }, 1_800_000);

  it('killed with SIGKILL while the boot VM runs: `hallmark cleanup` stops that VM and removes the image', async () => {
    const p = await bootTestProject(KEPT);
    const child = p.start(['build', 'debian-12']);
    let bootPid = 0;
    try {
      await waitFor(async () => {
        const j = await p.journal(BOOT);
        bootPid = typeof j?.driver?.pid === 'number' ? j.driver.pid : 0;
        return bootPid > 0 || child.exitCode !== null;
      }, 1_200_000, 'the boot test VM to start');
      expect(child.exitCode, 'the build ended before the boot test VM started').toBeNull();
      child.kill('SIGKILL');
      await child;
    } finally {
      if (child.exitCode === null && child.pid) child.kill('SIGKILL');
    }
    expect(alive(bootPid)).toBe(true);
    const imageId = (await p.journal(INSTANCE))?.images[0]?.id;
    expect(imageId).toMatch(/^img-/);
    expect(existsSync(path.join(p.store, `${imageId}.qcow2`))).toBe(true);

    const r = await p.run(['cleanup']);
    expect(r.exitCode, r.all).toBe(0);
    expect(alive(bootPid)).toBe(false);
    expect(await p.qemuPids()).toEqual([]);
    expect(await p.qemuFiles()).toEqual([]);
    expect(await readdir(p.store)).toEqual([]);
    expect((await p.journal(INSTANCE))?.images).toEqual([]);
    expect((await p.journal(BOOT))?.driver).toEqual({});
    for (const f of ['env.properties', 'manifest.json']) expect(existsSync(path.join(p.dir, f)), f).toBe(false);
  }, 1_800_000);
});
