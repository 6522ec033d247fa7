import { z } from 'zod';
import { lazy } from '../../kernel/lazy.js';

/**
 * The `driver:` block of the `proxy` driver, with Test Kitchen's names
 * (lib/kitchen/driver/proxy.rb: `host` required, `reset_command` default nil;
 * `port`, `username`, `password` and `ssh_key` as kitchen.yml files written for
 * it carry them). The machine already exists and is not hallmark's: `create`
 * only checks that it answers over SSH, `destroy` runs `reset_command` when
 * given and otherwise leaves it alone. Cheap to import (no implementation).
 *
 * The transport block may still override how to connect (hostname, port,
 * username, ssh_key, max_wait_until_ready), as for every driver.
 */
export const proxyDriverSchema = lazy(() => {
  return z.strictObject({
    name: z.literal('proxy'),
    /** Host name or address of the existing machine. */
    host: z.string().min(1),
    port: z.number().int().min(1).max(65535).default(22),
    /** Kitchen's ssh transport default. */
    username: z.string().min(1).default('root'),
    /** Private key; a relative path is relative to the project directory. */
    ssh_key: z.string().min(1).optional(),
    password: z.string().optional(),
    /**
     * Run over SSH by `destroy` to put the machine back into a known state
     * (as given, through the login shell; prefix `sudo` yourself if needed).
     * `null` is Kitchen's default and means none.
     */
    reset_command: z.string().min(1).nullable().optional(),
    /**
     * hallmark addition: the host key's SHA256 fingerprint (`SHA256:...`, as
     * `ssh-keygen -lf` prints). Without it the first key seen is recorded in the
     * instance journal and must match afterwards (trust on first use).
     */
    host_key: z
      .string()
      .regex(/^(SHA256:)?[A-Za-z0-9+/]{43}=?$/, 'a SHA256 fingerprint such as SHA256:abc...(43 base64 characters)')
      .optional(),
  });
});

export type ProxyDriverOptions = z.output<ReturnType<typeof proxyDriverSchema>>;
