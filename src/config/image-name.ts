import { HallmarkError } from '../kernel/errors.js';
import { getPluginDef } from '../plugins.js';
import { IMAGE_NAME_VARS } from './sections.js';
import type { InstanceConfig } from './types.js';

export type ImageNameVars = Record<(typeof IMAGE_NAME_VARS)[number], string>;

/**
 * Fills `{{suite}}`, `{{platform}}`, `{{instance}}`, `{{build_id}}` and
 * `{{timestamp}}` (whitespace inside the braces allowed). The schema only
 * admits these names, so an unknown one here is a caller's bug.
 */
export function renderImageName(template: string, vars: ImageNameVars): string {
  return template.replace(/\{\{\s*([^}]*?)\s*\}\}/g, (whole, name: string) => {
    if (!(IMAGE_NAME_VARS as readonly string[]).includes(name)) {
      throw new HallmarkError(`unknown placeholder ${whole} in image name template "${template}"`, {
        hint: `use ${IMAGE_NAME_VARS.map((v) => `{{${v}}}`).join(', ')}`,
      });
    }
    return vars[name as keyof ImageNameVars];
  });
}

/**
 * Stand-ins of the build's own values, of the length the real ones have
 * (newBuildId: `YYYYMMDDhhmmss-xxxxxx`; timestamp: `YYYYMMDDThhmmssZ`), so a
 * name rendered before the build is as long as the one the build renders.
 * Every instance gets the same ones: a build's instances share the build id,
 * and instances run at once can share the second.
 */
const SAMPLE_BUILD_ID = '20260101000000-000000';
const SAMPLE_TIMESTAMP = '20260101T000000Z';

type Named = Pick<InstanceConfig, 'name' | 'suite' | 'platform' | 'driver' | 'distribute' | 'image'>;

/** The instance's image name as a build would render it (sample build id and timestamp). */
export function sampleImageName(i: Named): string {
  return renderImageName(i.image.name, { suite: i.suite, platform: i.platform, instance: i.name, build_id: SAMPLE_BUILD_ID, timestamp: SAMPLE_TIMESTAMP });
}

/**
 * What the instance's rendered image name should be, by its driver's rule
 * (AMI names for ec2), when it is not; undefined when it is fine or the
 * driver has no rule.
 */
export function imageNameProblem(i: Named): { name: string; expected: string } | undefined {
  const rule = getPluginDef('driver', i.driver.name)?.imageNameProblem;
  if (!rule) return undefined;
  const name = sampleImageName(i);
  const expected = rule(name);
  return expected === undefined ? undefined : { name, expected };
}

/**
 * Two instances of one build whose image names would be the same in one
 * region (an image.name without {{instance}}, or with {{timestamp}} as its
 * only difference): the second CreateImage or CopyImage would be refused at
 * the end of its build. Only drivers whose image names are unique per
 * region (those with an image name rule) count. Returns the first pair.
 */
export function sharedImageName(instances: Named[]): { name: string; region: string; instances: [string, string] } | undefined {
  const seen = new Map<string, string>();
  for (const i of instances) {
    if (!getPluginDef('driver', i.driver.name)?.imageNameProblem) continue;
    const name = sampleImageName(i);
    const home = typeof i.driver.region === 'string' ? i.driver.region : 'the default region';
    for (const region of new Set([home, ...i.distribute.regions])) {
      const key = `${i.driver.name}\u0000${region}\u0000${name}`;
      const other = seen.get(key);
      if (other !== undefined && other !== i.name) return { name, region, instances: [other, i.name] };
      seen.set(key, i.name);
    }
  }
  return undefined;
}
