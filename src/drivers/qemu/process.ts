import { readFile, readdir } from 'node:fs/promises';
import { connect } from 'node:net';
import { poll } from '../../kernel/abort.js';
import { isAlive } from '../../kernel/process.js';

/**
 * Finding, watching and stopping the qemu process of one instance. qemu runs
 * daemonized (not our child), so it is tracked by PID, and a PID is only ever
 * signalled after /proc/<pid>/cmdline shows it is the qemu of this instance's
 * overlay: a recycled PID never gets a signal.
 */

async function cmdline(pid: number): Promise<string[] | undefined> {
  try {
    const raw = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    return raw.split('\0').filter(Boolean);
  } catch {
    return undefined;
  }
}

/** Whether `pid` is alive and is a qemu whose command line names `overlay`. */
export async function isOurQemu(pid: number, overlay: string): Promise<boolean> {
  const args = await cmdline(pid);
  if (!args || args.length === 0) return false;
  if (!/qemu-system/.test(args[0] ?? '')) return false;
  if (!args.some((a) => a.includes(overlay))) return false;
  return !(await isZombie(pid));
}

async function isZombie(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // The state follows the parenthesised command name, which may contain spaces.
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return true;
  }
}

/**
 * The qemu processes running this overlay. Used by destroy when the journal
 * has no PID yet (hallmark was killed between starting qemu and recording it).
 */
export async function findQemuByOverlay(overlay: string): Promise<number[]> {
  const found: number[] = [];
  for (const name of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    if (pid !== process.pid && (await isOurQemu(pid, overlay))) found.push(pid);
  }
  return found;
}

/** Resolves true when `pid` is gone (or a zombie) within `ms`; polls every 200 ms; observes the signal. */
export async function waitForExit(pid: number, ms: number, signal?: AbortSignal): Promise<boolean> {
  const gone = await poll(async () => (!isAlive(pid) || (await isZombie(pid)) ? true : undefined), { delayMs: 200, maxWaitMs: ms, signal });
  return gone ?? false;
}

/**
 * Stops the qemu of `overlay` running as `pid`: SIGTERM (qemu then closes its
 * disks cleanly), up to `graceMs`, then SIGKILL. Returns false when `pid` is
 * not that qemu (already gone, or the PID now belongs to someone else).
 */
export async function stopQemu(pid: number, overlay: string, opts: { graceMs?: number; signal?: AbortSignal } = {}): Promise<boolean> {
  if (!(await isOurQemu(pid, overlay))) return false;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return true;
  }
  if (await waitForExit(pid, opts.graceMs ?? 10_000, opts.signal)) return true;
  if (await isOurQemu(pid, overlay)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone meanwhile */
    }
  }
  return waitForExit(pid, 10_000, opts.signal);
}

export async function readPidFile(file: string): Promise<number | undefined> {
  const n = Number.parseInt(await readFile(file, 'utf8').catch(() => ''), 10);
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

/**
 * Sends one QMP command (after the capabilities handshake) over qemu's unix
 * socket and resolves with the reply. Used for `system_powerdown` (ACPI power
 * button) when the caller cannot shut the guest down over SSH.
 */
export function qmpCommand(socketPath: string, command: string, timeoutMs: number, signal?: AbortSignal): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const sock = connect(socketPath);
    let buf = '';
    let stage = 0;
    const finish = (err: Error | undefined, value?: unknown) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      sock.destroy();
      if (err) reject(err);
      else resolve(value);
    };
    const onAbort = () => finish(new Error('QMP command aborted'));
    const timer = setTimeout(() => finish(new Error(`no QMP answer on ${socketPath} within ${timeoutMs} ms`)), timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    sock.on('error', (e) => finish(e));
    sock.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (!line) continue;
        const msg = JSON.parse(line) as { QMP?: unknown; return?: unknown; error?: { desc?: string }; event?: string };
        if (msg.event) continue;
        if (msg.error) return finish(new Error(`QMP ${command}: ${msg.error.desc ?? JSON.stringify(msg.error)}`));
        if (stage === 0 && msg.QMP) {
          stage = 1;
          sock.write(JSON.stringify({ execute: 'qmp_capabilities' }) + '\n');
        } else if (stage === 1 && 'return' in msg) {
          stage = 2;
          sock.write(JSON.stringify({ execute: command }) + '\n');
        } else if (stage === 2 && 'return' in msg) {
          return finish(undefined, msg.return);
        }
      }
    });
  });
}
