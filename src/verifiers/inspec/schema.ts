import { z } from 'zod';
import { lazy } from '../../kernel/lazy.js';

/**
 * A profile to run, as kitchen-inspec accepts it in `inspec_tests`: a path
 * (relative to the project directory), a URL or `supermarket://` name as a
 * string, or a hash with one of path / url / git (+ branch, tag, ref) /
 * supermarket / compliance / name.
 */
export const inspecVerifierSchema = lazy(() => {
  const inspecTest = z.union([
    z.string().min(1),
    z
      .looseObject({
        name: z.string().optional(),
        path: z.string().optional(),
        url: z.string().optional(),
        git: z.string().optional(),
        branch: z.string().optional(),
        tag: z.string().optional(),
        ref: z.string().optional(),
        supermarket: z.string().optional(),
        supermarket_url: z.string().optional(),
        compliance: z.string().optional(),
      })
      .refine((o) => o.path || o.url || o.git || o.supermarket || o.compliance || o.name, {
        message: 'an inspec_tests entry needs one of path, url, git, supermarket, compliance or name',
      }),
  ]);

  const strings = z.union([z.string().min(1).transform((s) => [s]), z.array(z.string().min(1))]);

  /**
   * The `verifier:` block for `name: inspec` or `name: cinc-auditor`, with
   * kitchen-inspec's option names. InSpec runs on the controller and connects
   * to the instance itself (`-t ssh://...`).
   */
  return z.strictObject({
    name: z.enum(['inspec', 'cinc-auditor']),
    /** Profiles; Kitchen's default `test/integration/<suite>` (or `.../inspec`) is added when it exists. */
    inspec_tests: z.array(inspecTest).default([]),
    /** Run only these control ids. */
    controls: z.array(z.string().min(1)).optional(),
    /** Input files (YAML); `attrs` is the older name. */
    input_files: strings.optional(),
    attrs: strings.optional(),
    /** Input values; `attributes` is the older name. */
    inputs: z.record(z.string(), z.unknown()).optional(),
    attributes: z.record(z.string(), z.unknown()).optional(),
    waiver_files: strings.optional(),
    /** Extra reporters (e.g. `cli`, `junit2:reports/%{platform}_%{suite}.xml`); hallmark always adds its own json one. */
    reporter: z.array(z.string().min(1)).optional(),
    /** Run resources through sudo on the machine; default true, ignored for root. */
    sudo: z.boolean().default(true),
    sudo_command: z.string().min(1).optional(),
    sudo_options: z.string().min(1).optional(),
    /** Override the address InSpec connects to. */
    host: z.string().min(1).optional(),
    port: z.number().int().positive().optional(),
    proxy_command: z.string().min(1).optional(),
    backend_cache: z.boolean().optional(),
    color: z.boolean().default(false),
    profiles_path: z.string().min(1).optional(),
    /**
     * hallmark: the program to run, `inspec`, `cinc-auditor` or a path. Default:
     * the block's name, else whichever of the two is on PATH.
     */
    binary: z.string().min(1).optional(),
    /** hallmark: `--chef-license` value; InSpec 4+ refuses to run without one. */
    chef_license: z.enum(['accept', 'accept-silent', 'accept-no-persist']).default('accept-silent'),
    /** hallmark: more `inspec exec` arguments. */
    extra_args: z.array(z.string()).default([]),
    /** hallmark: seconds for the whole run. */
    timeout: z.number().positive().default(1800),
  });
});

export type InspecVerifierOptions = z.infer<ReturnType<typeof inspecVerifierSchema>>;
