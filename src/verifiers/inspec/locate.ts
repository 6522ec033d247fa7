import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import path from 'node:path';
import { PluginError } from '../../kernel/errors.js';

async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}

export const INSPEC_INSTALL_HINT =
  'install InSpec (Chef license: curl https://omnitruck.chef.io/install.sh | sudo bash -s -- -P inspec), ' +
  'or its free build Cinc Auditor (curl -L https://omnitruck.cinc.sh/install.sh | sudo bash -s -- -P cinc-auditor), ' +
  'or gem install inspec-bin; or use the built-in verifier: `verifier: { name: spec }` (gossfile checks)';

/**
 * Finds the InSpec executable. `binary` (verifier.binary) is a path or a
 * program name; without it the block's name is tried first on PATH, then the
 * other one (inspec and cinc-auditor take the same arguments).
 */
export async function locateInspec(name: 'inspec' | 'cinc-auditor', binary: string | undefined, envPath = process.env.PATH ?? ''): Promise<string> {
  if (binary?.includes('/')) {
    if (await isExecutable(binary)) return binary;
    throw new PluginError(`verifier.binary ${binary} is not an executable file`, { hint: `fix verifier.binary, or remove it to search PATH; ${INSPEC_INSTALL_HINT}` });
  }
  const names = binary ? [binary] : name === 'cinc-auditor' ? ['cinc-auditor', 'inspec'] : ['inspec', 'cinc-auditor'];
  const dirs = envPath.split(path.delimiter).filter(Boolean);
  for (const n of names) {
    for (const dir of dirs) {
      const file = path.join(dir, n);
      if (await isExecutable(file)) return file;
    }
  }
  throw new PluginError(`${names.join(' and ')} ${names.length > 1 ? 'are' : 'is'} not installed on this machine (not found on PATH)`, {
    hint: INSPEC_INSTALL_HINT,
  });
}
