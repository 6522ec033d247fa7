import { z } from 'zod';
import { lazy } from '../../kernel/lazy.js';

/**
 * The `verifier:` block for `name: shell`. Every `command`, each of
 * `commands`, and `script` (a local file, relative to the project directory,
 * uploaded to `root_path` and run there) is one check that passes when it
 * exits 0. `sudo` defaults to true as in Kitchen's verifiers (a no-op for
 * root); `timeout` is per check, in seconds (default 600).
 */
export const shellVerifierSchema = lazy(() => {
  return z.strictObject({
    name: z.literal('shell'),
    command: z.string().min(1).optional(),
    commands: z.array(z.string().min(1)).optional(),
    script: z.string().min(1).optional(),
    sudo: z.boolean().optional(),
    timeout: z.number().positive().optional(),
    environment: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String)).optional(),
    root_path: z
      .string()
      .regex(/^\/.+/, { message: 'root_path must be an absolute path other than /' })
      .optional(),
  });
});

export type ShellVerifierOptions = z.infer<ReturnType<typeof shellVerifierSchema>>;
