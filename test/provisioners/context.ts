/**
 * Shared set-up for provisioner and verifier tests against the real sshd of
 * test/helpers/sshd.ts: an InstanceConfig for a temporary project, a logger
 * that records everything, and an SSH connection through the real transport.
 */
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { InstanceConfig } from '../../src/config/types.js';
import type { Logger } from '../../src/kernel/events.js';
import { SshTransport } from '../../src/transports/ssh/transport.js';
import type { Connection, ConnectionTarget } from '../../src/transports/transport.js';
import type { Sshd } from '../helpers/sshd.js';

export interface RecordingLogger extends Logger {
  /** Every message and output chunk, in order. */
  all(): string;
  output_(): string;
}

export function recordingLogger(): RecordingLogger {
  const lines: string[] = [];
  const out: string[] = [];
  return {
    debug: (m) => lines.push(`[debug] ${m}\n`),
    info: (m) => lines.push(`[info] ${m}\n`),
    warn: (m) => lines.push(`[warn] ${m}\n`),
    error: (m) => lines.push(`[error] ${m}\n`),
    progress: (m) => lines.push(`[progress] ${m}\n`),
    output: (_s, t) => {
      lines.push(t);
      out.push(t);
    },
    all: () => lines.join(''),
    output_: () => out.join(''),
  };
}

export async function tempProject(): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), 'hallmark-prov-test-'));
}

export function instanceConfig(projectDir: string, name = 'default-test'): InstanceConfig {
  return {
    name,
    suite: 'default',
    platform: 'test',
    driver: { name: 'none' },
    transport: { name: 'ssh' },
    provisioner: { name: 'shell' },
    verifier: { name: 'shell' },
    file: path.join(projectDir, 'hallmark.yml'),
    projectDir,
  } as unknown as InstanceConfig;
}

export function targetOf(sshd: Sshd, user: 'user' | 'root' = 'user', hostKey?: ConnectionTarget['hostKey']): ConnectionTarget {
  return {
    hostname: sshd.host,
    port: sshd.port,
    username: user === 'root' ? sshd.rootUsername : sshd.username,
    privateKeyPath: sshd.privateKeyPath,
    hostKey: hostKey ?? { expected: sshd.hostKeyFingerprint },
    maxWaitUntilReadyMs: 10_000,
  };
}

export async function connect(target: ConnectionTarget, log: Logger): Promise<Connection> {
  return new SshTransport({}).connect(target, { log });
}
