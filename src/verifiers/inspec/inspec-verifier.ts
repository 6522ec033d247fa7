import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { withTimeout } from '../../kernel/abort.js';
import { CommandFailedError, PluginError, TimeoutError, isAbortError, lastLines } from '../../kernel/errors.js';
import { runOnController } from '../../provisioners/ansible/controller-process.js';
import { trustedHostKeys } from '../testinfra/ssh-config.js';
import type { PreflightContext } from '../../provisioners/provisioner.js';
import type { Verifier, VerifyContext, VerifyReport } from '../verifier.js';
import { inspecArgs } from './args.js';
import { InspecReportError, inspecResults, parseInspecJson, type InspecReport } from './json-report.js';
import { locateInspec } from './locate.js';
import type { InspecVerifierOptions } from './schema.js';
import { inspecTargets } from './targets.js';

/**
 * What `inspec exec` exit codes mean (InSpec's documented codes): 0 all
 * passed, 100 at least one control failed, 101 none failed but some were
 * skipped - all three are results. 1 is a usage or general error, 2 a plugin
 * error, 3 a fatal deprecation, 172 a Chef license that was not accepted:
 * those are thrown, never turned into results.
 */
export const RESULT_EXIT_CODES = new Set([0, 100, 101]);
const LICENSE_EXIT_CODE = 172;

/**
 * The `inspec` / `cinc-auditor` verifier: runs `inspec exec` on the controller
 * against the instance over SSH and reads its json reporter.
 *
 * InSpec's SSH library (train-ssh) does not check host keys, so the pinned
 * fingerprint is checked with ssh-keyscan immediately before InSpec starts;
 * a mismatch stops the run.
 */
export class InspecVerifier implements Verifier {
  readonly name: string;
  constructor(private readonly opts: InspecVerifierOptions) {
    this.name = opts.name;
  }

  /** inspec (or cinc-auditor) is installed (build prepare, before launching). */
  async preflight(_ctx: PreflightContext): Promise<void> {
    await locateInspec(this.opts.name, this.opts.binary);
  }

  async verify(ctx: VerifyContext): Promise<VerifyReport> {
    const start = Date.now();
    const { target, log, instance } = ctx;
    const binary = await locateInspec(this.opts.name, this.opts.binary);
    const tool = path.basename(binary);
    if (!target.privateKeyPath) {
      throw new PluginError(`${tool} verifier needs a private key to log in (a password would be visible in the process list)`, {
        hint: 'set transport.ssh_key, or let the driver generate a key',
      });
    }
    const targets = inspecTargets(this.opts, instance, log);
    if (this.opts.host || this.opts.port) {
      log.warn(`${tool}: verifier.host/port override the machine's address; its pinned host key is not checked there`);
    } else {
      await trustedHostKeys(target, tool, log, ctx.signal);
    }
    const tmp = await mkdtemp(path.join(os.tmpdir(), 'hallmark-inspec-'));
    try {
      const jsonReport = path.join(tmp, 'report.json');
      const inputs = { ...this.opts.attributes, ...this.opts.inputs };
      let inputsFile: string | undefined;
      if (Object.keys(inputs).length > 0) {
        inputsFile = path.join(tmp, 'inputs.yml');
        await writeFile(inputsFile, stringify(inputs), { mode: 0o600 });
      }
      const args = inspecArgs({ opts: this.opts, target, targets, jsonReport, inputsFile, platform: instance.platform, suite: instance.suite });
      const command = `${tool} ${args.join(' ')}`;
      log.info(`${tool}: ${command}`);
      const signal = withTimeout(ctx.signal, this.opts.timeout * 1000);
      let output = '';
      const collect = (stream: 'stdout' | 'stderr') => (s: string) => {
        output += s;
        log.output(stream, s);
      };
      let exitCode: number | null;
      try {
        ({ exitCode } = await runOnController(binary, args, {
          cwd: instance.projectDir,
          env: { ...(process.env as Record<string, string>), CHEF_LICENSE: this.opts.chef_license },
          signal,
          onStdout: collect('stdout'),
          onStderr: collect('stderr'),
        }));
      } catch (err) {
        if (isAbortError(err) && !ctx.signal.aborted) {
          throw new TimeoutError(`${tool} did not finish within verifier.timeout (${this.opts.timeout}s)`, { cause: err, hint: 'raise verifier.timeout' });
        }
        throw err;
      }
      const reportText = existsSync(jsonReport) ? await readFile(jsonReport, 'utf8') : undefined;
      if (exitCode !== null && RESULT_EXIT_CODES.has(exitCode)) {
        if (reportText === undefined) {
          const tail = lastLines(output, 20);
          throw new InspecReportError(`${tool} exited ${exitCode} but wrote no json report${tail ? `\n--- last lines of output ---\n${tail}` : ''}`, {
            hint: `run the command by hand to see why: ${command}`,
          });
        }
        const results = inspecResults(parseInspecJson(reportText, jsonReport));
        if (exitCode === 100 && !results.some((r) => r.status === 'fail' || r.status === 'error')) {
          log.warn(`${tool} exited 100 (failures) but its report has no failed result`);
        }
        return { instance: instance.name, verifier: this.name, results, durationMs: Date.now() - start };
      }
      if (exitCode === LICENSE_EXIT_CODE) {
        throw new PluginError(`${tool} refused to run: the Chef license was not accepted (exit 172)`, {
          hint: 'set verifier.chef_license: accept (InSpec needs it), or use cinc-auditor, which needs none',
        });
      }
      throw new CommandFailedError(command, exitCode, output + profileProblems(reportText), {
        what: tool,
        hint: exitCode === 1 ? `check the profiles and options (a profile that does not load, a bad flag); ${tool} exec --help` : `see the ${tool} output above`,
      });
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }
}

/** Why profiles failed, from a report written before a non-result exit, if any. */
function profileProblems(text: string | undefined): string {
  if (!text) return '';
  try {
    const report = JSON.parse(text) as InspecReport;
    const bad = (report.profiles ?? []).filter((p) => p.status === 'failed' && p.status_message);
    return bad.map((p) => `\nprofile ${p.name}: ${p.status_message}`).join('');
  } catch {
    return '';
  }
}
