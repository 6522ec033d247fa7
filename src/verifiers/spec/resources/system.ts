import { shq } from '../shell.js';
import type { Observation, ResourceDef } from '../types.js';
import { absentFor, err, every, out, rc, target, wants } from './common.js';

/** `kernel-param`: value, read from /proc/sys (what sysctl reads), as a string. */
export const kernelParamDef: ResourceDef = {
  type: 'kernel-param',
  attrs: { value: 'value' },
  options: ['name'],
  probe(r) {
    const file = `/proc/sys/${target(r, 'name').replace(/\./g, '/')}`;
    return `if [ -e ${shq(file)} ]; then hm_cap ${r.probeId} v ${shq(`cat ${shq(file)}`)}; else hm_val ${r.probeId} absent 1; fi`;
  },
  observe(r, data) {
    const name = target(r, 'name');
    if (data.own.get('absent') === '1') return every(r, { missing: `kernel parameter ${name} does not exist` });
    const code = rc(data, 'v');
    if (code !== 0) return every(r, { error: `reading kernel parameter ${name} failed: ${err(data, 'v') || `exit ${code}`}` });
    return { value: { value: out(data, 'v').trim() } };
  },
};

/** `process`: running, by executable name (`/proc/<pid>/comm`, 15 characters, as goss). */
export const processDef: ResourceDef = {
  type: 'process',
  attrs: { running: 'value' },
  options: ['comm'],
  facts: ['procs'],
  probe: () => '',
  observe(r, data) {
    const list = data.facts.get('procs');
    if (list === undefined) return every(r, { error: 'cannot list processes on the target (no /proc, no ps)' });
    const comm = target(r, 'comm').slice(0, 15);
    const running = list.split('\n').some((l) => l.trim() === comm);
    return { running: { value: running } };
  },
};

function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** `mount`: exists, opts, source, filesystem (from /proc/mounts; the last mount of a point wins), usage (% from df -P). */
export const mountDef: ResourceDef = {
  type: 'mount',
  attrs: { exists: 'value', opts: 'value', source: 'value', filesystem: 'value', usage: 'value' },
  options: ['mountpoint', 'timeout'],
  facts: ['mounts'],
  probe(r) {
    return wants(r, 'usage') ? `hm_cap ${r.probeId} df ${shq(`df -P ${shq(target(r, 'mountpoint'))}`)}` : '';
  },
  observe(r, data) {
    const mounts = data.facts.get('mounts');
    if (mounts === undefined) return every(r, { error: 'cannot read /proc/mounts on the target' });
    const mp = target(r, 'mountpoint');
    const entries = mounts
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split(' '))
      .filter((f) => unescapeMount(f[1] ?? '') === mp);
    const m = entries[entries.length - 1];
    if (!m) return absentFor(r, { exists: { value: false } }, `${mp} is not a mount point`);
    let usage: Observation = { error: 'usage not probed' };
    if (wants(r, 'usage')) {
      const line = out(data, 'df').trim().split('\n').pop() ?? '';
      const pct = /(\d+)%/.exec(line);
      usage = rc(data, 'df') === 0 && pct ? { value: Number(pct[1]) } : { error: `df -P ${mp} failed: ${err(data, 'df') || line}` };
    }
    return {
      exists: { value: true },
      source: { value: unescapeMount(m[0] ?? '') },
      filesystem: { value: m[2] ?? '' },
      opts: { value: (m[3] ?? '').split(',') },
      usage,
    };
  },
};
