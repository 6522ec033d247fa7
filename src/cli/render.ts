import { logUpdateStderr } from 'log-update';
import pc from 'picocolors';
import type { EventBus, HallmarkEvent } from '../kernel/events.js';
import { secs } from '../kernel/log-file.js';

export type RenderMode = 'tty' | 'plain' | 'json';

export function chooseMode(opts: { json?: boolean }): RenderMode {
  if (opts.json) return 'json';
  if (process.env.CI || !process.stderr.isTTY) return 'plain';
  return 'tty';
}

/** Attaches a renderer to the bus; returns a function that stops it. Progress goes to stderr. */
export function attachRenderer(events: EventBus, mode: RenderMode, opts: { verbose?: boolean } = {}): () => void {
  if (mode === 'json') {
    const off = events.on((e) => process.stdout.write(JSON.stringify(e) + '\n'));
    return off;
  }
  if (mode === 'plain') return events.on((e) => plainLine(e, opts.verbose));
  return liveView(events, opts.verbose);
}

const color = {
  ok: (s: string) => pc.green(s),
  bad: (s: string) => pc.red(s),
  dim: (s: string) => pc.dim(s),
  warn: (s: string) => pc.yellow(s),
};

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

const SPIN = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/** One live line per instance (spinner, step, elapsed); logs and output scroll above it. */
function liveView(events: EventBus, verbose = false): () => void {
  interface Row {
    action: string;
    step: string;
    start: number;
    stepStart: number;
    done?: { ok: boolean; ms: number };
    note?: string;
  }
  const rows = new Map<string, Row>();
  const update = logUpdateStderr;
  let frame = 0;
  const draw = () => {
    const now = Date.now();
    const lines = [...rows.entries()].map(([name, r]) => {
      if (r.done) return `${r.done.ok ? color.ok('✔') : color.bad('✖')} ${name} ${r.action} ${color.dim(secs(r.done.ms))}`;
      const note = r.note ? color.dim(` ${r.note}`) : '';
      return `${SPIN[frame % SPIN.length]} ${name} ${r.step} ${color.dim(`${secs(now - r.stepStart)} / ${secs(now - r.start)}`)}${note}`;
    });
    update(lines.join('\n'));
  };
  const above = (text: string) => {
    update.clear();
    process.stderr.write(text + '\n');
    draw();
  };
  const timer = setInterval(() => {
    frame++;
    draw();
  }, 100);
  const off = events.on((e) => {
    const r = rows.get(e.instance);
    switch (e.type) {
      case 'action-start':
        rows.set(e.instance, { action: e.action, step: 'starting', start: e.time, stepStart: e.time });
        break;
      case 'action-end':
        if (r) r.done = { ok: e.ok, ms: e.durationMs };
        break;
      case 'step-start':
        if (r) Object.assign(r, { step: e.step, stepStart: e.time, note: undefined });
        break;
      case 'cleanup-start':
        if (r) Object.assign(r, { step: `cleanup ${e.step}`, stepStart: e.time, note: undefined });
        break;
      case 'cleanup-end':
        if (!e.ok) above(`${color.bad('✖')} ${e.instance} cleanup ${e.step}: ${e.error}`);
        break;
      case 'progress':
        if (r) r.note = `${e.message}${e.percent !== undefined ? ` ${Math.round(e.percent)}%` : ''}`;
        break;
      case 'log':
        if (e.level === 'debug' && !verbose) break;
        above(`${color.dim(e.instance)} ${e.level === 'warn' ? color.warn(e.message) : e.level === 'error' ? color.bad(e.message) : e.message}`);
        break;
      case 'output':
        above(
          e.text
            .replace(/\r?\n$/, '')
            .split(/\r?\n/)
            .map((l) => `${color.dim(`${e.instance} |`)} ${l}`)
            .join('\n'),
        );
        break;
      case 'check':
        if (e.status !== 'pass' || verbose) {
          const mark = e.status === 'pass' ? color.ok('✔') : e.status === 'skip' ? color.dim('-') : color.bad('✖');
          above(`${mark} ${color.dim(e.instance)} ${e.title}${e.message && e.status !== 'pass' ? `: ${e.message}` : ''}`);
        }
        break;
      case 'resource':
        above(`${color.dim(e.instance)} ${e.kind} ${e.id}${e.region ? ` (${e.region})` : ''}`);
        break;
    }
    draw();
  });
  return () => {
    clearInterval(timer);
    off();
    draw();
    update.done();
  };
}
