import { NOTHING, sh } from '../shell.js';
import type { Observation, ProbeData, ResourceDef } from '../types.js';
import { absentFor, batchResult, err, errorFor, every, out, rc, target, wants } from './common.js';

/**
 * Entries come from one batched lookup of every user (group) of the suite:
 * `getent passwd a b c` when the target has getent (NSS-aware: LDAP, sssd),
 * else the local file (what goss reads). getent exits 2 when some key was not
 * found, which is an answer, not an error.
 */
function entry(data: ProbeData, db: 'passwd' | 'group', name: string): { found: boolean; fields: string[]; error?: string } {
  const b = batchResult(data, db);
  if (b.rc === undefined) return { found: false, fields: [], error: 'lookup did not report back' };
  const line = b.out.split('\n').find((l) => l.split(':')[0] === name);
  if (line) return { found: true, fields: line.split(':') };
  if (b.rc === 0 || b.rc === 2) return { found: false, fields: [] };
  return { found: false, fields: [], error: `lookup failed (exit ${b.rc}): ${errorFor(b, name)}` };
}

/** Go's sort.Strings: byte order. */
function sortBytes(xs: string[]): string[] {
  return xs.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

/** `user`: exists, uid, gid, groups (names, via `id -Gn`, sorted as goss sorts them), home, shell. */
export const userDef: ResourceDef = {
  type: 'user',
  gate: 'exists',
  attrs: { exists: 'value', uid: 'value', gid: 'value', groups: 'value', home: 'value', shell: 'value' },
  options: ['username'],
  batch: (r) => [{ kind: 'passwd', arg: target(r, 'username') }],
  probe(r, { id, val }) {
    return wants(r, 'groups') ? sh`hm_run ${id} grp id -Gn -- ${val(target(r, 'username'))}` : NOTHING;
  },
  observe(r, data) {
    const name = target(r, 'username');
    const e = entry(data, 'passwd', name);
    if (e.error) return every(r, { error: e.error });
    if (!e.found) return absentFor(r, { exists: { value: false } }, `user ${name} does not exist`);
    const [, , uid, gid, , home, shell] = e.fields;
    const groups: Observation =
      rc(data, 'grp') === 0 ? { value: sortBytes(out(data, 'grp').trim().split(/\s+/).filter(Boolean)) } : { error: `id -Gn ${name} failed: ${err(data, 'grp')}` };
    return { exists: { value: true }, uid: { value: Number(uid) }, gid: { value: Number(gid) }, home: { value: home ?? '' }, shell: { value: shell ?? '' }, groups };
  },
};

/** `group`: exists, gid. */
export const groupDef: ResourceDef = {
  type: 'group',
  gate: 'exists',
  attrs: { exists: 'value', gid: 'value' },
  options: ['groupname'],
  batch: (r) => [{ kind: 'group', arg: target(r, 'groupname') }],
  probe: () => NOTHING,
  observe(r, data) {
    const name = target(r, 'groupname');
    const e = entry(data, 'group', name);
    if (e.error) return every(r, { error: e.error });
    if (!e.found) return absentFor(r, { exists: { value: false } }, `group ${name} does not exist`);
    return { exists: { value: true }, gid: { value: Number(e.fields[2]) } };
  },
};
