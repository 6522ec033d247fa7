import { joinSh, sh, word } from '../shell.js';
import type { Observation, ResourceDef, ResourceSpec } from '../types.js';
import { absentFor, batchResult, err, errorFor, out, rc, target, wants } from './common.js';

const FILETYPES: Record<string, string> = {
  'regular file': 'file',
  'regular empty file': 'file',
  directory: 'directory',
  'symbolic link': 'symlink',
  socket: 'socket',
  fifo: 'pipe',
  'character special file': 'character-device',
  'block special file': 'block-device',
};

/** goss writes modes as "0644"; an unquoted 0644 is the number 644 in YAML 1.2. */
export function normalizeMode(v: unknown): unknown {
  if (typeof v === 'number') return String(v).padStart(4, '0');
  return v;
}

const STAT_LINE = /^[^|\n]*\|[0-7]+\|[^|\n]*\|[^|\n]*\|\d+\|\d+\|\d+$/;

export interface StatRecord {
  ft: string;
  mode: string;
  owner: string;
  group: string;
  size: number;
  uid: number;
  gid: number;
}

/**
 * The record of `path` in batched `stat -c STAT_FORMAT` output. The name comes
 * last and may hold anything (even `|` or a newline), so the record is found by
 * its name and the seven fields before it on their own line are checked.
 */
export function statRecord(output: string, path: string): StatRecord | undefined {
  const text = output.endsWith('\n') ? output : `${output}\n`;
  const needle = `|${path}\n`;
  for (let i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + 1)) {
    const prefix = text.slice(text.lastIndexOf('\n', i - 1) + 1, i);
    if (!STAT_LINE.test(prefix)) continue;
    const [ft, mode, owner, group, size, uid, gid] = prefix.split('|');
    return { ft: FILETYPES[ft!] ?? ft!, mode: mode!.padStart(4, '0'), owner: owner!, group: group!, size: Number(size), uid: Number(uid), gid: Number(gid) };
  }
  return undefined;
}

/** Attributes that describe what a symlink points to (everything but exists, filetype, linked-to). */
function needsTarget(r: ResourceSpec): boolean {
  return r.checks.some((c) => !['exists', 'filetype', 'linked-to'].includes(c.name));
}

/**
 * `file`: exists, filetype and linked-to describe the path itself (lstat);
 * mode, owner, group, size, contents and checksums follow a symlink to its
 * target (what a reader of the file gets). Reading contents needs read access:
 * that is why the script runs as root by default.
 */
export const fileDef: ResourceDef = {
  type: 'file',
  gate: 'exists',
  attrs: {
    exists: 'value',
    mode: 'value',
    owner: 'value',
    group: 'value',
    uid: 'value',
    gid: 'value',
    size: 'value',
    filetype: 'value',
    'linked-to': 'value',
    contents: 'patterns',
    contains: 'patterns',
    sha256: 'value',
    sha512: 'value',
    md5: 'value',
  },
  options: ['path'],
  batch(r) {
    const path = target(r, 'path');
    return [{ kind: 'stat', arg: path }, ...(needsTarget(r) ? [{ kind: 'statL', arg: path }] : [])];
  },
  probe(r, { id, val }) {
    const p = val(target(r, 'path'));
    const lines = [sh`if [ -e ${p} ] || [ -L ${p} ]; then`, sh`hm_val ${id} exists 1`];
    if (wants(r, 'linked-to')) lines.push(sh`if [ -L ${p} ]; then hm_run ${id} lnk readlink -- ${p}; fi`);
    if (wants(r, 'contents') || wants(r, 'contains')) lines.push(sh`if [ -f ${p} ]; then hm_run ${id} cat cat -- ${p}; fi`);
    // The file on stdin: the tool prints "<sum>  -", never the name (GNU escapes odd names with a leading backslash).
    for (const sum of ['sha256', 'sha512', 'md5'] as const) {
      if (wants(r, sum)) lines.push(sh`if [ -f ${p} ]; then hm_runin ${id} ${word(sum)} ${p} ${word(`${sum}sum`)}; fi`);
    }
    lines.push(sh`else hm_val ${id} exists 0; fi`);
    return joinSh(lines);
  },
  observe(r, data) {
    const path = target(r, 'path');
    if (data.own.get('exists') === '0') return absentFor(r, { exists: { value: false } }, `${path} does not exist`);
    const st = batchResult(data, 'stat');
    if (data.own.get('exists') !== '1' || st.rc === undefined) return Object.fromEntries(r.checks.map((c) => [c.name, { error: 'file probe did not report back' }]));
    const res: Record<string, Observation> = { exists: { value: true } };
    const self = statRecord(st.out, path);
    if (!self) {
      const e = { error: `stat ${path} failed: ${errorFor(st, path)}` };
      return Object.fromEntries(r.checks.map((c) => [c.name, c.name === 'exists' ? res.exists! : e]));
    }
    res.filetype = { value: self.ft };
    const isLink = self.ft === 'symlink';
    res['linked-to'] = isLink ? { value: out(data, 'lnk').replace(/\n$/, '') } : { missing: `${path} is not a symlink (it is a ${self.ft})` };
    let tgt = self;
    if (isLink && needsTarget(r)) {
      const sl = batchResult(data, 'statL');
      const t = statRecord(sl.out, path);
      if (!t) {
        const why = errorFor(sl, path);
        const o: Observation = /No such file|cannot statx?|can't stat/i.test(why) ? { missing: `${path} is a dangling symlink` } : { error: `stat -L ${path} failed: ${why}` };
        for (const a of ['mode', 'owner', 'group', 'uid', 'gid', 'size', 'contents', 'contains', 'sha256', 'sha512', 'md5']) res[a] = o;
        return res;
      }
      tgt = t;
    }
    Object.assign(res, {
      mode: { value: tgt.mode },
      owner: { value: tgt.owner },
      group: { value: tgt.group },
      uid: { value: tgt.uid },
      gid: { value: tgt.gid },
      size: { value: tgt.size },
    });
    const notFile = { missing: `${path} is not a regular file (it is a ${tgt.ft})` };
    const text = (prefix: string): Observation => {
      if (tgt.ft !== 'file') return notFile;
      const code = rc(data, prefix);
      if (code !== 0) return { error: `reading ${path} failed: ${err(data, prefix) || `exit ${code}`}` };
      return { value: out(data, prefix) };
    };
    res.contents = text('cat');
    res.contains = res.contents;
    for (const sum of ['sha256', 'sha512', 'md5']) {
      if (!wants(r, sum)) continue;
      const o = text(sum);
      res[sum] = 'value' in o ? { value: String(o.value).split(/\s+/)[0] } : o;
    }
    return res;
  },
};
