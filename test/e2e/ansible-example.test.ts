/**
 * examples/ansible end to end through the CLI on a real debian-12 VM: in a
 * temp copy of the example, `hallmark build default-debian-12` applies the
 * nginx role, passes the gossfile's checks (package, service, port, page),
 * captures the image into a temp HALLMARK_IMAGE_STORE and writes the outputs.
 * The only apt work is nginx itself (the base image has python3).
 */
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const bin = path.join(root, 'bin/hallmark');
const INSTANCE = 'default-debian-12';
let work: string;
let dir: string;
let store: string;

function hallmark(...args: string[]) {
  return execa(bin, args, {
    cwd: dir,
    reject: false,
    all: true,
    timeout: 540_000,
    env: { CI: '1', HALLMARK_IMAGE_STORE: store, NO_COLOR: '1' },
  });
}

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'hallmark-e2e-ansible-example-'));
  dir = path.join(work, 'project');
  store = path.join(work, 'store');
  await cp(path.join(root, 'examples/ansible'), dir, {
    recursive: true,
    filter: (src) => !/[/\\](\.hallmark|env\.properties|manifest\.json|junit\.xml)$/.test(src),
  });
  if (!existsSync(path.join(root, 'dist/cli/main.js'))) await execa('npm', ['run', 'build'], { cwd: root });
});

afterAll(async () => {
  // build destroys the machine itself; this covers a run cut short.
  if (work) {
    if (existsSync(path.join(dir, '.hallmark', `${INSTANCE}.json`))) await hallmark('destroy', INSTANCE);
    await rm(work, { recursive: true, force: true });
  }
}, 180_000);

describe('examples/ansible', () => {
  test('hallmark build default-debian-12: nginx role applied, checks pass, image captured, exit 0', async () => {
    const r = await hallmark('build', INSTANCE);
    expect(r.exitCode, r.all).toBe(0);
    // The role ran on the machine (ansible's own task lines, streamed through).
    for (const task of ['Install nginx', 'Write the index page', 'Start nginx now and at boot']) expect(r.all).toContain(`TASK [nginx : ${task}]`);
    expect(r.all).toMatch(/default-debian-12\s*:\s*ok=\d+\s+changed=[1-9]\d*\s+unreachable=0\s+failed=0/);

    // Every gossfile check passed, in the JUnit report and the manifest the build wrote.
    const junit = await readFile(path.join(dir, 'junit.xml'), 'utf8');
    for (const name of ['Package: nginx: installed', 'Service: nginx: enabled', 'Service: nginx: running', 'Port: tcp:80: listening', 'Http: http://localhost/: status', 'Http: http://localhost/: body']) {
      expect(junit).toContain(`name="${name}"`);
    }
    expect(junit).toMatch(/<testsuites name="hallmark" tests="6" failures="0" errors="0" skipped="0"/);
    const manifest = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8')) as {
      builds: { instance: string; imageName: string; image: { id: string }; verification: { summary: Record<string, number> } }[];
    };
    expect(manifest.builds).toHaveLength(1);
    const build = manifest.builds[0]!;
    expect(build).toMatchObject({ instance: INSTANCE, imageName: expect.stringMatching(/^web-debian-12-/) });
    expect(build.verification.summary).toEqual({ total: 6, passed: 6, failed: 0, skipped: 0, errors: 0 });

    // The image is in the temp store under its id, as a qcow2.
    const stored = (await readdir(store, { recursive: true })).map(String);
    expect(stored.some((f) => f.includes(build.image.id) && f.endsWith('.qcow2')), stored.join(', ')).toBe(true);
    expect(await readFile(path.join(dir, 'env.properties'), 'utf8')).toContain(`IMAGE_ID=${build.image.id}`);

    // The machine is gone: the journal no longer names one.
    const state = JSON.parse(await readFile(path.join(dir, '.hallmark', `${INSTANCE}.json`), 'utf8')) as Record<string, unknown>;
    expect(state).toMatchObject({ created: false, driver: {} });
  }, 600_000);
});
