/**
 * The configuration loader's public API. Loading has no side effects: it
 * reads the config file(s) and nothing else.
 */
import '../builtin-plugins.js';
import type { ConfigProblem } from '../kernel/errors.js';
import type { ConfigNote } from './problems.js';
import type { InstanceConfig } from './types.js';
import { loadProjectFrom } from './load.js';

export type { ImageConfig, DistributeConfig, PublishConfig, InstanceConfig, PluginBlock } from './types.js';
export { selectInstances } from './select.js';
export { redactSecrets } from './redact.js';
export { renderImageName } from './image-name.js';
export { buildProblems } from './build-rules.js';
export { instanceName } from './instances.js';
export { uniqueProblems } from './problems.js';
export { CONFIG_FILE_NAMES } from './discover.js';
export type { ConfigNote } from './problems.js';

export interface LoadOptions {
  cwd: string;
  configFile?: string;
  env?: Record<string, string | undefined>;
}

export interface InstanceEntry {
  config: InstanceConfig;
  /** Problems that concern this instance only (its plugin blocks). */
  problems: ConfigProblem[];
  /** Warnings and notes about this instance's plugin blocks; they stop nothing (see plugin-options.ts). */
  notes?: ConfigNote[];
}

export interface Project {
  /** Absolute path of the main config file. */
  file: string;
  /** The *.local.yml overlay (or KITCHEN_LOCAL_YAML) when present. */
  localFile?: string;
  /** KITCHEN_GLOBAL_YAML or ~/.kitchen/config.yml when present: merged under the project file. */
  globalFile?: string;
  /** Directory of the config file. */
  projectDir: string;
  /** <projectDir>/.hallmark (not created by loading). */
  stateDir: string;
  instances: InstanceEntry[];
  /** The top-level `build:` section. */
  build?: { atomic: boolean };
  /** Notes and warnings about the whole project (see ConfigNote); the CLI shows them on stderr. */
  notes?: ConfigNote[];
}

/** Throws ConfigError for file-level problems; see load.ts for the stages. */
export function loadProject(opts: LoadOptions): Promise<Project> {
  return loadProjectFrom(opts);
}
