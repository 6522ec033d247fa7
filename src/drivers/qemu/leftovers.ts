import { existsSync } from 'node:fs';
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { STATE_PENDING, TAG_STATE } from '../../kernel/tags.js';
import type { Leftover, LeftoverQuery, LeftoverRemoval } from '../driver.js';
import { stopQemu, waitForExit } from './process.js';
import { isAlive } from '../../kernel/process.js';
import { defaultStoreDir, listImages, removeImage } from './store.js';

/**
 * The qemu side of `hallmark cleanup --orphans`: what a killed hallmark left
 * on this host that no journal claims.
 *
 * - a qemu whose overlay is gone (its `.hallmark/` was deleted under it), or
 *   whose overlay is in this project's `.hallmark/qemu/` and no journal names
 *   it; a `qemu-img` still writing a capture into the image store after the
 *   hallmark that started it died;
 * - a machine directory in this project's `.hallmark/qemu/` no journal names;
 * - store entries tagged `hallmark:state=pending` (captured, never committed)
 *   and unfinished ones (a `.partial`, or a disk without its metadata).
 *
 * Never: store entries without `hallmark:state` (an older hallmark's) or
 * published ones, exports (`distribute.targets`), qemus of another project
 * whose overlay still exists, anything younger than `olderThanMs`.
 */
interface Proc {
  pid: number;
  args: string[];
  ppid: number;
  startedAt?: Date;
}

async function processes(): Promise<Proc[]> {
  const out: Proc[] = [];
  const boot = await bootTime();
  for (const name of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const args = (await readFile(`/proc/${name}/cmdline`, 'utf8')).split('\0').filter(Boolean);
      if (!/qemu-(system|img)/.test(args[0] ?? '')) continue;
      const st = await readFile(`/proc/${name}/stat`, 'utf8');
      const fields = st.slice(st.lastIndexOf(')') + 2).split(' ');
      if (fields[0] === 'Z') continue;
      // Field 22 of stat (index 19 after the name): start time in clock ticks after boot (USER_HZ, 100 on Linux).
      const ticks = Number(fields[19]);
      out.push({ pid: Number(name), args, ppid: Number(fields[1]), startedAt: boot && Number.isFinite(ticks) ? new Date(boot + (ticks / 100) * 1000) : undefined });
    } catch {
      /* gone meanwhile */
    }
  }
  return out;
}

async function bootTime(): Promise<number | undefined> {
  const m = /^btime (\d+)$/m.exec(await readFile('/proc/stat', 'utf8').catch(() => ''));
  return m ? Number(m[1]) * 1000 : undefined;
}

/** The overlay a hallmark qemu runs (`-drive file=...,format=qcow2,...`; commas in the path are doubled). */
export function overlayOf(args: string[]): string | undefined {
  if (!args.some((a, i) => args[i - 1] === '-name' && a.startsWith('hallmark-'))) return undefined;
  for (let i = 1; i < args.length; i++) {
    if (args[i - 1] !== '-drive' || !args[i]!.startsWith('file=')) continue;
    const m = /^file=((?:[^,]|,,)*)/.exec(args[i]!);
    const file = m?.[1]?.replace(/,,/g, ',');
    if (file && /\/qemu\/[^/]+\/overlay\.qcow2$/.test(file)) return file;
  }
  return undefined;
}

async function cmdlineOf(pid: number): Promise<string> {
  return (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).replace(/\0/g, ' ');
}

function aged(q: LeftoverQuery, l: Leftover): Leftover {
  if (!l.createdAt) return { ...l, kept: true, detail: 'age unknown' };
  // --older-than 0s takes everything: a file still being written can carry a time after `now`.
  if (q.olderThanMs > 0 && q.now.getTime() - l.createdAt.getTime() < q.olderThanMs) return { ...l, kept: true, detail: 'younger than --older-than: its build may still run' };
  return l;
}

export async function findQemuLeftovers(q: LeftoverQuery): Promise<Leftover[]> {
  const out: Leftover[] = [];
  const stateDir = path.resolve(q.stateDir);
  const store = defaultStoreDir();
  const forInstance = (name: string) => !q.instance || name === q.instance;

  for (const p of await processes()) {
    if (/qemu-img/.test(p.args[0] ?? '')) {
      // A capture's convert whose hallmark died: writing `<store>/<id>.qcow2.partial`, parent no longer a hallmark.
      const partial = p.args.find((a) => a.startsWith(store + path.sep) && a.endsWith('.qcow2.partial'));
      if (!partial || q.claimed.has(path.basename(partial, '.qcow2.partial'))) continue;
      if (isAlive(p.ppid) && p.ppid !== 1 && /hallmark/.test(await cmdlineOf(p.ppid))) continue;
      out.push(aged(q, { kind: 'process', id: String(p.pid), where: 'local', createdAt: p.startedAt, detail: `stop qemu-img writing ${partial}` }));
      continue;
    }
    const overlay = overlayOf(p.args);
    if (!overlay) continue;
    const instanceDir = path.dirname(overlay);
    const instance = path.basename(instanceDir);
    const ownState = path.dirname(path.dirname(instanceDir));
    const gone = !existsSync(overlay);
    const unclaimed = ownState === stateDir && !q.claimed.has(overlay) && !q.claimed.has(String(p.pid));
    if ((!gone && !unclaimed) || !forInstance(instance)) continue;
    out.push(
      aged(q, {
        kind: 'process',
        id: String(p.pid),
        where: 'local',
        instance,
        createdAt: p.startedAt,
        detail: `stop qemu of ${instance} (${gone ? 'its overlay is gone' : 'no journal names it'})`,
      }),
    );
  }

  const machinesDir = path.join(stateDir, 'qemu');
  for (const name of await readdir(machinesDir).catch(() => [] as string[])) {
    const dir = path.join(machinesDir, name);
    if (q.claimed.has(dir) || !forInstance(name)) continue;
    const st = await stat(dir).catch(() => undefined);
    if (!st?.isDirectory()) continue;
    out.push(aged(q, { kind: 'machine-files', id: dir, where: 'local', instance: name, createdAt: st.mtime, detail: 'remove (overlay and keys no journal names)' }));
  }

  const complete = new Set<string>();
  for (const img of await listImages(store)) {
    complete.add(img.id);
    if (img.tags[TAG_STATE] !== STATE_PENDING || q.claimed.has(img.id)) continue;
    if ((q.buildId && img.buildId !== q.buildId) || !forInstance(img.instance)) continue;
    out.push(aged(q, { kind: 'store-entry', id: img.id, where: 'local', buildId: img.buildId, instance: img.instance, createdAt: new Date(img.createdAt), detail: `remove (${img.name}, never committed)` }));
  }
  if (!q.buildId) {
    // Unfinished captures: a disk being written, or one whose metadata never came.
    const seen = new Set<string>();
    for (const f of await readdir(store).catch(() => [] as string[])) {
      const id = /^(img-[0-9a-f]+)\.qcow2(\.partial)?$/.exec(f)?.[1];
      if (!id || complete.has(id) || seen.has(id) || q.claimed.has(id)) continue;
      seen.add(id);
      const st = await stat(path.join(store, f)).catch(() => undefined);
      // Its age is the capture's, not the last write's (a convert in flight touches it until it is stopped).
      const born = st && st.birthtimeMs > 0 ? st.birthtime : st?.mtime;
      out.push(aged(q, { kind: 'store-entry', id, where: 'local', createdAt: born, detail: 'remove (an unfinished capture)' }));
    }
  }
  return out;
}

/** Processes first (a qemu holds its overlay, a qemu-img its .partial), then files. Idempotent. */
export async function removeQemuLeftovers(q: LeftoverQuery, found: Leftover[]): Promise<LeftoverRemoval[]> {
  const results: LeftoverRemoval[] = [];
  const todo = found.filter((l) => !l.kept);
  const order: Leftover['kind'][] = ['process', 'machine-files', 'store-entry'];
  for (const kind of order) {
    for (const l of todo.filter((x) => x.kind === kind)) {
      try {
        if (kind === 'process') await stopProcess(Number(l.id), q.signal);
        else if (kind === 'machine-files') await rm(l.id, { recursive: true, force: true });
        else await removeImage(l.id, defaultStoreDir());
        q.log.info(`${kind} ${l.id}: removed`);
        results.push({ leftover: l });
      } catch (err) {
        results.push({ leftover: l, error: err as Error });
      }
    }
  }
  return results;
}

/** Stops a qemu-system (through stopQemu, which checks /proc first) or an orphaned qemu-img, by PID. */
async function stopProcess(pid: number, signal: AbortSignal): Promise<void> {
  const args = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0').filter(Boolean);
  const overlay = overlayOf(args);
  if (overlay) {
    await stopQemu(pid, overlay, { signal });
    return;
  }
  if (!/qemu-img/.test(args[0] ?? '')) return; // gone, or the PID is someone else's now
  process.kill(pid, 'SIGTERM');
  if (!(await waitForExit(pid, 10_000, signal))) process.kill(pid, 'SIGKILL');
  await waitForExit(pid, 10_000, signal);
}
