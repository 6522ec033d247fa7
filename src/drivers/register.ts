// Built-in drivers: each registers its schema and a lazy loader (see src/plugins.ts).
import { registerPlugin } from '../plugins.js';
import { qemuDriverSchema, type QemuDriverOptions } from './qemu/schema.js';
import { amiNameProblem, ec2Schema, type Ec2Options } from './ec2/schema.js';
import { proxyDriverSchema, type ProxyDriverOptions } from './proxy/schema.js';

registerPlugin({
  kind: 'driver',
  name: 'qemu',
  description: 'local QEMU virtual machines (KVM or software emulation)',
  schema: qemuDriverSchema,
  // keep-N prunes the local image store; deprecation and launch templates are EC2 things.
  imageLifecycle: ['image.keep'],
  load: async (o) => new (await import('./qemu/driver.js')).QemuDriver(o as QemuDriverOptions),
});

registerPlugin({
  kind: 'driver',
  name: 'ec2',
  description: 'Amazon EC2 instances and AMIs (copy to regions, share with accounts)',
  schema: ec2Schema,
  publishes: ['ssm_parameter'],
  imageLifecycle: ['image.deprecate_after', 'image.keep', 'distribute.launch_templates'],
  imageNameProblem: amiNameProblem,
  load: async (o) => new (await import('./ec2/ec2-driver.js')).Ec2Driver(o as Ec2Options),
});

registerPlugin({
  kind: 'driver',
  name: 'proxy',
  description: 'an existing machine reached over SSH (Test Kitchen\'s proxy): converge and verify only, no images',
  schema: proxyDriverSchema,
  load: async (o) => new (await import('./proxy/driver.js')).ProxyDriver(o as ProxyDriverOptions),
});
