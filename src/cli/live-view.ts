/**
 * The terminal view: one line per instance (its step, how long the step and
 * the instance have run, its last log line), redrawn in place; and when the
 * run ends, a table in its place (result, time, every step). Warnings,
 * errors, failed checks, cleanup failures and resource ids scroll above the
 * live lines; everything else an instance prints shows as its last line
 * (`-v` scrolls all of it above, as plain mode does). The full logs are in
 * .hallmark/logs/.
 *
 * LiveState is the model (fed the event bus), liveFrame and finalTable pure
 * renderers of it, so that they are tested without a terminal; liveView wires
 * them to log-update on stderr.
 */
import { logUpdateStderr } from 'log-update';
import pc from 'picocolors';
import type { EventBus, HallmarkEvent } from '../kernel/events.js';
import { secs } from '../kernel/log-file.js';

export interface LiveStep {
  name: string;
  ms: number;
  status: 'ok' | 'failed' | 'skipped';
}

export interface LiveRow {
  name: string;
  action: string;
  /** The step running now (or `cleanup <step>`). */
  step: string;
  start: number;
  stepStart: number;
  /** The last thing the instance said: a log line, output line, progress or skipped step. */
  last?: string;
  steps: LiveStep[];
  done?: { ok: boolean; ms: number; error?: string };
}

/** Control characters and escape sequences a remote command may print: they would move the cursor under log-update. */
export function printable(s: string): string {
  return s
    .replace(/\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)|\x1b[@-_]/g, '')
    .replace(/\t/g, ' ')
    .replace(/[\x00-\x1f\x7f]/g, '')
    .trim();
}

/** Cuts plain text to `width` columns with an ellipsis. */
function fit(s: string, width: number): string {
  if (width <= 0) return '';
  const chars = [...s];
  return chars.length <= width ? s : `${chars.slice(0, Math.max(0, width - 1)).join('')}…`;
}

export class LiveState {
  readonly rows = new Map<string, LiveRow>();

  constructor(private readonly verbose = false) {}

  private row(instance: string, time: number, action = 'commit'): LiveRow {
    let r = this.rows.get(instance);
    if (!r) {
      r = { name: instance, action, step: 'starting', start: time, stepStart: time, steps: [] };
      this.rows.set(instance, r);
    }
    return r;
  }

  /** Applies one event; returns text to print above the live lines, if the event is one that scrolls. */
  apply(e: HallmarkEvent): string | undefined {
    switch (e.type) {
      case 'action-start': {
        const r = this.row(e.instance, e.time, e.action);
        Object.assign(r, { action: e.action, start: e.time, stepStart: e.time, step: 'starting', steps: [], last: undefined, done: undefined });
        return undefined;
      }
      case 'action-end':
        this.row(e.instance, e.time).done = { ok: e.ok, ms: e.durationMs, ...(e.error ? { error: e.error } : {}) };
        return undefined;
      case 'step-start':
        Object.assign(this.row(e.instance, e.time), { step: e.step, stepStart: e.time });
        return undefined;
      case 'step-end': {
        const r = this.row(e.instance, e.time);
        r.steps.push({ name: e.step, ms: e.durationMs, status: !e.ok ? 'failed' : e.skipped !== undefined ? 'skipped' : 'ok' });
        if (e.skipped !== undefined) r.last = `${e.step} skipped (${e.skipped})`;
        if (!e.ok && e.error) r.last = `${e.step} failed: ${printable(e.error.split('\n')[0]!)}`;
        return undefined;
      }
      case 'cleanup-start':
        Object.assign(this.row(e.instance, e.time), { step: `cleanup ${e.step}`, stepStart: e.time });
        return undefined;
      case 'cleanup-end':
        return e.ok ? undefined : `${pc.red('✖')} ${e.instance} cleanup ${e.step}: ${e.error}`;
      case 'progress':
        this.row(e.instance, e.time).last = `${printable(e.message)}${e.percent !== undefined ? ` ${Math.round(e.percent)}%` : ''}`;
        return undefined;
      case 'log': {
        if (e.level === 'debug' && !this.verbose) return undefined;
        this.row(e.instance, e.time).last = printable(e.message);
        if (e.level === 'warn') return `${pc.dim(e.instance)} ${pc.yellow(e.message)}`;
        if (e.level === 'error') return `${pc.dim(e.instance)} ${pc.red(e.message)}`;
        return this.verbose ? `${pc.dim(e.instance)} ${e.message}` : undefined;
      }
      case 'output': {
        const lines = e.text.split(/\r?\n|\r/).map(printable).filter(Boolean);
        if (lines.length) this.row(e.instance, e.time).last = lines.at(-1);
        if (!this.verbose) return undefined;
        return e.text
          .replace(/\r?\n$/, '')
          .split(/\r?\n/)
          .map((l) => `${pc.dim(`${e.instance} |`)} ${l}`)
          .join('\n');
      }
      case 'check':
        if (e.status === 'pass' && !this.verbose) return undefined;
        {
          const mark = e.status === 'pass' ? pc.green('✔') : e.status === 'skip' ? pc.dim('-') : pc.red('✖');
          return `${mark} ${pc.dim(e.instance)} ${e.title}${e.message && e.status !== 'pass' ? `: ${e.message}` : ''}`;
        }
      case 'resource':
        return `${pc.dim(e.instance)} ${e.kind} ${e.id}${e.region ? ` (${e.region})` : ''}`;
    }
  }
}

/** Whether a row ended well: its action's result, or (the build's commit, which has no action) no failed step. */
const okOf = (r: LiveRow) => (r.done ? r.done.ok : !r.steps.some((s) => s.status === 'failed'));

/** The live lines: one per instance, each cut to `width` columns. `frame` turns the spinner. */
export function liveFrame(state: LiveState, now: number, width: number, frame = 0): string {
  const rows = [...state.rows.values()];
  const nameWidth = Math.max(0, ...rows.map((r) => r.name.length));
  const SPIN = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
  return rows
    .map((r) => {
      const name = r.name.padEnd(nameWidth);
      let mark: string;
      let head: string;
      let tail: string;
      if (r.done) {
        mark = r.done.ok ? pc.green('✔') : pc.red('✖');
        head = `${name}  ${r.action} ${r.done.ok ? 'ok' : 'FAILED'}`;
        tail = `${secs(r.done.ms)}${r.done.ok || !r.done.error ? '' : `  ${printable(r.done.error.split('\n')[0]!)}`}`;
      } else {
        mark = SPIN[frame % SPIN.length]!;
        head = `${name}  ${r.step.padEnd(10)}`;
        tail = `${secs(now - r.stepStart)}/${secs(now - r.start)}${r.last ? `  ${r.last}` : ''}`;
      }
      // The mark and the name-step part are short and fixed; the tail is what gets cut.
      const room = width - 2 - head.length - 1;
      return `${mark} ${head} ${pc.dim(fit(tail, room))}`;
    })
    .join('\n');
}

/** The table that replaces the live lines when the run ends: result, time and steps per instance. */
export function finalTable(state: LiveState, width: number): string {
  const rows = [...state.rows.values()];
  if (rows.length === 0) return '';
  const cells = rows.map((r) => {
    const ok = okOf(r);
    const ms = r.done?.ms ?? r.steps.reduce((a, s) => a + s.ms, 0);
    const steps = r.steps.map((s) => `${s.name} ${s.status === 'skipped' ? 'skipped' : `${s.status === 'failed' ? 'FAILED ' : ''}${secs(s.ms)}`}`).join(' · ');
    return { ok, cols: [r.name, r.action, ok ? 'ok' : 'FAILED', secs(ms)], steps };
  });
  const head = ['Instance', 'Action', 'Result', 'Time'];
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c.cols[i]!.length)));
  const line = (cols: string[]) => cols.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  const used = 2 + widths.reduce((a, w) => a + w + 2, 0);
  return [
    `  ${line(head)}  Steps`,
    ...cells.map((c) => `${c.ok ? pc.green('✔') : pc.red('✖')} ${line(c.cols)}  ${fit(c.steps, width - used)}`),
  ].join('\n');
}

/** Attaches the live view to the bus; returns the function that ends it (and draws the final table). */
export function liveView(events: EventBus, verbose = false, stream: NodeJS.WriteStream = process.stderr): () => void {
  const state = new LiveState(verbose);
  const update = logUpdateStderr;
  const width = () => stream.columns || 100;
  let frame = 0;
  const draw = () => update(liveFrame(state, Date.now(), width(), frame));
  const timer = setInterval(() => {
    frame++;
    draw();
  }, 100);
  const off = events.on((e) => {
    const above = state.apply(e);
    if (above !== undefined) {
      update.clear();
      stream.write(above + '\n');
    }
    draw();
  });
  return () => {
    clearInterval(timer);
    off();
    update(finalTable(state, width()));
    update.done();
  };
}
