// Built-in transports: each registers its schema and a lazy loader (see src/plugins.ts).
import { registerPlugin } from '../plugins.js';
import { sshTransportSchema } from './ssh/schema.js';

registerPlugin({
  kind: 'transport',
  name: 'ssh',
  description: 'SSH (ssh2): waits until ready, host-key pinning, bastion gateway, SFTP transfers',
  schema: sshTransportSchema,
  load: async (options) => new (await import('./ssh/transport.js')).SshTransport(options),
});
