import { HallmarkError } from '../../kernel/errors.js';

/**
 * The one POSIX shell quoter of hallmark: for commands sent over SSH, and for
 * the data section of the spec verifier's check script (verifiers/spec/shell.ts).
 * The remote side runs every command through the login user's shell
 * (`$SHELL -c <string>`), so whatever hallmark puts into that string must
 * survive sh, dash, busybox sh and bash alike (property-tested under all four).
 *
 * Single quotes are the only quoting in which no character is special; a
 * single quote itself is written as `'\''` (close, escaped quote, reopen).
 * A string cannot hold NUL, which no shell word can carry: callers refuse it.
 */
export function shQuote(value: string): string {
  if (value === '') return "''";
  // Words made only of these characters mean themselves in any POSIX shell, in any position
  // (no "=": `A=b` first on a line would be an assignment, not a command).
  if (/^[A-Za-z0-9_@%+:,./-]+$/.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Quotes each argument and joins them with spaces. */
export function shJoin(argv: readonly string[]): string {
  return argv.map(shQuote).join(' ');
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export class InvalidEnvNameError extends HallmarkError {
  override readonly code = 'INVALID_ENV_NAME';
  override readonly exitCode = 2;
}

/**
 * `export NAME='value' ...` for the given variables. Values are quoted; names
 * are validated, because a name cannot be quoted (the shell would take
 * `export 'a b'=1` as an error or, worse, as something else).
 */
export function exportEnv(env: Record<string, string>): string {
  const names = Object.keys(env);
  if (names.length === 0) return '';
  for (const name of names) {
    if (!ENV_NAME.test(name)) {
      throw new InvalidEnvNameError(`environment variable name ${JSON.stringify(name)} is not valid in a POSIX shell`, {
        hint: 'use letters, digits and underscores only, not starting with a digit',
      });
    }
  }
  return `export ${names.map((n) => `${n}=${shQuote(env[n]!)}`).join(' ')}`;
}

export interface RemoteCommandOptions {
  env?: Record<string, string>;
  sudo?: boolean;
  /** The login user; `sudo` is a no-op for root. */
  username: string;
}

/**
 * Wraps a script so that SIGTERM to the shell ends the script's whole process
 * group. Needed under sudo: sshd signals the session (killpg), sudo relays
 * the signal to its command's shell only, and a shell defers traps while it
 * waits for a foreground command. So the script runs as a background job,
 * whose stdin is the original one (fd 3: an asynchronous list would otherwise
 * read /dev/null), and the shell waits for it, which a trap can interrupt.
 * The job's exit status is the wrapper's.
 */
export function killGroupOnTerm(script: string): string {
  return `exec 3<&0
trap 'trap - TERM; kill -TERM 0' TERM
{ ${script}
} <&3 3<&- &
wait $!`;
}

/**
 * The string sent in the SSH `exec` request. Environment variables are
 * exported in the command itself because sshd normally refuses `env`
 * requests (no AcceptEnv). With sudo, the exports go inside the elevated
 * shell: sudo's env_reset would otherwise drop them.
 */
export function buildRemoteCommand(command: string, opts: RemoteCommandOptions): string {
  const exports = opts.env ? exportEnv(opts.env) : '';
  const inner = exports ? `${exports}\n${command}` : command;
  if (opts.sudo && opts.username !== 'root') return `sudo -n sh -c ${shQuote(killGroupOnTerm(inner))}`;
  return inner;
}
