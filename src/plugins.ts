import type { z } from 'zod';
import type { Driver } from './drivers/driver.js';
import type { Transport } from './transports/transport.js';
import type { Provisioner } from './provisioners/provisioner.js';
import type { Verifier } from './verifiers/verifier.js';
import { PluginError } from './kernel/errors.js';
import { isKitchenPluginNotRun, notRunMessage } from './config/kitchen-plugins.js';

/**
 * The plugin registry. Each plugin owns the zod schema of its config block
 * (a `schema.ts` beside it, cheap to import) and is loaded lazily, so that
 * `hallmark validate` never pulls in the AWS SDK.
 *
 * A schema validates the whole block including `name`; it should be a
 * `z.object(...)` (strict: unknown keys are reported with "did you mean").
 */
export type PluginKind = 'driver' | 'transport' | 'provisioner' | 'verifier';

interface KindMap {
  driver: Driver;
  transport: Transport;
  provisioner: Provisioner;
  verifier: Verifier;
}

/** Optional `publish:` outputs that only some drivers can write. */
export type PublishOutput = 'ssm_parameter';

/** The image lifecycle keys (issue 15) that only some drivers give a meaning to. */
export type ImageLifecycleKey = 'image.deprecate_after' | 'image.keep' | 'distribute.launch_templates';

export interface PluginDef<K extends PluginKind> {
  kind: K;
  name: string;
  description: string;
  schema: z.ZodType;
  /**
   * Drivers: the `publish:` outputs beyond the files that they write (an SSM
   * parameter is an AWS thing). The loader reports an output set for an
   * instance whose driver does not write it as a problem of that instance.
   */
  publishes?: readonly PublishOutput[];
  /**
   * Drivers: the image lifecycle keys they act on. The loader reports any
   * other one set for an instance of this driver as a problem of that
   * instance, rather than let a build ignore it.
   */
  imageLifecycle?: readonly ImageLifecycleKey[];
  /**
   * Drivers whose images carry a name that must follow a rule and be unique
   * per region (AMIs): what a rendered image name must be when it is not,
   * else undefined. The loader checks each instance's image.name with it,
   * and the build checks that no two of its instances render one name.
   */
  imageNameProblem?: (name: string) => string | undefined;
  /** Creates the plugin with its validated options. */
  load: (options: Record<string, unknown>) => Promise<KindMap[K]>;
}

const registry: { [K in PluginKind]: Map<string, PluginDef<K>> } = {
  driver: new Map(),
  transport: new Map(),
  provisioner: new Map(),
  verifier: new Map(),
};

export function registerPlugin<K extends PluginKind>(def: PluginDef<K>): void {
  (registry[def.kind] as Map<string, PluginDef<K>>).set(def.name, def);
}

export function getPluginDef<K extends PluginKind>(kind: K, name: string): PluginDef<K> | undefined {
  return (registry[kind] as Map<string, PluginDef<K>>).get(name);
}

/** Registered names, sorted; `{ registered: true }`: in the order they were registered (the default one first). */
export function pluginNames(kind: PluginKind, opts: { registered?: boolean } = {}): string[] {
  const names = [...registry[kind].keys()];
  return opts.registered ? names : names.sort();
}

/** Validates `options` with the plugin's schema and loads it. */
export async function loadPlugin<K extends PluginKind>(kind: K, options: { name: string } & Record<string, unknown>): Promise<KindMap[K]> {
  const def = getPluginDef(kind, options.name);
  if (!def && isKitchenPluginNotRun(kind, options.name)) {
    throw new PluginError(notRunMessage(kind, options.name, pluginNames(kind, { registered: true })));
  }
  if (!def) {
    throw new PluginError(`unknown ${kind} "${options.name}"`, {
      hint: `available ${kind}s: ${pluginNames(kind).join(', ') || 'none'}`,
    });
  }
  const parsed = def.schema.parse(options, { jitless: true }) as Record<string, unknown>; // parsed once: see config/zod-problems.ts
  return def.load(parsed);
}
