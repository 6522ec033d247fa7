// Built-in transports: each registers its schema and a lazy loader (see src/plugins.ts).
// Registration lives here, in the plugin layer, not in transports/: a transport
// is a connection (layer below the plugins) that the registry offers as a plugin.
import { registerPlugin } from './plugins.js';
import { sshTransportSchema } from './transports/ssh/schema.js';

registerPlugin({
  kind: 'transport',
  name: 'ssh',
  description: 'SSH (ssh2): waits until ready, host-key pinning, bastion gateway, SFTP transfers',
  schema: sshTransportSchema,
  load: async (options) => new (await import('./transports/ssh/transport.js')).SshTransport(options),
});
