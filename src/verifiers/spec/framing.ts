/**
 * Reads the framed records the generated script prints (see script.ts for
 * the format) back into fields per probe id. Lines that are not framing are
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

function decode(enc: string, lines: string[]): string {
  if (enc === 'hex') {
    const hex = lines.join('').replace(/\s+/g, '');
    return Buffer.from(hex, 'hex').toString('utf8');
  }
  return Buffer.from(lines.join(''), 'base64').toString('utf8');
}

export function parseFraming(stdout: string): Parsed {
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
  const lines = stdout.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, '');
    if (line === '') continue;
    if (line.startsWith('@@F ')) {
      const [, id, field, enc] = line.split(' ');
      const data: string[] = [];
      let j = i + 1;
      while (j < lines.length && lines[j]!.replace(/\r$/, '') !== '@@E') data.push(lines[j++]!);
      if (j >= lines.length) {
        noise.push(`unterminated field ${id} ${field}`);
        break; // the script was cut off: the rest is unreliable
      }
      set(id!, field!, decode(enc ?? 'b64', data));
      i = j;
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
