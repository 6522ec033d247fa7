import type { EventBus, HallmarkEvent } from '../kernel/events.js';
import { secs } from '../kernel/log-file.js';

export type RenderMode = 'tty' | 'plain' | 'json';

export function chooseMode(opts: { json?: boolean }): RenderMode {
  if (opts.json) return 'json';
  if (process.env.CI || !process.stderr.isTTY) return 'plain';
  return 'tty';
}

/**
 * Attaches a renderer to the bus; resolves to a function that stops it.
 * Progress goes to stderr. The terminal view (log-update and its ANSI
 * helpers, ~65 KB) is imported only in tty mode: CI and --json never load it.
 */
export async function attachRenderer(events: EventBus, mode: RenderMode, opts: { verbose?: boolean } = {}): Promise<() => void> {
  if (mode === 'json') {
    const off = events.on((e) => process.stdout.write(JSON.stringify(e) + '\n'));
    return off;
  }
  if (mode === 'plain') return events.on((e) => plainLine(e, opts.verbose));
  const { liveView } = await import('./live-view.js');
  return liveView(events, opts.verbose);
}

function plainLine(e: HallmarkEvent, verbose = false): void {
  const t = new Date(e.time).toISOString().slice(11, 19);
  const p = `${t} ${e.instance}`;
  let line: string | undefined;
  switch (e.type) {
    case 'action-start':
      line = `${p} ${e.action}`;
      break;
    case 'action-end':
      line = `${p} ${e.action} ${e.ok ? 'ok' : 'FAILED'} (${secs(e.durationMs)})`;
      break;
    case 'step-start':
      line = `${p} -> ${e.step}`;
      break;
    case 'step-end':
      line = `${p} <- ${e.step} ${!e.ok ? `failed (${secs(e.durationMs)})` : e.skipped !== undefined ? `skipped (${e.skipped})` : `ok (${secs(e.durationMs)})`}`;
      break;
    case 'cleanup-end':
      if (!e.ok || verbose) line = `${p} cleanup ${e.step} ${e.ok ? 'ok' : `FAILED: ${e.error}`}`;
      break;
    case 'log':
      if (e.level !== 'debug' || verbose) line = `${p} ${e.level === 'info' ? '' : `${e.level}: `}${e.message}`;
      break;
    case 'output':
      line = e.text
        .replace(/\r?\n$/, '')
        .split(/\r?\n/)
        .map((l) => `${p} | ${l}`)
        .join('\n');
      break;
    case 'progress':
      line = `${p} ... ${e.message}${e.percent !== undefined ? ` ${Math.round(e.percent)}%` : ''}`;
      break;
    case 'check':
      if (e.status !== 'pass' || verbose) line = `${p} ${e.status.toUpperCase()} ${e.title}${e.message ? `: ${e.message}` : ''}`;
      break;
    case 'resource':
      line = `${p} ${e.kind} ${e.id}${e.region ? ` (${e.region})` : ''}`;
      break;
  }
  if (line !== undefined) process.stderr.write(line + '\n');
}
