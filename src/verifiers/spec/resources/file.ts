import { posix } from 'node:path';
import { code, joinSh, sh, word } from '../shell.js';
import type { Observation, ProbeData, ResourceDef, ResourceSpec } from '../types.js';
import { absentFor, batchResult, err, errorFor, out, rc, target, wants, type BatchResult } from './common.js';
import { STAT_FORMAT } from '../script.js';

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

/**
 * goss's `~` paths (system/file.go realPath): `~` is the home of the user the
 * checks run as, `~name` that of user `name`, followed by the rest of the
 * path. The home is looked up on the target (getent, else /etc/passwd).
 */
export function tildePath(path: string): { user: string; rest: string } | undefined {
  if (!path.startsWith('~')) return undefined;
  const slash = path.indexOf('/');
  const user = slash < 0 ? path.slice(1) : path.slice(1, slash);
  const parts = (slash < 0 ? '' : path.slice(slash)).split('/').filter((x) => x !== '' && x !== '.');
  return { user, rest: parts.map((x) => `/${x}`).join('') };
}

/**
 * The path goss looks at: a `~` path as written (expanded on the target),
 * any other path cleaned as Go's filepath.Abs cleans it (system/file.go
 * NewDefFile): `/etc/passwd/` is /etc/passwd, `/nowhere/../etc` is /etc.
 * The kernel would resolve `..` after a missing directory, or a trailing
 * slash on a file, differently (no such file), and `exists: false` would
 * pass where goss fails it.
 */
export function filePath(r: ResourceSpec): string {
  const p = target(r, 'path');
  if (p.startsWith('~')) return p;
  const clean = posix.normalize(p);
  return clean.length > 1 && clean.endsWith('/') ? clean.slice(0, -1) : clean;
}

/** Sets HM_H to the home directory of user $1 (name or uid; empty: the user the script runs as); status 1 if there is none. */
const HOME_HELPER = code`hm_home() {
  HM_H=; _u=$1
  if [ -z "$_u" ]; then _u=$(id -u 2>/dev/null) || return 1; fi
  if hm_has getent; then _l=$(getent passwd -- "$_u" </dev/null 2>/dev/null) || return 1
  else
    _l=
    while IFS= read -r _p; do
      _r=$\{_p#*:*:}; _r=$\{_r%%:*}
      if [ "$\{_p%%:*}" = "$_u" ] || [ "$_r" = "$_u" ]; then _l=$_p; break; fi
    done </etc/passwd
    [ -n "$_l" ] || return 1
  fi
  _l=$\{_l#*:*:*:*:*:}; HM_H=$\{_l%%:*}
  [ -n "$HM_H" ]
}`;

/** stat's answer for this file: the suite's batch, or (for a `~` path) the probe's own stat. */
function statOf(r: ResourceSpec, data: ProbeData, kind: 'stat' | 'statL'): BatchResult {
  if (!tildePath(filePath(r))) return batchResult(data, kind);
  const f = kind === 'stat' ? 'st' : 'stL';
  const code = rc(data, f);
  return { out: out(data, f), ...(code === undefined ? {} : { rc: code }), err: err(data, f) };
}

/** Attributes read through a symlink (goss opens the file): the contents and the checksums. */
const THROUGH_LINK = ['contents', 'contains', 'sha256', 'sha512', 'md5'];

/** Whether the symlink's target must be looked at (what it is decides whether contents and checksums can be read). */
function needsTarget(r: ResourceSpec): boolean {
  return r.checks.some((c) => THROUGH_LINK.includes(c.name));
}

/**
 * `file`: as goss (system/file.go, file_posix.go), exists, filetype,
 * linked-to, mode, owner, group, uid, gid and size describe the path itself
 * (lstat: a symlink's mode is 0777, its size the length of its target);
 * contents and checksums are read through a symlink (goss opens the file).
 * Reading contents needs read access: that is why the script runs as root
 * by default.
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
  prelude: HOME_HELPER,
  validate(r) {
    const path = target(r, 'path');
    if (path.startsWith('~') && path.split('/').includes('..')) return `${JSON.stringify(path)}: a ~ path with .. is not supported (goss cleans it against the home directory, which is only known on the target)`;
    return undefined;
  },
  batch(r) {
    const p = filePath(r);
    if (tildePath(p)) return [];
    return [{ kind: 'stat', arg: p }, ...(needsTarget(r) ? [{ kind: 'statL', arg: p }] : [])];
  },
  probe(r, { id, val }) {
    const tilde = tildePath(filePath(r));
    const p = tilde ? sh`"$HM_P"` : val(filePath(r));
    const lines = [sh`if [ -e ${p} ] || [ -L ${p} ]; then`, sh`hm_val ${id} exists 1`];
    if (tilde) {
      lines.unshift(sh`if hm_home ${val(tilde.user)}; then HM_P=$HM_H${val(tilde.rest)}`, sh`hm_str ${id} path "$HM_P"`);
      lines.push(sh`hm_run ${id} st stat -c ${val(STAT_FORMAT)} -- ${p}`);
      if (needsTarget(r)) lines.push(sh`if [ -L ${p} ]; then hm_run ${id} stL stat -L -c ${val(STAT_FORMAT)} -- ${p}; fi`);
    }
    if (wants(r, 'linked-to')) lines.push(sh`if [ -L ${p} ]; then hm_run ${id} lnk readlink -- ${p}; fi`);
    if (wants(r, 'contents') || wants(r, 'contains')) lines.push(sh`if [ -f ${p} ]; then hm_run ${id} cat cat -- ${p}; fi`);
    // The file on stdin: the tool prints "<sum>  -", never the name (GNU escapes odd names with a leading backslash).
    for (const sum of ['sha256', 'sha512', 'md5'] as const) {
      if (wants(r, sum)) lines.push(sh`if [ -f ${p} ]; then hm_runin ${id} ${word(sum)} ${p} ${word(`${sum}sum`)}; fi`);
    }
    lines.push(sh`else hm_val ${id} exists 0; fi`);
    if (tilde) lines.push(sh`else hm_val ${id} nohome 1; fi`);
    return joinSh(lines);
  },
  observe(r, data) {
    const tilde = tildePath(filePath(r));
    if (tilde && data.own.get('nohome') === '1') {
      const e = { error: tilde.user ? `user: unknown user ${tilde.user}` : 'user: the current user has no home directory' };
      return Object.fromEntries(r.checks.map((c) => [c.name, e]));
    }
    const path = tilde ? (data.own.get('path') ?? filePath(r)) : filePath(r);
    if (data.own.get('exists') === '0') return absentFor(r, { exists: { value: false } }, `${path} does not exist`);
    const st = statOf(r, data, 'stat');
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
    // stat prints UNKNOWN for an id without a name; goss then fails (getent finds no entry), it never compares a name.
    const named = (name: string, db: 'passwd' | 'group', id: number): Observation =>
      name === 'UNKNOWN' ? { error: `no ${db === 'passwd' ? 'user' : 'group'} has ${db === 'passwd' ? 'uid' : 'gid'} ${id} (goss: no matching entries in ${db})` } : { value: name };
    Object.assign(res, {
      mode: { value: self.mode },
      owner: named(self.owner, 'passwd', self.uid),
      group: named(self.group, 'group', self.gid),
      uid: { value: self.uid },
      gid: { value: self.gid },
      size: { value: self.size },
    });
    let tgt = self;
    if (isLink && needsTarget(r)) {
      const sl = statOf(r, data, 'statL');
      const t = statRecord(sl.out, path);
      if (!t) {
        const why = errorFor(sl, path);
        const o: Observation = /No such file|cannot statx?|can't stat/i.test(why) ? { missing: `${path} is a dangling symlink` } : { error: `stat -L ${path} failed: ${why}` };
        for (const a of THROUGH_LINK) res[a] = o;
        return res;
      }
      tgt = t;
    }
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
