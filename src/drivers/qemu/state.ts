import path from 'node:path';
import { z } from 'zod';
import type { Journal } from '../../kernel/journal.js';

/**
 * What the qemu driver records in the instance journal (`state.driver`). Every
 * field is written the moment it is known — paths and the port before qemu
 * starts, the PID right after — so `destroy` works from the journal alone,
 * even after hallmark was killed with SIGKILL mid-create.
 */
export const qemuStateSchema = z.object({
  instanceDir: z.string(),
  overlay: z.string(),
  baseImage: z.string().optional(),
  /** What `image:` said, and the base's sha256 when known: both go into the captured image's metadata. */
  baseName: z.string().optional(),
  baseSha256: z.string().optional(),
  privateKeyPath: z.string(),
  hostKeyPath: z.string().optional(),
  hostKeyFingerprint: z.string().optional(),
  port: z.number().int().optional(),
  username: z.string().default('debian'),
  consoleLogPath: z.string().optional(),
  qmpSocket: z.string().optional(),
  pidFile: z.string().optional(),
  pid: z.number().int().optional(),
  accel: z.string().optional(),
  accelReason: z.string().optional(),
  cloudInit: z.boolean().optional(),
  startedAt: z.string().optional(),
  /** Milliseconds from qemu's start to the guest's first SSH banner (boot-to-SSH, for benchmarks). */
  bootMs: z.number().int().optional(),
  /** Set by capture once the guest powered off (the overlay then holds the final disk). */
  stoppedAt: z.string().optional(),
});

export type QemuState = z.output<typeof qemuStateSchema>;

/**
 * The driver's record, or undefined when the journal holds no machine (never
 * created, or destroyed). A damaged record is a StateFileError, never "no machine".
 */
export function readQemuState(journal: Journal): QemuState | undefined {
  return journal.driverRecord(qemuStateSchema, 'qemu');
}

/** Where one instance's files live. The instance dir holds everything destroy removes. */
export function instancePaths(stateDir: string, instance: string) {
  const instanceDir = path.resolve(stateDir, 'qemu', instance);
  return {
    instanceDir,
    overlay: path.join(instanceDir, 'overlay.qcow2'),
    privateKeyPath: path.join(instanceDir, 'id_ed25519'),
    hostKeyPath: path.join(instanceDir, 'ssh_host_ed25519_key'),
    authorizedKeys: path.join(instanceDir, 'authorized_keys'),
    seedIso: path.join(instanceDir, 'seed.iso'),
    pidFile: path.join(instanceDir, 'qemu.pid'),
    qmpSocket: path.join(instanceDir, 'qmp.sock'),
    consoleLogPath: path.resolve(stateDir, 'logs', `${instance}.console.log`),
  };
}
