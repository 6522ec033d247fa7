/**
 * The testinfra verifier against a real sshd on loopback (test/helpers/sshd.ts)
 * with Debian's python3-testinfra: passing, failing and erroring tests mapped
 * to results, sudo, the pinned host key, and the not-installed error.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { CancelledError, PluginError } from '../../src/kernel/errors.js';
import { testinfraVerifierSchema } from '../../src/verifiers/testinfra/schema.js';
import { TestinfraVerifier } from '../../src/verifiers/testinfra/testinfra-verifier.js';
import { VerifierHostKeyError } from '../../src/verifiers/testinfra/ssh-config.js';
import type { VerifyContext } from '../../src/verifiers/verifier.js';
import { instanceConfig, recordingLogger, targetOf, tempProject } from '../provisioners/context.js';
import { startSshd, type Sshd } from '../helpers/sshd.js';

let sshd: Sshd;
let project: string;

const TESTS = `
def test_passwd_file(host):
    passwd = host.file("/etc/passwd")
    assert passwd.contains("root")
    assert passwd.user == "root"

def test_runs_as_root(host):
    assert host.check_output("id -un") == "root"

def test_missing_package(host):
    assert host.file("/etc/hallmark-no-such-file").exists

def test_skipped(host):
    import pytest
    pytest.skip("not on this platform")

import pytest

@pytest.mark.parametrize("name", ["sh", "no-such-binary-xyz"])
def test_binaries(host, name):
    assert host.exists(name)
`;

function ctxFor(
  user: 'user' | 'root' = 'user',
  hostKey?: Parameters<typeof targetOf>[2],
  signal = new AbortController().signal,
): VerifyContext & { log: ReturnType<typeof recordingLogger> } {
  return {
    instance: instanceConfig(project),
    connection: undefined as never, // testinfra makes its own connection
    target: targetOf(sshd, user, hostKey),
    log: recordingLogger(),
    signal,
  };
}

function pgrep(pattern: string): string {
  try {
    return execFileSync('pgrep', ['-af', pattern], { encoding: 'utf8' });
  } catch {
    return '';
  }
}

/** OpenSSH control masters (proctitle `ssh: <ControlPath> [mux]`) left by testinfra runs. */
function leftoverControlMasters(): string {
  try {
    return execFileSync('pgrep', ['-af', 'hallmark-testinfra-[^ ]*/cm-'], { encoding: 'utf8' });
  } catch {
    return '';
  }
}

beforeAll(async () => {
  sshd = await startSshd();
  project = await tempProject();
  await mkdir(path.join(project, 'test/integration/default/testinfra'), { recursive: true });
  await writeFile(path.join(project, 'test/integration/default/testinfra/test_default.py'), TESTS);
});

afterAll(async () => {
  await sshd?.stop();
  if (project) await rm(project, { recursive: true, force: true });
});

describe('testinfra verifier over a real sshd', () => {
  test('passing, failing and skipped tests become results; commands run as root through sudo', async () => {
    const ctx = ctxFor('user');
    const report = await new TestinfraVerifier(testinfraVerifierSchema().parse({ name: 'testinfra' })).verify(ctx);
    const got = Object.fromEntries(report.results.map((r) => [r.id, r.status]));
    expect(got, ctx.log.all()).toEqual({
      'test.integration.default.testinfra.test_default::test_passwd_file': 'pass',
      'test.integration.default.testinfra.test_default::test_runs_as_root': 'pass',
      'test.integration.default.testinfra.test_default::test_missing_package': 'fail',
      'test.integration.default.testinfra.test_default::test_skipped': 'skip',
      'test.integration.default.testinfra.test_default::test_binaries[sh]': 'pass',
      'test.integration.default.testinfra.test_default::test_binaries[no-such-binary-xyz]': 'fail',
    });
    const failed = report.results.find((r) => r.id === 'test.integration.default.testinfra.test_default::test_missing_package')!;
    expect(failed.message).toContain('hallmark-no-such-file');
    expect(failed.title).toBe('missing package');
    expect(report.results.find((r) => r.status === 'skip')!.message).toContain('not on this platform');
    expect(leftoverControlMasters()).toBe('');
    // No .pytest_cache or __pycache__ left in the project.
    expect(await readdir(project)).toEqual(['test']);
    expect(await readdir(path.join(project, 'test/integration/default/testinfra'))).toEqual(['test_default.py']);
  }, 60_000);

  test('without a pinned key the presented key is trusted for this run, with a warning', async () => {
    const ctx = ctxFor('root', {});
    const report = await new TestinfraVerifier(testinfraVerifierSchema().parse({ name: 'testinfra', extra_args: ['-k', 'passwd_file'] })).verify(ctx);
    expect(report.results.map((r) => r.status)).toEqual(['pass']);
    expect(ctx.log.all()).toContain(`no pinned host key for 127.0.0.1:${sshd.port}; trusting the keys it presents now (${sshd.hostKeyFingerprint})`);
  }, 60_000);

  test('cancel ends pytest and the ssh control master', async () => {
    await writeFile(path.join(project, 'slow_test.py'), 'def test_slow(host):\n    host.run("sleep 30")\n');
    const ac = new AbortController();
    const ctx = ctxFor('root', undefined, ac.signal);
    const run = new TestinfraVerifier(testinfraVerifierSchema().parse({ name: 'testinfra', tests: 'slow_test.py' })).verify(ctx);
    for (let i = 0; i < 200 && !pgrep('hallmark-testinfra-[^ ]*/cm-'); i++) await new Promise((r) => setTimeout(r, 50));
    expect(pgrep('hallmark-testinfra-[^ ]*/cm-'), ctx.log.all()).not.toBe('');
    ac.abort();
    await expect(run).rejects.toThrow(CancelledError);
    await new Promise((r) => setTimeout(r, 200));
    expect(pgrep(`pytest .*${project}/slow_test.py`)).toBe('');
    expect(leftoverControlMasters()).toBe('');
    await rm(path.join(project, 'slow_test.py'));
  }, 60_000);

  test('without sudo the commands run as the login user', async () => {
    const ctx = ctxFor('user');
    const report = await new TestinfraVerifier(
      testinfraVerifierSchema().parse({ name: 'testinfra', sudo: false, tests: 'test/integration/default/testinfra/test_default.py', extra_args: '-k runs_as_root' }),
    ).verify(ctx);
    expect(report.results.map((r) => [r.id, r.status])).toEqual([['test.integration.default.testinfra.test_default::test_runs_as_root', 'fail']]);
    expect(report.results[0]!.message).toContain(sshd.username);
  }, 60_000);

  test('a test file that does not import is an error result, not a crash', async () => {
    await writeFile(path.join(project, 'broken_test.py'), 'import no_such_module_xyz\n\ndef test_x(host):\n    pass\n');
    const report = await new TestinfraVerifier(testinfraVerifierSchema().parse({ name: 'testinfra', tests: ['broken_test.py'] })).verify(ctxFor('root'));
    expect(report.results).toHaveLength(1);
    expect(report.results[0]).toMatchObject({ status: 'error', message: expect.stringContaining('no_such_module_xyz') });
  }, 60_000);

  test('a host key that does not match the pin stops before pytest runs', async () => {
    const v = new TestinfraVerifier(testinfraVerifierSchema().parse({ name: 'testinfra' }));
    await expect(v.verify(ctxFor('root', { expected: 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }))).rejects.toThrow(VerifierHostKeyError);
  }, 30_000);

  test('no testinfra: a PluginError that says how to install it', async () => {
    const v = new TestinfraVerifier(testinfraVerifierSchema().parse({ name: 'testinfra', python: '/nonexistent/python3' }));
    const err = await v.verify(ctxFor()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PluginError);
    expect((err as PluginError).message).toContain('/nonexistent/python3: not found');
    expect((err as PluginError).hint).toMatch(/apt-get install python3-testinfra.*name: spec/);
  });
});
