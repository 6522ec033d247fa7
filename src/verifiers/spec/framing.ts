/**
 * Reads the framed records the generated script prints (see script.ts for
 * the format; `boundary` is the script's end-of-data marker) back into fields
 * per probe id. Lines that are not framing are
 * kept as `noise` for diagnostics: they mean something wrote to the script's
 * stdout directly, which the script never does on purpose.
 */
import type { Fields } from './types.js';

export interface Parsed {
  fields: Fields;
  /** Probe clocks in centiseconds (from /proc/uptime). */
  begin: Map<string, number>;
  end: Map<string, number>;
  done: boolean;
  noise: string[];
}

function uptimeCs(s: string): number {
  const n = Number(s);
  return Number.isFinite(n) ? Math.round(n * 100) : 0;
}

export function parseFraming(stdout: string, boundary: string): Parsed {
  const fields: Fields = new Map();
  const begin = new Map<string, number>();
  const end = new Map<string, number>();
  const noise: string[] = [];
  let done = false;
  const set = (id: string, field: string, value: string) => {
    let m = fields.get(id);
    if (!m) fields.set(id, (m = new Map()));
    m.set(field, value);
  };
  const endMark = `\n@@E${boundary}\n`;
  let pos = 0;
  while (pos < stdout.length) {
    let nl = stdout.indexOf('\n', pos);
    if (nl < 0) nl = stdout.length;
    const line = stdout.slice(pos, nl).replace(/\r$/, '');
    pos = nl + 1;
    if (line === '') continue;
    if (line.startsWith('@@R ')) {
      const [, id, field] = line.split(' ');
      // The data starts after the header's newline and ends where the end mark's added newline begins.
      const e = stdout.indexOf(endMark, nl);
      if (e < 0 || !id || !field) {
        noise.push(`unterminated field ${id} ${field}`);
        break; // the script was cut off: the rest is unreliable
      }
      set(id, field, e < pos ? '' : stdout.slice(pos, e));
      pos = e + endMark.length;
    } else if (line.startsWith('@@V ')) {
      const m = /^@@V (\S+) (\S+) ?(.*)$/.exec(line);
      if (m) set(m[1]!, m[2]!, m[3]!);
      else noise.push(line);
    } else if (line.startsWith('@@B ') || line.startsWith('@@D ')) {
      const [, id, t] = line.split(' ');
      (line.startsWith('@@B') ? begin : end).set(id!, uptimeCs(t ?? '0'));
    } else if (line === '@@DONE') {
      done = true;
    } else {
      noise.push(line);
    }
  }
  return { fields, begin, end, done, noise };
}
