import type { InstanceConfig } from '../config/types.js';
import type { Logger } from '../kernel/events.js';
import type { PreflightContext } from '../provisioners/provisioner.js';
import type { Connection, ConnectionTarget } from '../transports/transport.js';

export type CheckStatus = 'pass' | 'fail' | 'skip' | 'error';

/** One check's outcome. Failures are results, not exceptions. */
export interface CheckResult {
  /** Stable id, e.g. `package:nginx:installed` or a profile control id. */
  id: string;
  /** Resource type (package, service, file, ..., or `command` for shell checks). */
  resourceType: string;
  resource: string;
  property: string;
  title: string;
  expected: string;
  found: string;
  status: CheckStatus;
  /** Why it failed / was skipped / could not be evaluated. */
  message?: string;
  durationMs: number;
  impact?: number;
  meta?: Record<string, unknown>;
  /** The file the check was written in (a gossfile), for reports that group checks by it. */
  source?: string;
}

export interface VerifyReport {
  instance: string;
  verifier: string;
  results: CheckResult[];
  durationMs: number;
}

export interface VerifyContext {
  instance: InstanceConfig;
  connection: Connection;
  target: ConnectionTarget;
  log: Logger;
  signal: AbortSignal;
}

export interface Verifier {
  readonly name: string;
  /**
   * Checks that this controller has the tools `verify` runs here (inspec,
   * pytest with testinfra), throwing the error `verify` would. A build calls
   * it in prepare, before anything is launched or paid for.
   */
  preflight?(ctx: PreflightContext): Promise<void>;
  /** Runs every check of the instance's suite and returns the results. */
  verify(ctx: VerifyContext): Promise<VerifyReport>;
}

export function summarize(results: CheckResult[]) {
  const count = (s: CheckStatus) => results.filter((r) => r.status === s).length;
  return { total: results.length, passed: count('pass'), failed: count('fail'), skipped: count('skip'), errors: count('error') };
}
