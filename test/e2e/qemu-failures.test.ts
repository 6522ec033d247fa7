/**
 * Builds that must publish nothing, through the CLI on real VMs: a failed
 * verification (exit 3) and a SIGINT during converge (exit 130). Afterwards no
 * image in the store, no outputs, no qemu process naming the project, no
 * files under .hallmark/qemu. No apt: the provisioners only touch files.
 */
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BOOT_TIMEOUT_S, makeProject, smallProject, waitFor, type Project } from './qemu-cli.js';

const projects: Project[] = [];
afterAll(async () => {
  for (const p of projects) await p.sweep();
});

async function nothingLeft(p: Project): Promise<void> {
  expect(await p.qemuPids()).toEqual([]);
  expect(await p.qemuFiles()).toEqual([]);
  expect(await readdir(p.store)).toEqual([]);
  for (const f of ['env.properties', 'manifest.json', 'junit.xml']) expect(existsSync(path.join(p.dir, f)), f).toBe(false);
  const images = JSON.parse((await p.run(['images', '--json'])).stdout);
  expect(images).toEqual([]);
}

describe('build failures publish nothing and leave nothing', () => {
  it('a failing check: exit 3, the check named in the output, no image, no outputs, no machine', async () => {
    const p = await makeProject(
      smallProject('echo hello > /etc/hallmark-e2e', [
        'file:',
        '  /etc/hallmark-e2e:',
        '    exists: true',
        '    contents:',
        '      - hello',
        '  /etc/hallmark-never-there:',
        '    exists: true',
        '',
      ].join('\n')),
    );
    projects.push(p);
    const t0 = Date.now();
    const r = await p.run(['build', 'debian-12']);
    console.log(`[e2e] failing build: ${((Date.now() - t0) / 1000).toFixed(0)}s`);
    expect(r.exitCode, r.all).toBe(3);
    expect(r.all).toContain('/etc/hallmark-never-there');
    await nothingLeft(p);
    const list = JSON.parse((await p.run(['list', '--json'])).stdout);
    expect(list[0]).toMatchObject({ instance: 'default-debian-12', lastAction: 'build' });
    expect(list[0].lastError).not.toBe('<None>');
  }, 600_000);

  it('SIGINT during converge: the abort ends the remote command, exit 130, machine and files gone, no image', async () => {
    const p = await makeProject(smallProject('touch /tmp/converge-started; sleep 86400', 'file:\n  /etc/hostname:\n    exists: true\n'));
    projects.push(p);
    const child = p.start(['build', 'debian-12']);
    let output = '';
    child.all?.on('data', (d: Buffer) => (output += d.toString()));
    try {
      // The VM is up and the provisioner runs once the journal says created and the converge started.
      await waitFor(async () => (await p.journal('default-debian-12'))?.driver?.bootMs !== undefined || child.exitCode !== null, BOOT_TIMEOUT_S * 1000 + 60_000, 'the VM to reach SSH');
      expect(child.exitCode, output).toBeNull();
      await waitFor(() => /converg/i.test(output), 120_000, 'converge to start');
      await new Promise((r) => setTimeout(r, 5000));
      const pidsBefore = await p.qemuPids();
      expect(pidsBefore).toHaveLength(1);
      const t0 = Date.now();
      child.kill('SIGINT');
      const r = await child;
      const took = Date.now() - t0;
      console.log(`[e2e] SIGINT to exit: ${(took / 1000).toFixed(1)}s`);
      // The provisioner sleeps a day: only the abort reaching the remote command ends this build before the test's timeout.
      expect(r.exitCode, output).toBe(130);
    } finally {
      if (child.exitCode === null && child.pid) child.kill('SIGKILL');
    }
    await nothingLeft(p);
  }, 1_500_000);
});
