import { connect, createServer } from 'node:net';
import { sleep, throwIfAborted } from '../../kernel/abort.js';
import { consoleTail } from '../../kernel/log-file.js';
import { TimeoutError } from '../../kernel/errors.js';
import { QemuError } from './errors.js';

/**
 * A free loopback port: bind 127.0.0.1:0, read the port, close. Another
 * process may take it before qemu binds it; the caller retries the start
 * with a new port when qemu reports the forwarding rule failed.
 */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * One probe: connects and resolves true when the peer sends an SSH banner
 * ("SSH-") within `timeoutMs`. QEMU's hostfwd accepts every connection even
 * before the guest listens (and then closes it), so a TCP connect alone
 * proves nothing: only the banner does.
 */
export function probeSshBanner(port: number, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    let buf = '';
    let done = false;
    const sock = connect({ host: '127.0.0.1', port });
    const finish = (ok: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      sock.destroy();
      resolve(ok);
    };
    const onAbort = () => finish(false);
    const timer = setTimeout(() => finish(false), timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    sock.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      if (buf.includes('SSH-')) finish(true);
      else if (buf.length > 4096) finish(false);
    });
    sock.on('error', () => finish(false));
    sock.on('close', () => finish(false));
  });
}

export interface BannerWaitOptions {
  maxWaitMs: number;
  signal?: AbortSignal;
  /** Checked between probes: the wait ends at once with an error when qemu is gone. */
  stillRunning: () => boolean;
  consoleLogPath?: string;
  onPoll?: (elapsedMs: number) => void;
}

/** A new banner probe starts this often while fewer than MAX_PROBES wait. */
const PROBE_EVERY_MS = 250;
/** How long one probe waits for its banner (a loaded guest's sshd can take seconds to send it). */
const PROBE_TIMEOUT_MS = 5_000;
/**
 * Probes waiting at once, at most. Every probe QEMU holds is a SYN it
 * retransmits to the guest, and each becomes an sshd child once sshd listens:
 * with one probe every 250 ms for 15 s, sixty reached sshd together, beyond
 * its MaxStartups (10), and the real connection then waited 39 s.
 */
const MAX_PROBES = 5;

/**
 * Waits until the guest's SSH server answers on the forwarded port. Probes
 * overlap, up to five, a new one as soon as there is room (every 250 ms at
 * most), each waiting up to 5 s: QEMU's user networking holds a connection
 * open without an answer while the guest has no network yet (and
 * retransmits its SYN with backoff later), so one probe at a time with a
 * pause between found a listening sshd seconds late. The wait ends at once
 * when qemu exits. Errors carry the console log's tail, which is where a
 * guest that does not boot says why.
 */
export async function waitForSshBanner(port: number, opts: BannerWaitOptions): Promise<void> {
  const start = Date.now();
  // Ends the probes still waiting when the wait ends, however it ends.
  const probes = new AbortController();
  const onAbort = () => probes.abort();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  let answered = false;
  let waiting = 0;
  let wake: () => void = () => undefined;
  const woken = new Promise<void>((resolve) => (wake = resolve));
  let lastPoll = 0;
  try {
    for (;;) {
      throwIfAborted(opts.signal);
      if (answered) return;
      if (!opts.stillRunning()) {
        throw new QemuError(`qemu exited before the guest's SSH server answered on 127.0.0.1:${port}${await consoleTail(opts.consoleLogPath)}`, {
          hint: 'the console log shows how far the guest got; a kernel panic or a full disk shows there',
        });
      }
      const elapsed = Date.now() - start;
      if (elapsed >= opts.maxWaitMs) break;
      if (elapsed - lastPoll >= 1000) {
        lastPoll = elapsed;
        opts.onPoll?.(elapsed);
      }
      if (waiting < MAX_PROBES) {
        waiting++;
        void probeSshBanner(port, PROBE_TIMEOUT_MS, probes.signal).then((ok) => {
          waiting--;
          if (ok) {
            answered = true;
            wake();
          }
        });
      }
      await Promise.race([sleep(Math.min(PROBE_EVERY_MS, Math.max(1, opts.maxWaitMs - elapsed)), opts.signal), woken]);
    }
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    probes.abort();
  }
  if (answered) return;
  throw new TimeoutError(
    `the guest's SSH server did not answer on 127.0.0.1:${port} within ${Math.round((Date.now() - start) / 1000)}s${await consoleTail(opts.consoleLogPath)}`,
    { hint: 'raise the driver\'s boot_timeout (software emulation, TCG, is slow), or read the console log' },
  );
}

