// Built-in verifiers: each registers its schema and a lazy loader (see src/plugins.ts).
import { registerPlugin } from '../plugins.js';
import { specVerifierSchema } from './spec/schema.js';
import { shellVerifierSchema, type ShellVerifierOptions } from './shell/schema.js';

registerPlugin({
  kind: 'verifier',
  name: 'spec',
  description: 'built-in gossfile-compatible checks, run in one round trip',
  schema: specVerifierSchema,
  load: async (o) => new (await import('./spec/verifier.js')).SpecVerifier(specVerifierSchema.parse(o)),
});
registerPlugin({
  kind: 'verifier',
  name: 'shell',
  description: 'commands or a script that must exit 0, one check each',
  schema: shellVerifierSchema,
  load: async (options) => new (await import('./shell/shell-verifier.js')).ShellVerifier(options as ShellVerifierOptions),
});
