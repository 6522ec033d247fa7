import { CopyImageCommand, DescribeImagesCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { throwIfAborted } from '../../kernel/abort.js';
import { CancelledError, isAbortError } from '../../kernel/errors.js';
import type { Logger } from '../../kernel/events.js';
import type { ImageRecord, Journal } from '../../kernel/journal.js';
import { Ec2Error, wrapAws } from './aws-errors.js';
import type { Ec2Clients } from './clients.js';
import { snapshotsOf, tagResources } from './image-ops.js';
import { clientToken, toTags } from './launch.js';
import { hasShareTargets, kmsGrantMessages, shareImage, unshareImage, type KmsGrantNeed, type ShareTargets } from './share.js';
import { waitForImagesAvailable } from './wait.js';

export interface DistributeArgs extends ShareTargets {
  clients: Ec2Clients;
  /** The image to copy; it is shared too, in its own region. */
  source: ImageRecord & { region: string; name: string };
  description?: string;
  /** Target regions; the source region is skipped (nothing to copy), duplicates ignored. */
  regions: string[];
  concurrency: number;
  encrypted?: boolean;
  kmsKeyIds: Record<string, string>;
  /**
   * Tags for each copy and its snapshots, over the source image's own tags
   * (CopyImage carries none over; the seed tags each copy with its source's).
   */
  tags: Record<string, string>;
  /** The source image's tags when the caller has them; else they are described once. */
  sourceTags?: { Key?: string; Value?: string }[];
  buildId: string;
  journal: Journal;
  log: Logger;
  signal: AbortSignal;
  delayMs: number;
  maxWaitMs: number;
  /** Told which KMS key grants the share targets still need (encrypted images); they are also logged as warnings. */
  onKmsGrants?: (needs: KmsGrantNeed[]) => void;
}

/**
 * Copies an image to other regions and shares it and every copy (`hallmark
 * distribute IMAGE_ID`; a build copies first and shares at its commit).
 */
export async function distributeImage(a: DistributeArgs): Promise<ImageRecord[]> {
  const copies = await copyImages(a);
  await shareImages(a.clients, [a.source, ...copies], a, a.concurrency, a.signal, a.log, a.onKmsGrants);
  return copies;
}

/**
 * Copies an image to other regions, tagged, and returns the copies in the
 * order of `regions`. Shares nothing.
 *
 * - Copies start at most `concurrency` at once: starting one is its
 *   CopyImage call, journaling its id and tagging it. The waits for the
 *   copies to become available are not bounded: every started copy is waited
 *   for at once (one poll per region every `delay`), so K regions take about
 *   as long as the slowest copy, not K/concurrency copies one after another.
 * - Each CopyImage has a ClientToken derived from build id + source + region,
 *   so a retried call (SDK retry after a lost answer, or a re-run of this
 *   build) returns the same copy instead of a second one.
 * - Each copy id is journaled the moment CopyImage returns, before waiting.
 *   The call itself is not aborted midway: its answer is the only record of
 *   what it made. The signal is checked right after the id is safe.
 * - When one region fails, the waits of the others end at once (one
 *   AbortSignal) and copies not started yet are not started, but this still
 *   waits for every started CopyImage to answer, so that copies finished or
 *   started before the failure are in the journal for the pipeline's cleanup
 *   (deleteImage on every recorded image).
 */
export async function copyImages(a: Omit<DistributeArgs, keyof ShareTargets>): Promise<ImageRecord[]> {
  const targets = [...new Set(a.regions)].filter((r) => r !== a.source.region);
  const failFast = new AbortController();
  const signal = AbortSignal.any([a.signal, failFast.signal]);
  const copies: ImageRecord[] = [];
  const args = { ...a, tags: { ...copyableTags(a.sourceTags ?? (await sourceTagsOf(a))), ...a.tags } };
  const starting = limiter(Math.max(1, a.concurrency));

  const results = await Promise.allSettled(
    targets.map(async (region) => {
      try {
        const started = await starting(() => startCopy(args, region, signal));
        const copy = await finishCopy(args, started, signal);
        copies.push(copy);
        return copy;
      } catch (err) {
        failFast.abort(err);
        throw err;
      }
    }),
  );
  throwFirstFailure(results, a.signal, a.log, 'copying images');
  throwIfAborted(a.signal);
  return targets.map((r) => copies.find((c) => c.region === r)!);
}

/** Runs the functions given to it, at most `limit` at once, in the order they were given. */
export function limiter(limit: number): <T>(fn: () => Promise<T>) => Promise<T> {
  let running = 0;
  const queue: (() => void)[] = [];
  return async (fn) => {
    if (running >= limit) await new Promise<void>((resolve) => queue.push(resolve));
    else running++;
    try {
      return await fn();
    } finally {
      // The slot passes straight to the next waiting function, so `running` stays at most `limit`.
      const next = queue.shift();
      if (next) next();
      else running--;
    }
  };
}

/** Shares every image in its own region, `concurrency` at once; waits for all, then throws the first failure. */
export async function shareImages(
  clients: Ec2Clients,
  images: ImageRecord[],
  t: ShareTargets,
  concurrency: number,
  signal: AbortSignal,
  log: Logger,
  onKmsGrants?: (needs: KmsGrantNeed[]) => void,
): Promise<void> {
  if (!hasShareTargets(t)) return;
  const needs: KmsGrantNeed[] = [];
  const shared = await mapBounded(images, Math.max(1, concurrency), async (img) => {
    needs.push(...(await shareImage(clients.get(img.region!), img, t, signal)));
    log.info(`shared ${img.id} in ${img.region}`);
  });
  throwFirstFailure(shared, signal, log, 'sharing images');
  for (const line of kmsGrantMessages(needs)) log.warn(line);
  onKmsGrants?.(needs);
}

/** Takes the grants of `t` back from every image; waits for all, then throws the first failure. */
export async function unshareImages(clients: Ec2Clients, images: ImageRecord[], t: ShareTargets, concurrency: number, signal: AbortSignal, log: Logger): Promise<void> {
  if (!hasShareTargets(t)) return;
  const done = await mapBounded(images, Math.max(1, concurrency), async (img) => {
    await unshareImage(clients.get(img.region!), img, t, signal);
    log.info(`took back the launch permissions of ${img.id} in ${img.region}`);
  });
  throwFirstFailure(done, signal, log, 'taking back launch permissions');
}

/** A copy whose CopyImage answered: journaled and tagged, not yet available. */
interface StartedCopy {
  record: ImageRecord;
  region: string;
  client: EC2Client;
}

/** CopyImage to `region`, the copy's id journaled, the pending copy tagged. */
async function startCopy(a: Omit<DistributeArgs, keyof ShareTargets>, region: string, signal: AbortSignal): Promise<StartedCopy> {
  throwIfAborted(signal);
  const client = a.clients.get(region);
  let id: string;
  try {
    const out = await client.send(
      new CopyImageCommand({
        SourceImageId: a.source.id,
        SourceRegion: a.source.region,
        Name: a.source.name,
        Description: a.description,
        Encrypted: a.encrypted ?? (a.kmsKeyIds[region] ? true : undefined),
        KmsKeyId: a.kmsKeyIds[region],
        ClientToken: clientToken(a.buildId, 'copy', a.source.id, region),
        // Tagged from the moment it exists (EC2 applies these to the new AMI and its snapshots), so that
        // the orphan reaper finds a copy whose id never reached the journal.
        TagSpecifications: [{ ResourceType: 'image', Tags: toTags(a.tags) }],
      }),
    );
    id = out.ImageId!;
    if (!id) throw new Ec2Error(`CopyImage to ${region} returned no image id`, { region });
  } catch (err) {
    throw wrapAws(err, `CopyImage ${a.source.id} from ${a.source.region}`, region);
  }
  const record: ImageRecord = { id, region, name: a.source.name, role: 'copy' };
  await a.journal.recordImage(record);
  a.log.info(`copying ${a.source.id} to ${region}: ${id}`);
  // EC2-compatible services that ignore TagSpecifications on CopyImage (moto): the pending copy is tagged now, before the wait.
  await tagResources(client, region, [id], a.tags, signal);
  return { record, region, client };
}

/** Waits for a started copy to be available, then journals and tags its snapshots. */
async function finishCopy(a: Omit<DistributeArgs, keyof ShareTargets>, c: StartedCopy, signal: AbortSignal): Promise<ImageRecord> {
  const { record, region, client } = c;
  const [img] = await waitForImagesAvailable(client, region, [record.id], { delayMs: a.delayMs, maxWaitMs: a.maxWaitMs, signal, log: a.log });
  record.snapshots = snapshotsOf(img!);
  await a.journal.recordImage(record);
  await tagResources(client, region, [record.id, ...record.snapshots], a.tags, signal);
  return record;
}

/**
 * The source's tags a copy takes over: not AWS's own (`aws:` keys cannot be
 * set), and not `hallmark:state`: a copy is published only when its own
 * build commits, whatever its source was.
 */
export function copyableTags(tags: { Key?: string; Value?: string }[]): Record<string, string> {
  return Object.fromEntries(
    tags.filter((t) => t.Key && !t.Key.startsWith('aws:') && t.Key !== 'hallmark:state').map((t) => [t.Key!, t.Value ?? '']),
  );
}

async function sourceTagsOf(a: Omit<DistributeArgs, keyof ShareTargets>): Promise<{ Key?: string; Value?: string }[]> {
  try {
    const out = await a.clients.get(a.source.region).send(new DescribeImagesCommand({ ImageIds: [a.source.id] }), { abortSignal: a.signal });
    return out.Images?.[0]?.Tags ?? [];
  } catch (err) {
    throw wrapAws(err, `DescribeImages ${a.source.id} (its tags, for the copies)`, a.source.region);
  }
}

/** Like Promise.allSettled over `items`, running at most `limit` of `fn` at once, in order. */
export async function mapBounded<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<PromiseSettledResult<R>[]> {
  const results: PromiseSettledResult<R>[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      try {
        results[i] = { status: 'fulfilled', value: await fn(items[i]!) };
      } catch (reason) {
        results[i] = { status: 'rejected', reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
/**
 * After every started task answered: throws the first real failure (not the
 * waits it cancelled), a CancelledError when the run was cancelled, and logs
 * the other failures; else returns the values in order.
 */
export function throwFirstFailure<R>(results: PromiseSettledResult<R>[], signal: AbortSignal, log: Logger, what: string): R[] {
  const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as unknown);
  if (failures.length > 0) {
    const first = failures.find((e) => !isAbortError(e)) ?? failures[0];
    if (signal.aborted) throw new CancelledError(`interrupted while ${what}`, { cause: first });
    for (const e of failures) if (e !== first && !isAbortError(e)) log.warn(`also failed: ${(e as Error).message}`);
    throw first;
  }
  return results.map((r) => (r as PromiseFulfilledResult<R>).value);
}


/** Describes an existing image for `hallmark distribute IMAGE_ID`: it must exist and be available. */
export async function describeSource(clients: Ec2Clients, imageId: string, region: string, signal: AbortSignal) {
  try {
    const out = await clients.get(region).send(new DescribeImagesCommand({ ImageIds: [imageId] }), { abortSignal: signal });
    const img = out.Images?.[0];
    if (!img) throw new Ec2Error(`image ${imageId} not found in ${region}`, { region, hint: 'check the image id and --from region' });
    if (img.State !== 'available') throw new Ec2Error(`image ${imageId} in ${region} is ${img.State}, not available`, { region });
    return img;
  } catch (err) {
    if (`${(err as { name?: string }).name}` === 'InvalidAMIID.NotFound') {
      throw new Ec2Error(`image ${imageId} not found in ${region}`, { region, hint: 'check the image id and --from region', cause: err });
    }
    throw wrapAws(err, `DescribeImages ${imageId}`, region);
  }
}
