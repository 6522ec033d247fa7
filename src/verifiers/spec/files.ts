/**
 * Which gossfiles a suite uses: `verifier.spec_files` when given, else Kitchen's
 * convention `test/integration/<suite>/*.yml` (and `.../goss/*.yml`, where
 * kitchen-goss keeps them); plus every file of each named shipped profile.
 */
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../../kernel/errors.js';

async function yamlFiles(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((n) => /\.ya?ml$/.test(n)).sort().map((n) => path.join(dir, n));
  } catch {
    return [];
  }
}

/** The package's profiles/ directory (works from src/ under tsx/vitest and from dist/). */
export function profilesDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    if (existsSync(path.join(dir, 'profiles')) && existsSync(path.join(dir, 'package.json'))) return path.join(dir, 'profiles');
    dir = path.dirname(dir);
  }
  return path.resolve('profiles');
}

export async function profileFiles(name: string, file = 'verifier.profiles'): Promise<string[]> {
  const dir = path.join(profilesDir(), name);
  const files = await yamlFiles(dir);
  if (files.length === 0) {
    const available = existsSync(profilesDir()) ? (await readdir(profilesDir())).join(', ') : 'none';
    throw new ConfigError([{ file, path: 'verifier.profiles', message: `unknown profile "${name}"`, expected: `one of ${available}` }]);
  }
  return files;
}

export async function suiteSpecFiles(opts: { projectDir: string; suite: string; specFiles?: string[]; profiles: string[]; configFile: string }): Promise<string[]> {
  const files: string[] = [];
  if (opts.specFiles) {
    const missing = opts.specFiles.filter((f) => !existsSync(path.resolve(opts.projectDir, f)));
    if (missing.length) {
      throw new ConfigError(missing.map((f) => ({ file: opts.configFile, path: 'verifier.spec_files', message: `gossfile not found: ${f}`, hint: `paths are relative to ${opts.projectDir}` })));
    }
    files.push(...opts.specFiles.map((f) => path.resolve(opts.projectDir, f)));
  } else {
    const dir = path.join(opts.projectDir, 'test', 'integration', opts.suite);
    files.push(...(await yamlFiles(dir)), ...(await yamlFiles(path.join(dir, 'goss'))));
  }
  for (const p of opts.profiles) files.push(...(await profileFiles(p, opts.configFile)));
  if (files.length === 0) {
    throw new ConfigError([
      {
        file: opts.configFile,
        path: 'verifier',
        message: `no checks for suite "${opts.suite}": no gossfiles in test/integration/${opts.suite}/`,
        hint: 'add test/integration/<suite>/*.yml, set verifier.spec_files, or verifier.profiles: [baseline]',
      },
    ]);
  }
  return files;
}
