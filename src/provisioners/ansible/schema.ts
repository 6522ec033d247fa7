import { z } from 'zod';
import { lazy } from '../../kernel/lazy.js';
import { ANSIBLE_ON_MACHINE_OPTIONS } from '../../config/kitchen-plugins.js';
import { retryShape } from '../shell/schema.js';

/**
 * kitchen-ansible options that only make sense when Ansible runs on the
 * machine (kitchen-ansible's default `ansible_connection: local`): installing
 * Ansible, Ruby or Chef there, package repos, proxies for those installs.
 * hallmark runs `ansible-playbook` from the controller over SSH (push mode),
 * so these are accepted, so that a kitchen.yml written for kitchen-ansible
 * loads as it is, and otherwise ignored (the loader notes each one set;
 * the list lives with the other Kitchen option tables).
 */
export const IGNORED_KITCHEN_ANSIBLE_OPTIONS = ANSIBLE_ON_MACHINE_OPTIONS;

export const ansibleProvisionerSchema = lazy(() => {
  const stringList = z.union([z.string().min(1).transform((s) => [s]), z.array(z.string().min(1))]);
  const verbosity = z.union([z.number().int().min(1).max(4), z.enum(['info', 'warn', 'debug', 'trace'])]);

  /**
   * The `provisioner:` block for `name: ansible_playbook`, with kitchen-ansible's
   * option names (provisioner_options.md). Paths are relative to the project
   * directory.
   *
   * Secrets: `secret_extra_vars` (hallmark's) is a map like `extra_vars` whose
   * values never reach argv or the log: they are passed in a 0600 temporary
   * vars file, and every string value is masked (`********`) in the streamed
   * output and in error messages. They take precedence over `extra_vars`.
   */
  return z
    .strictObject({
      name: z.literal('ansible_playbook'),
      /** Default: kitchen-ansible's search for default.yml (see findPlaybook). */
      playbook: z.string().min(1).optional(),
      roles_path: z.string().min(1).optional(),
      /** Group(s) the instance is placed in in the generated inventory. */
      hosts: stringList.optional(),
      /** A map, or `@file` (a YAML/JSON vars file), as `ansible-playbook -e` takes it. */
      extra_vars: z.union([z.record(z.string(), z.unknown()), z.string().regex(/^@.+/, { message: 'a string extra_vars must be @file' })]).optional(),
      secret_extra_vars: z.record(z.string(), z.unknown()).optional(),
      ansible_verbose: z.boolean().optional(),
      ansible_verbosity: verbosity.optional(),
      ansible_check: z.boolean().optional(),
      ansible_diff: z.boolean().optional(),
      tags: stringList.optional(),
      skip_tags: stringList.optional(),
      /** Extra ansible-playbook arguments: a string (split like a shell would) or a list. */
      ansible_extra_flags: z.union([z.string(), z.array(z.string())]).optional(),
      /** Environment variables for ansible-playbook (kitchen-ansible's env_vars). */
      env_vars: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String)).optional(),
      /** An ansible.cfg to use (ANSIBLE_CONFIG). `ansible_cfg_path` is accepted as an alias. */
      ansible_config: z.string().min(1).optional(),
      ansible_cfg_path: z.string().min(1).optional(),
      /** A requirements.yml whose roles come from local paths (Galaxy needs the network: refused). */
      requirements_path: z.union([z.string().min(1), z.literal(false)]).optional(),
      ansible_vault_password_file: z.string().min(1).optional(),
      group_vars_path: z.string().min(1).optional(),
      host_vars_path: z.string().min(1).optional(),
      modules_path: z.string().min(1).optional(),
      library_plugins_path: z.string().min(1).optional(),
      callback_plugins_path: z.string().min(1).optional(),
      filter_plugins_path: z.string().min(1).optional(),
      lookup_plugins_path: z.string().min(1).optional(),
      /** Directory holding ansible-playbook (kitchen-ansible's ansible_binary_path); default: PATH. */
      ansible_binary_path: z.string().min(1).optional(),
      /** Become root on the machine when the login user is not root (kitchen-ansible ran as root). Default true. */
      ansible_sudo: z.boolean().optional(),
      ansible_python_interpreter: z.string().min(1).optional(),
      /** Run the playbook a second time and fail when anything changed. */
      idempotency_test: z.boolean().optional(),
      ...retryShape(),
      ...Object.fromEntries(IGNORED_KITCHEN_ANSIBLE_OPTIONS.map((k) => [k, z.unknown().optional()])),
    });
});

export type AnsibleProvisionerOptions = z.infer<ReturnType<typeof ansibleProvisionerSchema>>;

export function verbosityLevel(o: Pick<AnsibleProvisionerOptions, 'ansible_verbose' | 'ansible_verbosity'>): number {
  if (!o.ansible_verbose) return 0;
  const v = o.ansible_verbosity ?? 1;
  return typeof v === 'number' ? v : { info: 1, warn: 2, debug: 3, trace: 4 }[v];
}
