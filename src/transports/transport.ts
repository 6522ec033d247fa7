import type { Logger } from '../kernel/events.js';

export interface ExecOptions {
  signal?: AbortSignal;
  /** Kill the command after this long; the result then has exitCode null. */
  timeoutMs?: number;
  /** Run through `sudo -n` (non-root users). */
  sudo?: boolean;
  env?: Record<string, string>;
  stdin?: string | Buffer;
  onStdout?: (chunk: string) => void;
  onStderr?: (chunk: string) => void;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  /** null when the command was killed (timeout, signal) or the connection dropped. */
  exitCode: number | null;
  signal?: string;
  timedOut?: boolean;
  durationMs: number;
}

/** An open session with one machine. One connection is reused for a whole step. */
export interface Connection {
  exec(command: string, opts?: ExecOptions): Promise<ExecResult>;
  /** Uploads a file or, recursively, a directory. */
  upload(localPath: string, remotePath: string, opts?: { signal?: AbortSignal; mode?: number }): Promise<void>;
  /** Downloads a file or, recursively, a directory. */
  download(remotePath: string, localPath: string, opts?: { signal?: AbortSignal }): Promise<void>;
  close(): Promise<void>;
}

/** How to reach a machine. Drivers provide it; the transport block may override fields. */
export interface ConnectionTarget {
  hostname: string;
  port: number;
  username: string;
  privateKeyPath?: string;
  password?: string;
  /**
   * Host key pinning. `expected` is a SHA256 fingerprint (`SHA256:base64`) the
   * server must present; when absent and `record` is given, the first key
   * seen is passed to `record` (trust on first use) and must match afterwards.
   */
  hostKey?: {
    expected?: string;
    record?: (fingerprint: string) => Promise<void>;
    /** Skip checking altogether (only when the user asked for it). */
    insecure?: boolean;
  };
  /** Bastion to tunnel through. */
  gateway?: { hostname: string; port: number; username: string; privateKeyPath?: string };
  /** Overall time to wait for SSH to answer, with backoff. */
  maxWaitUntilReadyMs?: number;
  /** Serial console log: its tail goes into the error when SSH never answers. */
  consoleLogPath?: string;
}

export interface Transport {
  readonly name: string;
  /** Connects, waiting with backoff until the machine answers or the wait runs out. */
  connect(target: ConnectionTarget, opts: { signal?: AbortSignal; log: Logger }): Promise<Connection>;
  /**
   * The target as `connect` will reach it: the driver's target with this
   * transport's own overrides (hostname, port, username, key) applied. The
   * pipeline hands this to provisioners and verifiers, so that they see the
   * user they are logged in as. Optional: without it the driver's target is used.
   */
  resolveTarget?(target: ConnectionTarget): ConnectionTarget;
}
