import { writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * Extra variables for ansible-playbook. Both maps are written as JSON to
 * files readable by the owner only (inside a 0700 temporary directory) and
 * passed as `-e @file`: nothing of them is on the command line, where `ps`
 * and the log would show it. Secret values are also returned as strings to
 * mask in the output.
 */
export interface VarsFiles {
  /** `-e` arguments, in precedence order (later wins). */
  args: string[];
  secrets: string[];
}

export async function writeVarsFiles(
  dir: string,
  extraVars: Record<string, unknown> | string | undefined,
  secretVars: Record<string, unknown> | undefined,
  projectDir: string,
): Promise<VarsFiles> {
  const args: string[] = [];
  if (typeof extraVars === 'string') {
    // `@file`, relative to the project directory.
    args.push('-e', `@${path.resolve(projectDir, extraVars.slice(1))}`);
  } else if (extraVars && Object.keys(extraVars).length > 0) {
    const file = path.join(dir, 'extra-vars.json');
    await writeFile(file, JSON.stringify(extraVars), { mode: 0o600 });
    args.push('-e', `@${file}`);
  }
  const secrets: string[] = [];
  if (secretVars && Object.keys(secretVars).length > 0) {
    const file = path.join(dir, 'secret-vars.json');
    await writeFile(file, JSON.stringify(secretVars), { mode: 0o600 });
    args.push('-e', `@${file}`);
    collectSecrets(secretVars, secrets);
  }
  return { args, secrets };
}

/** Every string (and number) inside a secret value: what must never be shown. */
export function collectSecrets(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') {
    if (value !== '') out.push(value);
  } else if (typeof value === 'number' || typeof value === 'bigint') {
    out.push(String(value));
  } else if (Array.isArray(value)) {
    for (const v of value) collectSecrets(v, out);
  } else if (value && typeof value === 'object') {
    for (const v of Object.values(value)) collectSecrets(v, out);
  }
  return out;
}
