import path from 'node:path';
import { isAbortError, lastLines } from '../../kernel/errors.js';
import { localPath } from '../../provisioners/shell/shell-provisioner.js';
import { DEFAULT_ROOT_PATH } from '../../provisioners/shell/schema.js';
import { shQuote } from '../../transports/ssh/quote.js';
import type { CheckResult, Verifier, VerifyContext, VerifyReport } from '../verifier.js';
import type { ShellVerifierOptions } from './schema.js';

const DEFAULT_TIMEOUT_S = 600;
const TAIL_LINES = 20;

/**
 * The `shell` verifier: each command or script is one check. A non-zero exit
 * is a `fail` result; a timeout, a killed command or a connection error is an
 * `error` result (the check could not be evaluated). Only cancellation throws.
 */
export class ShellVerifier implements Verifier {
  readonly name = 'shell';

  constructor(private readonly options: ShellVerifierOptions) {}

  async verify(ctx: VerifyContext): Promise<VerifyReport> {
    const t0 = Date.now();
    const o = this.options;
    const sudo = (o.sudo ?? true) && ctx.target.username !== 'root';
    const checks: { id: string; resource: string; command: string; prepare?: () => Promise<void> }[] = [];
    for (const command of [...(o.command ? [o.command] : []), ...(o.commands ?? [])]) {
      checks.push({ id: `command:${command}`, resource: command, command });
    }
    if (o.script) {
      const local = await localPath(ctx, o.script, 'verifier.script', true);
      const remote = `${o.root_path ?? DEFAULT_ROOT_PATH}/verify-${path.basename(local)}`;
      checks.push({
        id: `script:${o.script}`,
        resource: o.script,
        command: shQuote(remote),
        prepare: () => ctx.connection.upload(local, remote, { signal: ctx.signal, mode: 0o755 }),
      });
    }
    if (checks.length === 0) ctx.log.warn('shell verifier: no command, commands or script: nothing to check');

    const results: CheckResult[] = [];
    for (const c of checks) {
      const start = Date.now();
      const base = {
        id: c.id,
        resourceType: 'command',
        resource: c.resource,
        property: 'exit_status',
        title: `${c.resource} exits 0`,
        expected: 'exit 0',
      };
      let output = '';
      try {
        await c.prepare?.();
        const r = await ctx.connection.exec(c.command, {
          signal: ctx.signal,
          sudo,
          env: o.environment,
          timeoutMs: (o.timeout ?? DEFAULT_TIMEOUT_S) * 1000,
          onStdout: (s) => {
            output += s;
            ctx.log.output('stdout', s);
          },
          onStderr: (s) => {
            output += s;
            ctx.log.output('stderr', s);
          },
        });
        const tail = lastLines(output, TAIL_LINES);
        if (r.exitCode === null) {
          const why = r.timedOut ? `timed out after ${o.timeout ?? DEFAULT_TIMEOUT_S}s` : `killed${r.signal ? ` by signal ${r.signal}` : ''}`;
          results.push({ ...base, found: why, status: 'error', message: tail ? `${why}; last output:\n${tail}` : why, durationMs: Date.now() - start });
        } else {
          const found = `exit ${r.exitCode}`;
          results.push({
            ...base,
            found,
            status: r.exitCode === 0 ? 'pass' : 'fail',
            ...(r.exitCode === 0 ? {} : { message: tail ? `${found}; last output:\n${tail}` : found }),
            durationMs: Date.now() - start,
          });
        }
      } catch (err) {
        if (isAbortError(err) || ctx.signal.aborted) throw err;
        const msg = err instanceof Error ? err.message : String(err);
        results.push({ ...base, found: 'no exit status', status: 'error', message: msg, durationMs: Date.now() - start });
      }
    }
    return { instance: ctx.instance.name, verifier: this.name, results, durationMs: Date.now() - t0 };
  }
}
