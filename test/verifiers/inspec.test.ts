/**
 * The inspec verifier's process handling, with a fake `inspec` on PATH (InSpec
 * is not in Debian, so the real one cannot run here). The fake is a shell
 * script that behaves like `inspec exec` where it matters: it writes the
 * json reporter's file (a hand-written sample following InSpec's ExecJson
 * schema) to the path given in `--reporter ... json:<path>`, prints to stdout
 * and stderr, and exits with InSpec's exit codes. The host key pre-check runs
 * against a real sshd.
 */
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { CancelledError, CommandFailedError, PluginError } from '../../src/kernel/errors.js';
import { InspecVerifier } from '../../src/verifiers/inspec/inspec-verifier.js';
import { inspecVerifierSchema } from '../../src/verifiers/inspec/schema.js';
import { VerifierHostKeyError } from '../../src/verifiers/testinfra/ssh-config.js';
import type { VerifyContext } from '../../src/verifiers/verifier.js';
import { instanceConfig, recordingLogger, targetOf, tempProject } from '../provisioners/context.js';
import { startSshd, type Sshd } from '../helpers/sshd.js';

const SAMPLE = new URL('../../src/verifiers/inspec/sample-report.test-data.json', import.meta.url);

const FAKE = `#!/bin/sh
# Fake inspec exec: records its arguments and pid, writes $FAKE_REPORT to the json reporter path.
printf '%s\\n' "$@" > "$FAKE_DIR/args"
echo $$ > "$FAKE_DIR/pid"
out=
take=
for a in "$@"; do
  case "$a" in
    --reporter) take=1 ;;
    --*) take= ;;
    json:*) [ -n "$take" ] && out="\${a#json:}" ;;
  esac
done
echo "Profile: fake (default)"
[ -n "$FAKE_SLEEP" ] && sleep "$FAKE_SLEEP"
[ -n "$FAKE_STDERR" ] && echo "$FAKE_STDERR" >&2
[ -n "$FAKE_REPORT" ] && [ -n "$out" ] && cp "$FAKE_REPORT" "$out"
exit "\${FAKE_EXIT:-0}"
`;

let sshd: Sshd;
let project: string;
let bin: string;
let fakeDir: string;
const savedPath = process.env.PATH;

async function installFake(name: string): Promise<void> {
  await writeFile(path.join(bin, name), FAKE);
  await chmod(path.join(bin, name), 0o755);
}

function ctxFor(hostKey?: Parameters<typeof targetOf>[2], signal = new AbortController().signal): VerifyContext & { log: ReturnType<typeof recordingLogger> } {
  return { instance: instanceConfig(project), connection: undefined as never, target: targetOf(sshd, 'user', hostKey), log: recordingLogger(), signal };
}

async function writeReport(report: unknown): Promise<string> {
  const f = path.join(fakeDir, `report-${Math.random().toString(36).slice(2)}.json`);
  await writeFile(f, JSON.stringify(report));
  return f;
}

const verifier = (o: Record<string, unknown> = {}) => new InspecVerifier(inspecVerifierSchema().parse({ name: 'inspec', ...o }));

beforeAll(async () => {
  sshd = await startSshd();
  project = await tempProject();
  await mkdir(path.join(project, 'test/integration/default/controls'), { recursive: true });
  await writeFile(path.join(project, 'test/integration/default/inspec.yml'), 'name: default\n');
  const root = await mkdtemp(path.join(os.tmpdir(), 'hallmark-fake-inspec-'));
  bin = path.join(root, 'bin');
  fakeDir = root;
  await mkdir(bin);
  process.env.FAKE_DIR = fakeDir;
});

beforeEach(async () => {
  process.env.PATH = `${bin}:${savedPath}`;
  for (const k of ['FAKE_REPORT', 'FAKE_EXIT', 'FAKE_STDERR', 'FAKE_SLEEP']) delete process.env[k];
  await rm(path.join(fakeDir, 'args'), { force: true });
  await rm(path.join(fakeDir, 'pid'), { force: true });
  await rm(path.join(bin, 'inspec'), { force: true });
  await rm(path.join(bin, 'cinc-auditor'), { force: true });
});

afterAll(async () => {
  process.env.PATH = savedPath;
  await sshd?.stop();
  if (project) await rm(project, { recursive: true, force: true });
  if (fakeDir) await rm(fakeDir, { recursive: true, force: true });
});

describe('inspec verifier', () => {
  test('neither inspec nor cinc-auditor installed: a PluginError that says how to install or switch', async () => {
    process.env.PATH = bin; // empty directory
    const err = await verifier().verify(ctxFor()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PluginError);
    expect((err as PluginError).message).toBe('inspec and cinc-auditor are not installed on this machine (not found on PATH)');
    expect((err as PluginError).hint).toMatch(/omnitruck\.chef\.io.*cinc-auditor.*name: spec/);
  });

  test('exit 100 (failed controls) is results; the command line carries the kitchen-inspec options', async () => {
    await installFake('inspec');
    process.env.FAKE_REPORT = SAMPLE.pathname;
    process.env.FAKE_EXIT = '100';
    const ctx = ctxFor();
    const report = await verifier({ controls: ['ssh-01', 'nginx-01'], inputs: { port: 80 }, reporter: ['cli', 'junit2:out/%{platform}_%{suite}.xml'] }).verify(ctx);
    expect(report.verifier).toBe('inspec');
    expect(report.results.map((r) => r.status)).toEqual(['pass', 'pass', 'fail', 'skip', 'fail', 'skip']);
    expect(report.results[2]!.message).toContain('Port 80 is expected to be listening');
    const args = (await readFile(path.join(fakeDir, 'args'), 'utf8')).trim().split('\n');
    expect(args.slice(0, 6)).toEqual(['exec', path.join(project, 'test/integration/default'), '-t', `ssh://${sshd.username}@127.0.0.1:${sshd.port}`, '-i', sshd.privateKeyPath]);
    expect(args).toContain('--sudo');
    expect(args.join(' ')).toContain('--controls ssh-01 nginx-01 --input-file ');
    expect(args.join(' ')).toMatch(/--reporter cli junit2:out\/test_default\.xml json:\S+report\.json --no-color --chef-license accept-silent$/);
    expect(ctx.log.output_()).toContain('Profile: fake (default)');
  });

  test('exit 0 and exit 101 (skips, no failures) are results too', async () => {
    await installFake('inspec');
    const pass = { profiles: [{ name: 'p', status: 'loaded', controls: [{ id: 'c1', title: 'ok', impact: 1, results: [{ status: 'passed', code_desc: 'x', run_time: 0.1, start_time: '' }] }] }] };
    process.env.FAKE_REPORT = await writeReport(pass);
    expect((await verifier().verify(ctxFor())).results.map((r) => [r.id, r.status])).toEqual([['p/c1', 'pass']]);
    const skipped = { profiles: [{ name: 'p', status: 'loaded', controls: [{ id: 'c2', title: 's', impact: 0, results: [{ status: 'skipped', code_desc: 'y', skip_message: 'no', run_time: 0, start_time: '' }] }] }] };
    process.env.FAKE_REPORT = await writeReport(skipped);
    process.env.FAKE_EXIT = '101';
    expect((await verifier().verify(ctxFor())).results.map((r) => [r.id, r.status])).toEqual([['p/c2', 'skip']]);
  });

  test('a real failure (exit 1) is an error with InSpec output, not results', async () => {
    await installFake('inspec');
    process.env.FAKE_EXIT = '1';
    process.env.FAKE_STDERR = "Cannot find profile: 'supermarket://nope'";
    const err = await verifier({ inspec_tests: ['supermarket://nope'] }).verify(ctxFor()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommandFailedError);
    expect((err as CommandFailedError).exitStatus).toBe(1);
    expect((err as CommandFailedError).message).toContain("Cannot find profile: 'supermarket://nope'");
  });

  test('exit 100 without a report is an error (a crash, not a verdict)', async () => {
    await installFake('inspec');
    process.env.FAKE_EXIT = '100';
    await expect(verifier().verify(ctxFor())).rejects.toThrow(/inspec exited 100 but wrote no json report\n--- last lines of output ---\nProfile: fake/);
  });

  test('exit 172: the Chef license', async () => {
    await installFake('inspec');
    process.env.FAKE_EXIT = '172';
    await expect(verifier().verify(ctxFor())).rejects.toThrow(/Chef license was not accepted/);
  });

  test('cinc-auditor is used when only it is installed, or when named', async () => {
    await installFake('cinc-auditor');
    process.env.FAKE_REPORT = SAMPLE.pathname;
    process.env.FAKE_EXIT = '100';
    const ctx = ctxFor();
    await verifier().verify(ctx);
    expect(ctx.log.all()).toContain('cinc-auditor: cinc-auditor exec');
    await installFake('inspec');
    const ctx2 = ctxFor();
    const r = await new InspecVerifier(inspecVerifierSchema().parse({ name: 'cinc-auditor' })).verify(ctx2);
    expect(r.verifier).toBe('cinc-auditor');
    expect(ctx2.log.all()).toContain('cinc-auditor: cinc-auditor exec');
  });

  test('a host key that does not match the pin stops before InSpec starts', async () => {
    await installFake('inspec');
    await expect(verifier().verify(ctxFor({ expected: 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }))).rejects.toThrow(VerifierHostKeyError);
    expect(existsSync(path.join(fakeDir, 'args'))).toBe(false);
  });

  test('cancel ends the running inspec process', async () => {
    await installFake('inspec');
    process.env.FAKE_SLEEP = '30';
    const ac = new AbortController();
    const run = verifier().verify(ctxFor(undefined, ac.signal));
    // The fake writes args first and its pid second: wait for a whole pid, or kill(0, 0) would test our own group.
    let pid = 0;
    for (let i = 0; i < 200 && !(pid > 1); i++) {
      await new Promise((r) => setTimeout(r, 50));
      pid = Number((await readFile(path.join(fakeDir, 'pid'), 'utf8').catch(() => '')).trim());
    }
    expect(pid).toBeGreaterThan(1);
    ac.abort();
    await expect(run).rejects.toThrow(CancelledError);
    expect(() => process.kill(pid, 0)).toThrow();
  }, 20_000);
});
