/**
 * A damaged state file never loses a machine (issue 12 §4): the CLI names the
 * file and exits 4, leaves the file as it was, and cleanup goes on with the
 * other instances. qemu machines recorded but not running: no VM is booted.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { assertBuilt, hallmark, project, removeProjects } from './run-cli.js';

vi.setConfig({ testTimeout: 90_000 });
beforeAll(assertBuilt);
afterAll(removeProjects);

const CONFIG = `driver:
  name: qemu
  image: debian-12
provisioner:
  name: shell
  inline: "true"
verifier:
  name: shell
  command: "true"
platforms:
  - name: a
  - name: b
suites:
  - name: default
`;

/** A qemu record of a machine that is not running: its instance dir exists, no PID. */
async function recordedMachine(dir: string, instance: string): Promise<{ file: string; instanceDir: string }> {
  const instanceDir = path.join(dir, '.hallmark', 'qemu', instance);
  await mkdir(instanceDir, { recursive: true });
  await writeFile(path.join(instanceDir, 'overlay.qcow2'), 'not a disk');
  const file = path.join(dir, '.hallmark', `${instance}.json`);
  const driver = { instanceDir, overlay: path.join(instanceDir, 'overlay.qcow2'), privateKeyPath: path.join(instanceDir, 'id_ed25519') };
  await writeFile(file, JSON.stringify({ instance, driverName: 'qemu', created: true, driver, images: [], timings: {} }));
  return { file, instanceDir };
}

describe('a damaged state file', () => {
  it('cleanup names the unreadable file, exits 4, and still cleans the other instance', async () => {
    const dir = await project({ 'hallmark.yml': CONFIG });
    const damaged = path.join(dir, '.hallmark', 'default-a.json');
    const good = await recordedMachine(dir, 'default-b');
    const text = '{"instance": "default-a", "driver": {"pid": 41';
    await writeFile(damaged, text);

    const r = await hallmark(['cleanup'], { cwd: dir });
    expect(r.exitCode, r.all).toBe(4);
    expect(r.all).toContain(`${damaged}: is not valid JSON`);
    expect(r.all).toMatch(/repair it/);
    expect(r.all).not.toMatch(/internal error|SyntaxError|\n\s+at /);
    expect(r.all).toContain('cleanup: 1 instance(s) could not be cleaned');
    expect(await readFile(damaged, 'utf8')).toBe(text);
    // default-b's machine was removed and its record reset.
    expect(existsSync(good.instanceDir)).toBe(false);
    expect(JSON.parse(await readFile(good.file, 'utf8'))).toMatchObject({ created: false, driver: {} });

    const list = await hallmark(['list'], { cwd: dir });
    expect(list.exitCode, list.all).toBe(0);
    expect(list.stdout).toMatch(/default-a .*damaged state file/);
  });

  it('destroy of a machine whose driver record fails its schema is an error, and the record stays', async () => {
    const dir = await project({ 'hallmark.yml': CONFIG });
    const { file, instanceDir } = await recordedMachine(dir, 'default-a');
    const state = JSON.parse(await readFile(file, 'utf8'));
    state.driver.overlay = 7; // damaged: no longer a path
    await writeFile(file, JSON.stringify(state));

    const r = await hallmark(['destroy', 'default-a'], { cwd: dir });
    expect(r.exitCode, r.all).toBe(4);
    expect(r.all).toContain(`${file}: the qemu driver's record of the machine is damaged (overlay:`);
    // The record of the machine is kept as it was; only the last action and its error are noted.
    expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({ created: true, driver: state.driver, lastError: expect.stringContaining('damaged') });
    expect(existsSync(instanceDir)).toBe(true);
  });

  it("a machine another driver made is not forgotten when the config's driver changes", async () => {
    const dir = await project({ 'hallmark.yml': CONFIG.replace('name: qemu\n  image: debian-12', 'name: proxy\n  host: 127.0.0.1\n  port: 2222') });
    const { file, instanceDir } = await recordedMachine(dir, 'default-a');
    const text = await readFile(file, 'utf8');
    const r = await hallmark(['destroy', 'default-a'], { cwd: dir });
    expect(r.exitCode, r.all).toBe(4);
    expect(r.all).toContain(`${file}: records a machine made by the qemu driver, but this instance now uses proxy`);
    expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({ driverName: 'qemu', driver: JSON.parse(text).driver });
    expect(existsSync(instanceDir)).toBe(true);
  });
});
