import { z } from 'zod';
import { lazy } from '../../kernel/lazy.js';

/**
 * Kitchen's retry options (Kitchen::Provisioner::Base), shared by every
 * provisioner: `retry_on_exit_code` lists exit codes worth another attempt,
 * `max_retries` is the number of retries after the first attempt (default 1),
 * `wait_for_retry` the pause between attempts in seconds (default 30).
 * Called by each provisioner's schema when it is built.
 */
export function retryShape() {
  return {
    retry_on_exit_code: z.array(z.number().int()).optional(),
    max_retries: z.number().int().nonnegative().optional(),
    wait_for_retry: z.number().nonnegative().optional(),
  };
}

/**
 * The `provisioner:` block for `name: shell`, with Test Kitchen's option
 * names (lib/kitchen/provisioner/shell.rb) and hallmark's additions
 * (`scripts`, `inline`, `environment`).
 *
 * What runs, in this order: `script`, then each of `scripts`, then `inline`,
 * then `command`. With none of them, Kitchen's default applies: `bootstrap.sh`
 * in the project directory when it exists. Scripts are local files (relative
 * to the project directory), uploaded to `root_path` and run there with
 * `arguments`; `inline` and `command` run as they are. `sudo` defaults to
 * true, and is a no-op when the login user is root.
 */
export const shellProvisionerSchema = lazy(() => {
  return z.strictObject({
    name: z.literal('shell'),
    script: z.string().min(1).optional(),
    scripts: z.array(z.string().min(1)).optional(),
    /** One shell snippet (may span lines), or a list of commands run one by one. */
    inline: z.union([z.string().min(1), z.array(z.string().min(1))]).optional(),
    /** Kitchen's: one command run instead of managing a script. */
    command: z.string().min(1).optional(),
    /** Extra arguments to each script: a list (each word quoted) or a string (kept as written). */
    arguments: z.union([z.array(z.string()), z.string()]).optional(),
    environment: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String)).optional(),
    sudo: z.boolean().optional(),
    /** Where scripts are uploaded on the machine. Default `/tmp/hallmark`. */
    root_path: z
      .string()
      .regex(/^\/.+/, { message: 'root_path must be an absolute path other than /' })
      .optional(),
    /** Kitchen's data directory, uploaded to `<root_path>/data` before the scripts run. */
    data_path: z.string().min(1).optional(),
    /** Seconds each script or command may run before it is killed (0: no limit). */
    timeout: z.number().nonnegative().optional(),
    ...retryShape(),
  });
});

export type ShellProvisionerOptions = z.infer<ReturnType<typeof shellProvisionerSchema>>;

export const DEFAULT_ROOT_PATH = '/tmp/hallmark';
