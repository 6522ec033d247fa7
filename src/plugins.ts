import type { z } from 'zod';
import type { Capability, CopyKind, Driver, DriverImplementation } from './drivers/driver.js';
import type { Transport } from './transports/transport.js';
import type { Provisioner } from './provisioners/provisioner.js';
import type { Verifier } from './verifiers/verifier.js';
import { PluginError } from './kernel/errors.js';
import { isKitchenPluginNotRun, notRunMessage } from './config/kitchen-plugins.js';

/**
 * The plugin registry. Each plugin owns the zod schema of its config block
 * (a `schema.ts` beside it, cheap to import; the schema is built when first
 * used, so a qemu project never builds ec2's) and is loaded lazily, so that
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

interface Common<K extends PluginKind> {
  kind: K;
  name: string;
  description: string;
  /**
   * The block's schema, built on the first call and kept (see kernel/lazy.ts):
   * loading a config builds only the schemas of the plugins it names.
   */
  schema: () => z.ZodType;
}

interface OtherDef<K extends Exclude<PluginKind, 'driver'>> extends Common<K> {
  /** Creates the plugin with its validated options. */
  load: (options: Record<string, unknown>) => Promise<KindMap[K]>;
}

/**
 * A driver: what it can do besides machines is its `capabilities`, the one
 * place that says so. The config rules read them without loading the driver
 * (an SSM parameter on a qemu instance is a problem of that instance); the
 * loaded driver has exactly them (see resolveDriver in drivers/driver.ts),
 * and `load` must return an implementation of each (the compiler checks it).
 */
export interface DriverDef<C extends Capability = Capability> extends Common<'driver'> {
  capabilities: readonly C[];
  /**
   * With `images`: where its `distribute` copies to (see CopyKind); none when
   * absent. The config rules read it as they read `capabilities`.
   */
  copies?: readonly CopyKind[];
  /**
   * Drivers whose images carry a name that must follow a rule and be unique
   * per region (AMIs): what a rendered image name must be when it is not,
   * else undefined. The loader checks each instance's image.name with it,
   * and the build checks that no two of its instances render one name.
   */
  imageNameProblem?: (name: string) => string | undefined;
  /** Creates the implementation with its validated options. */
  load: (options: Record<string, unknown>) => Promise<DriverImplementation<C>>;
}

export type PluginDef<K extends PluginKind> = K extends 'driver' ? DriverDef : K extends Exclude<PluginKind, 'driver'> ? OtherDef<K> : never;

const registry: { [K in PluginKind]: Map<string, PluginDef<K>> } = {
  driver: new Map(),
  transport: new Map(),
  provisioner: new Map(),
  verifier: new Map(),
};

export function registerPlugin<const C extends Capability>(def: DriverDef<C>): void;
export function registerPlugin<K extends Exclude<PluginKind, 'driver'>>(def: OtherDef<K>): void;
export function registerPlugin(def: { kind: PluginKind; name: string }): void {
  (registry[def.kind] as Map<string, unknown>).set(def.name, def);
}

/** The capabilities a registered driver declares (none for an unknown one); its implementation is not loaded. */
export function driverCapabilities(name: string): readonly Capability[] {
  return getPluginDef('driver', name)?.capabilities ?? [];
}

/** Where a registered driver's copies go (none for an unknown one, or one that declares none). */
export function driverCopies(name: string): readonly CopyKind[] {
  return getPluginDef('driver', name)?.copies ?? [];
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
  const parsed = def.schema().parse(options, { jitless: true }) as Record<string, unknown>; // parsed once: see config/zod-problems.ts
  if (def.kind === 'driver') {
    const d = def as DriverDef;
    // Imported here, with the driver: list and validate never load the driver contract's code.
    const { resolveDriver } = await import('./drivers/driver.js');
    return resolveDriver(await d.load(parsed), d.capabilities) as KindMap[K];
  }
  return (def as OtherDef<Exclude<PluginKind, 'driver'>>).load(parsed) as Promise<KindMap[K]>;
}
