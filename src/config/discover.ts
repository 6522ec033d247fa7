import { access } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError } from '../kernel/errors.js';

/**
 * Which files make up a project's configuration, with Test Kitchen's rules
 * (lib/kitchen/loader/yaml.rb and the environment read in cli.rb).
 * Read-only: looks, never creates.
 *
 * - main file: `-c FILE`, else `KITCHEN_YAML` (or `KITCHEN_YML`), else
 *   hallmark.yml, kitchen.yml, .kitchen.yml in `cwd` (Kitchen refuses a
 *   directory with both kitchen.yml and .kitchen.yml, and so does hallmark);
 * - local overlay: `KITCHEN_LOCAL_YAML` (or `KITCHEN_LOCAL_YML`), else the
 *   main file's name with `.local` before the extension, dotted or not
 *   (`.kitchen.yml` -> `.kitchen.local.yml` or `kitchen.local.yml`; both is an
 *   error); a named overlay that does not exist is empty, as in Kitchen;
 * - global file: `KITCHEN_GLOBAL_YAML` (or `KITCHEN_GLOBAL_YML`), else
 *   `$HOME/.kitchen/config.yml`, when it exists.
 *
 * Precedence (Kitchen's combined_hash): global < main < local.
 */
export const CONFIG_FILE_NAMES = ['hallmark.yml', 'kitchen.yml', '.kitchen.yml'] as const;

export interface ConfigFiles {
  file: string;
  /**
   * Where relative paths and .hallmark/ are: the file's directory for
   * `-c FILE`; the working directory otherwise, which for KITCHEN_YAML is
   * Kitchen's rule (its kitchen_root is the directory `kitchen` runs in).
   */
  projectDir: string;
  localFile?: string;
  globalFile?: string;
}

export function localOverlayName(file: string): string {
  const ext = path.extname(file);
  return ext ? `${file.slice(0, -ext.length)}.local${ext}` : `${file}.local`;
}

async function exists(p: string): Promise<boolean> {
  try {
    await access(p);
    return true;
  } catch {
    return false;
  }
}

type Env = Record<string, string | undefined>;
const fromEnv = (env: Env, ...names: string[]): { name: string; value: string } | undefined => {
  for (const name of names) {
    const value = env[name];
    if (value) return { name, value };
  }
  return undefined;
};

async function mainFile(cwd: string, configFile: string | undefined, env: Env): Promise<string> {
  const named = configFile !== undefined ? { name: '-c', value: configFile } : fromEnv(env, 'KITCHEN_YAML', 'KITCHEN_YML');
  if (named) {
    const abs = path.resolve(cwd, named.value);
    if (!(await exists(abs))) {
      throw new ConfigError([{ file: abs, path: '', message: 'configuration file not found' }], {
        hint: named.name === '-c' ? `check the path given with -c (relative paths are relative to ${cwd})` : `${named.name} names it (relative to ${cwd}); unset it or fix the path`,
      });
    }
    return abs;
  }
  const found: string[] = [];
  for (const name of CONFIG_FILE_NAMES) if (await exists(path.join(cwd, name))) found.push(name);
  if (found[0] === 'hallmark.yml') return path.join(cwd, found[0]);
  if (found.length === 2) {
    throw new ConfigError([{ file: path.join(cwd, '.kitchen.yml'), path: '', message: 'both kitchen.yml and .kitchen.yml found' }], {
      hint: 'Test Kitchen refuses this too: keep one (the un-dotted kitchen.yml), or choose one with -c FILE or KITCHEN_YAML',
    });
  }
  if (found.length === 0) {
    throw new ConfigError([{ file: cwd, path: '', message: 'no configuration file found' }], {
      hint: `looked for ${CONFIG_FILE_NAMES.join(', ')} in ${cwd}; create one, pass -c FILE or set KITCHEN_YAML`,
    });
  }
  return path.join(cwd, found[0]!);
}

async function localFile(cwd: string, file: string, env: Env): Promise<string | undefined> {
  const named = fromEnv(env, 'KITCHEN_LOCAL_YAML', 'KITCHEN_LOCAL_YML');
  if (named) {
    const abs = path.resolve(cwd, named.value);
    return (await exists(abs)) ? abs : undefined;
  }
  const local = localOverlayName(file);
  const dir = path.dirname(local);
  const undotted = path.basename(local).replace(/^\./, '');
  const [plain, dotted] = [path.join(dir, undotted), path.join(dir, `.${undotted}`)];
  const [hasPlain, hasDotted] = [await exists(plain), await exists(dotted)];
  if (hasPlain && hasDotted) {
    throw new ConfigError([{ file: dotted, path: '', message: `both ${undotted} and .${undotted} found` }], {
      hint: `Test Kitchen refuses this too: keep ${path.basename(local)}, which matches ${path.basename(file)}`,
    });
  }
  return hasDotted ? dotted : hasPlain ? plain : undefined;
}

async function globalFile(cwd: string, env: Env): Promise<string | undefined> {
  const named = fromEnv(env, 'KITCHEN_GLOBAL_YAML', 'KITCHEN_GLOBAL_YML');
  const abs = named ? path.resolve(cwd, named.value) : env.HOME ? path.join(env.HOME, '.kitchen', 'config.yml') : undefined;
  return abs !== undefined && (await exists(abs)) ? abs : undefined;
}

export async function discoverConfigFiles(cwd: string, configFile: string | undefined, env: Env = {}): Promise<ConfigFiles> {
  const file = await mainFile(cwd, configFile, env);
  const [local, global] = [await localFile(cwd, file, env), await globalFile(cwd, env)];
  const projectDir = configFile !== undefined ? path.dirname(file) : path.resolve(cwd);
  return { file, projectDir, ...(local && local !== file ? { localFile: local } : {}), ...(global && global !== file ? { globalFile: global } : {}) };
}
