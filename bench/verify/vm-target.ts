/**
 * Test helper for the e2e spec tests: a fresh debian-12 base image VM
 * (test/helpers/vm.ts, plain QEMU) reached through the real ssh transport,
 * with the injected host key pinned by fingerprint. `stop()` closes the
 * connection and kills the VM by its PID; call it in afterAll.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { silentLogger } from '../../src/kernel/events.js';
import { resolveBaseImage } from '../../src/drivers/qemu/base/index.js';
import { GUEST_USER } from '../../src/drivers/qemu/base/guest-files.js';
import { SshTransport } from '../../src/transports/ssh/transport.js';
import type { Connection, ConnectionTarget } from '../../src/transports/transport.js';
import { bootVm, type BootedVm } from '../../test/helpers/vm.js';

export interface VmTarget {
  vm: BootedVm;
  target: ConnectionTarget;
  connection: Connection;
  stop(): Promise<void>;
}

/** `SHA256:base64` (unpadded) of an OpenSSH public key line, as ssh-keygen -l prints it. */
export async function fingerprintOf(publicKeyPath: string): Promise<string> {
  const blob = Buffer.from((await readFile(publicKeyPath, 'utf8')).trim().split(/\s+/)[1]!, 'base64');
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

export async function bootDebian12(signal?: AbortSignal): Promise<VmTarget> {
  const image = process.env.HALLMARK_TEST_BASE_IMAGE ?? (await resolveBaseImage('debian-12')).path;
  const vm = await bootVm({ image });
  try {
    const target: ConnectionTarget = {
      hostname: '127.0.0.1',
      port: vm.sshPort,
      username: GUEST_USER,
      privateKeyPath: vm.privateKeyPath,
      hostKey: { expected: await fingerprintOf(vm.hostPublicKeyPath!) },
      maxWaitUntilReadyMs: 540_000,
      consoleLogPath: vm.consoleLog,
    };
    const connection = await new SshTransport({}).connect(target, { signal, log: silentLogger });
    const stop = async () => {
      await connection.close().catch(() => {});
      await vm.stop();
    };
    return { vm, target, connection, stop };
  } catch (err) {
    await vm.stop();
    throw err;
  }
}
