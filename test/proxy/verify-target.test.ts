/**
 * verifyTarget (the library side of `hallmark verify --target`) against a
 * real sshd on loopback and against this machine (`local`): passing and
 * failing checks come back as results, the host key is trusted on first use
 * in the known-hosts file and a changed one is refused.
 */
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { silentLogger } from '../../src/kernel/events.js';
import { ConfigError } from '../../src/kernel/errors.js';
import { HostKeyMismatchError } from '../../src/transports/ssh/errors.js';
import { verifyTarget } from '../../src/verifiers/target.js';
import { summarize } from '../../src/verifiers/verifier.js';
import { startSshd, type Sshd } from '../helpers/sshd.js';
import { clientKey, projectDir } from './proxy-context.js';

let dir: string;
let key: string;
let sshd: Sshd | undefined;
let passing: string;
let failing: string;

beforeAll(async () => {
  dir = await projectDir('hallmark-vt-');
  key = clientKey(dir);
  sshd = await startSshd({ clientKeyPath: key });
  await writeFile(path.join(dir, 'present'), 'hello\n');
  passing = path.join(dir, 'pass.yml');
  // Runs as root through sudo: /etc/shadow is readable, `id -un` says root.
  await writeFile(
    passing,
    `command:\n  id -un: {exit-status: 0, stdout: [root]}\nfile:\n  ${dir}/present: {exists: true, contents: ["{{.Vars.word}}"]}\n  /etc/shadow: {exists: true, contents: ["/^root:/"]}\n`,
  );
  failing = path.join(dir, 'fail.yml');
  await writeFile(failing, `file:\n  ${dir}/absent: {exists: true}\ncommand:\n  "exit 3": {exit-status: 0}\n`);
});

afterAll(async () => {
  await sshd?.stop();
  await rm(dir, { recursive: true, force: true });
});

const statuses = (r: { results: { id: string; status: string }[] }) => r.results.map((x) => `${x.id} ${x.status}`);

describe('verifyTarget over ssh', () => {
  test('passing checks; the host key is recorded on first use and used afterwards', async () => {
    const knownHostsFile = path.join(dir, 'kh', 'known_hosts.json');
    const target = `ssh://${sshd!.username}@127.0.0.1:${sshd!.port}`;
    const report = await verifyTarget({ target, key, specFiles: [passing], profiles: [], vars: { word: 'hello' }, log: silentLogger, knownHostsFile });
    expect(report.instance).toBe(target);
    expect(report.verifier).toBe('spec');
    expect(statuses(report)).toEqual([
      'command:id -un:exit-status pass',
      'command:id -un:stdout pass',
      `file:${dir}/present:exists pass`,
      `file:${dir}/present:contents pass`,
      'file:/etc/shadow:exists pass',
      'file:/etc/shadow:contents pass',
    ]);
    expect(JSON.parse(await readFile(knownHostsFile, 'utf8'))).toEqual({ [`127.0.0.1:${sshd!.port}`]: sshd!.hostKeyFingerprint });

    // Second run with the recorded key: still passes, file unchanged.
    const again = await verifyTarget({ target, key, specFiles: [passing], profiles: [], vars: { word: 'hello' }, log: silentLogger, knownHostsFile });
    expect(summarize(again.results)).toMatchObject({ total: 6, passed: 6 });
  });

  test('failing checks are results, not exceptions', async () => {
    const report = await verifyTarget({
      target: `ssh://root@127.0.0.1:${sshd!.port}`,
      key,
      specFiles: [passing, failing],
      profiles: [],
      vars: { word: 'goodbye' },
      log: silentLogger,
      knownHostsFile: path.join(dir, 'kh2.json'),
    });
    expect(summarize(report.results)).toMatchObject({ total: 8, passed: 5, failed: 3 });
    const failed = report.results.filter((r) => r.status !== 'pass').map((r) => r.id);
    expect(failed).toEqual([`file:${dir}/present:contents`, `file:${dir}/absent:exists`, 'command:exit 3:exit-status']);
  });

  test('--host-key pins the key without touching the known-hosts file; a wrong one is refused', async () => {
    const knownHostsFile = path.join(dir, 'kh3.json');
    const base = { target: `ssh://root@127.0.0.1:${sshd!.port}`, key, specFiles: [failing], profiles: [], log: silentLogger, knownHostsFile };
    const ok = await verifyTarget({ ...base, hostKey: sshd!.hostKeyFingerprint });
    expect(summarize(ok.results).total).toBe(2);
    expect(existsSync(knownHostsFile)).toBe(false);
    const wrong = `SHA256:${'A'.repeat(43)}`;
    const err = await verifyTarget({ ...base, hostKey: wrong }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HostKeyMismatchError);
    expect((err as HostKeyMismatchError).message).toMatch(/host key .* changed/);
    expect((err as HostKeyMismatchError).hint).toContain('--host-key');
  });

  test('a changed host key (sshd restarted on the same port with a new key) is refused', async () => {
    const knownHostsFile = path.join(dir, 'kh4.json');
    const base = { key, specFiles: [failing], profiles: [], log: silentLogger, knownHostsFile };
    const port = sshd!.port;
    const target = `ssh://root@127.0.0.1:${port}`;
    await verifyTarget({ ...base, target });
    const recorded = JSON.parse(await readFile(knownHostsFile, 'utf8'));
    expect(recorded[`127.0.0.1:${port}`]).toBe(sshd!.hostKeyFingerprint);

    await sshd!.stop();
    sshd = undefined;
    sshd = await startSshd({ port, clientKeyPath: key });
    const err = await verifyTarget({ ...base, target }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HostKeyMismatchError);
    expect((err as HostKeyMismatchError).expected).toBe(recorded[`127.0.0.1:${port}`]);
    expect((err as HostKeyMismatchError).actual).toBe(sshd.hostKeyFingerprint);
    expect((err as HostKeyMismatchError).hint).toContain(`remove "127.0.0.1:${port}" from ${knownHostsFile}`);
    // The old key is still the one on record: a mismatch never overwrites it.
    expect(JSON.parse(await readFile(knownHostsFile, 'utf8'))).toEqual(recorded);
  });
});

describe('verifyTarget: the connection opens while the gossfiles load', () => {
  test('a gossfile error wins over the connection, and a host seen for the first time is not recorded', async () => {
    const knownHostsFile = path.join(dir, 'kh5.json');
    const broken = path.join(dir, 'broken.yml');
    await writeFile(broken, 'file:\n  /etc/passwd: {exists: true, no-such-attr: 1}\n');
    const err = await verifyTarget({ target: `ssh://root@127.0.0.1:${sshd!.port}`, key, specFiles: [broken], profiles: [], log: silentLogger, knownHostsFile }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toContain('no-such-attr');
    expect(existsSync(knownHostsFile)).toBe(false);
    // The same target with valid checks records the key: the first attempt was refused by the gossfile, not by the connection.
    const ok = await verifyTarget({ target: `ssh://root@127.0.0.1:${sshd!.port}`, key, specFiles: [failing], profiles: [], log: silentLogger, knownHostsFile });
    expect(summarize(ok.results).total).toBeGreaterThan(0);
    expect(JSON.parse(await readFile(knownHostsFile, 'utf8'))).toEqual({ [`127.0.0.1:${sshd!.port}`]: sshd!.hostKeyFingerprint });
  });

  test('a connection error is reported when the gossfiles are valid', async () => {
    const err = await verifyTarget({ target: 'ssh://root@127.0.0.1:1', key: path.join(dir, 'no-such-key'), specFiles: [failing], profiles: [], log: silentLogger }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/no-such-key/);
  });
});

describe('verifyTarget local', () => {
  test('runs the checks on this machine, passing and failing', async () => {
    const report = await verifyTarget({ target: 'local', specFiles: [passing, failing], profiles: [], vars: { word: 'hello' }, log: silentLogger });
    expect(report.instance).toBe('local');
    expect(summarize(report.results)).toMatchObject({ total: 8, passed: 6, failed: 2 });
    expect(report.results.find((r) => r.id === `file:${dir}/present:contents`)?.status).toBe('pass');
  });
});
