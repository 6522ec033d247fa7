import { EventBus } from '../kernel/events.js';
import { UsageError, type ExitCode } from '../kernel/errors.js';
import { cleanupInstances } from '../pipeline/machines.js';
import { attachRenderer, chooseMode } from './render.js';
import { printError } from './print-error.js';
import { out, selected, table, type GlobalOptions } from './context.js';
import { parseDuration } from '../kernel/tags.js';
import { reapOrphans } from '../pipeline/orphans.js';
import type { Leftover } from '../drivers/driver.js';

export interface CleanupOptions {
  orphans?: boolean;
  olderThan?: string;
  dryRun?: boolean;
}

function ago(now: Date, d: Date | undefined): string {
  if (!d) return '?';
  const s = Math.max(0, Math.round((now.getTime() - d.getTime()) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  if (s < 172_800) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86_400)}d`;
}

/**
 * `hallmark cleanup --orphans [--older-than 6h] [--dry-run]`: what hallmark
 * made and never committed, found by tag (ec2) and by path and process (qemu)
 * when the journals are gone; a table of what it removes (or would).
 */
async function cleanupOrphans(pattern: string | undefined, g: GlobalOptions & CleanupOptions): Promise<ExitCode> {
  const olderThanMs = parseDuration(g.olderThan ?? '6h');
  if (olderThanMs === undefined) {
    throw new UsageError(`--older-than: expected a duration such as 6h, 90m, 2d or 0s, found ${JSON.stringify(g.olderThan)}`);
  }
  const { project, entries } = await selected(g, pattern);
  const events = new EventBus();
  const stop = await attachRenderer(events, chooseMode(g), { verbose: g.verbose });
  const now = new Date();
  let report;
  try {
    report = await reapOrphans({ project, entries, olderThanMs, dryRun: !!g.dryRun, log: events.logger('cleanup'), signal: AbortSignal.timeout(60 * 60_000), now });
  } finally {
    stop();
  }
  const errorOf = new Map<Leftover, Error | undefined>(report.removals.map((r) => [r.leftover, r.error]));
  const verdict = (l: Leftover): string => {
    if (l.kept) return `kept: ${l.detail ?? ''}`;
    if (g.dryRun) return `would ${l.detail ?? 'remove'}`;
    if (!errorOf.has(l)) return 'not removed';
    const err = errorOf.get(l);
    return err ? `FAILED: ${err.message.split('\n')[0]}` : `removed: ${l.detail ?? ''}`;
  };
  if (g.json) {
    out(
      JSON.stringify({
        type: 'result',
        action: 'cleanup-orphans',
        dryRun: !!g.dryRun,
        olderThanMs,
        leftovers: report.found.map((l) => ({ ...l, createdAt: l.createdAt?.toISOString(), result: verdict(l) })),
        errors: report.errors.map((e) => ({ scope: e.scope, error: e.error.message })),
      }),
    );
  } else if (report.found.length === 0) {
    out('cleanup --orphans: nothing left behind');
  } else {
    const rows = [['Where', 'Kind', 'Id', 'Instance', 'Build', 'Age', g.dryRun ? 'Would' : 'Result']];
    for (const l of report.found) rows.push([l.where, l.kind, l.id, l.instance ?? '-', l.buildId ?? '-', ago(now, l.createdAt), verdict(l)]);
    out(table(rows));
  }
  for (const e of report.errors) printError(e.error, e.scope);
  const failed = report.removals.filter((r) => r.error).length;
  if (!g.json && !g.dryRun && report.found.length > 0) {
    const removed = report.removals.length - failed;
    const kept = report.found.filter((l) => l.kept).length;
    out(`cleanup --orphans: ${removed} removed, ${kept} kept${failed ? `, ${failed} failed` : ''}`);
  }
  return failed || report.errors.length ? 4 : 0;
}

/**
 * `hallmark cleanup [REGEX]`: removes what crashed or killed runs left
 * behind, from the state files (and, by its build id's tags, what a killed
 * build made and never journaled); with --orphans, without them.
 */
export async function cleanup(pattern: string | undefined, g: GlobalOptions & CleanupOptions): Promise<ExitCode> {
  if (g.orphans) return cleanupOrphans(pattern, g);
  if (g.dryRun || g.olderThan !== undefined) throw new UsageError('--dry-run and --older-than go with --orphans', { hint: 'hallmark cleanup --orphans --dry-run' });
  const { project, entries } = await selected(g, pattern);
  const events = new EventBus();
  const stop = await attachRenderer(events, chooseMode(g), { verbose: g.verbose });
  let failures;
  try {
    failures = await cleanupInstances(project, entries, events);
  } finally {
    stop();
  }
  for (const f of failures) printError(f.error, f.instance);
  out(failures.length ? `cleanup: ${failures.length} instance(s) could not be cleaned` : 'cleanup: nothing left behind');
  return failures.length ? 4 : 0;
}
