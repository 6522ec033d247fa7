import { access, stat } from 'node:fs/promises';
import { constants } from 'node:fs';
import path from 'node:path';
import { AnsibleMissingError } from './errors.js';

async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}

/**
 * Finds `ansible-playbook`: in `binDir` (kitchen-ansible's ansible_binary_path)
 * when given, else on PATH. Missing is an error that says how to install it.
 */
export async function locateAnsiblePlaybook(binDir: string | undefined, envPath = process.env.PATH ?? ''): Promise<string> {
  const dirs = binDir ? [binDir] : envPath.split(path.delimiter).filter(Boolean);
  for (const dir of dirs) {
    const file = path.join(dir, 'ansible-playbook');
    if (await isExecutable(file)) return file;
  }
  throw new AnsibleMissingError(
    binDir ? `ansible-playbook is not in ansible_binary_path ${binDir}` : 'ansible-playbook is not installed on this machine (not found on PATH)',
    { hint: binDir ? 'fix ansible_binary_path, or remove it to use PATH' : "install Ansible: apt-get install ansible (Debian/Ubuntu), or pip install ansible-core" },
  );
}
