// Built-in drivers: each registers its schema, its capabilities and a lazy loader (see src/plugins.ts).
import { registerPlugin, type DriverDef } from '../plugins.js';
import { qemuDriverSchema, type QemuDriverOptions } from './qemu/schema.js';
import { amiNameProblem, ec2Schema, type Ec2Options } from './ec2/schema.js';
import { proxyDriverSchema, type ProxyDriverOptions } from './proxy/schema.js';

registerPlugin({
  kind: 'driver',
  name: 'qemu',
  description: 'local QEMU virtual machines (KVM or software emulation)',
  schema: qemuDriverSchema,
  // Images in the local store (keep-N prunes it); sharing, parameters, deprecation and launch templates are EC2 things.
  capabilities: ['images', 'leftovers'],
  // Exports to directories and S3 buckets; there are no regions to copy to.
  copies: ['targets'],
  load: async (o) => new (await import('./qemu/driver.js')).QemuDriver(o as QemuDriverOptions),
});

/** The ec2 driver's registration: `hallmark distribute` resolves an Ec2Driver it makes itself with these capabilities. */
export const ec2Plugin = {
  kind: 'driver',
  name: 'ec2',
  description: 'Amazon EC2 instances and AMIs (copy to regions, share with accounts)',
  schema: ec2Schema,
  capabilities: ['images', 'sharing', 'parameters', 'launchTemplates', 'deprecation', 'leftovers'],
  // CopyImage to other regions; an AMI is not exported to files.
  copies: ['regions'],
  imageNameProblem: amiNameProblem,
  load: async (o) => new (await import('./ec2/ec2-driver.js')).Ec2Driver(o as Ec2Options),
} as const satisfies DriverDef;
registerPlugin(ec2Plugin);

registerPlugin({
  kind: 'driver',
  name: 'proxy',
  description: 'an existing machine reached over SSH (Test Kitchen\'s proxy): converge and verify only, no images',
  schema: proxyDriverSchema,
  // Machines it did not make: no images, so `build` refuses it.
  capabilities: [],
  load: async (o) => new (await import('./proxy/driver.js')).ProxyDriver(o as ProxyDriverOptions),
});
