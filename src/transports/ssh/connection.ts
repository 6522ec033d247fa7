import { StringDecoder } from 'node:string_decoder';
import type { Client, ClientChannel, SFTPWrapper } from 'ssh2';
import { throwIfAborted } from '../../kernel/abort.js';
import { CancelledError } from '../../kernel/errors.js';
import type { Logger } from '../../kernel/events.js';
import type { Connection, ExecOptions, ExecResult } from '../transport.js';
import { ConnectionLostError } from './errors.js';
import { buildRemoteCommand } from './quote.js';
import { download, upload } from './sftp.js';

/** How long a killed command gets to exit after SIGTERM before its channel is closed regardless. */
const KILL_GRACE_MS = 1000;

/**
 * One authenticated SSH connection, reused for a whole step: every `exec`
 * opens its own channel on it, every transfer its own SFTP session.
 *
 * If the connection drops (machine rebooted, network gone, keepalive timeout),
 * every pending exec and transfer is rejected with ConnectionLostError, and so
 * is every later call. `close()` is idempotent.
 */
export class SshConnection implements Connection {
  private lost: ConnectionLostError | undefined;
  private closing = false;
  private clientClosed = false;
  /** Rejecters of everything in flight, called when the connection drops. */
  private readonly pending = new Set<(err: Error) => void>();

  constructor(
    private readonly client: Client,
    private readonly gateway: Client | undefined,
    private readonly where: string,
    private readonly username: string,
    private readonly log: Logger,
  ) {
    let lastError: Error | undefined;
    client.on('error', (err: Error) => {
      lastError = err;
    });
    client.on('close', () => {
      this.clientClosed = true;
      this.dropped(lastError);
    });
  }

  /**
   * An interactive login shell on a pty, wired to this process's terminal
   * (`hallmark login`). Resolves with the shell's exit code.
   */
  shell(): Promise<number> {
    this.assertUsable('open a shell');
    const stdin = process.stdin;
    const rows = process.stdout.rows ?? 24;
    const cols = process.stdout.columns ?? 80;
    return new Promise<number>((resolve, reject) => {
      this.client.shell({ term: process.env.TERM ?? 'xterm-256color', rows, cols }, (err, ch) => {
        if (err) return reject(err);
        const raw = stdin.isTTY;
        if (raw) stdin.setRawMode(true);
        stdin.resume();
        stdin.pipe(ch);
        ch.pipe(process.stdout);
        ch.stderr.pipe(process.stderr);
        const onResize = () => ch.setWindow(process.stdout.rows ?? rows, process.stdout.columns ?? cols, 0, 0);
        process.stdout.on('resize', onResize);
        let code = 0;
        ch.on('exit', (c: number | null) => {
          code = c ?? 255;
        });
        ch.on('close', () => {
          stdin.unpipe(ch);
          if (raw) stdin.setRawMode(false);
          stdin.pause();
          process.stdout.off('resize', onResize);
          resolve(code);
        });
      });
    });
  }

  private dropped(err: Error | undefined): void {
    if (this.closing || this.lost) return;
    this.lost = new ConnectionLostError(
      `the SSH connection to ${this.where} dropped${err ? ` (${err.message})` : ''}`,
      {
        cause: err,
        hint: 'the machine may have rebooted, crashed or run out of memory, or the network went away; check its console log',
      },
    );
    if (this.pending.size > 0) this.log.warn(`${this.lost.message}; ${this.pending.size} operation(s) were in flight`);
    for (const fail of [...this.pending]) fail(this.lost);
    this.pending.clear();
  }

  private assertUsable(what: string): void {
    if (this.lost) throw new ConnectionLostError(`cannot ${what}: ${this.lost.message}`, { cause: this.lost, hint: this.lost.hint });
    if (this.closing) throw new ConnectionLostError(`cannot ${what}: the connection to ${this.where} was closed`);
  }

  /** Runs `work` so that a dropped connection rejects it. */
  private track<T>(work: (fail: (err: Error) => void) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let failed = false;
      const fail = (err: Error) => {
        failed = true;
        reject(err);
      };
      this.pending.add(fail);
      work(fail).then(
        (v) => {
          this.pending.delete(fail);
          if (!failed) resolve(v);
        },
        (e: unknown) => {
          this.pending.delete(fail);
          if (!failed) reject(e);
        },
      );
    });
  }

  async exec(command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    throwIfAborted(opts.signal);
    this.assertUsable(`run ${JSON.stringify(command)}`);
    const remote = buildRemoteCommand(command, { env: opts.env, sudo: opts.sudo, username: this.username });
    const start = Date.now();
    return this.track(
      (failLost) =>
        new Promise<ExecResult>((resolve, reject) => {
          // Listeners must be attached inside this callback, synchronously: a
          // fast command's output, exit status and close can arrive in the same
          // read as the channel confirmation, and ssh2 emits 'exit' only once.
          this.client.exec(remote, (err, channel) => {
            if (err) {
              return reject(
                new ConnectionLostError(`could not start ${JSON.stringify(command)} on ${this.where}: ${err.message}`, {
                  cause: err,
                  hint: 'the server refused a new session (sshd MaxSessions?) or the connection is going away',
                }),
              );
            }
            runChannel(channel, opts, start, failLost).then(resolve, reject);
          });
        }),
    );
  }

  private openSftp(signal: AbortSignal | undefined): Promise<SFTPWrapper> {
    throwIfAborted(signal);
    return new Promise((resolve, reject) => this.client.sftp((err, sftp) => (err ? reject(err) : resolve(sftp))));
  }

  /** Runs one transfer in its own SFTP session; an abort ends the session, which fails the transfer. */
  private async transfer(what: string, signal: AbortSignal | undefined, fn: (sftp: SFTPWrapper) => Promise<void>): Promise<void> {
    this.assertUsable(what);
    return this.track(async () => {
      const sftp = await this.openSftp(signal);
      const onAbort = () => sftp.end();
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        await fn(sftp);
      } catch (err) {
        if (signal?.aborted) throw new CancelledError('interrupted', { cause: err });
        throw err;
      } finally {
        signal?.removeEventListener('abort', onAbort);
        sftp.end();
      }
      throwIfAborted(signal);
    });
  }

  upload(localPath: string, remotePath: string, opts: { signal?: AbortSignal; mode?: number } = {}): Promise<void> {
    return this.transfer(`upload ${localPath}`, opts.signal, (sftp) => upload(sftp, localPath, remotePath, opts));
  }

  download(remotePath: string, localPath: string, opts: { signal?: AbortSignal } = {}): Promise<void> {
    return this.transfer(`download ${remotePath}`, opts.signal, (sftp) => download(sftp, remotePath, localPath, opts));
  }

  /** Ends the connection (and the gateway's). Commands still running are cut off. Idempotent. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    // Waits for the socket to close, but not forever: a dead peer may never answer.
    const closed = this.clientClosed
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          const t = setTimeout(resolve, 2000);
          this.client.once('close', () => {
            clearTimeout(t);
            resolve();
          });
        });
    for (const fail of [...this.pending]) fail(new ConnectionLostError(`the connection to ${this.where} was closed while work was in flight`));
    this.pending.clear();
    this.client.end();
    this.gateway?.end();
    await closed;
  }
}

/**
 * Sends a "signal" channel request. ssh2's `channel.signal()` does nothing
 * once our side of the channel has sent EOF, which every exec does right
 * away (stdin is fed and closed at start, so that commands reading stdin do
 * not hang); yet the request is still valid in SSH after EOF, and OpenSSH
 * acts on it (killpg of the command's session). So the protocol layer is
 * called directly. Never throws.
 */
function sendSignal(channel: ClientChannel, name: string): void {
  const ch = channel as unknown as {
    outgoing?: { id?: number; state?: string };
    _client?: { _protocol?: { signal(id: number, signal: string): void } };
  };
  try {
    if (ch.outgoing?.id !== undefined && ch.outgoing.state !== 'closed' && ch._client?._protocol) {
      ch._client._protocol.signal(ch.outgoing.id, name);
    } else {
      channel.signal(name);
    }
  } catch {
    /* the channel is already going away */
  }
}

/**
 * Streams one command's channel to completion. A timeout or abort sends
 * SIGTERM (OpenSSH delivers it with killpg to the command's process group, so
 * a shell's children go too; sudo relays it), gives the command KILL_GRACE_MS
 * to exit, then closes the channel. Processes that left the group (setsid,
 * daemons) survive, as they would a Ctrl-C.
 */
function runChannel(
  channel: ClientChannel,
  opts: ExecOptions,
  start: number,
  failLost: (err: Error) => void,
): Promise<ExecResult> {
  return new Promise<ExecResult>((resolve, reject) => {
    const out = new StringDecoder('utf8');
    const errDec = new StringDecoder('utf8');
    let stdout = '';
    let stderr = '';
    let exitCode: number | null = null;
    let exitSignal: string | undefined;
    let timedOut = false;
    let settled = false;

    const cleanup = () => {
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
    };
    const result = (): ExecResult => ({
      stdout: stdout + out.end(),
      stderr: stderr + errDec.end(),
      exitCode: timedOut ? null : exitCode,
      ...(exitSignal ? { signal: exitSignal } : {}),
      ...(timedOut ? { timedOut: true } : {}),
      durationMs: Date.now() - start,
    });
    const kill = (then: () => void) => {
      sendSignal(channel, 'TERM');
      const grace = setTimeout(() => {
        channel.close();
        then();
      }, KILL_GRACE_MS);
      channel.once('close', () => {
        clearTimeout(grace);
        then();
      });
    };

    const timer = opts.timeoutMs
      ? setTimeout(() => {
          if (settled) return;
          timedOut = true;
          cleanup();
          kill(() => resolve(result()));
        }, opts.timeoutMs)
      : undefined;
    const onAbort = () => {
      if (settled) return;
      cleanup();
      kill(() => reject(new CancelledError('interrupted', { cause: opts.signal?.reason })));
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    if (opts.signal?.aborted) onAbort();

    channel.on('data', (d: Buffer) => {
      const s = out.write(d);
      stdout += s;
      if (s) opts.onStdout?.(s);
    });
    channel.stderr.on('data', (d: Buffer) => {
      const s = errDec.write(d);
      stderr += s;
      if (s) opts.onStderr?.(s);
    });
    channel.on('exit', (code: number | null, signal?: string) => {
      if (typeof code === 'number') exitCode = code;
      else exitSignal = signal;
    });
    channel.on('close', () => {
      if (settled) return;
      cleanup();
      resolve(result());
    });
    // A dropped connection closes channels too; make sure that is not taken for success.
    channel.on('error', (err: Error) => {
      if (settled) return;
      cleanup();
      failLost(err);
    });
    if (opts.stdin !== undefined) channel.end(opts.stdin);
    else channel.end();
  });
}
