import { NOTHING, sh } from '../shell.js';
import type { Observation, ResourceDef, ResourceSpec } from '../types.js';
import { absentFor, batchResult, err, errorFor, every, out, rc, target, wants } from './common.js';

/** `kernel-param`: value, read from /proc/sys (what sysctl reads), as a string. */
export const kernelParamDef: ResourceDef = {
  type: 'kernel-param',
  attrs: { value: 'value' },
  options: ['name'],
  // All parameters in one `grep -H '' FILE...` (each line prefixed with its file); existence per parameter with a builtin test.
  batch: (r) => [{ kind: 'sysctl', arg: paramFile(r) }],
  validate(r) {
    const name = target(r, 'name');
    if (name === '' || name.includes('/')) return `${JSON.stringify(name)} is not a kernel parameter name (dotted, as kernel.ostype; a "/" would leave /proc/sys)`;
    return undefined;
  },
  probe(r, { id, val }) {
    return sh`if [ -e ${val(paramFile(r))} ]; then hm_val ${id} present 1; else hm_val ${id} present 0; fi`;
  },
  observe(r, data) {
    const name = target(r, 'name');
    const present = data.own.get('present');
    if (present === '0') return every(r, { missing: `kernel parameter ${name} does not exist` });
    const b = batchResult(data, 'sysctl');
    if (present !== '1' || b.rc === undefined) return every(r, { error: 'kernel parameter probe did not report back' });
    const file = paramFile(r);
    const prefix = `${file}:`;
    const lines = b.out.split('\n').filter((l) => l.startsWith(prefix));
    const failed = b.rc !== 0 && b.err.split('\n').some((l) => l.includes(file));
    if (failed) return every(r, { error: `reading kernel parameter ${name} failed: ${errorFor(b, file)}` });
    return { value: { value: lines.map((l) => l.slice(prefix.length)).join('\n').trim() } };
  },
};

function paramFile(r: ResourceSpec): string {
  return `/proc/sys/${target(r, 'name').replace(/\./g, '/')}`;
}

/** `process`: running, by executable name (`/proc/<pid>/comm`, 15 characters, as goss). */
export const processDef: ResourceDef = {
  type: 'process',
  attrs: { running: 'value' },
  options: ['comm'],
  facts: ['procs'],
  probe: () => NOTHING,
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
  gate: 'exists',
  attrs: { exists: 'value', opts: 'value', source: 'value', filesystem: 'value', usage: 'value' },
  options: ['mountpoint', 'timeout'],
  facts: ['mounts'],
  probe(r, { id, val }) {
    return wants(r, 'usage') ? sh`hm_run ${id} df df -P -- ${val(target(r, 'mountpoint'))}` : NOTHING;
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
