/**
 * Kitchen's lifecycle verbs on one real VM through the CLI: create, converge,
 * verify, exec, destroy — exit codes and the state `list --json` reports
 * after each. No apt: the provisioner only writes a file.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeProject, smallProject, type Project } from './qemu-cli.js';

let p: Project;
const INSTANCE = 'default-debian-12';

beforeAll(async () => {
  p = await makeProject(smallProject('echo converged > /etc/hallmark-e2e', 'file:\n  /etc/hallmark-e2e:\n    exists: true\n    contents:\n      - converged\n'));
});
afterAll(async () => {
  await p?.sweep();
});

async function lastAction(): Promise<string> {
  const list = JSON.parse((await p.run(['list', '--json'])).stdout) as { instance: string; lastAction: string; lastError: string }[];
  const row = list.find((r) => r.instance === INSTANCE)!;
  return row.lastAction;
}

describe('lifecycle on one VM', () => {
  it('create -> converge -> verify -> exec -> destroy', async () => {
    expect(await lastAction()).toBe('<Not Created>');

    let t = Date.now();
    const c = await p.run(['create', 'debian-12']);
    expect(c.exitCode, c.all).toBe(0);
    console.log(`[e2e] create: ${((Date.now() - t) / 1000).toFixed(0)}s`);
    expect(await lastAction()).toBe('create');
    expect(await p.qemuPids()).toHaveLength(1);
    expect((await p.journal(INSTANCE))?.driver.bootMs).toBeGreaterThan(0);

    t = Date.now();
    const cv = await p.run(['converge', 'debian-12']);
    expect(cv.exitCode, cv.all).toBe(0);
    expect(await lastAction()).toBe('converge');

    const v = await p.run(['verify', 'debian-12']);
    expect(v.exitCode, v.all).toBe(0);
    expect(await lastAction()).toBe('verify');
    console.log(`[e2e] converge + verify: ${((Date.now() - t) / 1000).toFixed(0)}s`);

    const e = await p.run(['exec', INSTANCE, '-c', 'cat /etc/os-release /etc/hallmark-e2e']);
    expect(e.exitCode, e.all).toBe(0);
    expect(e.stdout).toMatch(/^ID=debian$/m);
    expect(e.stdout).toMatch(/^VERSION_ID="12"$/m);
    expect(e.stdout).toContain('converged');
    // A failing remote command's exit code comes through.
    expect((await p.run(['exec', INSTANCE, '-c', 'exit 7'])).exitCode).toBe(7);

    const d = await p.run(['destroy', 'debian-12']);
    expect(d.exitCode, d.all).toBe(0);
    expect(await lastAction()).toBe('<Not Created>');
    expect(await p.qemuPids()).toEqual([]);
    expect(await p.qemuFiles()).toEqual([]);
    // No image was made by any of this.
    expect(JSON.parse((await p.run(['images', '--json'])).stdout)).toEqual([]);
  }, 1_500_000);
});
