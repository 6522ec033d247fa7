// The spec verifier's public surface.
export { SpecVerifier } from './verifier.js';
export { runSpecChecks, type RunSpecOptions, type SpecRun } from './run.js';
export { loadSpecFiles, parseSpecText } from './load.js';
export { specVerifierSchema, type SpecVerifierOptions } from './schema.js';
export { profileFiles, profilesDir } from './files.js';
