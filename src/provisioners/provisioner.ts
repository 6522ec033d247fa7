import type { InstanceConfig } from '../config/types.js';
import type { Logger } from '../kernel/events.js';
import type { Connection, ConnectionTarget } from '../transports/transport.js';

export interface ProvisionContext {
  instance: InstanceConfig;
  connection: Connection;
  /** Where the machine is, for tools that make their own connection (Ansible). */
  target: ConnectionTarget;
  log: Logger;
  signal: AbortSignal;
}

export interface PreflightContext {
  instance: InstanceConfig;
  signal: AbortSignal;
}

export interface Provisioner {
  readonly name: string;
  /**
   * Checks that this controller has the tools `provision` runs here
   * (ansible-playbook), throwing the error `provision` would. A build calls
   * it in prepare, before anything is launched or paid for.
   */
  preflight?(ctx: PreflightContext): Promise<void>;
  /** Changes the machine. Throws CommandFailedError (with output) on failure. */
  provision(ctx: ProvisionContext): Promise<void>;
}
