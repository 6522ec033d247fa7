/**
 * What an action needs of each instance's driver, resolved once when the run
 * is planned, from the capabilities the driver declares (without loading
 * it): an instance whose driver lacks one fails as a config problem of that
 * instance before anything of it starts, and the others run.
 */
import type { InstanceConfig } from '../config/types.js';
import type { Capability } from '../drivers/driver.js';
import type { ConfigProblem } from '../kernel/errors.js';
import { getPluginDef } from '../plugins.js';

/** Beyond machines, which every driver has. */
const NEEDS: Partial<Record<string, readonly Capability[]>> = {
  // Capture, boot test, copies, the published tag: a build makes images.
  build: ['images'],
};

/** What lacking each capability an action needs means (the config rules report those of the options). */
const WHY: Partial<Record<Capability, (driver: string) => Pick<ConfigProblem, 'message' | 'hint'>>> = {
  images: (d) => ({
    message: `driver "${d}" works on machines it did not make, so it cannot capture images`,
    hint: 'images need a driver that owns the machine (qemu, ec2); use converge/verify with this driver instead',
  }),
};

/**
 * The problems of running `action` on `instance` with a driver that has the
 * capabilities `has` (default: what its registration declares). None for an
 * unknown driver: that is reported with the driver block.
 */
export function missingCapabilities(action: string, instance: InstanceConfig, has?: readonly Capability[]): ConfigProblem[] {
  const declared = has ?? getPluginDef('driver', instance.driver.name)?.capabilities;
  if (!declared) return [];
  return (NEEDS[action] ?? [])
    .filter((c) => !declared.includes(c))
    .map((c) => ({ file: instance.file, path: 'driver.name', ...(WHY[c]?.(instance.driver.name) ?? { message: `driver "${instance.driver.name}" has no ${c} capability, which ${action} needs` }) }));
}
