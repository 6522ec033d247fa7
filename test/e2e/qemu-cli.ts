/**
 * Helpers for the end-to-end tests that drive `bin/hallmark` as a child
 * process against real qemu VMs: a temp project dir, a temp image store, the
 * CLI run with `CI=1`, and checks that nothing was left behind (qemu
 * processes whose cmdline names the project dir, files under .hallmark/qemu).
 * Every qemu a test finds still running is stopped by its PID in `sweep()`.
 */
import { readFileSync } from 'node:fs';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { sleep } from '../../src/kernel/abort.js';

export const repoRoot = path.resolve(import.meta.dirname, '../..');
export const bin = path.join(repoRoot, 'bin', 'hallmark');
/** Seconds a guest may take to reach SSH: TCG on a loaded 2-core box can take minutes. */
export const BOOT_TIMEOUT_S = 900;
export const quickstart = path.join(repoRoot, 'examples', 'quickstart');

export interface Project {
  dir: string;
  store: string;
  env: Record<string, string>;
  /** Runs `hallmark ARGS` in the project dir; never rejects. */
  run(args: string[], opts?: { timeoutMs?: number }): Promise<{ exitCode: number | undefined; stdout: string; stderr: string; all: string }>;
  /** Starts `hallmark ARGS` and returns the child (for signals). */
  start(args: string[]): ResultPromise<{ reject: false; all: true }>;
  /** PIDs of running qemu-system/qemu-img processes whose command line names this project or its store. */
  qemuPids(): Promise<number[]>;
  /** Files left under .hallmark/qemu (overlays, keys). */
  qemuFiles(): Promise<string[]>;
  journal(instance: string): Promise<{ lastAction?: string; driver: Record<string, unknown>; images: { id: string }[] } | undefined>;
  /** Stops every qemu still running for this project (by PID) and removes the dirs. */
  sweep(): Promise<void>;
}

/** A fresh project dir with hallmark.yml (and optional extra files), and its own image store. */
export async function makeProject(files: Record<string, string>, opts: { copyQuickstart?: boolean } = {}): Promise<Project> {
  const dir = await mkdtemp(path.join(tmpdir(), 'hallmark-e2e-'));
  const store = path.join(dir, '..', `${path.basename(dir)}-store`);
  await mkdir(store, { recursive: true });
  if (opts.copyQuickstart) {
    for (const f of ['hallmark.yml', 'provision.sh', 'test']) await cp(path.join(quickstart, f), path.join(dir, f), { recursive: true });
    // The one change: a longer boot timeout, for a shared CI box running TCG under load.
    const yml = await readFile(path.join(dir, 'hallmark.yml'), 'utf8');
    await writeFile(path.join(dir, 'hallmark.yml'), yml.replace(/^driver:\n {2}name: qemu\n/m, `driver:\n  name: qemu\n  boot_timeout: ${BOOT_TIMEOUT_S}\n`));
  }
  for (const [name, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), text);
  }
  const env = { CI: '1', HALLMARK_IMAGE_STORE: store, NO_COLOR: '1' };
  const p: Project = {
    dir,
    store,
    env,
    async run(args, o = {}) {
      const r = await execa(bin, args, { cwd: dir, env, reject: false, all: true, timeout: o.timeoutMs ?? 900_000 });
      return { exitCode: r.exitCode, stdout: String(r.stdout), stderr: String(r.stderr), all: String(r.all) };
    },
    start(args) {
      return execa(bin, args, { cwd: dir, env, reject: false, all: true });
    },
    async qemuPids() {
      const pids: number[] = [];
      for (const e of await readdir('/proc')) {
        if (!/^\d+$/.test(e)) continue;
        try {
          const cmd = (await readFile(`/proc/${e}/cmdline`, 'utf8')).split('\0');
          // qemu-system (the machine) and qemu-img (a capture in flight, writing into the store).
          if (/qemu-(system|img)/.test(cmd[0] ?? '') && cmd.some((a) => a.includes(dir) || a.includes(store))) pids.push(Number(e));
        } catch {
          // exited while we looked
        }
      }
      return pids;
    },
    async qemuFiles() {
      const root = path.join(dir, '.hallmark', 'qemu');
      if (!existsSync(root)) return [];
      const out: string[] = [];
      for (const e of await readdir(root, { recursive: true, withFileTypes: true })) if (!e.isDirectory()) out.push(path.join(e.parentPath, e.name));
      return out;
    },
    async journal(instance) {
      try {
        return JSON.parse(await readFile(path.join(dir, '.hallmark', `${instance}.json`), 'utf8'));
      } catch {
        return undefined;
      }
    },
    async sweep() {
      for (const pid of await p.qemuPids()) await killPid(pid);
      await rm(dir, { recursive: true, force: true });
      await rm(store, { recursive: true, force: true });
    },
  };
  return p;
}

/**
 * Whether `pid` is a running process. A killed daemonized qemu is reparented
 * to PID 1, which may take a moment to reap it: a zombie is not alive.
 */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** SIGTERM, then SIGKILL after 5 s. */
export async function killPid(pid: number): Promise<void> {
  if (!alive(pid)) return;
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 50 && alive(pid); i++) await sleep(100);
  if (alive(pid)) process.kill(pid, 'SIGKILL');
}

/** Polls `pred` every 250 ms until true or `ms` passed. */
export async function waitFor(pred: () => Promise<boolean> | boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms / 1000}s waiting for ${what}`);
    await sleep(250);
  }
}

/**
 * A small project on the qemu driver with an inline shell provisioner and a
 * gossfile; `image` replaces the image block's lines, `extra` adds top-level lines.
 */
export function smallProject(inline: string, spec: string, image = ['  name: "e2e-{{platform}}-{{timestamp}}"'], extra: string[] = []): Record<string, string> {
  return {
    'hallmark.yml': [
      'driver:',
      '  name: qemu',
      '  memory: 768',
      '  cpus: 2',
      `  boot_timeout: ${BOOT_TIMEOUT_S}`,
      'provisioner:',
      '  name: shell',
      `  inline: ${JSON.stringify(inline)}`,
      'verifier:',
      '  name: spec',
      'image:',
      ...image,
      ...extra,
      'platforms:',
      '  - name: debian-12',
      '    driver:',
      '      image: debian-12',
      'suites:',
      '  - name: default',
      '',
    ].join('\n'),
    'test/integration/default/checks.yml': spec,
  };
}
