/**
 * examples/ansible stays usable: its hallmark.yml loads without problems for
 * both platforms, its playbook and role pass ansible-playbook's syntax check,
 * and its gossfile loads. (The VM run of the role belongs to the qemu tests.)
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadProject } from '../../src/config/index.js';
import { ansibleProvisionerSchema } from '../../src/provisioners/ansible/schema.js';
import { loadSpecFiles } from '../../src/verifiers/spec/load.js';

const dir = path.resolve(import.meta.dirname, '../../examples/ansible');

describe('examples/ansible', () => {
  it('loads for debian-12 and debian-13 with an ansible_playbook provisioner', async () => {
    const project = await loadProject({ cwd: dir, env: {} });
    expect(project.instances.map((i) => i.config.name)).toEqual(['default-debian-12', 'default-debian-13']);
    for (const i of project.instances) {
      expect(i.problems).toEqual([]);
      const p = ansibleProvisionerSchema().parse(i.config.provisioner);
      expect(p).toMatchObject({ playbook: 'site.yml', hosts: ['web'], roles_path: 'roles' });
    }
  });

  it('passes ansible-playbook --syntax-check', () => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'hallmark-example-'));
    try {
      writeFileSync(path.join(tmp, 'hosts.yml'), 'web:\n  hosts:\n    default-debian-12:\n');
      const out = execFileSync('ansible-playbook', ['--syntax-check', '-i', path.join(tmp, 'hosts.yml'), 'site.yml'], {
        cwd: dir,
        env: { ...process.env, ANSIBLE_ROLES_PATH: path.join(dir, 'roles'), ANSIBLE_LOCAL_TEMP: tmp, ANSIBLE_NOCOLOR: '1' },
        encoding: 'utf8',
      });
      expect(out).toContain('playbook: site.yml');
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('has a gossfile checking package, service, port and page', async () => {
    const specs = await loadSpecFiles([path.join(dir, 'test/integration/default/nginx.yml')]);
    expect(specs.map((s) => `${s.type}:${s.key}`)).toEqual(['package:nginx', 'service:nginx', 'port:tcp:80', 'http:http://localhost/']);
  });
});
