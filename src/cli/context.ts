import '../builtin-plugins.js';
import { loadProject, selectInstances, type InstanceEntry, type Project } from '../config/index.js';

export interface GlobalOptions {
  config?: string;
  json?: boolean;
  verbose?: boolean;
}

export async function project(g: GlobalOptions): Promise<Project> {
  return loadProject({ cwd: process.cwd(), configFile: g.config, env: process.env });
}

export async function selected(g: GlobalOptions, pattern?: string): Promise<{ project: Project; entries: InstanceEntry[] }> {
  const p = await project(g);
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
