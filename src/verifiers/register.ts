// Built-in verifiers: each registers its schema and a lazy loader (see src/plugins.ts).
import { registerPlugin } from '../plugins.js';
import { specVerifierSchema } from './spec/schema.js';

registerPlugin({
  kind: 'verifier',
  name: 'spec',
  description: 'built-in gossfile-compatible checks, run in one round trip',
  schema: specVerifierSchema,
  load: async (o) => new (await import('./spec/verifier.js')).SpecVerifier(specVerifierSchema.parse(o)),
});
