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
  if (!tildePath(target(r, 'path'))) return batchResult(data, kind);
  const f = kind === 'stat' ? 'st' : 'stL';
  const code = rc(data, f);
  return { out: out(data, f), ...(code === undefined ? {} : { rc: code }), err: err(data, f) };
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
  prelude: HOME_HELPER,
  validate(r) {
    const path = target(r, 'path');
    if (path.startsWith('~') && path.split('/').includes('..')) return `${JSON.stringify(path)}: a ~ path with .. is not supported (goss cleans it against the home directory, which is only known on the target)`;
    return undefined;
  },
  batch(r) {
    const path = target(r, 'path');
    if (tildePath(path)) return [];
    return [{ kind: 'stat', arg: path }, ...(needsTarget(r) ? [{ kind: 'statL', arg: path }] : [])];
  },
  probe(r, { id, val }) {
    const tilde = tildePath(target(r, 'path'));
    const p = tilde ? sh`"$HM_P"` : val(target(r, 'path'));
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
    const tilde = tildePath(target(r, 'path'));
    if (tilde && data.own.get('nohome') === '1') {
      const e = { error: tilde.user ? `user: unknown user ${tilde.user}` : 'user: the current user has no home directory' };
      return Object.fromEntries(r.checks.map((c) => [c.name, e]));
    }
    const path = tilde ? (data.own.get('path') ?? target(r, 'path')) : target(r, 'path');
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
    let tgt = self;
    if (isLink && needsTarget(r)) {
      const sl = statOf(r, data, 'statL');
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
