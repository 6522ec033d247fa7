import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { lastLines } from './errors.js';
import path from 'node:path';
import type { EventBus, HallmarkEvent } from './events.js';

/**
 * Appends every event of an instance to `.hallmark/logs/<instance>.log` as
 * plain timestamped lines, whatever the terminal shows. Returns a function
 * that detaches and flushes.
 */
export function attachLogFiles(events: EventBus, stateDir: string): () => Promise<void> {
  const dir = path.join(stateDir, 'logs');
  const streams = new Map<string, WriteStream>();
  const streamFor = (instance: string) => {
    let s = streams.get(instance);
    if (!s) {
      mkdirSync(dir, { recursive: true });
      s = createWriteStream(path.join(dir, `${instance}.log`), { flags: 'a' });
      streams.set(instance, s);
    }
    return s;
  };
  const off = events.on((e) => {
    if (!e.instance) return;
    const line = formatEventLine(e);
    if (line !== undefined) streamFor(e.instance).write(line);
  });
  return async () => {
    off();
    await Promise.all([...streams.values()].map((s) => new Promise<void>((r) => s.end(r))));
  };
}

/** One plain line (or several, for output) per event; undefined to skip. */
export function formatEventLine(e: HallmarkEvent): string | undefined {
  const t = new Date(e.time).toISOString();
  switch (e.type) {
    case 'action-start':
      return `${t} ${e.action} started\n`;
    case 'action-end':
      return `${t} ${e.action} ${e.ok ? 'finished' : 'FAILED'} in ${secs(e.durationMs)}${e.error ? `: ${e.error}` : ''}\n`;
    case 'step-start':
      return `${t} -> ${e.step}\n`;
    case 'step-end':
      return `${t} <- ${e.step} ${e.ok ? 'ok' : 'failed'} (${secs(e.durationMs)})${e.error ? `: ${e.error}` : ''}\n`;
    case 'cleanup-start':
      return `${t} cleanup ${e.step}\n`;
    case 'cleanup-end':
      return `${t} cleanup ${e.step} ${e.ok ? 'ok' : 'FAILED'} (${secs(e.durationMs)})${e.error ? `: ${e.error}` : ''}\n`;
    case 'log':
      return `${t} [${e.level}] ${e.message}\n`;
    case 'output':
      return e.text
        .replace(/\r?\n$/, '')
        .split(/\r?\n/)
        .map((l) => `${t} ${e.stream === 'stderr' ? '!' : '|'} ${l}\n`)
        .join('');
    case 'progress':
      return `${t} ... ${e.message}${e.percent !== undefined ? ` ${Math.round(e.percent)}%` : ''}\n`;
    case 'check':
      return `${t} ${e.status.toUpperCase()} ${e.title}${e.message && e.status !== 'pass' ? `: ${e.message}` : ''}\n`;
    case 'resource':
      return `${t} created ${e.kind} ${e.id}${e.region ? ` in ${e.region}` : ''}\n`;
  }
}

export function secs(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)}s` : `${Math.round(ms / 1000)}s`;
}

/** The last lines of a machine's console log, ready to append to an error message (where a guest that does not boot says why). */
export async function consoleTail(file: string | undefined, lines = 30): Promise<string> {
  if (!file) return '';
  try {
    const tail = lastLines((await readFile(file, 'utf8')).replace(/\r/g, ''), lines);
    return tail ? `\n--- last ${lines} lines of the console log (${file}) ---\n${tail}` : `\n(the console log ${file} is empty)`;
  } catch {
    return `\n(no console log at ${file})`;
  }
}
