import type { InstanceConfig } from '../config/types.js';
import type { Driver, DriverContext } from '../drivers/driver.js';
import type { Provisioner } from '../provisioners/provisioner.js';
import type { Connection, ConnectionTarget, Transport } from '../transports/transport.js';
import type { Verifier, VerifyReport } from '../verifiers/verifier.js';
import type { EventBus, Logger } from '../kernel/events.js';
import type { ImageRecord, Journal, ParameterRecord } from '../kernel/journal.js';

/**
 * Everything one instance's pipeline knows, typed. Steps fill in the optional
 * fields as they go; a later step that needs an earlier one's output asserts
 * it with `need()` instead of reading a string-keyed bag.
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
  plugins: {
    driver?: Driver;
    transport?: Transport;
    provisioner?: Provisioner;
    verifier?: Verifier;
  };
  target?: ConnectionTarget;
  connection?: Connection;
  report?: VerifyReport;
  /** publish.ssm_parameter rendered for this instance (prepare), and what the publish step wrote. */
  parameterName?: string;
  parameters?: ParameterRecord[];
  /** The captured image and its copies (also in the journal). */
  image?: ImageRecord;
  copies: ImageRecord[];
  imageName?: string;
  /** image.boot_test: the machine booted from the image, and its verification. */
  bootTest?: { instance: string; image: string; report: VerifyReport };
  /** image.boot_test: the driver of that machine (its API calls count for this instance). */
  bootTestDriver?: Driver;
  /** Set once every step of a build passed. */
  published?: boolean;
}

export function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`internal: ${what} is not available at this point of the pipeline`);
  return value;
}

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
