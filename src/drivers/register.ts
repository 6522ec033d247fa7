// Built-in drivers: each registers its schema and a lazy loader (see src/plugins.ts).
import { registerPlugin } from '../plugins.js';
import { qemuDriverSchema, type QemuDriverOptions } from './qemu/schema.js';

registerPlugin({
  kind: 'driver',
  name: 'qemu',
  description: 'local QEMU virtual machines (KVM or software emulation)',
  schema: qemuDriverSchema,
  load: async (o) => new (await import('./qemu/driver.js')).QemuDriver(o as QemuDriverOptions),
});
