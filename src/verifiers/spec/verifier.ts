import path from 'node:path';
import { ConfigError } from '../../kernel/errors.js';
import type { CheckResult, Verifier, VerifyContext, VerifyReport } from '../verifier.js';
import { suiteSpecFiles } from './files.js';
import { runSpecChecks } from './run.js';
import type { SpecVerifierOptions } from './schema.js';
import { loadVars, varsFromConfig } from './template.js';

/**
 * The built-in `spec` verifier: gossfile checks of the instance's suite, run
 * in one round trip. Failures are results; only a script that could not run
 * at all (or a bad gossfile, at load time) throws.
 */
export class SpecVerifier implements Verifier {
  readonly name = 'spec';
  constructor(private readonly opts: SpecVerifierOptions) {}

  async verify(ctx: VerifyContext): Promise<VerifyReport> {
    const start = Date.now();
    const files = await suiteSpecFiles({
      projectDir: ctx.instance.projectDir,
      suite: ctx.instance.suite,
      specFiles: this.opts.spec_files,
      profiles: this.opts.profiles,
      configFile: ctx.instance.file,
    });
    ctx.log.info(`spec: ${files.length} gossfile(s): ${files.map((f) => f.replace(`${ctx.instance.projectDir}/`, '')).join(', ')}`);
    const varsFiles = [this.opts.vars_file ?? []].flat().map((f) => path.resolve(ctx.instance.projectDir, f));
    let vars;
    try {
      vars = await loadVars(varsFiles, varsFromConfig(this.opts.vars));
    } catch (e) {
      throw new ConfigError([{ file: ctx.instance.file, path: 'verifier.vars_file', message: (e as Error).message }]);
    }
    const run = await runSpecChecks(ctx.connection, files, {
      vars,
      baseDir: ctx.instance.projectDir,
      sudo: this.opts.sudo && ctx.target.username !== 'root',
      timeoutSec: this.opts.timeout,
      signal: ctx.signal,
      log: ctx.log,
    });
    const results: CheckResult[] = this.opts.fail_on_skip
      ? run.results.map((r) => (r.status === 'skip' ? { ...r, status: 'fail', message: `skipped, and verifier.fail_on_skip is set` } : r))
      : run.results;
    return { instance: ctx.instance.name, verifier: this.name, results, durationMs: Date.now() - start };
  }
}
