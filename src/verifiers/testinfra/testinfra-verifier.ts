import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { withTimeout } from '../../kernel/abort.js';
import { CommandFailedError, ConfigError, HallmarkError, PluginError, TimeoutError, isAbortError } from '../../kernel/errors.js';
import { runOnController } from '../../provisioners/ansible/controller-process.js';
import type { PreflightContext } from '../../provisioners/provisioner.js';
import type { Verifier, VerifyContext, VerifyReport } from '../verifier.js';
import { junitResults } from './junit-xml.js';
import { locateTestinfraPython } from './locate.js';
import type { TestinfraVerifierOptions } from './schema.js';
import { trustedHostKeys, writeSshClientConfig } from './ssh-config.js';

/**
 * The `testinfra` verifier: `python -m pytest` with testinfra's ssh backend on
 * the controller, against the instance, through a generated ssh_config that
 * pins the host key. Results come from pytest's JUnit XML, one per test.
 *
 * pytest exits 0 (all passed) or 1 (some failed): both are results. Exit 2
 * (interrupted, e.g. a test file that does not import) is results too when
 * the report has test cases (the collection errors are `error` results).
 * Anything else - no tests collected (5), a usage error (4), an internal
 * error (3), no report - is thrown, with pytest's output.
 */
export class TestinfraVerifier implements Verifier {
  readonly name = 'testinfra';
  constructor(private readonly opts: TestinfraVerifierOptions) {}

  /** python3 with pytest and testinfra, and the tests (build prepare, before launching). */
  async preflight(ctx: PreflightContext): Promise<void> {
    await locateTestinfraPython(this.opts.python, ctx.signal);
    await testPaths(ctx, this.opts.tests);
  }

  async verify(ctx: VerifyContext): Promise<VerifyReport> {
    const start = Date.now();
    const { target, log } = ctx;
    if (!target.privateKeyPath) {
      throw new PluginError('testinfra needs a private key to log in (password logins are not supported)', {
        hint: 'set transport.ssh_key, or let the driver generate a key',
      });
    }
    const python = await locateTestinfraPython(this.opts.python, ctx.signal);
    const tests = await testPaths(ctx, this.opts.tests);
    const keys = await trustedHostKeys(target, 'testinfra', log, ctx.signal);
    const tmp = await mkdtemp(path.join(os.tmpdir(), 'hallmark-testinfra-'));
    let ssh: Awaited<ReturnType<typeof writeSshClientConfig>> | undefined;
    try {
      ssh = await writeSshClientConfig(tmp, target, keys);
      const junit = path.join(tmp, 'junit.xml');
      const args = [
        '-m', 'pytest',
        `--hosts=ssh://${target.username}@${target.hostname}:${target.port}`,
        `--ssh-config=${ssh.configFile}`,
        `--ssh-identity-file=${target.privateKeyPath}`,
        `--junit-xml=${junit}`,
        '-o', 'junit_family=xunit2',
        '-p', 'no:cacheprovider',
        ...(this.opts.sudo && target.username !== 'root' ? ['--sudo'] : []),
        ...(this.opts.sudo_user ? ['--sudo-user', this.opts.sudo_user] : []),
        ...this.opts.extra_args,
        ...tests,
      ];
      const command = `${python} ${args.join(' ')}`;
      log.info(`testinfra: ${command}`);
      const signal = withTimeout(ctx.signal, this.opts.timeout * 1000);
      let output = '';
      const collect = (stream: 'stdout' | 'stderr') => (s: string) => {
        output += s;
        log.output(stream, s);
      };
      let exitCode: number | null;
      try {
        ({ exitCode } = await runOnController(python, args, {
          cwd: ctx.instance.projectDir,
          env: { ...(process.env as Record<string, string>), ...this.opts.env, PYTHONDONTWRITEBYTECODE: '1' },
          signal,
          onStdout: collect('stdout'),
          onStderr: collect('stderr'),
        }));
      } catch (err) {
        if (isAbortError(err) && !ctx.signal.aborted) {
          throw new TimeoutError(`testinfra did not finish within verifier.timeout (${this.opts.timeout}s)`, { cause: err, hint: 'raise verifier.timeout' });
        }
        throw err;
      }
      const xml = existsSync(junit) ? await readFile(junit, 'utf8') : undefined;
      if (exitCode === 5) {
        throw new HallmarkError(`testinfra: pytest collected no tests from ${tests.join(', ')}`, {
          hint: 'test functions must be named test_* and take the `host` fixture; check verifier.tests and extra_args (-k)',
        });
      }
      if (xml !== undefined && (exitCode === 0 || exitCode === 1 || exitCode === 2)) {
        const results = junitResults(xml, `ssh://${target.hostname}`);
        if (exitCode === 0 || results.length > 0) {
          return { instance: ctx.instance.name, verifier: this.name, results, durationMs: Date.now() - start };
        }
      }
      throw new CommandFailedError(command, exitCode, output, {
        what: 'testinfra (pytest)',
        hint: exitCode === 4 ? 'pytest rejected its arguments: check verifier.extra_args' : 'see the pytest output above',
      });
    } finally {
      if (ssh) await stopControlMaster(ssh.configFile, target.hostname);
      await rm(tmp, { recursive: true, force: true });
    }
  }
}

/**
 * testinfra's ssh backend starts an OpenSSH control master that outlives
 * pytest by ControlPersist (it daemonizes, so killing pytest's process group
 * does not reach it). Ask it to exit; errors mean there is none.
 */
async function stopControlMaster(configFile: string, host: string): Promise<void> {
  await execa('ssh', ['-F', configFile, '-O', 'exit', host], { reject: false, stdin: 'ignore', timeout: 5000 });
}

/** The test files/directories to pass to pytest, as absolute paths. */
export async function testPaths(ctx: PreflightContext, configured: string[] | undefined): Promise<string[]> {
  const { projectDir, suite, file } = ctx.instance;
  if (configured) {
    const missing = configured.filter((t) => !existsSync(path.resolve(projectDir, t)));
    if (missing.length) {
      throw new ConfigError(missing.map((t) => ({ file, path: 'verifier.tests', message: `testinfra tests not found: ${t}`, hint: `paths are relative to ${projectDir}` })));
    }
    return configured.map((t) => path.resolve(projectDir, t));
  }
  const suiteDir = path.join(projectDir, 'test', 'integration', suite);
  if (existsSync(path.join(suiteDir, 'testinfra'))) return [path.join(suiteDir, 'testinfra')];
  const files = existsSync(suiteDir) ? (await readdir(suiteDir)).filter((n) => /^test_.*\.py$|_test\.py$/.test(n)).sort() : [];
  if (files.length === 0) {
    throw new ConfigError([
      {
        file,
        path: 'verifier.tests',
        message: `no testinfra tests for suite "${suite}": neither test/integration/${suite}/testinfra/ nor test_*.py in test/integration/${suite}/`,
        hint: 'add them there, or set verifier.tests',
      },
    ]);
  }
  return files.map((n) => path.join(suiteDir, n));
}
