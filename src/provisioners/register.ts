// Built-in provisioners: each registers its schema and a lazy loader (see src/plugins.ts).
import { registerPlugin } from '../plugins.js';
import { ansibleProvisionerSchema, type AnsibleProvisionerOptions } from './ansible/schema.js';
import { fileProvisionerSchema, type FileProvisionerOptions } from './file/schema.js';
import { shellProvisionerSchema, type ShellProvisionerOptions } from './shell/schema.js';

registerPlugin({
  kind: 'provisioner',
  name: 'shell',
  description: 'runs scripts, inline commands or a command on the machine (Test Kitchen options)',
  schema: shellProvisionerSchema,
  load: async (options) => new (await import('./shell/shell-provisioner.js')).ShellProvisioner(options as ShellProvisionerOptions),
});
registerPlugin({
  kind: 'provisioner',
  name: 'file',
  description: 'uploads files and directories, then sets their mode and owner',
  schema: fileProvisionerSchema,
  load: async (options) => new (await import('./file/file-provisioner.js')).FileProvisioner(options as FileProvisionerOptions),
});
registerPlugin({
  kind: 'provisioner',
  name: 'ansible_playbook',
  description: 'runs ansible-playbook from this machine over SSH (kitchen-ansible options)',
  schema: ansibleProvisionerSchema,
  load: async (options) => new (await import('./ansible/ansible-provisioner.js')).AnsibleProvisioner(options as AnsibleProvisionerOptions),
});
