/**
 * Reads the generated script's stdout (format: see script.ts) back into
 * fields per probe id. The grammar is strict, because the script writes
 * exactly one record of each kind per field and nothing else: a record
 * written twice, a record of one probe inside another's section, a capture
 * announced out of order, a line that is not a record, sizes that do not
 * add up, or anything after `@@DONE` can only mean that something else wrote
 * into the script's output; the run is then `tampered` and every check an
 * error. Captured output is never parsed for records: it is cut out of the
 * decoded captures by length.
 */
import type { Fields } from './types.js';

export interface Parsed {
  fields: Fields;
  /** Probe clocks in centiseconds (from /proc/uptime). */
  begin: Map<string, number>;
  end: Map<string, number>;
  /** The script ran to its end and every capture arrived. */
  done: boolean;
  /** Why the output cannot be trusted; every check is then an error. */
  tampered?: string;
  /** The probe that had begun and not ended when the output stopped. */
  running?: string;
}

function uptimeCs(s: string): number {
  const n = Number(s);
  return Number.isFinite(n) ? Math.round(n * 100) : 0;
}

const RECORD = /^@@([VF]) (\S+) (\S+) (.*)$/;
const CLOCK = /^@@([BD]) (\S+) (\S+)$/;

export function parseFraming(stdout: string): Parsed {
  const fields: Fields = new Map();
  const begin = new Map<string, number>();
  const end = new Map<string, number>();
  const res: Parsed = { fields, begin, end, done: false };
  const captures: { id: string; field: string }[] = [];
  const problems: string[] = [];
  const tamper = (why: string) => problems.length < 5 && problems.push(why);
  const set = (id: string, field: string, value: string) => {
    let m = fields.get(id);
    if (!m) fields.set(id, (m = new Map()));
    if (m.has(field)) tamper(`${id} ${field} reported twice`);
    m.set(field, value);
  };

  const lines = stdout.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  let i = 0;
  let open: string | undefined;
  for (; i < lines.length && lines[i] !== '@@S'; i++) {
    const line = lines[i]!;
    const c = CLOCK.exec(line);
    const r = c ? undefined : RECORD.exec(line);
    if (c) {
      const [, kind, id, t] = c;
      if (kind === 'B') {
        if (open !== undefined || begin.has(id!)) tamper(`probe ${id} began ${open !== undefined ? `inside ${open}` : 'twice'}`);
        begin.set(id!, uptimeCs(t!));
        open = id;
      } else {
        if (open !== id) tamper(`probe ${id} ended outside its section`);
        end.set(id!, uptimeCs(t!));
        open = undefined;
      }
    } else if (r) {
      const [, kind, id, field, value] = r;
      if (id !== (open ?? '_')) tamper(`a record of ${id} inside ${open ?? 'no probe'}`);
      if (kind === 'V') set(id!, field!, value!);
      else if (value !== String(captures.length + 1)) tamper(`capture ${value} announced out of order`);
      else captures.push({ id: id!, field: field! });
    } else {
      tamper(`a line the script never writes: ${JSON.stringify(line.slice(0, 80))}`);
    }
  }
  if (i >= lines.length) {
    // Cut off (timeout, killed): the captures never came.
    res.running = open;
    if (problems.length) res.tampered = problems.join('; ');
    return res;
  }
  if (open !== undefined) tamper(`probe ${open} never ended`);

  const sizes: { n: number; size: number }[] = [];
  for (i++; i < lines.length && !lines[i]!.startsWith('@@X '); i++) {
    const m = /^\s*(\d+)\s+(\S+)\s*$/.exec(lines[i]!);
    if (m?.[2] === 'total') continue;
    if (!m || !/^\d+$/.test(m[2]!) || sizes.some((s) => s.n === Number(m[2]))) tamper(`a bad size line: ${JSON.stringify(lines[i]!.slice(0, 80))}`);
    else sizes.push({ n: Number(m[2]), size: Number(m[1]) });
  }
  const enc = lines[i]?.slice(4);
  const data: string[] = [];
  for (i++; i < lines.length && !lines[i]!.startsWith('@@DONE'); i++) data.push(lines[i]!);
  const doneLine = lines[i];
  if (doneLine === undefined) {
    if (problems.length) res.tampered = problems.join('; ');
    return res;
  }
  if (doneLine !== `@@DONE ${captures.length}`) tamper(`the end says ${JSON.stringify(doneLine)} after ${captures.length} captures`);
  if (i + 1 < lines.length) tamper(`output after the end: ${JSON.stringify(lines[i + 1]!.slice(0, 80))}`);
  const text = data.join('').replace(/\s+/g, '');
  let blob: Buffer | undefined;
  if (enc === 'b64' && /^[A-Za-z0-9+/]*={0,2}$/.test(text)) blob = Buffer.from(text, 'base64');
  else if (enc === 'hex' && /^([0-9a-f]{2})*$/.test(text)) blob = Buffer.from(text, 'hex');
  else tamper(`captures in an unknown encoding (${enc})`);
  const total = sizes.reduce((n, s) => n + s.size, 0);
  if (sizes.length !== captures.length || sizes.some((s) => s.n < 1 || s.n > captures.length)) tamper(`${sizes.length} sizes for ${captures.length} captures`);
  else if (blob && blob.length !== total) tamper(`captures of ${blob.length} bytes where the sizes add up to ${total}`);
  if (problems.length) {
    res.tampered = problems.join('; ');
    return res;
  }
  let at = 0;
  for (const { n, size } of sizes) {
    const { id, field } = captures[n - 1]!;
    set(id, field, blob!.subarray(at, at + size).toString('utf8'));
    at += size;
  }
  res.done = problems.length === 0;
  if (problems.length) res.tampered = problems.join('; ');
  return res;
}
