/**
 * Every resource type, passing and failing, run for real on this machine
 * (a Debian 12 container without systemd: the "target without systemd" case)
 * through one generated script, under dash, busybox sh, and busybox sh with
 * busybox's own userland first on PATH (stat, base64, timeout, ...).
 *
 * Fixtures carry their expectation: in fail.yml each resource's
 * `meta.want` is a fragment the failure message must contain, and
 * `meta.status` the status when it is not `fail`.
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { LocalConnection } from '../../src/transports/local/connection.js';
import type { Connection, ExecOptions } from '../../src/transports/transport.js';
import { runSpecChecks } from '../../src/verifiers/spec/run.js';
import { SpecVerifier } from '../../src/verifiers/spec/verifier.js';
import { specVerifierSchema } from '../../src/verifiers/spec/schema.js';
import { silentLogger } from '../../src/kernel/events.js';
import type { InstanceConfig } from '../../src/config/types.js';

let dir: string;
let server: http.Server;
let port: number;
let closedPort: number;
let bbDir: string;

/** Runs the script with another shell (and optionally another PATH) on this machine. */
function shellConnection(shell: string, pathPrefix?: string): Connection {
  const local = new LocalConnection();
  return {
    exec: (cmd: string, o: ExecOptions = {}) =>
      local.exec(cmd === 'sh -s' ? `${shell} -s` : cmd, pathPrefix ? { ...o, env: { ...o.env, PATH: `${pathPrefix}:${process.env.PATH}` } } : o),
    upload: (a, b, o) => local.upload(a, b, o),
    download: (a, b) => local.download(a, b),
    close: () => local.close(),
  };
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'hallmark-spec-local-'));
  await writeFile(path.join(dir, 'plain'), 'hello\nworld\n');
  await chmod(path.join(dir, 'plain'), 0o640);
  await symlink(path.join(dir, 'plain'), path.join(dir, 'link'));
  await mkdir(path.join(dir, 'sub'));
  await writeFile(path.join(dir, 'we|ird'), 'abc', { mode: 0o600 });
  await symlink(path.join(dir, 'gone'), path.join(dir, 'dangling'));
  bbDir = path.join(dir, 'busybox-bin');
  await mkdir(bbDir);
  execFileSync('busybox', ['--install', '-s', bbDir]);
  server = http.createServer((req, res) => {
    res.setHeader('X-Test', 'yes');
    res.end('hello from hallmark\n');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
  const probe = http.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  closedPort = (probe.address() as AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));

  const sha = createHash('sha256').update('hello\nworld\n').digest('hex');
  const md5 = createHash('md5').update('hello\nworld\n').digest('hex');
  const D = dir;
  await writeFile(
    path.join(dir, 'pass.yml'),
    `
file:
  ${D}/plain: {exists: true, mode: "0640", owner: root, group: root, uid: 0, size: 12, filetype: file, contents: [hello, "!absent", "/^w.rld$/"], sha256: ${sha}, md5: ${md5}}
  ${D}/link: {exists: true, filetype: symlink, linked-to: ${D}/plain, mode: "0777", contains: [world]}
  ${D}/sub: {exists: true, filetype: directory, mode: {match-regexp: "^0[0-7]{3}$"}}
  ${D}/missing: {exists: false}
  "${D}/we|ird": {exists: true, mode: "0600", size: 3}
  ${D}/dangling: {exists: true, filetype: symlink, linked-to: ${D}/gone}
command:
  "printf 'a\\nb\\n'; echo oops >&2; exit 3": {exit-status: 3, stdout: [a, "/^b$/", "!c"], stderr: [oops]}
  read-stdin: {exec: "cat; echo done", exit-status: 0, stdout: ["/^done$/"]}
user:
  root: {exists: true, uid: 0, gid: 0, home: /root, groups: [root]}
  hm-no-such-user: {exists: false}
group:
  root: {exists: true, gid: 0}
package:
  coreutils: {installed: true, versions: {contain-element: {match-regexp: "^[0-9]+\\\\.[0-9]"}}}
  hm-no-such-package: {installed: false}
service:
  hm-no-such-service: {enabled: false, running: false}
kernel-param:
  kernel.ostype: {value: Linux}
  kernel.pid_max: {value: {gt: 100}}
mount:
  /: {exists: true, opts: [rw]}
port:
  tcp:${port}: {listening: true, ip: [127.0.0.1]}
  tcp:${closedPort}: {listening: false}
process:
  node: {running: true}
  hm-no-such-proc: {running: false}
interface:
  lo: {exists: true, mtu: 65536, addrs: [127.0.0.1/8]}
addr:
  tcp://127.0.0.1:${port}: {reachable: true}
  tcp://127.0.0.1:${closedPort}: {reachable: false}
dns:
  localhost: {resolvable: true, addrs: [127.0.0.1]}
http:
  http://127.0.0.1:${port}/: {status: 200, body: [hello from hallmark], headers: ["/^X-Test: yes/"]}
matching:
  numbers: {content: "42", matches: {and: [42, {gt: 40}, {have-prefix: "4"}]}}
`,
  );
  await writeFile(
    path.join(dir, 'fail.yml'),
    `
file:
  plain-mode: {path: ${D}/plain, exists: true, mode: "0644", meta: {pass: exists, want: 'expected mode to equal "0644", found 0640'}}
  plain-contents: {path: ${D}/plain, exists: true, contents: [hello, nothere, "!world"], meta: {pass: exists, want: 'not found: ["nothere"]; found but negated: ["!world"]'}}
  ${D}/nope: {exists: true, meta: {want: "expected exists to equal true, found false"}}
  nope-owner: {path: ${D}/nope, exists: false, owner: root, meta: {pass: exists, status: skip, want: "skipped: exists is false"}}
  plain-link: {path: ${D}/plain, exists: true, linked-to: /x, meta: {pass: exists, want: "is not a symlink (it is a file)"}}
  dir-contents: {path: ${D}/sub, exists: true, contents: [x], meta: {pass: exists, want: "is not a regular file (it is a directory)"}}
  dangling-contents: {path: ${D}/dangling, exists: true, contents: [x], meta: {pass: exists, want: "is a dangling symlink"}}
  link-mode: {path: ${D}/link, exists: true, mode: "0640", meta: {pass: exists, want: 'expected mode to equal "0640", found 0777'}}
command:
  echo hi: {exit-status: 1, stdout: [bye], meta: {want: "expected"}}
  hung: {exec: "sleep 30", exit-status: 0, timeout: 300, meta: {want: "timed out after 0.3 s", status: error}}
user:
  root-uid: {username: root, exists: true, uid: 1, meta: {pass: exists, want: "expected uid to equal 1, found 0"}}
  hm-no-such-user: {exists: true, meta: {want: "found false"}}
group:
  hm-no-such-group: {exists: true, meta: {want: "expected exists to equal true, found false"}}
  nogroup-gid: {groupname: hm-no-such-group, exists: false, gid: 5, meta: {pass: exists, status: skip, want: "skipped: exists is false"}}
package:
  hm-no-such-package: {installed: true, meta: {want: "expected installed to equal true, found false"}}
  nopkg-versions: {name: hm-no-such-package, installed: false, versions: [1.0], meta: {pass: installed, status: skip, want: "skipped: installed is false"}}
service:
  hm-no-such-service: {running: true, meta: {want: "found false (init script status: no /etc/init.d/hm-no-such-service script)"}}
kernel-param:
  kernel.hm_nope: {value: "1", meta: {want: "kernel parameter kernel.hm_nope does not exist"}}
  kernel.ostype: {value: {have-prefix: BSD}, meta: {want: 'expected value to have prefix "BSD", found Linux'}}
mount:
  /hm-no-mount: {exists: true, meta: {want: "found false"}}
port:
  tcp6:${port}: {listening: true, meta: {want: "(but tcp:${port} is listening)"}}
process:
  hm-no-such-proc: {running: true, meta: {want: "expected running to equal true, found false"}}
interface:
  hm0: {exists: true, meta: {want: "found false"}}
addr:
  tcp://127.0.0.1:${closedPort}: {reachable: true, meta: {want: "Connection refused"}}
dns:
  hm-no-such-host.invalid: {resolvable: true, meta: {want: "found false"}}
http:
  http://127.0.0.1:${port}/x: {status: 404, meta: {want: "expected"}}
  http://127.0.0.1:${closedPort}/: {status: 200, meta: {want: "no response from http://127.0.0.1:${closedPort}/"}}
matching:
  nums: {content: [1, 2], matches: {consist-of: [1]}, meta: {want: "expected matches to consist of [equal 1], found [1, 2]"}}
  skipped: {content: 1, matches: 2, skip: true, meta: {status: skip, want: "skipped"}}
`,
  );
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  await rm(dir, { recursive: true, force: true });
});

const shells: [string, () => Connection][] = [
  ['sh (dash)', () => new LocalConnection()],
  ['dash', () => shellConnection('dash')],
  ['busybox sh', () => shellConnection('busybox sh')],
  ['busybox sh + busybox userland', () => shellConnection('busybox sh', bbDir)],
];

describe.each(shells)('spec checks on this machine under %s', (_name, conn) => {
  test('every resource type passes where it should', async () => {
    const run = await runSpecChecks(conn(), [path.join(dir, 'pass.yml')]);
    const bad = run.results.filter((r) => r.status !== 'pass').map((r) => `${r.id} ${r.status}: ${r.message} [found ${r.found}]`);
    expect(bad).toEqual([]);
    expect(run.results.length).toBeGreaterThan(45);
    expect(run.exitCode).toBe(0);
  });

  test('every resource type fails where it should, saying what was expected and found', async () => {
    // The hung command (sleep 30) must be cut at 0.3 s: its meta wants "timed out after 0.3 s" with status error.
    const run = await runSpecChecks(conn(), [path.join(dir, 'fail.yml')]);
    // meta.pass names the resource's first attribute when it holds (goss requires it); every other result is meta.status (default fail) with meta.want in its message.
    const gatePass = (r: (typeof run.results)[number]) => r.property === r.meta?.pass;
    const wrong = run.results
      .filter((r) => (gatePass(r) ? r.status !== 'pass' : r.status !== ((r.meta?.status as string | undefined) ?? 'fail') || !r.message?.includes(r.meta?.want as string)))
      .map((r) => `${r.id} ${r.status}: ${r.message}`);
    expect(wrong).toEqual([]);
    expect(run.results.length).toBe(40);
    expect(run.results.filter((r) => r.status === 'pass' && !gatePass(r))).toEqual([]);
  });
});

describe('the script', () => {
  test('is one round trip: a single exec of sh -s', async () => {
    const local = new LocalConnection();
    const calls: string[] = [];
    const counting: Connection = { ...local, exec: (c, o) => (calls.push(c), local.exec(c, o)), close: () => local.close(), upload: local.upload, download: local.download };
    const run = await runSpecChecks(counting, [path.join(dir, 'pass.yml'), path.join(dir, 'fail.yml')]);
    expect(calls).toEqual(['sh -s']);
    expect(run.script).not.toMatch(/\bbash\b.*-c.*\$\(/); // nothing bash-only in the prelude
    execFileSync('dash', ['-n'], { input: run.script }); // parses under dash
    execFileSync('busybox', ['sh', '-n'], { input: run.script });
  });

  test('the whole-script timeout turns unfinished probes into errors, not passes', async () => {
    await writeFile(path.join(dir, 'slow.yml'), 'command:\n  slow: {exec: "sleep 5", exit-status: 0, timeout: 20000}\nfile:\n  /etc/passwd: {exists: true}\n');
    const run = await runSpecChecks(new LocalConnection(), [path.join(dir, 'slow.yml')], { timeoutSec: 1 });
    expect(run.results.map((r) => [r.id, r.status])).toEqual([
      ['command:slow:exit-status', 'error'],
      ['file:/etc/passwd:exists', 'error'],
    ]);
    expect(run.results[0]!.message).toContain('hit its 1 s timeout');
  });
});

describe('SpecVerifier (the plugin)', () => {
  test('finds test/integration/<suite>/*.yml, adds profiles, applies vars, honours fail_on_skip', async () => {
    const project = path.join(dir, 'project');
    await mkdir(path.join(project, 'test', 'integration', 'web'), { recursive: true });
    await writeFile(path.join(project, 'test', 'integration', 'web', 'goss.yml'), 'user:\n  {{ .Vars.user }}: {exists: true}\nfile:\n  /etc/hostname: {exists: true, skip: true}\n');
    const instance = { name: 'web-local', suite: 'web', platform: 'local', projectDir: project, file: path.join(project, 'hallmark.yml') } as InstanceConfig;
    const ctx = { instance, connection: new LocalConnection(), target: { hostname: 'localhost', port: 0, username: 'root' }, log: silentLogger, signal: new AbortController().signal };
    const v = new SpecVerifier(specVerifierSchema().parse({ name: 'spec', vars: { user: 'daemon' }, profiles: ['baseline'] }));
    const report = await v.verify(ctx);
    expect(report).toMatchObject({ instance: 'web-local', verifier: 'spec' });
    expect(report.results.find((r) => r.id === 'user:daemon:exists')!.status).toBe('pass');
    expect(report.results.find((r) => r.id === 'file:/etc/hostname:exists')!.status).toBe('skip');
    expect(report.results.some((r) => r.id.startsWith('HM-SSH-'))).toBe(true);
    const strict = new SpecVerifier(specVerifierSchema().parse({ name: 'spec', vars: { user: 'daemon' }, fail_on_skip: true }));
    expect((await strict.verify(ctx)).results.find((r) => r.id === 'file:/etc/hostname:exists')!.status).toBe('fail');
    const none = new SpecVerifier(specVerifierSchema().parse({ name: 'spec' }));
    await expect(none.verify({ ...ctx, instance: { ...instance, suite: 'empty' } })).rejects.toThrow(/no checks for suite "empty"/);
    expect(() => specVerifierSchema().parse({ name: 'spec', spec_file: [] })).toThrow();
  });
});
