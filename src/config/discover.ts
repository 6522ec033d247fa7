import { access } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError } from '../kernel/errors.js';

/**
 * Which files make up a project's configuration. Read-only: looks, never
 * creates. Order when no file is given: hallmark.yml, .kitchen.yml,
 * kitchen.yml in `cwd`. The overlay is the same name with `.local` before
 * the extension (Kitchen's rule: `kitchen.yml` -> `kitchen.local.yml`),
 * deep-merged over the main file when it exists.
 */
export const CONFIG_FILE_NAMES = ['hallmark.yml', '.kitchen.yml', 'kitchen.yml'] as const;

export interface ConfigFiles {
  file: string;
  localFile?: string;
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

export async function discoverConfigFiles(cwd: string, configFile?: string): Promise<ConfigFiles> {
  let file: string | undefined;
  if (configFile !== undefined) {
    const abs = path.resolve(cwd, configFile);
    if (!(await exists(abs))) {
      throw new ConfigError([{ file: abs, path: '', message: 'configuration file not found' }], {
        hint: `check the path given with -c (relative paths are relative to ${cwd})`,
      });
    }
    file = abs;
  } else {
    for (const name of CONFIG_FILE_NAMES) {
      const abs = path.join(cwd, name);
      if (await exists(abs)) {
        file = abs;
        break;
      }
    }
    if (file === undefined) {
      throw new ConfigError([{ file: cwd, path: '', message: 'no configuration file found' }], {
        hint: `looked for ${CONFIG_FILE_NAMES.join(', ')} in ${cwd}; create one or pass -c FILE`,
      });
    }
  }
  const local = localOverlayName(file);
  return (await exists(local)) ? { file, localFile: local } : { file };
}
