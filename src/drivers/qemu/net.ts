import { connect, createServer } from 'node:net';
import { poll } from '../../kernel/abort.js';
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

/**
 * Waits, with backoff (1 s doubling to 5 s), until the guest's SSH server
 * answers on the forwarded port. Errors carry the console log's tail, which
 * is where a guest that does not boot says why.
 */
export async function waitForSshBanner(port: number, opts: BannerWaitOptions): Promise<void> {
  const start = Date.now();
  const answered = await poll(
    async () => {
      if (!opts.stillRunning()) {
        throw new QemuError(`qemu exited before the guest's SSH server answered on 127.0.0.1:${port}${await consoleTail(opts.consoleLogPath)}`, {
          hint: 'the console log shows how far the guest got; a kernel panic or a full disk shows there',
        });
      }
      return (await probeSshBanner(port, 5000, opts.signal)) || undefined;
    },
    { delayMs: 1000, maxDelayMs: 5000, maxWaitMs: opts.maxWaitMs, signal: opts.signal, onPoll: opts.onPoll },
  );
  if (answered) return;
  throw new TimeoutError(
    `the guest's SSH server did not answer on 127.0.0.1:${port} within ${Math.round((Date.now() - start) / 1000)}s${await consoleTail(opts.consoleLogPath)}`,
    { hint: 'raise the driver\'s boot_timeout (software emulation, TCG, is slow), or read the console log' },
  );
}

