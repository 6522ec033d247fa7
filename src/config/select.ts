import { UsageError } from '../kernel/errors.js';
import type { InstanceEntry, Project } from './index.js';

/**
 * `kitchen list REGEX`'s rules (Kitchen's Command::Base#parse_subcommand):
 * no pattern or `all` selects everything; otherwise an instance whose name
 * is exactly the pattern, else every instance whose name the pattern
 * (a regular expression, unanchored) matches. Nothing selected is a
 * UsageError that lists the instance names.
 */
export function selectInstances(project: Project, pattern?: string): InstanceEntry[] {
  const all = project.instances;
  const names = all.map((i) => i.config.name);
  const listing = names.length > 0 ? `instances: ${names.join(', ')}` : 'no instances are defined';
  if (pattern === undefined || pattern === 'all') {
    if (all.length === 0) throw new UsageError('no instances defined', { hint: `check platforms, suites and includes/excludes in ${project.file}` });
    return all;
  }
  const exact = all.find((i) => i.config.name === pattern);
  if (exact) return [exact];
  let re: RegExp;
  try {
    re = new RegExp(pattern);
  } catch (err) {
    throw new UsageError(`invalid regular expression "${pattern}": ${(err as Error).message}`, {
      hint: `quote the pattern for the shell; ${listing}`,
      cause: err,
    });
  }
  const matched = all.filter((i) => re.test(i.config.name));
  if (matched.length === 0) {
    throw new UsageError(`no instances for regex "${pattern}"`, { hint: listing });
  }
  return matched;
}
