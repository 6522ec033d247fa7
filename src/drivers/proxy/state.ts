import { z } from 'zod';
import type { Journal } from '../../kernel/journal.js';

/**
 * What the proxy driver records in the instance journal (`state.driver`).
 * `host`/`port`/`username` are written by `create` before it connects, so a
 * `destroy` after a crash still knows that the machine was "created" and must
 * be reset (Kitchen: `return if state[:hostname].nil?`). `hostKeyFingerprint`
 * is the key accepted on first use; `destroy` forgets it with the rest.
 */
export const proxyStateSchema = z.object({
  host: z.string(),
  port: z.number().int(),
  username: z.string(),
  hostKeyFingerprint: z.string().optional(),
  /** `host:port` the fingerprint belongs to: a pin never carries over to another machine. */
  hostKeyFor: z.string().optional(),
});

export type ProxyState = z.output<typeof proxyStateSchema>;

/**
 * The driver's record; undefined while it names no host (as Kitchen: a host
 * key pinned before create is not a machine). A damaged record is a StateFileError.
 */
export function readProxyState(journal: Journal): ProxyState | undefined {
  const { driver, driverName } = journal.state;
  if (driver.host === undefined && (driverName ?? 'proxy') === 'proxy') return undefined;
  return journal.driverRecord(proxyStateSchema, 'proxy');
}

/** `host:port`, with brackets around IPv6 addresses. */
export function hostPort(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}
