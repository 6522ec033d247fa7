import { cp, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import type { Connection, ExecOptions, ExecResult } from '../transport.js';

/**
 * A Connection to the machine hallmark runs on (`verify --target local`),
 * with the same semantics as the SSH one: commands run through `sh -c`,
 * output is streamed, a timeout kills the command and yields exitCode null.
 */
export class LocalConnection implements Connection {
  async exec(command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    const start = Date.now();
    const argv = opts.sudo && process.getuid?.() !== 0 ? ['sudo', '-n', 'sh', '-c', command] : ['sh', '-c', command];
    const child = execa(argv[0]!, argv.slice(1), {
      reject: false,
      stdin: opts.stdin === undefined ? 'ignore' : 'pipe',
      input: opts.stdin,
      env: opts.env,
      // Own process group, so that a timeout or abort ends the whole tree
      // (a shell's children would otherwise keep the pipes open).
      detached: true,
      stripFinalNewline: false,
      encoding: 'utf8',
    });
    let timedOut = false;
    let cancelled = false;
    const killTree = () => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, 'SIGTERM');
        setTimeout(() => {
          try {
            process.kill(-child.pid!, 'SIGKILL');
          } catch {
            /* already gone */
          }
        }, 2000).unref();
      } catch {
        /* already gone */
      }
    };
    const timer = opts.timeoutMs
      ? setTimeout(() => {
          timedOut = true;
          killTree();
        }, opts.timeoutMs)
      : undefined;
    const onAbort = () => {
      cancelled = true;
      killTree();
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    if (opts.signal?.aborted) onAbort();
    child.stdout?.on('data', (d: Buffer) => opts.onStdout?.(d.toString()));
    child.stderr?.on('data', (d: Buffer) => opts.onStderr?.(d.toString()));
    const r = await child.finally(() => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
    });
    if (cancelled) {
      const { CancelledError } = await import('../../kernel/errors.js');
      throw new CancelledError('interrupted', { cause: r });
    }
    return {
      stdout: String(r.stdout ?? ''),
      stderr: String(r.stderr ?? ''),
      exitCode: timedOut || r.signal ? null : (r.exitCode ?? null),
      signal: r.signal ?? undefined,
      timedOut,
      durationMs: Date.now() - start,
    };
  }

  async upload(localPath: string, remotePath: string, opts: { mode?: number } = {}): Promise<void> {
    await mkdir(path.dirname(remotePath), { recursive: true });
    await cp(localPath, remotePath, { recursive: true, force: true });
    if (opts.mode !== undefined) {
      const { chmod } = await import('node:fs/promises');
      await chmod(remotePath, opts.mode);
    }
  }

  async download(remotePath: string, localPath: string): Promise<void> {
    await mkdir(path.dirname(localPath), { recursive: true });
    await cp(remotePath, localPath, { recursive: true, force: true });
  }

  async close(): Promise<void> {}
}
