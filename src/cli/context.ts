import '../builtin-plugins.js';
import { loadProject, selectInstances, type InstanceEntry, type Project } from '../config/index.js';
import { printNotes } from './print-error.js';

export interface GlobalOptions {
  config?: string;
  json?: boolean;
  verbose?: boolean;
}

/** Loads the project and shows its notes on stderr (stdout stays for results and JSON). */
export async function project(g: GlobalOptions): Promise<Project> {
  const p = await loadProject({ cwd: process.cwd(), configFile: g.config, env: process.env });
  printNotes(p.notes ?? []);
  return p;
}

/** `allowNone`: no instances at all is an empty selection (for `list`), not an error. */
export async function selected(g: GlobalOptions, pattern?: string, allowNone = false): Promise<{ project: Project; entries: InstanceEntry[] }> {
  const p = await project(g);
  if (allowNone && p.instances.length === 0 && (pattern === undefined || pattern === 'all')) return { project: p, entries: [] };
  return { project: p, entries: selectInstances(p, pattern) };
}

/** Writes to stdout: results and data. Progress and logs go to stderr. */
export function out(s: string): void {
  process.stdout.write(s.endsWith('\n') ? s : s + '\n');
}

export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n');
}
