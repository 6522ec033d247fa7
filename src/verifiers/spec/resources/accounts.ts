import { shq } from '../shell.js';
import type { Observation, ResourceDef } from '../types.js';
import { absentFor, err, every, out, rc, target, wants } from './common.js';

/** getent when the target has it (NSS-aware), else the local file (what goss reads). */
function lookup(id: string, db: 'passwd' | 'group', name: string): string {
  const n = shq(name);
  return `if hm_has getent; then hm_cap ${id} ent ${shq(`getent ${db} ${n}`)}; else hm_cap ${id} ent ${shq(`awk -F: -v n=${n} '$1==n' /etc/${db} | grep .`)}; fi`;
}

function entry(data: Parameters<ResourceDef['observe']>[1]): { found: boolean; fields: string[]; error?: string } {
  const code = rc(data, 'ent');
  if (code === undefined) return { found: false, fields: [], error: 'lookup did not report back' };
  const line = out(data, 'ent').split('\n')[0] ?? '';
  if (code === 0 && line) return { found: true, fields: line.split(':') };
  if (code === 2 || code === 1) return { found: false, fields: [] };
  return { found: false, fields: [], error: `lookup failed (exit ${code}): ${err(data, 'ent')}` };
}

/** `user`: exists, uid, gid, groups (names, via `id -Gn`), home, shell. */
export const userDef: ResourceDef = {
  type: 'user',
  attrs: { exists: 'value', uid: 'value', gid: 'value', groups: 'value', home: 'value', shell: 'value' },
  options: ['username'],
  probe(r) {
    const name = target(r, 'username');
    const lines = [lookup(r.probeId, 'passwd', name)];
    if (wants(r, 'groups')) lines.push(`hm_cap ${r.probeId} grp ${shq(`id -Gn ${shq(name)}`)}`);
    return lines.join('\n');
  },
  observe(r, data) {
    const name = target(r, 'username');
    const e = entry(data);
    if (e.error) return every(r, { error: e.error });
    if (!e.found) return absentFor(r, { exists: { value: false } }, `user ${name} does not exist`);
    const [, , uid, gid, , home, shell] = e.fields;
    const groups: Observation =
      rc(data, 'grp') === 0 ? { value: out(data, 'grp').trim().split(/\s+/).filter(Boolean) } : { error: `id -Gn ${name} failed: ${err(data, 'grp')}` };
    return { exists: { value: true }, uid: { value: Number(uid) }, gid: { value: Number(gid) }, home: { value: home ?? '' }, shell: { value: shell ?? '' }, groups };
  },
};

/** `group`: exists, gid. */
export const groupDef: ResourceDef = {
  type: 'group',
  attrs: { exists: 'value', gid: 'value' },
  options: ['groupname'],
  probe(r) {
    return lookup(r.probeId, 'group', target(r, 'groupname'));
  },
  observe(r, data) {
    const name = target(r, 'groupname');
    const e = entry(data);
    if (e.error) return every(r, { error: e.error });
    if (!e.found) return absentFor(r, { exists: { value: false } }, `group ${name} does not exist`);
    return { exists: { value: true }, gid: { value: Number(e.fields[2]) } };
  },
};
