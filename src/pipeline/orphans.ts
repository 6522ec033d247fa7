import type { InstanceEntry, Project } from '../config/index.js';
import { renderParameterName } from '../config/parameter-name.js';
import type { Driver, Leftover, LeftoverCapability, LeftoverQuery, LeftoverRemoval } from '../drivers/driver.js';
import type { Logger } from '../kernel/events.js';
import { listStateFiles, readInstanceState } from '../kernel/journal.js';
import { loadPlugin } from '../plugins.js';

/**
 * `hallmark cleanup --orphans`: what hallmark made and never committed, found
 * by the drivers (by tag in every region, by path and process locally), for
 * when the `.hallmark/` journals are gone (an ephemeral CI runner killed or
 * lost). Each driver is searched once per scope (an EC2 endpoint and
 * profile, the local host), over the regions of every instance using it.
 * Whatever a journal still names is left to `hallmark cleanup`.
 */
export interface OrphanOptions {
  project: Project;
  entries: InstanceEntry[];
  olderThanMs: number;
  /** Only list what would be removed. */
  dryRun: boolean;
  log: Logger;
  signal: AbortSignal;
  now?: Date;
}

export interface OrphanReport {
  found: Leftover[];
  /** Empty for a dry run. */
  removals: LeftoverRemoval[];
  /** Drivers that could not be searched (e.g. a region refused the call). */
  errors: { scope: string; error: Error }[];
}

/** Every id, path and PID the journals in `stateDir` name: those are `hallmark cleanup`'s, not the reaper's. */
export async function claimedIds(stateDir: string): Promise<Set<string>> {
  const claimed = new Set<string>();
  const add = (v: unknown): void => {
    if (typeof v === 'string' || typeof v === 'number') claimed.add(String(v));
    else if (Array.isArray(v)) v.forEach(add);
    else if (v && typeof v === 'object') Object.values(v).forEach(add);
  };
  for (const name of await listStateFiles(stateDir)) {
    const s = await readInstanceState(stateDir, name).catch(() => undefined);
    if (!s) continue;
    add(s.driver);
    for (const i of s.images) add([i.id, i.snapshots ?? []]);
  }
  return claimed;
}

interface Scope {
  driver: Driver;
  leftovers: LeftoverCapability;
  regions: Set<string>;
  parameterNames: Set<string>;
}

/** Finds (and unless dryRun removes) the leftovers of every selected instance's driver. */
export async function reapOrphans(o: OrphanOptions): Promise<OrphanReport> {
  const scopes = new Map<string, Scope>();
  for (const e of o.entries) {
    if (e.problems.length > 0) continue;
    const c = e.config;
    const driver = await loadPlugin('driver', c.driver);
    const leftovers = driver.leftovers;
    if (!leftovers) continue;
    const key = leftovers.leftoverScope();
    const s = scopes.get(key) ?? { driver, leftovers, regions: new Set<string>(), parameterNames: new Set<string>() };
    scopes.set(key, s);
    for (const r of c.distribute.regions) s.regions.add(r);
    const p = c.publish.ssm_parameter;
    if (p !== undefined) s.parameterNames.add(renderParameterName(p, { suite: c.suite, platform: c.platform, instance: c.name }));
  }
  const claimed = await claimedIds(o.project.stateDir);
  const report: OrphanReport = { found: [], removals: [], errors: [] };
  for (const [key, s] of scopes) {
    const q: LeftoverQuery = {
      regions: [...s.regions],
      olderThanMs: o.olderThanMs,
      now: o.now ?? new Date(),
      parameterNames: [...s.parameterNames],
      claimed,
      stateDir: o.project.stateDir,
      signal: o.signal,
      log: o.log,
    };
    try {
      const found = await s.leftovers.findLeftovers(q);
      report.found.push(...found);
      if (!o.dryRun && found.some((l) => !l.kept)) report.removals.push(...(await s.leftovers.removeLeftovers(q, found)));
    } catch (err) {
      report.errors.push({ scope: key, error: err as Error });
    } finally {
      s.driver.dispose();
    }
  }
  return report;
}

/**
 * `hallmark cleanup` of a killed build: after the journal's own records are
 * removed, what that build made for the instance and never journaled (an id
 * whose answer the kill cut off), found by its build id and instance tags.
 */
export async function sweepBuild(
  driver: Driver,
  args: { buildId: string; instance: string; regions: string[]; parameterNames: string[]; stateDir: string; log: Logger; signal: AbortSignal },
): Promise<LeftoverRemoval[]> {
  const leftovers = driver.leftovers;
  if (!leftovers) return [];
  const q: LeftoverQuery = {
    regions: args.regions,
    buildId: args.buildId,
    instance: args.instance,
    olderThanMs: 0,
    now: new Date(),
    parameterNames: args.parameterNames,
    claimed: await claimedIds(args.stateDir),
    stateDir: args.stateDir,
    signal: args.signal,
    log: args.log,
  };
  const found = await leftovers.findLeftovers(q);
  return found.some((l) => !l.kept) ? leftovers.removeLeftovers(q, found) : [];
}
