import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'yaml';
import { convertPackerTemplate } from '../config/packer-template.js';
import { UsageError, type ExitCode } from '../kernel/errors.js';
import { out } from './output.js';

/**
 * `hallmark init`: scaffolds a project that validates and builds as it is
 * (`--driver qemu|ec2`, `--provisioner shell|ansible_playbook`), or with
 * `--from-packer FILE` converts a Packer JSON template into hallmark.yml and
 * names every key it could not convert. Existing files are never
 * overwritten without --force.
 */
export interface InitOptions {
  driver?: string;
  provisioner?: string;
  fromPacker?: string;
  force?: boolean;
  dir?: string;
}

const GITIGNORE = `# hallmark's state (journal, keys, logs) and each build's outputs
.hallmark/
env.properties
manifest.json
junit.xml
report.html
`;

/** The web page the provisioning writes; the gossfile checks that nginx serves it. */
const PAGE_TEXT = 'built and verified by hallmark';

const PROVISION_SH = `#!/bin/sh
# Installs nginx, serves a page and turns off nginx's version banner.
# hallmark runs this on the machine as root (sudo), then the checks in
# test/integration/default/ prove it before any image is kept.
set -eu
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends nginx
cat > /var/www/html/index.html <<'HTML'
<!doctype html>
<title>hallmark</title>
<h1>${PAGE_TEXT}</h1>
HTML
# Debian 13's nginx.conf already sets server_tokens; a second one is refused.
sed -i -E 's/^([[:space:]]*)(server_tokens[[:space:]])/\\1# \\2/' /etc/nginx/nginx.conf
echo 'server_tokens off;' > /etc/nginx/conf.d/hardening.conf
nginx -t
systemctl enable nginx
systemctl restart nginx
`;

const SITE_YML = `# hallmark runs this playbook from this machine over SSH against the build
# machine, placed in the inventory group "web" (provisioner.hosts).
- hosts: web
  become: true
  roles:
    - web
`;

const ROLE_TASKS = `- name: Install nginx
  ansible.builtin.apt:
    name: nginx
    state: present
    update_cache: true

- name: Serve a page
  ansible.builtin.copy:
    dest: /var/www/html/index.html
    content: |
      <!doctype html>
      <title>hallmark</title>
      <h1>${PAGE_TEXT}</h1>
    mode: "0644"

# Debian 13's nginx.conf already sets server_tokens; a second one is refused.
- name: Comment out the packaged server_tokens line
  ansible.builtin.replace:
    path: /etc/nginx/nginx.conf
    regexp: '^(\\s*)(server_tokens\\s)'
    replace: '\\1# \\2'
  notify: Restart nginx

- name: Hide nginx's version
  ansible.builtin.copy:
    dest: /etc/nginx/conf.d/hardening.conf
    content: "server_tokens off;\\n"
    mode: "0644"
  notify: Restart nginx

- name: Start nginx at boot
  ansible.builtin.service:
    name: nginx
    enabled: true
    state: started
`;

const ROLE_HANDLERS = `- name: Restart nginx
  ansible.builtin.service:
    name: nginx
    state: restarted
`;

const GOSSFILE = `# goss-format checks of what the provisioning does, run by the built-in
# spec verifier; an image is kept only when every one passes.
package:
  nginx:
    installed: true
service:
  nginx:
    enabled: true
    running: true
port:
  tcp:80:
    listening: true
http:
  http://localhost/:
    status: 200
    body:
      - ${PAGE_TEXT}
    headers:
      - "!/Server: nginx\\\\//"
file:
  /etc/nginx/conf.d/hardening.conf:
    exists: true
    owner: root
    mode: "0644"
    contents:
      - server_tokens off;
command:
  nginx -t:
    exit-status: 0
    stderr:
      - /syntax is ok/
`;

function hallmarkYml(driver: 'qemu' | 'ec2', provisioner: 'shell' | 'ansible_playbook'): string {
  const head =
    driver === 'qemu'
      ? `# Built on local VMs, no cloud account needed:
#   hallmark base build debian-12     # once: a bootable base image from Debian's mirror
#   hallmark build                    # create -> converge -> verify -> capture -> destroy
driver:
  name: qemu
  memory: 1024
  cpus: 2
`
      : `# Built on EC2 with your AWS credentials (AWS_PROFILE or the environment):
#   hallmark validate
#   hallmark build                    # launch -> provision -> verify -> create the AMI -> terminate
driver:
  name: ec2
  region: us-east-1
  instance_type: t3.small
`;
  const prov =
    provisioner === 'shell'
      ? `provisioner:
  name: shell
  script: provision.sh
`
      : `provisioner:
  name: ansible_playbook
  playbook: site.yml
  roles_path: roles
  hosts: web
`;
  const platforms =
    driver === 'qemu'
      ? `platforms:
  - name: debian-12
    driver:
      image: debian-12
`
      : `platforms:
  # kitchen-ec2's lookup by name: Debian's newest debian-12 AMI, user admin
  - name: debian-12
`;
  return `${head}
${prov}
verifier:
  name: spec            # gossfiles in test/integration/<suite>/

image:
  name: "web-{{platform}}-{{timestamp}}"
  tags:
    role: web

${platforms}
suites:
  - name: default
`;
}

async function writeAll(dir: string, files: Record<string, string>, force: boolean, executable: string[] = []): Promise<void> {
  const existing = Object.keys(files).filter((f) => existsSync(path.join(dir, f)));
  if (existing.length && !force) throw new UsageError(`not overwriting existing file${existing.length === 1 ? '' : 's'}: ${existing.join(', ')} (use --force to replace ${existing.length === 1 ? 'it' : 'them'})`);
  for (const [name, text] of Object.entries(files)) {
    const p = path.join(dir, name);
    await mkdir(path.dirname(p), { recursive: true });
    await writeFile(p, text);
    if (executable.includes(name)) await chmod(p, 0o755);
  }
}

export async function init(o: InitOptions): Promise<ExitCode> {
  const dir = path.resolve(o.dir ?? '.');
  if (o.fromPacker) {
    let template: unknown;
    try {
      template = JSON.parse(await readFile(o.fromPacker, 'utf8'));
    } catch (err) {
      throw new UsageError(`cannot read ${o.fromPacker} as a Packer JSON template: ${(err as Error).message}`);
    }
    let r;
    try {
      r = convertPackerTemplate(template);
    } catch (err) {
      throw new UsageError(`${o.fromPacker}: ${(err as Error).message}`);
    }
    const header = `# Converted from ${path.basename(o.fromPacker)} by \`hallmark init --from-packer\`.\n# Add checks in test/integration/default/*.yml; an image is kept only when they pass.\n`;
    const notes = r.unconverted.length ? `# Not converted:\n${r.unconverted.map((u) => `#   ${u}`).join('\n')}\n` : '';
    await writeAll(dir, { 'hallmark.yml': header + notes + stringify(r.config) }, !!o.force);
    out(`wrote ${path.join(dir, 'hallmark.yml')}`);
    if (r.unconverted.length) {
      out(`not converted (${r.unconverted.length}):`);
      for (const u of r.unconverted) out(`  ${u}`);
    }
    return 0;
  }
  const driver = o.driver ?? 'qemu';
  const provisioner = o.provisioner ?? 'shell';
  if (driver !== 'qemu' && driver !== 'ec2') throw new UsageError(`--driver must be qemu or ec2, not ${driver}`);
  if (provisioner !== 'shell' && provisioner !== 'ansible_playbook') throw new UsageError(`--provisioner must be shell or ansible_playbook, not ${provisioner}`);
  const files: Record<string, string> = {
    'hallmark.yml': hallmarkYml(driver, provisioner),
    '.gitignore': GITIGNORE,
    'test/integration/default/web.yml': GOSSFILE,
  };
  if (provisioner === 'shell') files['provision.sh'] = PROVISION_SH;
  else Object.assign(files, { 'site.yml': SITE_YML, 'roles/web/tasks/main.yml': ROLE_TASKS, 'roles/web/handlers/main.yml': ROLE_HANDLERS });
  await writeAll(dir, files, !!o.force, ['provision.sh']);
  out(`wrote ${Object.keys(files).join(', ')} in ${dir}`);
  out(driver === 'qemu' ? 'next: hallmark base build debian-12 (once), then hallmark build' : 'next: hallmark validate, then hallmark build (with AWS credentials)');
  return 0;
}
