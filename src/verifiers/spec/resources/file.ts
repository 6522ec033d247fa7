import { shq } from '../shell.js';
import type { Observation, ResourceDef } from '../types.js';
import { absentFor, err, out, rc, target, wants } from './common.js';

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

/**
 * `file`: exists, filetype and linked-to describe the path itself (lstat);
 * mode, owner, group, size, contents and checksums follow a symlink to its
 * target (what a reader of the file gets). Reading contents needs read access:
 * that is why the script runs as root by default.
 */
export const fileDef: ResourceDef = {
  type: 'file',
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
  probe(r) {
    const p = shq(target(r, 'path'));
    const id = r.probeId;
    const fmt = shq('%F|%a|%U|%G|%s|%u|%g');
    const lines = [`if [ -e ${p} ] || [ -L ${p} ]; then`, `hm_val ${id} exists 1`, `hm_cap ${id} st ${shq(`stat -c ${fmt} ${p}`)}`];
    const needsTarget = r.checks.some((c) => !['exists', 'filetype', 'linked-to'].includes(c.name));
    if (needsTarget || wants(r, 'linked-to')) {
      lines.push(`if [ -L ${p} ]; then hm_cap ${id} lnk ${shq(`readlink ${p}`)}; hm_cap ${id} stl ${shq(`stat -L -c ${fmt} ${p}`)}; fi`);
    }
    if (wants(r, 'contents') || wants(r, 'contains')) lines.push(`if [ -f ${p} ]; then hm_cap ${id} cat ${shq(`cat ${p}`)}; fi`);
    for (const sum of ['sha256', 'sha512', 'md5'] as const) {
      if (wants(r, sum)) lines.push(`if [ -f ${p} ]; then hm_cap ${id} ${sum} ${shq(`${sum}sum ${p}`)}; fi`);
    }
    lines.push(`else hm_val ${id} exists 0; fi`);
    return lines.join('\n');
  },
  observe(r, data) {
    const path = target(r, 'path');
    if (data.own.get('exists') === '0') return absentFor(r, { exists: { value: false } }, `${path} does not exist`);
    if (data.own.get('exists') !== '1' || rc(data, 'st') === undefined) return Object.fromEntries(r.checks.map((c) => [c.name, { error: 'file probe did not report back' }]));
    const res: Record<string, Observation> = { exists: { value: true } };
    if (rc(data, 'st') !== 0) {
      const e = { error: `stat ${path} failed: ${err(data, 'st')}` };
      return Object.fromEntries(r.checks.map((c) => [c.name, c.name === 'exists' ? res.exists! : e]));
    }
    const parse = (s: string) => {
      const [ft, mode, owner, group, size, uid, gid] = s.trim().split('|');
      return { ft: FILETYPES[ft ?? ''] ?? ft ?? '', mode: (mode ?? '').padStart(4, '0'), owner, group, size: Number(size), uid: Number(uid), gid: Number(gid) };
    };
    const self = parse(out(data, 'st'));
    res.filetype = { value: self.ft };
    const isLink = self.ft === 'symlink';
    res['linked-to'] = isLink ? { value: out(data, 'lnk').replace(/\n$/, '') } : { missing: `${path} is not a symlink (it is a ${self.ft})` };
    let tgt = self;
    if (isLink) {
      if (rc(data, 'stl') !== 0) {
        for (const a of ['mode', 'owner', 'group', 'uid', 'gid', 'size', 'contents', 'contains', 'sha256', 'sha512', 'md5']) {
          res[a] = { missing: `${path} is a dangling symlink (to ${out(data, 'lnk').trim()})` };
        }
        return res;
      }
      tgt = parse(out(data, 'stl'));
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
