/**
 * The shell and file provisioners and the shell verifier against a real sshd
 * on 127.0.0.1, logged in as a non-root user with passwordless sudo (the
 * machine here is the machine there, so results are checked on the local
 * file system).
 */
import { chmod, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandFailedError, ConfigError } from '../../src/kernel/errors.js';
import { FileProvisioner } from '../../src/provisioners/file/file-provisioner.js';
import { fileProvisionerSchema } from '../../src/provisioners/file/schema.js';
import type { ProvisionContext } from '../../src/provisioners/provisioner.js';
import { shellProvisionerSchema } from '../../src/provisioners/shell/schema.js';
import { ShellProvisioner } from '../../src/provisioners/shell/shell-provisioner.js';
import type { Connection, ConnectionTarget } from '../../src/transports/transport.js';
import { shellVerifierSchema } from '../../src/verifiers/shell/schema.js';
import { ShellVerifier } from '../../src/verifiers/shell/shell-verifier.js';
import { startSshd, type Sshd } from '../helpers/sshd.js';
import { connect, instanceConfig, recordingLogger, targetOf, tempProject, type RecordingLogger } from './context.js';

let sshd: Sshd;
let conn: Connection;
let target: ConnectionTarget;
let proj: string;

beforeAll(async () => {
  sshd = await startSshd();
  target = targetOf(sshd, 'user');
  conn = await connect(target, recordingLogger());
  proj = await tempProject();
  await chmod(proj, 0o755); // the login user uploads below it
});

afterAll(async () => {
  await conn?.close();
  await sshd?.stop();
  if (proj) await rm(proj, { recursive: true, force: true });
});

function ctx(log: RecordingLogger, signal = new AbortController().signal): ProvisionContext {
  return { instance: instanceConfig(proj), connection: conn, target, log, signal };
}

async function shell(block: Record<string, unknown>, log = recordingLogger()) {
  const opts = shellProvisionerSchema().parse({ name: 'shell', root_path: `${proj}/remote`, ...block });
  await new ShellProvisioner(opts).provision(ctx(log));
  return log;
}

describe('shell provisioner over ssh', () => {
  it('runs inline commands with sudo by default, and as the user with sudo: false; exports environment', async () => {
    const log = await shell({ inline: ['id -un', 'printf "<%s>\\n" "$GREETING"'], environment: { GREETING: "it's a b" } });
    expect(log.output_()).toContain('root\n');
    expect(log.output_()).toContain("<it's a b>");
    const asUser = await shell({ inline: 'id -un', sudo: false });
    expect(asUser.output_()).toContain(`${sshd.username}\n`);
  });

  it('uploads and runs script and scripts in order, with arguments', async () => {
    await mkdir(path.join(proj, 'scripts', 'a'), { recursive: true });
    await mkdir(path.join(proj, 'scripts', 'b'), { recursive: true });
    const out = path.join(proj, 'order.txt');
    await writeFile(path.join(proj, 'scripts', 'first.sh'), `#!/bin/sh\necho "first $1 $2" >> ${out}\n`);
    await writeFile(path.join(proj, 'scripts', 'a', 'step.sh'), `#!/bin/sh\necho "a-step $1" >> ${out}\n`);
    await writeFile(path.join(proj, 'scripts', 'b', 'step.sh'), `#!/bin/bash\necho "b-step $BASH_VERSION" | cut -c1-7 >> ${out}\nwhoami >> ${out}\n`);
    await shell({ script: 'scripts/first.sh', scripts: ['scripts/a/step.sh', 'scripts/b/step.sh'], arguments: ['x y', 'z'] });
    expect(await readFile(out, 'utf8')).toBe('first x y z\na-step x y\nb-step \nroot\n');
  });

  it('writes a script in the exec that prepares root_path, without SFTP, replacing an older copy', async () => {
    const calls: string[] = [];
    const counting: Connection = {
      exec: (command, opts) => (calls.push('exec'), conn.exec(command, opts)),
      upload: (l, r, opts) => (calls.push('upload'), conn.upload(l, r, opts)),
      download: (r, l, opts) => conn.download(r, l, opts),
      close: () => conn.close(),
    };
    const run = async (body: string, sudo: boolean) => {
      await writeFile(path.join(proj, 'replace.sh'), body);
      const opts = shellProvisionerSchema().parse({ name: 'shell', root_path: `${proj}/remote`, script: 'replace.sh', sudo });
      const log = recordingLogger();
      await new ShellProvisioner(opts).provision({ ...ctx(log), connection: counting });
      return log.output_();
    };
    // Bytes that a text round trip would change (no final newline, a tab, UTF-8).
    expect(await run('#!/bin/sh\nprintf "v1\\té %s\\n" "$(id -un)"', true)).toContain('v1\té root');
    expect(calls).toEqual(['exec', 'exec']); // prepare + write, then run
    expect(await run('#!/bin/sh\necho "v2 $(id -un)"\n', false)).toContain(`v2 ${sshd.username}`);
    const remote = await stat(path.join(proj, 'remote', 'replace.sh'));
    expect(remote.mode & 0o777).toBe(0o755);
    expect(calls).not.toContain('upload');
  });

  it('names a missing script with its key before touching the machine', async () => {
    const err = await shell({ script: 'nope.sh' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toContain('provisioner.script');
    expect((err as ConfigError).message).toContain(path.join(proj, 'nope.sh'));
  });

  it('retries a command that fails the first time only (retry_on_exit_code)', async () => {
    const marker = path.join(proj, 'retry-marker');
    const log = await shell({
      inline: `if [ -e ${marker} ]; then echo second-ok; else touch ${marker}; echo first-fails; exit 35; fi`,
      retry_on_exit_code: [35],
      max_retries: 2,
      wait_for_retry: 0.1,
    });
    expect(log.output_()).toContain('first-fails');
    expect(log.output_()).toContain('second-ok');
    expect(log.all()).toMatch(/exited with code 35.*retry 1 of 2/);
  });

  it('gives up after max_retries and reports command, exit code and last output', async () => {
    const counter = path.join(proj, 'attempts');
    const err = await shell({
      inline: `echo attempt >> ${counter}; echo "out-line"; echo "err-line" >&2; exit 35`,
      retry_on_exit_code: [35],
      max_retries: 2,
      wait_for_retry: 0,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommandFailedError);
    const e = err as CommandFailedError;
    expect(e.exitStatus).toBe(35);
    expect(e.message).toContain('inline command failed with exit code 35');
    expect(e.message).toContain(`echo attempt >> ${counter}`);
    expect(e.message).toContain('out-line');
    expect(e.message).toContain('err-line');
    expect((await readFile(counter, 'utf8')).split('\n').filter(Boolean)).toHaveLength(3);
  });

  it('does not retry exit codes that are not listed, and names the failed script', async () => {
    await writeFile(path.join(proj, 'fail.sh'), '#!/bin/sh\nfor i in 1 2 3; do echo "line $i"; done\nexit 3\n');
    const log = recordingLogger();
    const err = await shell({ script: 'fail.sh', retry_on_exit_code: [35], wait_for_retry: 0 }, log).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommandFailedError);
    expect((err as Error).message).toMatch(/^script fail\.sh failed with exit code 3/);
    expect((err as Error).message).toContain('line 3');
    expect(log.all()).not.toContain('retrying');
  });
});

describe('file provisioner over ssh', () => {
  it('uploads a file and a directory into root-owned places, with mode and owner', async () => {
    await mkdir(path.join(proj, 'files', 'site', 'sub'), { recursive: true });
    await writeFile(path.join(proj, 'files', 'app.conf'), 'key=value\n');
    await writeFile(path.join(proj, 'files', 'site', 'index.html'), '<h1>hi</h1>\n');
    await writeFile(path.join(proj, 'files', 'site', 'sub', 'x.txt'), 'x\n');
    const dest = path.join(proj, 'root-only');
    await mkdir(dest, { mode: 0o700 }); // the login user cannot write here; sudo can
    const opts = fileProvisionerSchema().parse({
      name: 'file',
      root_path: `${proj}/remote`,
      files: [
        { source: 'files/app.conf', destination: `${dest}/etc/app.conf`, mode: '0640', owner: sshd.username, group: 'root' },
        { source: 'files/site', destination: `${dest}/www/`, mode: 'go-rwx' },
      ],
    });
    await new FileProvisioner(opts).provision(ctx(recordingLogger()));
    const conf = await stat(`${dest}/etc/app.conf`);
    expect(await readFile(`${dest}/etc/app.conf`, 'utf8')).toBe('key=value\n');
    expect(conf.mode & 0o7777).toBe(0o640);
    expect(conf.uid).toBe(Number(execFileSync('id', ['-u', sshd.username], { encoding: 'utf8' })));
    expect(conf.gid).toBe(0);
    expect(await readFile(`${dest}/www/site/sub/x.txt`, 'utf8')).toBe('x\n');
    expect((await stat(`${dest}/www/site/index.html`)).mode & 0o077).toBe(0);
    expect((await stat(`${dest}/www/site/index.html`)).uid).toBe(0);
  });

  it('rejects an unquoted (numeric) mode with a hint', () => {
    const r = fileProvisionerSchema().safeParse({ name: 'file', files: [{ source: 'a', destination: '/a', mode: 644 }] });
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues)).toContain('quoted string');
  });
});

describe('shell verifier over ssh', () => {
  it('turns exit codes into pass/fail results and a timeout into an error result', async () => {
    await writeFile(path.join(proj, 'check.sh'), '#!/bin/sh\ntest "$(id -u)" = 0 && echo root-ok\n');
    const pidFile = path.join(proj, 'slow.pid');
    const slow = `echo $$ > ${pidFile}; exec sleep 5`;
    const opts = shellVerifierSchema().parse({
      name: 'shell',
      command: 'true',
      commands: ['echo some-output; exit 4', slow],
      script: 'check.sh',
      timeout: 1,
      root_path: `${proj}/remote`,
    });
    const log = recordingLogger();
    const report = await new ShellVerifier(opts).verify({ ...ctx(log) });
    const by = Object.fromEntries(report.results.map((r) => [r.resource, r]));
    expect(by['true']).toMatchObject({ status: 'pass', resourceType: 'command', expected: 'exit 0', found: 'exit 0' });
    expect(by['echo some-output; exit 4']).toMatchObject({ status: 'fail', found: 'exit 4' });
    expect(by['echo some-output; exit 4']!.message).toContain('some-output');
    expect(by[slow]).toMatchObject({ status: 'error' });
    expect(by[slow]!.message).toContain('timed out');
    // SSH may not reach a command behind sudo with its signal: end it by its PID.
    const pid = Number((await readFile(pidFile, 'utf8')).trim());
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      /* already gone */
    }
    expect(by['check.sh']).toMatchObject({ status: 'pass' });
    expect(log.output_()).toContain('root-ok');
  });

  it('reports a dropped connection as an error result, not an exception', async () => {
    const c2 = await connect(target, recordingLogger());
    await c2.close();
    const report = await new ShellVerifier(shellVerifierSchema().parse({ name: 'shell', command: 'true' })).verify({
      ...ctx(recordingLogger()),
      connection: c2,
    });
    expect(report.results[0]).toMatchObject({ status: 'error' });
  });
});
