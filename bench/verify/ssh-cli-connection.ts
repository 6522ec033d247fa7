/**
 * A minimal Connection over the OpenSSH client (`ssh`), for the benchmark and
 * for running spec suites over a real sshd before the ssh transport lands.
 * One master connection is shared (ControlMaster), as testinfra and
 * serverspec do, so every tool pays the handshake once.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import type { Connection, ExecOptions, ExecResult } from '../../src/transports/transport.js';

export interface SshCliTarget {
  host: string;
  port: number;
  username: string;
  privateKeyPath: string;
}

export class SshCliConnection implements Connection {
  private controlDir?: string;
  constructor(private readonly t: SshCliTarget) {}

  /** The ssh options, also used to give testinfra/serverspec the same target. */
  async sshArgs(): Promise<string[]> {
    this.controlDir ??= await mkdtemp(path.join(os.tmpdir(), 'hm-sshcli-'));
    return [
      '-o', 'BatchMode=yes',
      '-o', 'StrictHostKeyChecking=no',
      '-o', 'UserKnownHostsFile=/dev/null',
      '-o', 'LogLevel=ERROR',
      '-o', 'ControlMaster=auto',
      '-o', `ControlPath=${this.controlDir}/cm-%r@%h:%p`,
      '-o', 'ControlPersist=60',
      '-i', this.t.privateKeyPath,
      '-p', String(this.t.port),
      '-l', this.t.username,
      this.t.host,
    ];
  }

  async exec(command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    const start = Date.now();
    const remote = opts.sudo && this.t.username !== 'root' ? `sudo -n sh -c '${command.replace(/'/g, `'\\''`)}'` : command;
    const r = await execa('ssh', [...(await this.sshArgs()), '--', remote], {
      reject: false,
      input: opts.stdin,
      stdin: opts.stdin === undefined ? 'ignore' : undefined,
      cancelSignal: opts.signal,
      timeout: opts.timeoutMs,
      stripFinalNewline: false,
    });
    return {
      stdout: String(r.stdout ?? ''),
      stderr: String(r.stderr ?? ''),
      exitCode: r.timedOut || r.signal ? null : (r.exitCode ?? null),
      timedOut: r.timedOut,
      durationMs: Date.now() - start,
    };
  }

  async upload(): Promise<void> {
    throw new Error('not supported by SshCliConnection');
  }

  async download(): Promise<void> {
    throw new Error('not supported by SshCliConnection');
  }

  /** Ends the shared master connection and removes its socket directory. */
  async close(): Promise<void> {
    if (!this.controlDir) return;
    await execa('ssh', ['-O', 'exit', ...(await this.sshArgs())], { reject: false });
    await rm(this.controlDir, { recursive: true, force: true });
    this.controlDir = undefined;
  }
}
