import {
  CreateImageCommand,
  CreateTagsCommand,
  DeleteTagsCommand,
  DeleteSnapshotCommand,
  DeregisterImageCommand,
  DescribeImagesCommand,
  type EC2Client,
  type Image,
} from '@aws-sdk/client-ec2';
import { retry } from '../../kernel/retry.js';
import type { ImageRecord, Journal } from '../../kernel/journal.js';
import { awsCode, isNotFound, wrapAws } from './aws-errors.js';
import { toTags } from './launch.js';
import { waitForImagesAvailable, type WaitOptions } from './wait.js';

/** Snapshot ids behind an image's EBS block device mappings. */
export function snapshotsOf(img: Image): string[] {
  return (img.BlockDeviceMappings ?? []).map((b) => b.Ebs?.SnapshotId).filter((s): s is string => !!s);
}

/**
 * Captures an instance as an AMI. The image is tagged at creation; its
 * snapshots are tagged with CreateTags once DescribeImages shows them (moto
 * rejects snapshot TagSpecifications on CreateImage, and tagging afterwards is
 * the portable way). The image id is journaled the moment CreateImage returns,
 * before the (long) wait, so a crash or Ctrl-C cannot leak it.
 */
export async function captureImage(
  client: EC2Client,
  region: string,
  args: {
    instanceId: string;
    name: string;
    description?: string;
    noReboot: boolean;
    tags: Record<string, string>;
    journal: Journal;
    wait: WaitOptions;
  },
): Promise<ImageRecord> {
  let imageId: string;
  try {
    const out = await client.send(
      new CreateImageCommand({
        InstanceId: args.instanceId,
        Name: args.name,
        Description: args.description,
        NoReboot: args.noReboot,
        TagSpecifications: [{ ResourceType: 'image', Tags: toTags(args.tags) }],
      }),
      // Not args.wait.signal: the call is short, and its answer (the id) must be
      // journaled even when the run is being cancelled. The signal is checked next.
    );
    imageId = out.ImageId!;
  } catch (err) {
    throw wrapAws(err, `CreateImage ${args.name}`, region, 'if the name is taken, choose another image name template; see `aws ec2 describe-images --owners self`');
  }
  const record: ImageRecord = { id: imageId, region, name: args.name, role: 'source' };
  await args.journal.recordImage(record);
  const [img] = await waitForImagesAvailable(client, region, [imageId], args.wait);
  record.snapshots = snapshotsOf(img!);
  await args.journal.recordImage(record);
  await tagResources(client, region, record.snapshots, args.tags, args.wait.signal);
  return record;
}

/** CreateTags in chunks; eventual consistency (NotFound just after creation) is retried briefly. */
export async function tagResources(client: EC2Client, region: string, ids: string[], tags: Record<string, string>, signal: AbortSignal): Promise<void> {
  if (ids.length === 0 || Object.keys(tags).length === 0) return;
  const Tags = toTags(tags);
  for (let i = 0; i < ids.length; i += 100) {
    const Resources = ids.slice(i, i + 100);
    try {
      await retry(() => client.send(new CreateTagsCommand({ Resources, Tags }), { abortSignal: signal }), {
        attempts: 6,
        baseDelayMs: 1000,
        maxDelayMs: 10_000,
        jitter: true,
        signal,
        retryable: isNotFound,
      });
    } catch (err) {
      throw wrapAws(err, `CreateTags on ${Resources.join(', ')}`, region);
    }
  }
}

/** DeleteTags of `keys` in chunks; resources already gone count as done. */
export async function untagResources(client: EC2Client, region: string, ids: string[], keys: string[], signal: AbortSignal): Promise<void> {
  if (ids.length === 0 || keys.length === 0) return;
  for (let i = 0; i < ids.length; i += 100) {
    const Resources = ids.slice(i, i + 100);
    try {
      await client.send(new DeleteTagsCommand({ Resources, Tags: keys.map((Key) => ({ Key })) }), { abortSignal: signal });
    } catch (err) {
      if (!isNotFound(err)) throw wrapAws(err, `DeleteTags on ${Resources.join(', ')}`, region);
    }
  }
}

/**
 * Deregisters an image and deletes its snapshots (those recorded plus those
 * described before deregistering). Idempotent: an image or snapshot that is
 * already gone counts as deleted.
 */
export async function deleteImageAndSnapshots(client: EC2Client, image: ImageRecord, signal: AbortSignal): Promise<void> {
  const region = image.region ?? 'unknown';
  const snapshots = new Set(image.snapshots ?? []);
  try {
    const out = await client.send(new DescribeImagesCommand({ ImageIds: [image.id] }), { abortSignal: signal });
    for (const img of out.Images ?? []) for (const s of snapshotsOf(img)) snapshots.add(s);
    if ((out.Images ?? []).length > 0) await client.send(new DeregisterImageCommand({ ImageId: image.id }), { abortSignal: signal });
  } catch (err) {
    if (!isNotFound(err)) throw wrapAws(err, `deregistering ${image.id}`, region);
  }
  for (const snapshotId of snapshots) {
    try {
      // Just after DeregisterImage a snapshot can still be "in use" for a moment.
      await retry(() => client.send(new DeleteSnapshotCommand({ SnapshotId: snapshotId }), { abortSignal: signal }), {
        attempts: 8,
        baseDelayMs: 1000,
        maxDelayMs: 15_000,
        jitter: true,
        signal,
        retryable: (e) => awsCode(e) === 'InvalidSnapshot.InUse',
      });
    } catch (err) {
      if (!isNotFound(err)) throw wrapAws(err, `DeleteSnapshot ${snapshotId} of ${image.id}`, region);
    }
  }
}

/** Image ids owned by this account with exactly this name (prepare's collision check). */
export async function ownImagesNamed(client: EC2Client, region: string, name: string, signal: AbortSignal): Promise<string[]> {
  try {
    const out = await client.send(
      new DescribeImagesCommand({ Owners: ['self'], Filters: [{ Name: 'name', Values: [name] }] }),
      { abortSignal: signal },
    );
    return (out.Images ?? []).map((i) => i.ImageId!);
  } catch (err) {
    throw wrapAws(err, `DescribeImages name=${name}`, region);
  }
}

