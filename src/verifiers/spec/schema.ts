import { z } from 'zod';
import { lazy } from '../../kernel/lazy.js';

/**
 * The `verifier:` block of the built-in spec verifier. Cheap to import: the
 * registry loads it for `hallmark validate` without the implementation.
 */
export const specVerifierSchema = lazy(() => {
  return z.strictObject({
    name: z.literal('spec'),
    /** Gossfiles, relative to the project directory. Default: test/integration/<suite>/*.yml (and goss/*.yml). */
    spec_files: z.array(z.string().min(1)).optional(),
    /** Shipped profiles to add, from the package's profiles/<name>/ (e.g. baseline). */
    profiles: z.array(z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'a profile name such as baseline')).default([]),
    /** Values for `{{ .Vars.name }}` in the gossfile templates (goss --vars-inline: they replace the vars files' top-level keys). */
    vars: z.record(z.string(), z.unknown()).default({}),
    /** JSON or YAML vars file(s) for the templates (goss --vars), relative to the project; merged in order. */
    vars_file: z.union([z.string().min(1), z.array(z.string().min(1))]).optional(),
    /** Run the check script as root via `sudo -n` when the login user is not root. */
    sudo: z.boolean().default(true),
    /** Seconds for the whole check script. */
    timeout: z.number().positive().default(600),
    /** Count skipped checks as failures (a gate that must not be bypassed by `skip: true`). */
    fail_on_skip: z.boolean().default(false),
  });
});

export type SpecVerifierOptions = z.infer<ReturnType<typeof specVerifierSchema>>;
