import path from 'node:path';
import pc from 'picocolors';
import type { Action, DestroyStrategy } from '../pipeline/actions.js';
import { runProjectAction } from '../pipeline/facade.js';
import { EventBus } from '../kernel/events.js';
import type { ExitCode } from '../kernel/errors.js';
import { printError } from './print-error.js';
import { attachRenderer, chooseMode } from './render.js';
import { installSignalHandlers } from './signals.js';
import { out, selected, table, type GlobalOptions } from './context.js';
import { summarize } from '../verifiers/verifier.js';

export interface ActionOptions extends GlobalOptions {
  concurrency?: string;
  failFast?: boolean;
  destroy?: DestroyStrategy;
  keepPassing?: boolean;
}

/** Runs a lifecycle action and returns the exit code. */
export async function lifecycle(action: Action, pattern: string | undefined, o: ActionOptions): Promise<ExitCode> {
  const { project, entries } = await selected(o, pattern);
  const events = new EventBus();
  const mode = chooseMode(o);
  const stopRender = await attachRenderer(events, mode, { verbose: o.verbose });
  const signals = installSignalHandlers(() => project.stateDir);
  let result;
  try {
    result = await runProjectAction({
      project,
      entries,
      action,
      events,
      signal: signals.signal,
      concurrency: o.concurrency ? Number.parseInt(o.concurrency, 10) : 1,
      failFast: o.failFast,
      destroy: o.destroy,
      keepPassing: o.keepPassing,
    });
  } finally {
    stopRender();
    signals.dispose();
  }
  const failed = result.results.filter((r) => !r.ok);
  const build = action === 'build';
  if (mode !== 'json') {
    if (action === 'verify' || action === 'test' || build) {
      const rows = [['Instance', 'Passed', 'Failed', 'Errors', 'Skipped', 'Result']];
      for (const r of result.results) {
        const rep = r.outcome?.report;
        const s = rep ? summarize(rep.results) : undefined;
        const verdict = !r.ok ? 'FAILED' : build ? (r.published ? 'published' : 'passed, not published') : 'ok';
        rows.push([r.instance, String(s?.passed ?? '-'), String(s?.failed ?? '-'), String(s?.errors ?? '-'), String(s?.skipped ?? '-'), verdict]);
      }
      out(table(rows));
    }
    for (const r of result.results) {
      if (build && r.published && r.outcome?.image) {
        const copies = r.outcome.copies.map((c) => `${c.region ?? ''}:${c.id}`).join(' ');
        out(`${r.instance}: image ${r.outcome.image.id}${r.outcome.image.region ? ` (${r.outcome.image.region})` : ''}${copies ? ` copies ${copies}` : ''}`);
      }
    }
    const html = result.reports.html;
    if (html) out(`report: ${path.relative(process.cwd(), html) || html}`);
    for (const f of failed) printError(f.error!, f.instance);
    if (result.commitError) printError(result.commitError, 'commit');
    if (build) {
      if (result.outputs.length) out(`wrote ${result.outputs.join(', ')}`);
      const notPublished = result.results.filter((r) => !r.published).map((r) => r.instance);
      if (result.published.length === 0) {
        if (notPublished.length) process.stderr.write(pc.red('nothing was published (no env.properties or manifest written)') + '\n');
      } else if (notPublished.length) {
        out(`published: ${result.published.join(', ')}; failed: ${notPublished.join(', ')}`);
      }
    }
  } else {
    out(
      JSON.stringify({
        type: 'result',
        action,
        buildId: result.buildId,
        outputs: result.outputs,
        reports: result.reports,
        ...(build ? { published: result.published, commitError: result.commitError?.message } : {}),
        results: result.results.map((r) => ({ instance: r.instance, ok: r.ok, ...(build ? { published: r.published === true } : {}), error: r.error?.message, code: r.error?.code })),
      }),
    );
  }
  const codes = [...failed.map((f) => f.error?.exitCode ?? 4), ...(result.commitError ? [result.commitError.exitCode] : [])];
  if (!codes.length) return 0;
  if (codes.includes(130)) return 130;
  if (codes.every((c) => c === 3)) return 3;
  if (codes.every((c) => c === 2)) return 2;
  return codes.includes(4) ? 4 : codes[0]!;
}

