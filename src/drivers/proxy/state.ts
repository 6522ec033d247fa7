import { z } from 'zod';

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

export function readProxyState(driver: Record<string, unknown>): ProxyState | undefined {
  const r = proxyStateSchema.safeParse(driver);
  return r.success ? r.data : undefined;
}

/** `host:port`, with brackets around IPv6 addresses. */
export function hostPort(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}
