import { execa } from 'execa';
import { PluginError } from '../../kernel/errors.js';

/**
 * Finds a Python interpreter that can import pytest and testinfra: the one the
 * user named (`verifier.python`), else `python3` on PATH, else Debian's
 * /usr/bin/python3 (python3-testinfra installs there, and a pyenv or venv
 * `python3` earlier on PATH often lacks it). Missing is a PluginError that
 * says how to install it.
 */
export async function locateTestinfraPython(configured: string | undefined, signal: AbortSignal): Promise<string> {
  const candidates = configured ? [configured] : [...new Set(['python3', '/usr/bin/python3'])];
  const problems: string[] = [];
  for (const py of candidates) {
    const r = await execa(py, ['-c', 'import pytest, testinfra'], { reject: false, cancelSignal: signal, stdin: 'ignore', encoding: 'utf8', timeout: 30_000 });
    if (signal.aborted) throw r;
    if (r.exitCode === 0) return py;
    const code = (r as { code?: string }).code;
    problems.push(
      code === 'ENOENT' || r.exitCode === undefined
        ? `${py}: not found`
        : `${py}: ${String(r.stderr).trim().split('\n').pop() ?? `exit ${r.exitCode}`}`,
    );
  }
  throw new PluginError(`testinfra is not available: ${problems.join('; ')}`, {
    hint:
      (configured ? `fix verifier.python, or remove it to search python3 on PATH; ` : '') +
      'install testinfra: apt-get install python3-testinfra (Debian/Ubuntu) or pip install pytest-testinfra; or use the built-in verifier: `verifier: { name: spec }`',
  });
}
