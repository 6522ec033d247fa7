import type { InstanceConfig } from '../config/types.js';
import type { Driver, DriverContext, ImageCapability } from '../drivers/driver.js';
import type { Provisioner } from '../provisioners/provisioner.js';
import type { Connection, ConnectionTarget, Transport } from '../transports/transport.js';
import type { Verifier, VerifyReport } from '../verifiers/verifier.js';
import type { EventBus, Logger } from '../kernel/events.js';
import type { ImageRecord, Journal, ParameterRecord } from '../kernel/journal.js';

/**
 * What one instance's pipeline knows before its steps run. What the steps
 * make is typed per stage below: a step that needs an earlier step's output
 * declares the stage it runs at, and the Chain (chain.ts) it is placed in
 * checks at compile time that the step making it comes first.
 */
export interface InstanceRun {
  instance: InstanceConfig;
  journal: Journal;
  events: EventBus;
  log: Logger;
  buildId: string;
  stateDir: string;
  /** Signal of the whole run (SIGINT/SIGTERM). Cleanups use fresh deadlines instead. */
  signal: AbortSignal;
  /** Plugins a caller loaded already (machines.ts, distribute.ts); the load step fills in the rest. */
  plugins: Partial<Plugins>;
  /** The open connection (reused by the steps that need one) and the target as reached. */
  connection?: Connection;
  target?: ConnectionTarget;
  /** The verification of this machine, once verify ran (also when it failed). */
  report?: VerifyReport;
  /** publish.ssm_parameter rendered for this instance (prepare), and what the commit wrote. */
  parameterName?: string;
  parameters?: ParameterRecord[];
  /** image.boot_test: the machine booted from the image, and its verification. */
  bootTest?: { instance: string; image: string; report: VerifyReport };
  /** image.boot_test: the driver of that machine (its API calls count for this instance). */
  bootTestDriver?: Driver;
}

export interface Plugins {
  driver: Driver;
  transport: Transport;
  provisioner: Provisioner;
  verifier: Verifier;
}

/** A run whose driver is loaded (cleanup, destroy, the commit). */
export type DriverRun = InstanceRun & { plugins: { driver: Driver } };

/** After the load step: every plugin of the instance. */
export type LoadedRun = InstanceRun & { plugins: Plugins };

/** After a build's prepare: the driver's images (resolved once) and the rendered names. */
export type PreparedRun = LoadedRun & Prepared;
export interface Prepared {
  images: ImageCapability;
  imageName: string;
}

/** After capture: the image that boot-test and distribute take. */
export type CapturedRun = PreparedRun & Captured;
export interface Captured {
  image: ImageRecord;
}

/** After distribute: the copies (none when there was nowhere to copy to). */
export interface Distributed {
  copies: ImageRecord[];
}

/** A build's run as far as it got, whatever failed: what its outcome reports. */
export type BuildRun = InstanceRun & Partial<Prepared & Captured & Distributed>;

export function driverContext(run: InstanceRun, signal: AbortSignal): DriverContext {
  return {
    instance: run.instance,
    journal: run.journal,
    log: run.log,
    signal,
    buildId: run.buildId,
    stateDir: run.stateDir,
  };
}
