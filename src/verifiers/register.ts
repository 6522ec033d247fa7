// Built-in verifiers: each registers its schema and a lazy loader (see src/plugins.ts).
import { registerPlugin } from '../plugins.js';
import { specVerifierSchema } from './spec/schema.js';
import { shellVerifierSchema, type ShellVerifierOptions } from './shell/schema.js';
import { testinfraVerifierSchema } from './testinfra/schema.js';
import { inspecVerifierSchema } from './inspec/schema.js';

registerPlugin({
  kind: 'verifier',
  name: 'spec',
  description: 'built-in gossfile-compatible checks, run in one round trip',
  schema: specVerifierSchema,
  load: async (o) => new (await import('./spec/verifier.js')).SpecVerifier(specVerifierSchema().parse(o)),
});
registerPlugin({
  kind: 'verifier',
  name: 'shell',
  description: 'commands or a script that must exit 0, one check each',
  schema: shellVerifierSchema,
  load: async (options) => new (await import('./shell/shell-verifier.js')).ShellVerifier(options as ShellVerifierOptions),
});
registerPlugin({
  kind: 'verifier',
  name: 'testinfra',
  description: 'pytest + testinfra tests on the controller, over SSH (needs python3-testinfra)',
  schema: testinfraVerifierSchema,
  load: async (o) => new (await import('./testinfra/testinfra-verifier.js')).TestinfraVerifier(testinfraVerifierSchema().parse(o)),
});
for (const name of ['inspec', 'cinc-auditor'] as const) {
  registerPlugin({
    kind: 'verifier',
    name,
    description: `InSpec profiles run by ${name} on the controller, over SSH (kitchen-inspec options)`,
    schema: inspecVerifierSchema,
    load: async (o) => new (await import('./inspec/inspec-verifier.js')).InspecVerifier(inspecVerifierSchema().parse(o)),
  });
}
