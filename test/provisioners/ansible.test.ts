/**
 * The ansible_playbook provisioner running the real ansible-playbook against
 * a real sshd on 127.0.0.1 (push mode), logged in as a non-root user who
 * becomes root with sudo.
 */
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnsibleFailedError, AnsibleMissingError } from '../../src/provisioners/ansible/errors.js';
import { AnsibleProvisioner } from '../../src/provisioners/ansible/ansible-provisioner.js';
import { AnsibleHostKeyError } from '../../src/provisioners/ansible/known-hosts.js';
import { AnsibleRequirementsError } from '../../src/provisioners/ansible/requirements.js';
import { ansibleProvisionerSchema } from '../../src/provisioners/ansible/schema.js';
import type { ProvisionContext } from '../../src/provisioners/provisioner.js';
import type { Connection, ConnectionTarget } from '../../src/transports/transport.js';
import { startSshd, type Sshd } from '../helpers/sshd.js';
import { connect, instanceConfig, recordingLogger, targetOf, type RecordingLogger } from './context.js';

let sshd: Sshd;
let conn: Connection;
let proj: string;
/** Where playbooks write; checked on the local file system (it is the same machine). */
let out: string;

beforeAll(async () => {
  sshd = await startSshd();
  conn = await connect(targetOf(sshd), recordingLogger());
  proj = await mkdtemp(path.join(os.tmpdir(), 'hallmark-ansible-test-'));
  out = path.join(proj, 'out');
  await mkdir(out, { mode: 0o700 });
  await mkdir(path.join(proj, 'roles', 'marker', 'tasks'), { recursive: true });
  await writeFile(
    path.join(proj, 'roles', 'marker', 'tasks', 'main.yml'),
    `- name: Write the marker file\n  ansible.builtin.copy:\n    dest: "{{ out_dir }}/marker.txt"\n    content: "{{ greeting }} from {{ inventory_hostname }} as {{ ansible_user_id }}\\n"\n    mode: "0644"\n`,
  );
  await writeFile(
    path.join(proj, 'create.yml'),
    `- hosts: webservers\n  gather_facts: true\n  gather_subset: [min]\n  roles: [marker]\n`,
  );
  await writeFile(
    path.join(proj, 'fail.yml'),
    `- hosts: all\n  gather_facts: false\n  tasks:\n    - name: Succeed first\n      ansible.builtin.command: "true"\n    - name: Fail on purpose\n      ansible.builtin.fail:\n        msg: "deliberate failure 42"\n`,
  );
  await writeFile(
    path.join(proj, 'flaky.yml'),
    `- hosts: all\n  gather_facts: false\n  tasks:\n    - name: Count and fail unless the marker exists\n      ansible.builtin.shell: "echo run >> {{ out_dir }}/{{ counter }}; test -e {{ out_dir }}/{{ marker }} || {{ make_marker | default('false') }}"\n`,
  );
  await writeFile(
    path.join(proj, 'secret.yml'),
    `- hosts: all\n  gather_facts: false\n  tasks:\n    - name: Store the token\n      ansible.builtin.copy:\n        dest: "{{ out_dir }}/token.txt"\n        content: "{{ api_token }}"\n    - name: Show the token\n      ansible.builtin.debug:\n        msg: "token is {{ api_token }} and nested {{ db.password }}"\n    - name: Fail with the token\n      ansible.builtin.fail:\n        msg: "bad token {{ api_token }}"\n`,
  );
});

afterAll(async () => {
  await conn?.close();
  await sshd?.stop();
  if (proj) await rm(proj, { recursive: true, force: true });
});

function ctx(log: RecordingLogger, target: ConnectionTarget = targetOf(sshd)): ProvisionContext {
  return { instance: instanceConfig(proj, 'default-loop'), connection: conn, target, log, signal: new AbortController().signal };
}

async function run(block: Record<string, unknown>, log = recordingLogger(), target?: ConnectionTarget) {
  const opts = ansibleProvisionerSchema().parse({ name: 'ansible_playbook', ...block });
  await new AnsibleProvisioner(opts).provision(ctx(log, target));
  return log;
}

describe('ansible_playbook against a real sshd', () => {
  it('runs a playbook with a role in the `hosts` group, becoming root, with extra_vars', async () => {
    const log = await run({
      playbook: 'create.yml',
      hosts: 'webservers',
      extra_vars: { out_dir: out, greeting: 'hello' },
      // kitchen-ansible options that only apply to Ansible on the machine load and are ignored
      require_chef_for_busser: false,
      require_ansible_repo: true,
    });
    expect(await readFile(path.join(out, 'marker.txt'), 'utf8')).toBe('hello from default-loop as root\n');
    expect((await stat(path.join(out, 'marker.txt'))).uid).toBe(0);
    expect(log.output_()).toContain('TASK [marker : Write the marker file]');
    expect(log.output_()).toMatch(/default-loop\s+: ok=\d+\s+changed=1/);
  });

  it('names the failed task and the host message in the error', async () => {
    const err = await run({ playbook: 'fail.yml', extra_vars: { out_dir: out } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AnsibleFailedError);
    const e = err as AnsibleFailedError;
    expect(e.exitStatus).toBe(2);
    expect(e.message).toMatch(/^ansible-playbook failed with exit code 2: task "Fail on purpose" failed on host default-loop: deliberate failure 42/);
    expect(e.failures).toEqual([{ task: 'Fail on purpose', host: 'default-loop', message: 'deliberate failure 42', unreachable: false }]);
  });

  it('retries a playbook that fails only the first time (retry_on_exit_code)', async () => {
    const log = await run({
      playbook: 'flaky.yml',
      extra_vars: { out_dir: out, counter: 'flaky-count', marker: 'flaky-marker', make_marker: `(touch ${out}/flaky-marker; false)` },
      retry_on_exit_code: [2],
      max_retries: 2,
      wait_for_retry: 0,
    });
    expect((await readFile(path.join(out, 'flaky-count'), 'utf8')).trim().split('\n')).toHaveLength(2);
    expect(log.all()).toMatch(/ansible-playbook exited with code 2.*retry 1 of 2/);
  });

  it('gives up after max_retries', async () => {
    const err = await run({
      playbook: 'flaky.yml',
      extra_vars: { out_dir: out, counter: 'always-count', marker: 'never-there' },
      retry_on_exit_code: [2],
      max_retries: 2,
      wait_for_retry: 0,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AnsibleFailedError);
    expect((err as Error).message).toContain('task "Count and fail unless the marker exists" failed on host default-loop');
    expect((await readFile(path.join(out, 'always-count'), 'utf8')).trim().split('\n')).toHaveLength(3);
  });

  it('passes secret_extra_vars to the playbook but never to the log or the error', async () => {
    const token = 's3cr3t-T0ken"with\'quotes';
    const dbPassword = 'hunter2-db-pass';
    const log = recordingLogger();
    const err = await run(
      { playbook: 'secret.yml', extra_vars: { out_dir: out }, secret_extra_vars: { api_token: token, db: { password: dbPassword } }, ansible_verbose: true, ansible_verbosity: 2 },
      log,
    ).catch((e: unknown) => e);
    expect(await readFile(path.join(out, 'token.txt'), 'utf8')).toBe(token); // it did reach Ansible
    expect(err).toBeInstanceOf(AnsibleFailedError);
    const everything = `${log.all()}\n${(err as Error).message}\n${(err as AnsibleFailedError).output}`;
    expect(everything).toContain('token is ******** and nested ********');
    expect(everything).toContain('bad token ********');
    for (const s of [token, dbPassword, 's3cr3t-T0ken', JSON.stringify(token).slice(1, -1)]) expect(everything).not.toContain(s);
  });

  it('refuses a host whose key does not match the pin, before Ansible runs', async () => {
    const wrong = { expected: 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' };
    const err = await run({ playbook: 'create.yml', hosts: 'webservers', extra_vars: { out_dir: path.join(out, 'pin'), greeting: 'x' } }, recordingLogger(), targetOf(sshd, 'user', wrong)).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AnsibleHostKeyError);
    expect((err as Error).message).toContain('does not match the pinned one');
    expect((err as Error).message).toContain(sshd.hostKeyFingerprint);
    expect(await stat(path.join(out, 'pin')).catch(() => undefined)).toBeUndefined();
  });

  it('says how to install Ansible when ansible-playbook is missing', async () => {
    const empty = path.join(proj, 'empty-bin');
    await mkdir(empty, { recursive: true });
    await chmod(empty, 0o755);
    const err = await run({ playbook: 'create.yml', ansible_binary_path: empty }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AnsibleMissingError);
    const e = err as AnsibleMissingError;
    expect(e.message).toContain('ansible-playbook');
    const plain = await import('../../src/provisioners/ansible/locate.js').then((m) => m.locateAnsiblePlaybook(undefined, empty).catch((x: Error) => x));
    expect((plain as AnsibleMissingError).hint).toContain('apt-get install ansible');
  });

  it('stops ansible-playbook and its workers when cancelled', async () => {
    await writeFile(path.join(proj, 'slow.yml'), `- hosts: all\n  gather_facts: false\n  tasks:\n    - name: Take long\n      ansible.builtin.shell: echo $$ > ${out}/slow.pid; exec sleep 60\n`);
    const ac = new AbortController();
    const log = recordingLogger();
    const opts = ansibleProvisionerSchema().parse({ name: 'ansible_playbook', playbook: 'slow.yml' });
    const started = Date.now();
    const p = new AnsibleProvisioner(opts).provision({ ...ctx(log), signal: ac.signal }).catch((e: unknown) => e);
    // cancel once the task is running on the machine
    while (!log.output_().includes('TASK [Take long]') && Date.now() - started < 20_000) await new Promise((r) => setTimeout(r, 100));
    expect(log.output_()).toContain('TASK [Take long]');
    ac.abort();
    // The task sleeps a minute, beyond the test's timeout: only the cancel can end the run in time.
    const err = await p;
    expect((err as Error).name).toBe('CancelledError');
    const { execFileSync } = await import('node:child_process');
    const ps = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' });
    expect(ps).not.toContain('slow.yml');
    // The remote command is on "the machine" (this one): end it by its PID, as a destroyed VM would.
    const pid = Number((await readFile(path.join(out, 'slow.pid'), 'utf8').catch(() => '')).trim());
    if (pid > 0) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        /* already gone */
      }
    }
  });

  it('refuses Galaxy roles in requirements_path, saying the network is needed', async () => {
    await writeFile(path.join(proj, 'requirements.yml'), '- src: geerlingguy.nginx\n  version: 3.1.0\n');
    const err = await run({ playbook: 'create.yml', requirements_path: 'requirements.yml' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AnsibleRequirementsError);
    expect((err as Error).message).toMatch(/geerlingguy\.nginx.*Ansible Galaxy.*needs the network/);
  });
});
