import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { EventBus } from '../kernel/events.js';
import type { ExitCode } from '../kernel/errors.js';
import { attachRenderer, chooseMode } from './render.js';
import { installSignalHandlers } from './signals.js';
import type { GlobalOptions } from './context.js';
import { out, table } from './output.js';
import { summarize } from '../verifiers/verifier.js';
import { toJUnitXml } from '../verifiers/report/junit.js';
import { toResultsJson } from '../verifiers/report/json.js';

export interface VerifyTargetOptions extends GlobalOptions {
  target: string;
  key?: string;
  hostKey?: string;
  spec?: string[];
  profile?: string[];
  vars?: string[];
  varsInline?: string;
  junit?: string;
  results?: string;
  html?: string;
}

/** `hallmark verify --target`: any reachable machine, no config file. Exit 0 all pass, 3 any fail. */
export async function verifyTargetCommand(o: VerifyTargetOptions): Promise<ExitCode> {
  const { verifyTarget } = await import('../verifiers/target.js');
  const events = new EventBus();
  const stop = await attachRenderer(events, chooseMode(o), { verbose: o.verbose });
  const signals = installSignalHandlers(() => undefined);
  let report;
  try {
    report = await verifyTarget({
      target: o.target,
      key: o.key,
      hostKey: o.hostKey,
      specFiles: (o.spec ?? []).map((f) => path.resolve(f)),
      profiles: o.profile ?? [],
      varsFiles: o.vars ?? [],
      ...(o.varsInline !== undefined ? { varsInline: o.varsInline } : {}),
      signal: signals.signal,
      log: events.logger(o.target),
    });
  } finally {
    stop();
    signals.dispose();
  }
  for (const r of report.results) {
    if (r.status !== 'pass' || o.verbose) process.stderr.write(`${r.status.toUpperCase().padEnd(5)} ${r.title}${r.message ? `: ${r.message}` : ''}\n`);
  }
  const s = summarize(report.results);
  const write = async (file: string, data: string) => {
    await mkdir(path.dirname(path.resolve(file)), { recursive: true });
    await writeFile(file, data);
  };
  if (o.junit) await write(o.junit, toJUnitXml([report]));
  if (o.html) {
    const { buildReport, verificationOf } = await import('../pipeline/report/model.js');
    const { renderHtml } = await import('../pipeline/report/html.js');
    const r = buildReport({ action: 'verify', projectDir: process.cwd(), lanes: [], instances: [{ name: o.target, ok: s.failed + s.errors === 0 && s.total > 0 }] });
    r.instances[0]!.verifications = [verificationOf('verify', report, process.cwd())];
    await write(o.html, renderHtml(r));
  }
  if (o.results) await write(o.results, JSON.stringify(toResultsJson([report]), null, 2) + '\n');
  if (o.json) out(JSON.stringify(toResultsJson([report])));
  else out(table([['Target', 'Passed', 'Failed', 'Errors', 'Skipped'], [o.target, String(s.passed), String(s.failed), String(s.errors), String(s.skipped)]]));
  return s.failed + s.errors > 0 || s.total === 0 ? 3 : 0;
}
