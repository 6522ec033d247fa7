/**
 * `hallmark images prune`: keep-N on demand, with the rules a build's
 * image.keep follows (see image-lifecycle.ts), for the project's instances
 * (ec2: their source region and distribute.regions) or, without a project,
 * for the local image store.
 */
import { imageFamily } from '../config/image-family.js';
import { renderParameterName } from '../config/parameter-name.js';
import type { InstanceEntry, Project } from '../config/index.js';
import type { PruneResult } from '../drivers/driver.js';
import { UsageError } from '../kernel/errors.js';
import type { EventBus, Logger } from '../kernel/events.js';
import { Journal } from '../kernel/journal.js';
import { loadPlugin } from '../plugins.js';

export interface PruneOptions {
  /** Default: each instance's family (image.family, else from image.name). */
  family?: string;
  keep: number;
  dryRun: boolean;
  events: EventBus;
  signal: AbortSignal;
}

export interface FamilyPrune {
  driver: string;
  family: string;
  /** The instances whose images these are. */
  instances: string[];
  results: PruneResult[];
}

/**
 * Prunes each (driver, family) of the selected instances once: instances that
 * share a driver configuration and a family share their images. The values
 * of every SSM parameter the project's instances write (publish.ssm_parameter)
 * are spared, as are images an instance or a launch template uses (ec2) or a
 * running qemu backs (qemu).
 */
export async function pruneProjectImages(project: Project, entries: InstanceEntry[], o: PruneOptions): Promise<FamilyPrune[]> {
  checkKeep(o.keep);
  const parameterNames = project.instances.flatMap((e) => {
    const i = e.config;
    if (e.problems.length > 0 || i.publish?.ssm_parameter === undefined) return [];
    try {
      return [renderParameterName(i.publish.ssm_parameter, { suite: i.suite, platform: i.platform, instance: i.name })];
    } catch {
      return [];
    }
  });
  const groups = new Map<string, { entry: InstanceEntry; family: string; regions: Set<string>; instances: string[] }>();
  for (const entry of entries) {
    if (entry.problems.length > 0) throw new UsageError(`instance ${entry.config.name} has configuration problems; run hallmark validate`);
    const family = o.family ?? imageFamily(entry.config);
    // The local store is one per user: every qemu instance of a family shares it.
    const key = JSON.stringify([entry.config.driver.name === 'qemu' ? { name: 'qemu' } : entry.config.driver, family]);
    const g = groups.get(key) ?? { entry, family, regions: new Set<string>(), instances: [] };
    for (const r of entry.config.distribute.regions) g.regions.add(r);
    g.instances.push(entry.config.name);
    groups.set(key, g);
  }
  const out: FamilyPrune[] = [];
  for (const g of groups.values()) {
    const i = g.entry.config;
    const driver = await loadPlugin('driver', i.driver);
    if (!driver.images) throw new UsageError(`driver "${driver.name}" of instance ${i.name} has no images to prune`);
    const log = o.events.logger(i.name);
    try {
      const results = await driver.images.pruneImages(
        { instance: i, journal: await Journal.open(project.stateDir, i.name), log, signal: o.signal, buildId: 'prune', stateDir: project.stateDir },
        { family: g.family, keep: o.keep, regions: [...g.regions], spare: [], parameterNames, dryRun: o.dryRun },
      );
      out.push({ driver: driver.name, family: g.family, instances: g.instances, results });
    } finally {
      driver.dispose();
    }
  }
  return out;
}

/** Without a project: the local image store's images of `family`. */
export async function pruneLocalStore(o: PruneOptions & { log: Logger }): Promise<FamilyPrune[]> {
  checkKeep(o.keep);
  if (o.family === undefined) throw new UsageError('no project here to take image families from', { hint: 'give --family F (the hallmark:family tag of the store images), or run in a project' });
  const { pruneStore } = await import('../drivers/qemu/prune.js');
  const result = await pruneStore({ family: o.family, keep: o.keep, dryRun: o.dryRun, log: o.log });
  return [{ driver: 'qemu', family: o.family, instances: [], results: [result] }];
}

function checkKeep(keep: number): void {
  if (!Number.isInteger(keep) || keep < 1) throw new UsageError(`--keep must be a whole number of at least 1, not ${keep}`);
}
