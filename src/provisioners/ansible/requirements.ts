import { readFile, symlink, mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';
import { HallmarkError } from '../../kernel/errors.js';

export class AnsibleRequirementsError extends HallmarkError {
  override readonly code = 'ANSIBLE_REQUIREMENTS';
  override readonly exitCode = 2;
}

interface RoleEntry {
  src?: string;
  name?: string;
  scm?: string;
  version?: string;
}

/** True for a `src` that names something on this machine rather than Galaxy or a URL. */
function isLocalSrc(src: string): boolean {
  return src.startsWith('/') || src.startsWith('./') || src.startsWith('../') || src.startsWith('file://') || src === '.';
}

/**
 * Makes the roles of a requirements.yml available without the network: each
 * role whose `src` is a local directory is linked into `rolesDir` under its
 * `name` (default: the directory's name). A role from Ansible Galaxy or a
 * URL, or any collection, is refused with an error that says the network
 * would be needed, before anything runs.
 */
export async function installLocalRoles(requirementsFile: string, rolesDir: string): Promise<string[]> {
  const text = await readFile(requirementsFile, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new AnsibleRequirementsError(`cannot read requirements_path ${requirementsFile}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`, {
      cause: err,
    });
  });
  const doc = parse(text) as unknown;
  const roles: unknown[] = Array.isArray(doc) ? doc : ((doc as { roles?: unknown[] } | null)?.roles ?? []);
  const collections = Array.isArray(doc) ? [] : ((doc as { collections?: unknown[] } | null)?.collections ?? []);
  if (collections.length > 0) {
    throw new AnsibleRequirementsError(
      `requirements_path ${requirementsFile} lists collections; installing them needs ansible-galaxy and the network (galaxy.ansible.com)`,
      { hint: 'install the collections beforehand (ansible-galaxy collection install -r ...) where the network is available, or vendor them' },
    );
  }
  const base = path.dirname(requirementsFile);
  const installed: string[] = [];
  await mkdir(rolesDir, { recursive: true });
  for (const raw of roles) {
    const entry: RoleEntry = typeof raw === 'string' ? { src: raw } : ((raw ?? {}) as RoleEntry);
    const src = entry.src ?? entry.name ?? '';
    if (!src || !isLocalSrc(src) || entry.scm) {
      throw new AnsibleRequirementsError(
        `requirements_path ${requirementsFile}: role "${entry.name ?? src}" comes from ${
          /^(https?|git|ssh):|@/.test(src) ? src : 'Ansible Galaxy'
        }; downloading it needs the network, and hallmark installs roles only from local paths`,
        { hint: 'vendor the role into roles_path, or give its src as a local directory (src: ./roles-vendor/name)' },
      );
    }
    const dir = path.resolve(base, src.replace(/^file:\/\//, ''));
    if (!(await stat(dir).catch(() => undefined))?.isDirectory()) {
      throw new AnsibleRequirementsError(`requirements_path ${requirementsFile}: role source ${dir} is not a directory`);
    }
    const name = entry.name ?? path.basename(dir);
    await symlink(dir, path.join(rolesDir, name), 'dir');
    installed.push(name);
  }
  return installed;
}
