import { deprecationTime } from '../config/duration.js';
import { imageFamily } from '../config/image-family.js';
import type { PruneResult } from '../drivers/driver.js';
import { HallmarkError } from '../kernel/errors.js';
import type { CommitAction } from './commit.js';
import { driverContext } from './context.js';
import { revertTemplateVersions } from './steps.js';
import { driverOf, eachInstance, images } from './proven.js';

/**
 * The image lifecycle's part of a build's commit (issue 15): launch template
 * versions and deprecation are commit actions (undone on rollback); keep-N
 * pruning runs in `finish`, after a commit that held, and never undoes it.
 */

/**
 * distribute.launch_templates: a new version of each template naming the
 * image of its region, the default when `set_default`. The driver journals
 * each version before making it; `undo` (and `hallmark cleanup` after a
 * crash) puts the previous default back and deletes the version.
 */
export const launchTemplatesAction: CommitAction = {
  name: 'launch-templates',
  skip: (ctx) => (ctx.instances.some((p) => (p.run.instance.distribute.launch_templates ?? []).length > 0) ? undefined : 'no distribute.launch_templates'),
  async do(ctx, signal) {
    for (const p of ctx.instances) {
      const targets = p.run.instance.distribute.launch_templates ?? [];
      if (targets.length === 0) continue;
      const driver = driverOf(p);
      if (!driver.launchTemplates) throw new HallmarkError(`driver "${driver.name}" has no launch templates`, { hint: 'remove distribute.launch_templates for this instance' });
      const made = await driver.launchTemplates.updateLaunchTemplates(driverContext(p.run, signal), images(p), targets);
      p.outcome.launchTemplates = made.map((r) => ({ region: r.region, template: r.template.name ?? r.templateId ?? r.template.id ?? '?', version: r.version, imageId: r.imageId, default: r.setDefault }));
    }
  },
  async undo(ctx, signal) {
    await eachInstance(ctx, async (p) => {
      await revertTemplateVersions(p.run, signal);
      p.outcome.launchTemplates = undefined;
    });
  },
};

/**
 * image.deprecate_after: the image and every copy deprecated that long after
 * this commit (one time for the whole commit). `undo` clears it again, for
 * images a failed commit may leave (distribute.atomic: false).
 */
export const deprecateAction: CommitAction = {
  name: 'deprecate',
  skip: (ctx) => (ctx.instances.some((p) => p.run.instance.image.deprecate_after !== undefined) ? undefined : 'no image.deprecate_after'),
  async do(ctx, signal) {
    const now = new Date();
    for (const p of ctx.instances) {
      const after = p.run.instance.image.deprecate_after;
      if (after === undefined) continue;
      const driver = driverOf(p);
      if (!driver.deprecation) throw new HallmarkError(`driver "${driver.name}" cannot deprecate images`, { hint: 'remove image.deprecate_after for this instance' });
      const at = deprecationTime(now, after);
      await driver.deprecation.deprecateImages(driverContext(p.run, signal), images(p), at);
      p.outcome.deprecateAt = at.toISOString();
    }
  },
  async undo(ctx, signal) {
    await eachInstance(ctx, async (p) => {
      if (p.run.instance.image.deprecate_after === undefined) return;
      await driverOf(p).deprecation?.undeprecateImages(driverContext(p.run, signal), images(p));
      p.outcome.deprecateAt = undefined;
    });
  },
};

/**
 * image.keep: after a commit that held, the family's images beyond the newest
 * N are removed (with their snapshots) in every region the build published
 * to; never one of this build, one a running instance, a launch template's
 * default version or an SSM parameter the build's instances write names.
 * A failure is a warning: the build is published either way.
 */
export const keepAction: CommitAction = {
  name: 'keep',
  async finish(ctx, outcome, signal) {
    if (!outcome.committed) return;
    const all = [...ctx.committed, ...ctx.instances];
    const spare = all.flatMap((p) => images(p).map((i) => i.id));
    const parameterNames = all.map((p) => p.run.parameterName).filter((n): n is string => n !== undefined);
    const errors: unknown[] = [];
    for (const p of ctx.instances) {
      const keep = p.run.instance.image.keep;
      if (keep === undefined) continue;
      const driver = driverOf(p);
      if (!driver.images) {
        ctx.log.warn(`image.keep: driver "${driver.name}" cannot remove older images`);
        continue;
      }
      const family = imageFamily(p.run.instance);
      const regions = [...new Set(images(p).map((i) => i.region).filter((r): r is string => r !== undefined))];
      try {
        const results = await driver.images.pruneImages(driverContext(p.run, signal), { family, keep, regions, spare, parameterNames, dryRun: false });
        p.outcome.pruned = results;
        p.run.log.info(pruneSummary(family, keep, results));
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, `image.keep: ${errors.length} families could not be pruned`);
  },
};

/** One line: what keep-N did in each region. */
export function pruneSummary(family: string, keep: number, results: PruneResult[], dryRun = false): string {
  const verb = dryRun ? 'would remove' : 'removed';
  const parts = results.map((r) => {
    const removed = r.removed.length > 0 ? `${verb} ${r.removed.map((i) => i.id).join(', ')}` : `nothing to remove`;
    const inUse = r.inUse.length > 0 ? `; in use: ${r.inUse.map((i) => i.id).join(', ')}` : '';
    return `${r.region}: ${removed}${inUse}`;
  });
  return `image.keep ${keep} of family ${family}: ${parts.join('; ') || 'no regions'}`;
}
