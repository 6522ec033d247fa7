import { readdir, readFile, readlink, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { sleep } from '../../../kernel/abort.js';
import { HallmarkError } from '../../../kernel/errors.js';
import type { Logger } from '../../../kernel/events.js';
import { cleanupSignal, run } from './run.js';

/**
 * What a build tree holds on the host, found from the kernel's own tables
 * rather than from what the build recorded: debootstrap mounts /proc and /sys
 * in the target by itself, a cancelled `losetup` or `mount` may have done its
 * work without telling us, and a maintainer script may start a daemon that
 * leaves the command's process group. These are the build's last line of
 * cleanup, and what the CLI lists after a second Ctrl-C.
 */

const inside = (path: string, dir: string) => path === dir || path.startsWith(dir.endsWith('/') ? dir : `${dir}/`);

/** Decodes the octal escapes (\040 for a space) of a /proc/self/mountinfo path. */
function unescapeMountPath(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/**
 * Mount points at or below `dir`, in the order to unmount them: deepest path
 * first, and of mounts stacked on one path the later one first.
 */
export async function mountsUnder(dir: string): Promise<string[]> {
  const table = await readFile('/proc/self/mountinfo', 'utf8');
  const points = table
    .split('\n')
    .filter(Boolean)
    .map((l) => unescapeMountPath(l.split(' ')[4] ?? ''))
    .map((p, i) => ({ p, i }))
    .filter(({ p }) => inside(p, dir));
  const depth = (p: string) => p.split('/').length;
  return points.sort((a, b) => depth(b.p) - depth(a.p) || b.i - a.i).map(({ p }) => p);
}

/** Loop devices whose backing file is at or below `dir` (`/dev/loopN`, from sysfs). */
export async function loopDevicesUnder(dir: string): Promise<{ device: string; file: string }[]> {
  const out: { device: string; file: string }[] = [];
  const names = await readdir('/sys/block').catch(() => [] as string[]);
  for (const n of names.filter((x) => /^loop\d+$/.test(x))) {
    const file = await readFile(`/sys/block/${n}/loop/backing_file`, 'utf8').catch(() => undefined);
    if (file === undefined) continue;
    const path = file.trim().replace(/ \(deleted\)$/, '');
    if (inside(path, dir)) out.push({ device: `/dev/${n}`, file: path });
  }
  return out;
}

/** Processes (not this one) whose root directory or working directory is at or below `dir`. */
export async function processesInside(dir: string): Promise<{ pid: number; command: string }[]> {
  const out: { pid: number; command: string }[] = [];
  for (const n of await readdir('/proc')) {
    if (!/^\d+$/.test(n) || Number(n) === process.pid) continue;
    // A zombie or a process that just exited has neither link; it holds nothing.
    const links = await Promise.all(['root', 'cwd'].map((l) => readlink(join('/proc', n, l)).catch(() => undefined)));
    if (!links.some((p) => p !== undefined && inside(p, dir))) continue;
    const command = (await readFile(join('/proc', n, 'comm'), 'utf8').catch(() => '?')).trim();
    out.push({ pid: Number(n), command });
  }
  return out;
}

/**
 * Ends every process rooted or working inside `dir`: SIGTERM, then SIGKILL
 * after `graceMs`, re-scanning each round (a dying maintainer script may
 * still fork). Throws when some survive SIGKILL for `killWaitMs` (stuck in
 * the kernel: unmounting would then only be lazy). Idempotent.
 */
export async function endProcessesInside(dir: string, opts: { log?: Logger; graceMs?: number; killWaitMs?: number } = {}): Promise<void> {
  const grace = opts.graceMs ?? 3000;
  const start = Date.now();
  let reported = false;
  for (;;) {
    const left = await processesInside(dir);
    if (!left.length) return;
    const elapsed = Date.now() - start;
    if (!reported) {
      opts.log?.info(`ending ${left.length} process(es) still running in ${dir}: ${left.map((p) => `${p.command}[${p.pid}]`).join(' ')}`);
      reported = true;
    }
    if (elapsed > grace + (opts.killWaitMs ?? 10_000)) {
      throw new HallmarkError(`processes in ${dir} did not end: ${left.map((p) => `${p.command}[${p.pid}]`).join(' ')}`, {
        hint: 'they may be stuck in uninterruptible I/O; see `ps -o pid,stat,wchan,cmd -p PID`',
      });
    }
    for (const p of left) {
      try {
        process.kill(p.pid, elapsed < grace ? 'SIGTERM' : 'SIGKILL');
      } catch {
        /* gone meanwhile */
      }
    }
    await sleep(100);
  }
}

/** Unmounts every mount at or below `dir` (with `keepDir`, not `dir` itself), lazily when a plain unmount fails. */
export async function unmountAllUnder(dir: string, opts: { keepDir?: boolean } = {}): Promise<void> {
  // Stacked mounts reappear underneath after an unmount: repeat until none is left (bounded).
  for (let round = 0; round < 20; round++) {
    const points = (await mountsUnder(dir)).filter((p) => !(opts.keepDir && p === dir));
    if (!points.length) return;
    for (const p of points) {
      try {
        await run('umount', [p], { signal: cleanupSignal(), what: 'umount' });
      } catch {
        await run('umount', ['-l', p], { signal: cleanupSignal(), what: 'umount -l' });
      }
    }
  }
  throw new HallmarkError(`mounts below ${dir} keep reappearing`, { hint: `see \`grep ${dir} /proc/self/mountinfo\`` });
}

/** Detaches every loop device backed by a file at or below `dir`. */
export async function detachLoopsUnder(dir: string): Promise<void> {
  for (const { device } of await loopDevicesUnder(dir)) {
    await run('partx', ['-d', device], { signal: cleanupSignal() }).catch(() => undefined);
    await run('losetup', ['-d', device], { signal: cleanupSignal(), what: 'losetup -d' });
  }
}

/**
 * Frees a build's work directory on the host: ends the processes inside it,
 * unmounts everything below it, detaches the loop devices backed by its
 * files. Afterwards removing the directory touches nothing but its own files.
 */
export async function releaseWorkDir(dir: string, log?: Logger): Promise<void> {
  await endProcessesInside(dir, { log });
  await unmountAllUnder(dir);
  await detachLoopsUnder(dir);
}

/**
 * Removes a build's work directory after releasing it; refuses (throws) while
 * anything is still mounted below it: a recursive delete through a bind
 * mount would delete the host's /dev.
 */
export async function removeWorkDir(dir: string): Promise<void> {
  const mounted = await mountsUnder(dir);
  if (mounted.length) {
    throw new HallmarkError(`not removing ${dir}: ${mounted.join(', ')} still mounted`, { hint: `umount -R ${mounted.at(-1)}, then rm -rf ${dir}` });
  }
  await rm(dir, { recursive: true, force: true });
}

/**
 * Releases and removes the work directories that earlier builds of `name`
 * left (killed with SIGKILL, or exited on a second Ctrl-C). Call only while
 * holding the build lock: no live build of `name` can be using them then.
 * Returns the directories removed.
 */
export async function sweepStaleBuilds(cacheDir: string, name: string, log?: Logger): Promise<string[]> {
  const { workDirs } = await findBuildLeftovers(cacheDir, name);
  for (const d of workDirs) {
    log?.warn(`removing what an interrupted build left in ${d}`);
    await releaseWorkDir(d, log);
    await removeWorkDir(d);
  }
  return workDirs;
}

export interface BuildLeftovers {
  workDirs: string[];
  processes: { pid: number; command: string }[];
  mounts: string[];
  loops: { device: string; file: string }[];
}

/** What unfinished builds of `name` hold under `cacheDir` (their `.build-<name>-*` work directories). */
export async function findBuildLeftovers(cacheDir: string, name: string): Promise<BuildLeftovers> {
  // mkdtemp's six characters: debian-12's pattern must not take debian-12-cloudinit's directories.
  const own = (n: string) => n.startsWith(`.build-${name}-`) && n.length === `.build-${name}-`.length + 6;
  const workDirs = (await readdir(cacheDir).catch(() => [] as string[])).filter(own).map((n) => join(cacheDir, n));
  const found: BuildLeftovers = { workDirs, processes: [], mounts: [], loops: [] };
  for (const d of workDirs) {
    found.processes.push(...(await processesInside(d)));
    found.mounts.push(...(await mountsUnder(d)));
    found.loops.push(...(await loopDevicesUnder(d)));
  }
  return found;
}
