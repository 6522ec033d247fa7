import '../builtin-plugins.js';
import { loadProject, selectInstances, uniqueProblems, type ConfigNote, type InstanceEntry, type Project } from '../config/index.js';
import { printNotes } from './print-error.js';

export interface GlobalOptions {
  config?: string;
  json?: boolean;
  verbose?: boolean;
}

/** Loads the project and (unless `quiet`) shows its notes on stderr (stdout stays for results and JSON). */
export async function project(g: GlobalOptions, opts: { quiet?: boolean } = {}): Promise<Project> {
  const p = await loadProject({ cwd: process.cwd(), configFile: g.config, env: process.env });
  if (!opts.quiet) printNotes(p.notes ?? []);
  return p;
}

/**
 * The project and the instances `pattern` selects. `allowNone`: no instances
 * at all is an empty selection (for `list`), not an error. Unless `quiet`,
 * the project's notes go to stderr, with the selected instances' warnings
 * (once each; their notes, one per Kitchen option set, only with -v).
 */
export async function selected(
  g: GlobalOptions,
  pattern?: string,
  allowNone = false,
  opts: { quiet?: boolean } = {},
): Promise<{ project: Project; entries: InstanceEntry[] }> {
  const p = await project(g, opts);
  const entries = allowNone && p.instances.length === 0 && (pattern === undefined || pattern === 'all') ? [] : selectInstances(p, pattern);
  if (!opts.quiet) printNotes(instanceNotes(entries).filter((n) => g.verbose || n.level === 'warning'));
  return { project: p, entries };
}

/** Every note and warning of these instances, once each (a shared block's appear in every instance). */
export function instanceNotes(entries: InstanceEntry[]): ConfigNote[] {
  return uniqueProblems(entries.flatMap((e) => e.notes ?? []));
}

export { out, table } from './output.js';
