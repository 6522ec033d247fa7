import { constants } from 'node:fs';
import { access, mkdir, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { release } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { throwIfAborted, withTimeout } from '../../kernel/abort.js';
import { CancelledError, UsageError } from '../../kernel/errors.js';
import type { Logger } from '../../kernel/events.js';
import { defaultCacheDir, hallmarkCacheDir } from './base/paths.js';

export type Accel = 'kvm' | 'tcg';

export interface AccelVerdict {
  accel: Accel;
  /** Why this accelerator was chosen, for logs and `hallmark doctor`-style output. */
  reason: string;
  /** QEMU arguments selecting the accelerator and CPU model. */
  args: string[];
}

export const ACCEL_ARGS: Record<Accel, string[]> = {
  kvm: ['-accel', 'kvm', '-cpu', 'host'],
  tcg: ['-accel', 'tcg,thread=multi', '-cpu', 'max'],
};

/** Result of booting a real kernel under KVM. */
export interface ProbeResult {
  ok: boolean;
  reason: string;
}

export interface DetectOptions {
  /** Directory for `accel.json`; default `${XDG_CACHE_HOME:-~/.cache}/hallmark`. */
  cacheDir?: string;
  signal?: AbortSignal;
  log?: Logger;
  env?: NodeJS.ProcessEnv;
  qemuBinary?: string;
  /** Kernel to probe with; default: a base image's kernel from the base cache, else /boot. */
  kernel?: string;
  /** How long a healthy KVM may take to boot the kernel to its root-mount panic. */
  probeTimeoutMs?: number;
  /** The KVM device to check; default /dev/kvm (tests point it elsewhere to model hosts without one). */
  kvmDevice?: string;
  /** Replaces the real probe (unit tests of the caching logic). */
  probe?: (kernel: string, signal?: AbortSignal) => Promise<ProbeResult>;
}

interface CachedVerdict {
  key: string;
  accel: Accel;
  reason: string;
  probedAt: string;
}

const PANIC_MARK = 'Kernel panic';

/**
 * Chooses KVM when it really works here, else TCG. `/dev/kvm` existing is not
 * enough: on some nested hosts KVM runs a boot sector, even in long mode, but
 * then hangs in (or dies with "KVM internal error" inside) the Linux kernel.
 * So the probe boots an actual kernel under KVM, without a root disk, and
 * accepts KVM only if it reaches the "unable to mount root" panic in time.
 * The verdict is cached per QEMU version and host kernel release, so the
 * probe runs once; HALLMARK_ACCEL=kvm|tcg overrides everything. Without a
 * kernel to probe with, the answer is TCG and is not cached (a later base
 * image build supplies one). Correctness beats speed.
 */
export async function detectAccelerator(opts: DetectOptions = {}): Promise<AccelVerdict> {
  const env = opts.env ?? process.env;
  const forced = env.HALLMARK_ACCEL?.trim();
  if (forced) {
    if (forced !== 'kvm' && forced !== 'tcg') {
      throw new UsageError(`HALLMARK_ACCEL must be "kvm" or "tcg", found "${forced}"`, {
        hint: 'unset HALLMARK_ACCEL to let hallmark probe KVM',
      });
    }
    return verdict(forced, 'HALLMARK_ACCEL is set');
  }
  const device = opts.kvmDevice ?? '/dev/kvm';
  if (!(await kvmDeviceUsable(device))) return verdict('tcg', `${device} is missing or not read-write for this user`);

  const qemu = opts.qemuBinary ?? 'qemu-system-x86_64';
  const cacheFile = join(opts.cacheDir ?? hallmarkCacheDir(env), 'accel.json');
  const key = `${await qemuVersion(qemu, opts.signal)}|${release()}`;
  const cached = await readCached(cacheFile);
  if (cached && cached.key === key) return verdict(cached.accel, `${cached.reason} (cached ${cached.probedAt})`);

  const kernel = opts.kernel ?? (await findProbeKernel(env));
  if (!kernel) return verdict('tcg', 'no Linux kernel to probe KVM with yet (build a base image first)');

  opts.log?.info(`probing KVM by booting ${kernel}`);
  const probe = opts.probe ?? ((k: string, s?: AbortSignal) => probeKvm(qemu, k, opts.probeTimeoutMs ?? 8_000, s));
  const result = await probe(kernel, opts.signal);
  throwIfAborted(opts.signal);
  const accel: Accel = result.ok ? 'kvm' : 'tcg';
  await writeCached(cacheFile, { key, accel, reason: result.reason, probedAt: new Date().toISOString() });
  return verdict(accel, result.reason);
}

function verdict(accel: Accel, reason: string): AccelVerdict {
  return { accel, reason, args: [...ACCEL_ARGS[accel]] };
}

async function kvmDeviceUsable(device: string): Promise<boolean> {
  try {
    await access(device, constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

async function qemuVersion(qemu: string, signal?: AbortSignal): Promise<string> {
  const r = await execa(qemu, ['--version'], { cancelSignal: signal, reject: false });
  if (r.isCanceled) throw new CancelledError();
  return (r.stdout.split('\n')[0] ?? '').trim() || `unknown ${qemu}`;
}

/** A kernel from the base-image cache (newest first), else one from /boot. */
export async function findProbeKernel(env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  const candidates: { path: string; mtime: number }[] = [];
  for (const [dir, match] of [
    [defaultCacheDir(env), (n: string) => n.endsWith('.vmlinuz')],
    ['/boot', (n: string) => n.startsWith('vmlinuz')],
  ] as const) {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      continue;
    }
    for (const n of names.filter(match)) {
      const p = join(dir, n);
      try {
        await access(p, constants.R_OK);
        candidates.push({ path: p, mtime: (await stat(p)).mtimeMs });
      } catch {
        // unreadable (e.g. 0600 kernels on Ubuntu when not root): not usable
      }
    }
    if (candidates.length) break;
  }
  candidates.sort((a, b) => b.mtime - a.mtime);
  return candidates[0]?.path;
}

/**
 * Boots `kernel` under KVM with no disk; a healthy KVM reaches the root-mount
 * panic in about a second. Ends as soon as the panic or a KVM error shows,
 * or after `timeoutMs`. The QEMU process is always killed.
 */
export async function probeKvm(qemu: string, kernel: string, timeoutMs: number, signal?: AbortSignal): Promise<ProbeResult> {
  throwIfAborted(signal);
  const limit = withTimeout(signal, timeoutMs);
  const stop = new AbortController();
  const child = execa(
    qemu,
    [
      ...ACCEL_ARGS.kvm,
      '-nodefaults', '-display', 'none', '-m', '128', '-no-reboot', '-serial', 'stdio',
      '-kernel', kernel, '-append', 'console=ttyS0 panic=-1 root=/dev/hallmark-probe',
    ],
    { cancelSignal: AbortSignal.any([limit, stop.signal]), reject: false, forceKillAfterDelay: 2000, stdin: 'ignore' },
  );
  let out = '';
  let panicked = false;
  let kvmError = false;
  const onData = (chunk: Buffer) => {
    out = (out + chunk.toString()).slice(-8192);
    if (out.includes(PANIC_MARK)) panicked = true;
    if (/KVM internal error|kvm run failed|KVM_EXIT|emulation failure/i.test(out)) kvmError = true;
    if (panicked || kvmError) stop.abort();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const started = Date.now();
  const r = await child;
  if (signal?.aborted) throw new CancelledError('interrupted', { cause: signal.reason });
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  if (kvmError) return { ok: false, reason: `KVM failed while booting a kernel: ${lastLine(out)}` };
  if (panicked) return { ok: true, reason: `KVM booted a Linux kernel in ${secs}s` };
  if (limit.aborted) return { ok: false, reason: `KVM did not boot a Linux kernel within ${timeoutMs / 1000}s (hung)` };
  return { ok: false, reason: `QEMU with KVM exited (${r.exitCode ?? r.signal}) before the kernel booted: ${lastLine(out)}` };
}

function lastLine(text: string): string {
  return text.trim().split('\n').pop()?.trim() ?? '';
}

async function readCached(file: string): Promise<CachedVerdict | undefined> {
  try {
    const v = JSON.parse(await readFile(file, 'utf8')) as Partial<CachedVerdict>;
    if (typeof v.key === 'string' && (v.accel === 'kvm' || v.accel === 'tcg') && typeof v.reason === 'string') {
      return v as CachedVerdict;
    }
  } catch {
    // missing or corrupt: probe again
  }
  return undefined;
}

/** Written to a temp name and renamed, so concurrent probes never see half a file. */
async function writeCached(file: string, v: CachedVerdict): Promise<void> {
  const dir = join(file, '..');
  await mkdir(dir, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(v, null, 2) + '\n');
  await rename(tmp, file);
}
