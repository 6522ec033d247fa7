import type { ConfigProblem } from '../kernel/errors.js';
import type { Capability } from '../drivers/driver.js';
import { driverCapabilities, getPluginDef, pluginNames } from '../plugins.js';
import type { DistributeConfig, ImageConfig, PluginBlock, PublishConfig } from './types.js';
import { imageNameProblem } from './image-name.js';
import { child } from './merge.js';
import { problemAt } from './problems.js';
import type { SectionName } from './sections.js';
import type { ValueNode } from './source.js';

/**
 * Rules that span keys (and so, after merging, levels) of hallmark's
 * sections. Each returns problems placed at the value to change.
 */
export function checkSectionRules(section: SectionName, data: unknown, node: ValueNode): ConfigProblem[] {
  if (section === 'image') return imageRules(data as ImageConfig, node);
  if (section === 'distribute') return distributeRules(data as DistributeConfig, node);
  return [];
}

function imageRules(image: ImageConfig, node: ValueNode): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  if (image.kms_key_id !== undefined && image.encrypted === false) {
    out.push(
      problemAt(node, ['kms_key_id'], {
        message: 'kms_key_id is set but encrypted is false',
        hint: 'remove kms_key_id or set encrypted: true',
      }),
    );
  }
  return out;
}

function distributeRules(d: DistributeConfig, node: ValueNode): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  for (const region of Object.keys(d.kms_key_ids)) {
    if (!d.regions.includes(region)) {
      out.push(
        problemAt(
          node,
          ['kms_key_ids', region],
          {
            message: `kms_key_ids names region ${region}, which is not in regions`,
            expected: d.regions.length > 0 ? `one of ${d.regions.join(', ')}` : 'a region listed in distribute.regions',
            found: region,
          },
          true,
        ),
      );
    }
  }
  if (d.encrypted === false && Object.keys(d.kms_key_ids).length > 0) {
    out.push(problemAt(node, ['encrypted'], { message: 'kms_key_ids are set but encrypted is false', hint: 'remove kms_key_ids or set encrypted: true' }));
  }
  const dupes = d.accounts.filter((a, i) => d.accounts.indexOf(a) !== i);
  if (dupes.length > 0) {
    out.push(problemAt(node, ['accounts'], { message: 'an account is listed twice', found: [...new Set(dupes)].join(', ') }));
  }
  return out;
}

/** The driver capability each `publish:` output beyond the files needs. */
const OUTPUT_NEEDS = { ssm_parameter: 'parameters' } as const satisfies Record<string, Capability>;

/** The image lifecycle keys (issue 15), and the driver capability that gives each a meaning. */
const LIFECYCLE_NEEDS = {
  'image.deprecate_after': 'deprecation',
  'image.keep': 'images',
  'distribute.launch_templates': 'launchTemplates',
} as const satisfies Record<string, Capability>;
type ImageLifecycleKey = keyof typeof LIFECYCLE_NEEDS;

/** Registered drivers with the capability, sorted. */
function driversWith(c: Capability): string[] {
  return pluginNames('driver').filter((n) => driverCapabilities(n).includes(c));
}

/**
 * Rules between an instance's driver and its sections: a `publish:` output
 * that the driver cannot write (an SSM parameter for local qemu images) is a
 * problem of that instance, placed where the output is set, so that it does
 * not stop `list` or the instances of other platforms.
 */
export function checkInstanceRules(instance: string, driver: PluginBlock, publish: PublishConfig | undefined, publishNode: ValueNode | undefined): ConfigProblem[] {
  // An unknown driver is reported with the driver block already.
  if (!getPluginDef('driver', driver.name) || !publish || !publishNode) return [];
  const out: ConfigProblem[] = [];
  const outputs: (keyof typeof OUTPUT_NEEDS)[] = publish.ssm_parameter !== undefined ? ['ssm_parameter'] : [];
  for (const output of outputs) {
    if (driverCapabilities(driver.name).includes(OUTPUT_NEEDS[output])) continue;
    const able = driversWith(OUTPUT_NEEDS[output]);
    out.push(
      problemAt(
        publishNode,
        [output],
        {
          message: `instance ${instance} uses the ${driver.name} driver, which cannot write an SSM parameter${driver.name === 'qemu' ? ' (its images are local files, not AMIs)' : ''}`,
          expected: able.length > 0 ? `publish.${output} only on instances with the ${able.join(' or ')} driver` : `no publish.${output}`,
          found: `driver "${driver.name}"`,
          hint: `remove publish.${output} here, or set it under the platforms or suites that use ${able.length > 0 ? `the ${able.join(' or ')} driver` : 'a driver that writes it'}`,
        },
        true,
      ),
    );
  }
  return out;
}

/**
 * Image lifecycle keys (image.deprecate_after, image.keep,
 * distribute.launch_templates) set for an instance whose driver gives them no
 * meaning (deprecation and launch templates are EC2's; a proxy makes no
 * images): a problem of that instance, placed where the key is set.
 */
export function checkLifecycleRules(
  instance: string,
  driver: PluginBlock,
  sections: { image?: ImageConfig; distribute?: DistributeConfig },
  nodes: { image?: ValueNode; distribute?: ValueNode },
): ConfigProblem[] {
  if (!getPluginDef('driver', driver.name)) return [];
  const has = driverCapabilities(driver.name);
  const set: [ImageLifecycleKey, ValueNode | undefined, string][] = [];
  if (sections.image?.deprecate_after !== undefined) set.push(['image.deprecate_after', nodes.image, 'deprecate_after']);
  if (sections.image?.keep !== undefined) set.push(['image.keep', nodes.image, 'keep']);
  if ((sections.distribute?.launch_templates ?? []).length > 0) set.push(['distribute.launch_templates', nodes.distribute, 'launch_templates']);
  const out: ConfigProblem[] = [];
  for (const [key, node, sub] of set) {
    if (!node || has.includes(LIFECYCLE_NEEDS[key])) continue;
    const able = driversWith(LIFECYCLE_NEEDS[key]);
    const why =
      driver.name === 'qemu' ? ' (its images are files in the local image store: no deprecation time, no launch templates)' : !has.includes('images') ? ' (it makes no images)' : '';
    out.push(
      problemAt(
        node,
        [sub],
        {
          message: `instance ${instance} uses the ${driver.name} driver, which has no ${key}${why}`,
          expected: able.length > 0 ? `${key} only on instances with the ${able.join(' or ')} driver` : `no ${key}`,
          found: `driver "${driver.name}"`,
          hint: `remove ${key} here, or set it under the platforms or suites that use ${able.length > 0 ? `the ${able.join(' or ')} driver` : 'a driver that has it'}`,
        },
        true,
      ),
    );
  }
  return out;
}

/**
 * The instance's image name, rendered as its build will render it, by its
 * driver's rule (AMI names: 3-128 characters of a few kinds). A problem of
 * that instance, placed at image.name when it is written, else at the
 * platform's name (the default template renders suite and platform names).
 */
export function checkImageName(instance: Parameters<typeof imageNameProblem>[0] & { file: string }, imageNode: ValueNode | undefined, platformNode: ValueNode | undefined): ConfigProblem[] {
  const p = imageNameProblem(instance);
  if (!p) return [];
  const fields = {
    message: `instance ${instance.name} would name its image ${JSON.stringify(p.name)}, which ${instance.driver.name} refuses`,
    expected: p.expected,
    found: JSON.stringify(p.name),
    hint: 'change image.name (or the suite or platform name it uses)',
  };
  const named = imageNode && child(imageNode, 'name') ? imageNode : undefined;
  if (named) return [problemAt(named, ['name'], fields)];
  if (platformNode) return [problemAt(platformNode, ['name'], fields)];
  return [{ file: instance.file, path: 'image.name', ...fields }];
}
