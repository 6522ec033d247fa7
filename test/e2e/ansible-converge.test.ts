/**
 * ansible_playbook through the CLI on one real debian-12 VM (qemu driver),
 * kept between cases: `converge` is run again with a new playbook and
 * provisioner block each time (Kitchen keeps the machine until destroy), then
 * `destroy`. No apt: the playbooks only run shell tasks, so each converge
 * costs one ansible-playbook run over SSH.
 *
 * - a failing task fails the converge with its task name (exit 4);
 * - retry_on_exit_code reruns a playbook whose task fails the first time only;
 * - a task that always fails exhausts max_retries (1 + max_retries runs).
 */
import { alive } from './qemu-cli.js';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

const bin = path.resolve(import.meta.dirname, '../../bin/hallmark');
const INSTANCE = 'default-debian-12';
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

/** Writes hallmark.yml with this provisioner tail and site.yml with these tasks. */
async function project(provisionerExtra: string, tasks: string): Promise<void> {
  await writeFile(
    path.join(dir, 'hallmark.yml'),
    `driver: {name: qemu, memory: 768, cpus: 2, boot_timeout: 600}
transport: {name: ssh}
provisioner:
  name: ansible_playbook
  playbook: site.yml
  hosts: web
${provisionerExtra}
verifier: {name: spec}
platforms:
  - name: debian-12
    driver: {image: debian-12}
`,
  );
  await writeFile(path.join(dir, 'site.yml'), `- hosts: web\n  gather_facts: false\n  tasks:\n${tasks}`);
}

/** The state file the CLI keeps for the instance (machine id etc.). */
async function state(): Promise<Record<string, unknown> | undefined> {
  const f = path.join(dir, '.hallmark', `${INSTANCE}.json`);
  return existsSync(f) ? (JSON.parse(await readFile(f, 'utf8')) as Record<string, unknown>) : undefined;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'hallmark-e2e-ansible-'));
  store = path.join(dir, 'store');
  if (!existsSync(path.resolve(import.meta.dirname, '../../dist/cli/main.js'))) {
    await execa('npm', ['run', 'build'], { cwd: path.resolve(import.meta.dirname, '../..') });
  }
});

afterAll(async () => {
  // Destroy is the CLI's job (kills the VM by the PID in the state file);
  // run it even when a case failed, then remove the project.
  if (dir) {
    if (await state()) await hallmark('destroy', INSTANCE);
    await rm(dir, { recursive: true, force: true });
  }
}, 180_000);

describe('ansible_playbook converge on a VM', () => {
  test('a failing task fails the converge, named in the output (exit 4)', async () => {
    await project(
      '',
      `    - name: Say hello
      ansible.builtin.command: echo hello
      changed_when: false
    - name: Break on purpose
      ansible.builtin.command: sh -c 'echo "the disk is full" >&2; exit 7'
    - name: Never reached
      ansible.builtin.command: touch /tmp/never
`,
    );
    const r = await hallmark('converge', INSTANCE);
    expect(r.exitCode, r.all).toBe(4);
    expect(r.all).toContain('task "Break on purpose" failed on host');
    expect(r.all).toContain('the disk is full');
    expect(r.all).not.toContain('TASK [Never reached]');
  }, 600_000);

  test('retry_on_exit_code reruns a playbook whose task fails the first time only', async () => {
    await project(
      '  retry_on_exit_code: [2]\n  max_retries: 2\n  wait_for_retry: 1',
      `    - name: Flaky the first time
      ansible.builtin.shell: |
        echo run >> /tmp/flaky-runs
        test "$(wc -l < /tmp/flaky-runs)" -ge 2 || { echo "first run fails" >&2; exit 1; }
        echo "runs: $(wc -l < /tmp/flaky-runs)"
      register: flaky
    - name: Report runs
      ansible.builtin.debug: {msg: "{{ flaky.stdout }}"}
`,
    );
    const r = await hallmark('converge', INSTANCE);
    expect(r.exitCode, r.all).toBe(0);
    expect(r.all).toContain('first run fails');
    expect(r.all).toContain('retrying in 1s (retry 1 of 2)');
    expect(r.all).not.toContain('retry 2 of 2');
    expect(r.all).toContain('runs: 2');
  }, 600_000);

  test('a task that always fails exhausts max_retries (1 + 2 runs), then exit 4', async () => {
    await project(
      '  retry_on_exit_code: [2]\n  max_retries: 2\n  wait_for_retry: 1',
      `    - name: Always broken
      ansible.builtin.shell: |
        echo run >> /tmp/broken-runs
        echo "broken run $(wc -l < /tmp/broken-runs)" >&2
        exit 1
`,
    );
    const r = await hallmark('converge', INSTANCE);
    expect(r.exitCode, r.all).toBe(4);
    expect(r.all).toContain('retry 1 of 2');
    expect(r.all).toContain('retry 2 of 2');
    expect(r.all).not.toContain('retry 3 of');
    expect(r.all).toContain('broken run 3');
    expect(r.all).not.toContain('broken run 4');
    expect(r.all).toContain('task "Always broken" failed on host');
  }, 600_000);

  test('destroy stops the VM and clears the machine from the state', async () => {
    const pid = Number((await readFile(path.join(dir, '.hallmark', `${INSTANCE}.json`), 'utf8')).match(/"pid":\s*(\d+)/)?.[1]);
    const r = await hallmark('destroy', INSTANCE);
    expect(r.exitCode, r.all).toBe(0);
    // The journal stays (last action, timings) but no longer names a machine.
    expect(await state()).toMatchObject({ lastAction: 'destroy', created: false, driver: {} });
    expect(pid).toBeGreaterThan(0);
    expect(alive(pid)).toBe(false);
  }, 180_000);
});
