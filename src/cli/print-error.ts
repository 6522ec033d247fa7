import pc from 'picocolors';
import { HallmarkError, formatProblem, ConfigError, type ConfigProblem } from '../kernel/errors.js';

/** Prints an error for a person: config problems one per line, a hint, cleanup errors; a stack only for internal errors. */
export function printError(err: unknown, prefix?: string): void {
  const p = prefix ? `${prefix}: ` : '';
  if (err instanceof ConfigError) {
    process.stderr.write(pc.red(`${p}${err.problems.length} configuration problem(s):`) + '\n');
    for (const prob of err.problems) process.stderr.write(`  - ${formatProblem(prob)}\n`);
    printNotes(err.notes);
    return;
  }
  if (err instanceof HallmarkError) {
    process.stderr.write(pc.red(`${p}${err.message}`) + '\n');
    if (err.hint) process.stderr.write(`  hint: ${err.hint}\n`);
    for (const c of err.cleanupErrors) process.stderr.write(pc.yellow(`  also, during cleanup: ${(c as Error).message ?? String(c)}`) + '\n');
    return;
  }
  process.stderr.write(pc.red(`${p}internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`) + '\n');
}

/** Notes and warnings from loading the config, one line each, on stderr. */
export function printNotes(notes: readonly (ConfigProblem & { level?: 'note' | 'warning' })[]): void {
  for (const n of notes) {
    const line = `${n.level ?? 'note'}: ${formatProblem(n)}`;
    process.stderr.write((n.level === 'warning' ? pc.yellow(line) : pc.dim(line)) + '\n');
  }
}
