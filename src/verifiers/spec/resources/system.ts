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

/**
 * `process`: running, when some process's name is exactly `comm`. The name
 * is goss's (goss-org/go-ps on Linux: the text of /proc/<pid>/stat between
 * the first "(" and the next ")"): the kernel's comm, at most 15 bytes, so a
 * longer `comm` is never running, in goss as here; a comm holding ")" ends
 * there.
 */
export const processDef: ResourceDef = {
  type: 'process',
  attrs: { running: 'value' },
  options: ['comm'],
  facts: ['procs'],
  probe: () => NOTHING,
  observe(r, data) {
    const list = data.facts.get('procs');
    if (list === undefined) return every(r, { error: 'cannot list processes on the target (no /proc, no ps)' });
    const comm = target(r, 'comm');
    const running = list.split('\n').some((l) => l.replace(/\).*$/, '') === comm);
    return { running: { value: running } };
  },
};

/** goss's mount field unescaping (moby/sys/mountinfo `unescape`): `\\ooo` octal escapes; anything else after a backslash is malformed. */
export function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** goss's splitMountInfo: options split at commas outside double quotes (empty ones dropped, as strings.FieldsFunc does). */
export function splitMountOptions(s: string): string[] {
  const res: string[] = [];
  let cur = '';
  let quoted = false;
  for (const c of s) {
    if (c === '"') quoted = !quoted;
    if (!quoted && c === ',') {
      if (cur) res.push(cur);
      cur = '';
    } else cur += c;
  }
  if (cur) res.push(cur);
  return res;
}

export interface MountInfo {
  mountpoint: string;
  /** Per-mount options (field 6). */
  opts: string;
  fstype: string;
  source: string;
  /** Superblock options (the last field). */
  vfsOpts: string;
}

/**
 * The first entry of /proc/self/mountinfo for `mountpoint`, parsed as goss
 * parses it (moby/sys/mountinfo `parseInfoFile` with `SingleEntryFilter`:
 * the first match wins, so of stacked mounts the lowest one).
 */
export function findMount(mountinfo: string, mountpoint: string): MountInfo | undefined {
  for (const line of mountinfo.split('\n')) {
    const f = line.split(' ');
    if (f.length < 10) continue;
    let sep = f.length - 4;
    while (sep > 5 && f[sep] !== '-') sep--;
    if (sep <= 5 || unescapeMount(f[4]!) !== mountpoint) continue;
    return { mountpoint, opts: f[5]!, fstype: unescapeMount(f[sep + 1]!), source: unescapeMount(f[sep + 2]!), vfsOpts: f[sep + 3]! };
  }
  return undefined;
}

/**
 * goss's usage: statfs of the mount point, `round((1 - f_bfree / f_blocks) * 100)`
 * (free blocks, not the blocks available to users that df's percentage uses).
 * `stat -f -c '%b %f'` prints f_blocks and f_bfree.
 */
export function mountUsage(statfs: string): number | undefined {
  const m = /^(\d+) (\d+)\s*$/.exec(statfs.trim());
  if (!m) return undefined;
  const [blocks, bfree] = [Number(m[1]), Number(m[2])];
  if (blocks === 0) return undefined;
  return Math.round((1 - bfree / blocks) * 100);
}

/**
 * `mount`: exists, opts, vfs-opts, source, filesystem, usage, as goss computes
 * them from /proc/self/mountinfo: `opts` are the per-mount options
 * (duplicates dropped), `vfs-opts` the superblock options, `usage` the
 * statfs percentage (see mountUsage).
 */
export const mountDef: ResourceDef = {
  type: 'mount',
  gate: 'exists',
  attrs: { exists: 'value', opts: 'value', 'vfs-opts': 'value', source: 'value', filesystem: 'value', usage: 'value' },
  options: ['mountpoint', 'timeout'],
  facts: ['mountinfo'],
  probe(r, { id, val }) {
    return wants(r, 'usage') ? sh`hm_run ${id} fs stat -f -c '%b %f' -- ${val(target(r, 'mountpoint'))}` : NOTHING;
  },
  observe(r, data) {
    const table = data.facts.get('mountinfo');
    if (table === undefined) return every(r, { error: 'cannot read /proc/self/mountinfo on the target' });
    const mp = target(r, 'mountpoint');
    const m = findMount(table, mp);
    if (!m) return absentFor(r, { exists: { value: false } }, `${mp} is not a mount point`);
    let usage: Observation = { error: 'usage not probed' };
    if (wants(r, 'usage')) {
      const said = out(data, 'fs').trim();
      const pct = rc(data, 'fs') === 0 ? mountUsage(said) : undefined;
      if (pct !== undefined) usage = { value: pct };
      else if (rc(data, 'fs') === 0 && /^0 /.test(said)) usage = { error: `statfs of ${mp} reports 0 blocks: goss's usage is undefined there (0/0)` };
      else usage = { error: `stat -f ${mp} failed: ${err(data, 'fs') || said || `exit ${rc(data, 'fs')}`}` };
    }
    return {
      exists: { value: true },
      source: { value: m.source },
      filesystem: { value: m.fstype },
      opts: { value: [...new Set(splitMountOptions(m.opts))] },
      'vfs-opts': { value: splitMountOptions(m.vfsOpts) },
      usage,
    };
  },
};
