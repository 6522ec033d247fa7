import { z } from 'zod';
import { lazy } from '../../kernel/lazy.js';

/**
 * The `transport:` block for `name: ssh`, with Test Kitchen's option names
 * (lib/kitchen/transport/ssh.rb). Durations are seconds, as in Kitchen.
 *
 * Fields that say how to reach the machine (hostname, port, username, ssh_key,
 * password, ssh_gateway*, max_wait_until_ready) have no defaults here: when
 * absent, what the driver returned is used; when set, they win
 * (applyTransportOverrides in overrides.ts). hallmark additions: `ssh_gateway_key` (Kitchen
 * uses ssh_key for the gateway too, which stays the default).
 *
 * Kitchen's other ssh options (ssh_http_proxy*, ssh_proxy_command,
 * forward_agent, max_ssh_sessions, verbose, ...) are accepted by the loader
 * with the note "accepted; no effect in hallmark" (config/kitchen-plugins.ts).
 */
export const sshTransportSchema = lazy(() => {
  const seconds = z.number().nonnegative();

  return z.strictObject({
    name: z.literal('ssh'),
    hostname: z.string().min(1).optional(),
    port: z.number().int().min(1).max(65535).optional(),
    username: z.string().min(1).optional(),
    /** Path to a private key; relative paths are relative to the project directory. */
    ssh_key: z.string().min(1).optional(),
    password: z.string().optional(),
    /** Seconds for one connection attempt (TCP + SSH handshake). Kitchen: 15. */
    connection_timeout: seconds.optional(),
    /**
     * Kitchen's retry count for connections after the machine was ready. hallmark
     * bounds every wait by time (max_wait_until_ready) instead; accepted for
     * compatibility and otherwise unused.
     */
    connection_retries: z.number().int().nonnegative().optional(),
    /** Longest pause between connection attempts, in seconds (backoff starts at 0.5 s). Default 5. */
    connection_retry_sleep: seconds.optional(),
    /** Seconds to wait for SSH to answer after the machine was created. Default 300. */
    max_wait_until_ready: seconds.optional(),
    ssh_gateway: z.string().min(1).optional(),
    ssh_gateway_username: z.string().min(1).optional(),
    ssh_gateway_port: z.number().int().min(1).max(65535).optional(),
    ssh_gateway_key: z.string().min(1).optional(),
    /**
     * net-ssh's values. `false`/`never`: no check. `accept_new` (and its
     * `accept_new_or_local_tunnel` variant), the default: pin what the driver
     * knows, else record the first key seen. `true`/`always`: the driver must
     * know the key beforehand.
     */
    verify_host_key: z
      .union([z.boolean(), z.enum(['never', 'accept_new', 'accept_new_or_local_tunnel', 'always', 'very', 'secure'])])
      .optional(),
    /** Kitchen's values; `zlib`/`zlib@openssh.com` enable compression, `none` disables it. */
    compression: z.union([z.boolean(), z.enum(['zlib', 'zlib@openssh.com', 'none'])]).optional(),
    /** Accepted for compatibility: ssh2 does not expose a level. */
    compression_level: z.number().int().min(0).max(9).optional(),
    keepalive: z.boolean().optional(),
    keepalive_interval: seconds.optional(),
    keepalive_maxcount: z.number().int().positive().optional(),
  });
});

export type SshTransportOptions = z.infer<ReturnType<typeof sshTransportSchema>>;
// What the transport does with these options (applyTransportOverrides,
// hostKeyMode) is in overrides.ts, which loads no zod.
