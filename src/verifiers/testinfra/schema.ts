import { z } from 'zod';
import { lazy } from '../../kernel/lazy.js';

/**
 * The `verifier:` block for `name: testinfra`: pytest with the testinfra
 * plugin on the controller, connecting to the instance with OpenSSH.
 */
export const testinfraVerifierSchema = lazy(() => {
  return z.strictObject({
    name: z.literal('testinfra'),
    /**
     * Test files or directories, relative to the project directory. Default:
     * `test/integration/<suite>/testinfra/`, else the `test_*.py` / `*_test.py`
     * files in `test/integration/<suite>/`.
     */
    tests: z.union([z.string().min(1).transform((s) => [s]), z.array(z.string().min(1))]).optional(),
    /** Run every command through sudo on the machine (testinfra's --sudo); ignored for root. */
    sudo: z.boolean().default(true),
    /** testinfra's --sudo-user. */
    sudo_user: z.string().min(1).optional(),
    /** The Python interpreter with pytest and testinfra. Default: `python3` on PATH, else /usr/bin/python3. */
    python: z.string().min(1).optional(),
    /** More pytest arguments, e.g. ["-k", "not slow"] or "-x". */
    extra_args: z.union([z.string().min(1).transform((s) => s.split(/\s+/).filter(Boolean)), z.array(z.string())]).default([]),
    /** Environment for pytest. */
    env: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String)).default({}),
    /** Seconds for the whole run. */
    timeout: z.number().positive().default(1800),
  });
});

export type TestinfraVerifierOptions = z.infer<ReturnType<typeof testinfraVerifierSchema>>;
