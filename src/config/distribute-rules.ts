import type { ConfigProblem } from '../kernel/errors.js';
import type { Capability, CopyKind } from '../drivers/driver.js';
import { driverCapabilities, driverCopies, getPluginDef, pluginNames } from '../plugins.js';
import { child, originAt } from './merge.js';
import { problemAt, type ConfigNote } from './problems.js';
import type { ValueNode } from './source.js';
import type { DistributeConfig, PluginBlock } from './types.js';

/**
 * What each `distribute:` key needs of the instance's driver, and whether
 * setting it for a driver without that is an error or a warning. An error
 * is a key that promises something a build would not do (a share, a copy, an
 * export, encryption): the build would pass and look published when it is
 * not, so the instance does not run until the key is moved (as Packer refuses
 * a key its builder does not know). A warning is a key that only tunes
 * something the driver does not do.
 *
 * Not here: launch_templates (rules.ts, with the image lifecycle keys);
 * atomic and concurrency, which every driver honours or may ignore harmlessly.
 */
interface KeyRule {
  needs: { capability: Capability } | { copies: CopyKind };
  /** What the key asks the driver to do, after "which cannot". */
  does: string;
  /** Set to something that asks for it (a default or an empty list asks nothing). */
  isSet: (d: DistributeConfig, node: ValueNode) => boolean;
  level: 'error' | 'warning';
}

const RULES: Partial<Record<keyof DistributeConfig, KeyRule>> = {
  regions: { needs: { copies: 'regions' }, does: 'copy images to other regions', isSet: (d) => d.regions.length > 0, level: 'error' },
  encrypted: { needs: { copies: 'regions' }, does: 'encrypt copies in other regions', isSet: (d) => d.encrypted === true, level: 'error' },
  kms_key_ids: { needs: { copies: 'regions' }, does: 'encrypt copies in other regions', isSet: (d) => Object.keys(d.kms_key_ids).length > 0, level: 'error' },
  targets: { needs: { copies: 'targets' }, does: 'export images to directories or buckets', isSet: (d) => d.targets.length > 0, level: 'error' },
  format: { needs: { copies: 'targets' }, does: 'export images to directories or buckets', isSet: (_d, node) => child(node, 'format') !== undefined, level: 'warning' },
  accounts: { needs: { capability: 'sharing' }, does: 'share images with other accounts', isSet: (d) => d.accounts.length > 0, level: 'error' },
  organization_arns: { needs: { capability: 'sharing' }, does: 'share images with organizations', isSet: (d) => d.organization_arns.length > 0, level: 'error' },
  ou_arns: { needs: { capability: 'sharing' }, does: 'share images with organizational units', isSet: (d) => d.ou_arns.length > 0, level: 'error' },
  share_snapshots: { needs: { capability: 'sharing' }, does: 'share snapshots', isSet: (d) => d.share_snapshots, level: 'error' },
};

function has(driver: string, needs: KeyRule['needs']): boolean {
  const caps = driverCapabilities(driver);
  if ('capability' in needs) return caps.includes(needs.capability);
  return caps.includes('images') && driverCopies(driver).includes(needs.copies);
}

/** Registered drivers that honour `needs`, sorted. */
function driversWith(needs: KeyRule['needs']): string[] {
  return pluginNames('driver').filter((n) => has(n, needs));
}

/**
 * Why the driver cannot, from what it declares: it makes no images, or it
 * copies to the other kind of place.
 */
function because(driver: string, needs: KeyRule['needs']): string {
  if (!driverCapabilities(driver).includes('images')) return ' (it makes no images)';
  if ('copies' in needs) {
    const other = driverCopies(driver).map((k) => `distribute.${k}`);
    if (other.length > 0) return ` (its copies go to ${other.join(' and ')})`;
  }
  return '';
}

/**
 * How to scope the key: a top-level or suite block is merged into every
 * platform (Kitchen's rule), so a key for one driver belongs in the blocks of
 * the platforms that use it.
 */
function scopeHint(node: ValueNode, key: string, able: string[]): string {
  const at = originAt(node, [key]).path;
  if (able.length === 0) return `remove distribute.${key}: no driver has it`;
  const drivers = `the ${able.join(' or ')} driver`;
  if (at[0] === 'platforms') return `remove distribute.${key} from this platform, or give the platform ${drivers}`;
  const block = at[0] === 'suites' ? 'a suite\'s distribute block is merged into each of its platforms' : 'the top-level distribute block is merged into every platform';
  return `${block}: move distribute.${key} into the distribute block of each platform that uses ${drivers} (platforms[].distribute)`;
}

/**
 * The distribute keys set for an instance whose driver cannot honour them
 * (distribute.accounts on a qemu instance: nothing would be shared), read from
 * the driver's declared capabilities and copy kinds without loading it.
 * Errors are problems of that instance (it does not run; other instances
 * do), warnings are its notes; each is placed where the key was written.
 */
export function checkDistributeRules(
  instance: string,
  driver: PluginBlock,
  distribute: DistributeConfig | undefined,
  node: ValueNode | undefined,
): { problems: ConfigProblem[]; notes: ConfigNote[] } {
  const out = { problems: [] as ConfigProblem[], notes: [] as ConfigNote[] };
  // An unknown driver is reported with the driver block already.
  if (!getPluginDef('driver', driver.name) || !distribute || !node) return out;
  for (const [key, rule] of Object.entries(RULES)) {
    if (!rule.isSet(distribute, node) || has(driver.name, rule.needs)) continue;
    const able = driversWith(rule.needs);
    const p = problemAt(
      node,
      [key],
      {
        message: `instance ${instance} uses the ${driver.name} driver, which cannot ${rule.does}${because(driver.name, rule.needs)}: distribute.${key} would be ignored`,
        expected: able.length > 0 ? `distribute.${key} only on instances with the ${able.join(' or ')} driver` : `no distribute.${key}`,
        found: `driver "${driver.name}"`,
        hint: scopeHint(node, key, able),
      },
      true,
    );
    if (rule.level === 'error') out.problems.push(p);
    else out.notes.push({ level: 'warning', ...p });
  }
  return out;
}
