import { DescribeImagesCommand, DescribeInstancesCommand, DescribeLaunchTemplateVersionsCommand, type EC2Client, type Image } from '@aws-sdk/client-ec2';
import { TAG_FAMILY } from '../../config/image-family.js';
import type { PrunedImage, PruneResult } from '../driver.js';
import { throwIfAborted } from '../../kernel/abort.js';
import type { Logger } from '../../kernel/events.js';
import { wrapAws } from './aws-errors.js';
import type { Ec2Clients } from './clients.js';
import { deleteImageAndSnapshots, snapshotsOf } from './image-ops.js';

export { TAG_FAMILY };

/** What keep-N does (or, with dryRun, would do) in one region. */
export type RegionPrune = PruneResult;
export type { PrunedImage };

export interface PruneArgs {
  clients: Ec2Clients;
  regions: string[];
  family: string;
  keep: number;
  /** Per region, the image ids SSM parameters written by hallmark hold (publish.ssm_parameter). */
  parameterValues?: (region: string) => Promise<Map<string, string>>;
  /** Image ids that stay whatever their age (the ones a commit just published). */
  spare?: string[];
  dryRun?: boolean;
  log: Logger;
  signal: AbortSignal;
}

/**
 * image.keep: in each region, the family's images (this account's, tagged
 * `hallmark:family`) beyond the newest `keep` are deregistered and their
 * snapshots deleted; never one that a pending or running instance was
 * launched from, that a launch template's default version names, or that an
 * SSM parameter written by hallmark holds. Regions are handled one after the
 * other; each image removal is idempotent, so a re-run finishes a broken one.
 */
export async function pruneFamily(a: PruneArgs): Promise<RegionPrune[]> {
  const out: RegionPrune[] = [];
  for (const region of [...new Set(a.regions)]) {
    throwIfAborted(a.signal);
    out.push(await pruneRegion(a, region));
  }
  return out;
}

const summary = (i: Image): PrunedImage => ({ id: i.ImageId!, name: i.Name, created: i.CreationDate, snapshots: snapshotsOf(i) });

/** The family's images in a region, newest first (by creation time, then name). */
export async function familyImages(client: EC2Client, region: string, family: string, signal: AbortSignal): Promise<Image[]> {
  const images: Image[] = [];
  let NextToken: string | undefined;
  try {
    do {
      const page = await client.send(
        new DescribeImagesCommand({ Owners: ['self'], IncludeDeprecated: true, Filters: [{ Name: `tag:${TAG_FAMILY}`, Values: [family] }], NextToken }),
        { abortSignal: signal },
      );
      images.push(...(page.Images ?? []));
      NextToken = page.NextToken;
    } while (NextToken);
  } catch (err) {
    throw wrapAws(err, `DescribeImages ${TAG_FAMILY}=${family}`, region);
  }
  return images
    .filter((i) => i.State !== 'deregistered')
    .sort((x, y) => (y.CreationDate ?? '').localeCompare(x.CreationDate ?? '') || (y.Name ?? '').localeCompare(x.Name ?? ''));
}

async function pruneRegion(a: PruneArgs, region: string): Promise<RegionPrune> {
  const client = a.clients.get(region);
  const images = await familyImages(client, region, a.family, a.signal);
  const result: RegionPrune = { region, kept: images.slice(0, a.keep).map(summary), removed: [], inUse: [] };
  const older = images.slice(a.keep);
  if (older.length === 0) return result;

  const uses = await imagesInUse(client, region, older.map((i) => i.ImageId!), a.signal);
  for (const id of a.spare ?? []) if (!uses.has(id)) uses.set(id, 'this build just published it');
  for (const [id, param] of (await a.parameterValues?.(region)) ?? new Map<string, string>()) {
    if (!uses.has(id)) uses.set(id, `SSM parameter ${param} holds it`);
  }
  for (const img of older) {
    const reason = uses.get(img.ImageId!);
    if (reason) {
      result.inUse.push({ ...summary(img), reason });
      a.log.info(`keeping ${img.ImageId} (${img.Name}) in ${region}: ${reason}`);
      continue;
    }
    if (!a.dryRun) {
      await deleteImageAndSnapshots(client, { id: img.ImageId!, region, role: 'source', snapshots: snapshotsOf(img) }, a.signal);
      a.log.info(`removed ${img.ImageId} (${img.Name}) in ${region}, beyond the newest ${a.keep} of ${a.family}`);
    }
    result.removed.push(summary(img));
  }
  return result;
}

/** Why each of `ids` must stay: an instance launched from it, or a launch template's default version naming it. */
async function imagesInUse(client: EC2Client, region: string, ids: string[], signal: AbortSignal): Promise<Map<string, string>> {
  const uses = new Map<string, string>();
  try {
    let NextToken: string | undefined;
    do {
      const page = await client.send(
        new DescribeInstancesCommand({ Filters: [{ Name: 'image-id', Values: ids }, { Name: 'instance-state-name', Values: ['pending', 'running'] }], NextToken }),
        { abortSignal: signal },
      );
      for (const inst of (page.Reservations ?? []).flatMap((r) => r.Instances ?? [])) {
        if (inst.ImageId && !uses.has(inst.ImageId)) uses.set(inst.ImageId, `instance ${inst.InstanceId} runs from it`);
      }
      NextToken = page.NextToken;
    } while (NextToken);
  } catch (err) {
    throw wrapAws(err, 'DescribeInstances image-id', region);
  }
  try {
    let NextToken: string | undefined;
    do {
      const page = await client.send(new DescribeLaunchTemplateVersionsCommand({ Versions: ['$Default'], NextToken }), { abortSignal: signal });
      for (const v of page.LaunchTemplateVersions ?? []) {
        const id = v.LaunchTemplateData?.ImageId;
        if (id && ids.includes(id) && !uses.has(id)) uses.set(id, `launch template ${v.LaunchTemplateName} names it in its default version ${v.VersionNumber}`);
      }
      NextToken = page.NextToken;
    } while (NextToken);
  } catch (err) {
    throw wrapAws(err, 'DescribeLaunchTemplateVersions $Default', region);
  }
  return uses;
}
