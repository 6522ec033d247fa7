/**
 * The error hierarchy. Every error hallmark raises on purpose is a HallmarkError
 * with a stable `code`, an optional `hint` (the next step for the user) and an
 * `exitCode` the CLI uses. Anything else reaching the CLI is a bug and is shown
 * with its stack.
 */
export type ExitCode = 0 | 2 | 3 | 4 | 130;

export interface ErrorOptions {
  hint?: string;
  cause?: unknown;
}

export class HallmarkError extends Error {
  readonly code: string = 'HALLMARK_ERROR';
  readonly exitCode: ExitCode = 4;
  readonly hint?: string;
  /** Errors raised while cleaning up after this one; they never replace it. */
  readonly cleanupErrors: unknown[] = [];

  constructor(message: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.hint = options.hint;
  }
}

/** One problem found in a configuration file. */
export interface ConfigProblem {
  file: string;
  line?: number;
  column?: number;
  /** Key path inside the document, e.g. `platforms[1].driver.region`. */
  path: string;
  message: string;
  expected?: string;
  found?: string;
  hint?: string;
}

export function formatProblem(p: ConfigProblem): string {
  const where = `${p.file}${p.line ? `:${p.line}${p.column ? `:${p.column}` : ''}` : ''}`;
  const parts = [`${where}: ${p.path ? `${p.path}: ` : ''}${p.message}`];
  if (p.expected !== undefined) parts.push(`expected ${p.expected}`);
  if (p.found !== undefined) parts.push(`found ${p.found}`);
  let s = parts.join('; ');
  if (p.hint) s += ` (${p.hint})`;
  return s;
}

export class UsageError extends HallmarkError {
  override readonly code = 'USAGE';
  override readonly exitCode = 2;
}

export class ConfigError extends HallmarkError {
  override readonly code = 'CONFIG';
  override readonly exitCode = 2;
  readonly problems: ConfigProblem[];
  /** Notes gathered before the problems were found (an unset variable that became ""): often their cause. */
  notes: ConfigProblem[] = [];

  constructor(problems: ConfigProblem[], options: ErrorOptions = {}) {
    const n = problems.length;
    super(
      `${n} configuration problem${n === 1 ? '' : 's'}:\n` +
        problems.map((p) => `  - ${formatProblem(p)}`).join('\n'),
      options,
    );
    this.problems = problems;
  }
}

/** A command on a machine or on the controller exited non-zero. */
export class CommandFailedError extends HallmarkError {
  override readonly code = 'COMMAND_FAILED';
  readonly command: string;
  readonly exitStatus: number | null;
  readonly output: string;

  constructor(
    command: string,
    exitStatus: number | null,
    output: string,
    options: ErrorOptions & { what?: string } = {},
  ) {
    const tail = lastLines(output, 20);
    super(
      `${options.what ?? 'command'} failed with exit code ${exitStatus ?? 'none (killed)'}: ${command}` +
        (tail ? `\n--- last lines of output ---\n${tail}` : ''),
      options,
    );
    this.command = command;
    this.exitStatus = exitStatus;
    this.output = output;
  }
}

/** One failed or errored check, as carried by VerificationFailedError. */
export interface FailedCheck {
  id: string;
  title: string;
  message: string;
}

export class VerificationFailedError extends HallmarkError {
  override readonly code = 'VERIFICATION_FAILED';
  override readonly exitCode = 3;
  readonly failed: FailedCheck[];

  constructor(instance: string, failed: FailedCheck[], total: number, options: ErrorOptions = {}) {
    super(
      `${instance}: ${failed.length} of ${total} checks failed:\n` +
        failed.map((f) => `  ✗ ${f.title}: ${f.message}`).join('\n'),
      { hint: 'no image was published', ...options },
    );
    this.failed = failed;
  }
}

export class CancelledError extends HallmarkError {
  override readonly code = 'CANCELLED';
  override readonly exitCode = 130;
  constructor(message = 'interrupted', options: ErrorOptions = {}) {
    super(message, options);
  }
}

export class TimeoutError extends HallmarkError {
  override readonly code = 'TIMEOUT';
}

/** A plugin (driver, transport, ...) that is named but not available. */
export class PluginError extends HallmarkError {
  override readonly code = 'PLUGIN';
  override readonly exitCode = 2;
}

/**
 * A state file (`.hallmark/<instance>.json`) that cannot be read as what it
 * must be. It may be the only record of a running machine, so hallmark stops
 * for that instance (exit 4) and names the file; it never reads it as empty.
 */
export class StateFileError extends HallmarkError {
  override readonly code = 'STATE_FILE';
  constructor(
    readonly file: string,
    message: string,
    options: ErrorOptions = {},
  ) {
    super(`${file}: ${message}`, {
      hint:
        options.hint ??
        'this file holds the ids of the machine and images hallmark made for this instance: repair it, ' +
          'or remove what it names by hand (or with "hallmark cleanup --orphans") and then delete the file',
      cause: options.cause,
    });
  }
}

/** Another hallmark process holds the instance lock. */
export class LockedError extends HallmarkError {
  override readonly code = 'LOCKED';
}

export function isAbortError(err: unknown): boolean {
  if (err instanceof CancelledError) return true;
  if (err instanceof Error && (err.name === 'AbortError' || (err as { isCanceled?: boolean }).isCanceled === true)) return true;
  return false;
}

export function toHallmarkError(err: unknown): HallmarkError {
  if (err instanceof HallmarkError) return err;
  if (isAbortError(err)) return new CancelledError('interrupted', { cause: err });
  const message = err instanceof Error ? err.message : String(err);
  return new HallmarkError(message, { cause: err });
}

export function exitCodeOf(err: unknown): ExitCode {
  return toHallmarkError(err).exitCode;
}

export function lastLines(text: string, n: number): string {
  const lines = text.replace(/\s+$/, '').split('\n');
  return lines.slice(-n).join('\n');
}
