import {
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeSnapshotsCommand,
  type EC2Client,
  type Image,
  type Instance,
} from '@aws-sdk/client-ec2';
import { throwIfAborted, waitFor } from '../../kernel/abort.js';
import type { Logger } from '../../kernel/events.js';
import { Ec2Error, isNotFound, isTransient, wrapAws } from './aws-errors.js';

/**
 * Waiters for EC2 resources. Unlike the SDK's own waiters they stop at once on
 * an error that waiting cannot fix (UnauthorizedOperation, AccessDenied, an
 * image that went `failed`, an image that disappeared), instead of polling it
 * until the timeout; they keep polling through throttling and 5xx (after the
 * SDK's per-call retries), and they end the moment the signal fires.
 */
export interface WaitOptions {
  delayMs: number;
  maxWaitMs: number;
  signal: AbortSignal;
  log?: Logger;
  /**
   * EC2 is eventually consistent: an id just returned by a create call can be
   * unknown to Describe* for a few seconds. NotFound is polled again during
   * this window after the wait starts and is final afterwards. Default 30 s.
   */
  notFoundGraceMs?: number;
}

/**
 * Polls `describe` until it returns a value. Transient errors and early
 * NotFound are polled again; every other error ends the wait at once.
 */
export async function pollUntil<T>(what: string, region: string, describe: () => Promise<T | undefined>, opts: WaitOptions): Promise<T> {
  const start = Date.now();
  const grace = opts.notFoundGraceMs ?? 30_000;
  return waitFor(
    what,
    async () => {
      try {
        return await describe();
      } catch (err) {
        throwIfAborted(opts.signal);
        if (isTransient(err)) {
          opts.log?.debug(`${what}: ${(err as Error).message}; polling again`);
          return undefined;
        }
        if (isNotFound(err) && Date.now() - start < grace) return undefined;
        throw wrapAws(err, `waiting for ${what}`, region);
      }
    },
    { delayMs: opts.delayMs, maxWaitMs: opts.maxWaitMs, signal: opts.signal },
  );
}

const failedImageStates = new Set(['failed', 'invalid', 'error', 'deregistered', 'disabled']);

/**
 * Waits until every image in `imageIds` (all in `region`) is `available`.
 * Reports snapshot progress through log.progress while they are pending.
 */
export async function waitForImagesAvailable(client: EC2Client, region: string, imageIds: string[], opts: WaitOptions): Promise<Image[]> {
  const what = `image${imageIds.length > 1 ? 's' : ''} ${imageIds.join(', ')} in ${region} to become available`;
  return pollUntil(
    what,
    region,
    async () => {
      const out = await client.send(new DescribeImagesCommand({ ImageIds: imageIds }), { abortSignal: opts.signal });
      const images = out.Images ?? [];
      for (const img of images) {
        if (img.State && failedImageStates.has(img.State)) {
          throw new Ec2Error(
            `image ${img.ImageId} in ${region} is ${img.State}: ${img.StateReason?.Message ?? img.StateReason?.Code ?? 'no reason given'}`,
            { region, awsCode: img.StateReason?.Code, hint: 'see the image in the EC2 console; a failed image is never published' },
          );
        }
      }
      if (images.length === imageIds.length && images.every((i) => i.State === 'available')) return images;
      if (images.length < imageIds.length) return undefined; // not visible yet (eventual consistency)
      await reportSnapshotProgress(client, region, images, opts);
      return undefined;
    },
    opts,
  );
}

async function reportSnapshotProgress(client: EC2Client, region: string, images: Image[], opts: WaitOptions): Promise<void> {
  if (!opts.log) return;
  const snaps = images.flatMap((i) => (i.BlockDeviceMappings ?? []).map((b) => b.Ebs?.SnapshotId).filter((s): s is string => !!s));
  let percent: number | undefined;
  if (snaps.length > 0) {
    try {
      const out = await client.send(new DescribeSnapshotsCommand({ SnapshotIds: snaps }), { abortSignal: opts.signal });
      const values = (out.Snapshots ?? []).map((s) => Number.parseFloat(s.Progress ?? '0')).filter((n) => Number.isFinite(n));
      if (values.length > 0) percent = Math.round(values.reduce((a, b) => a + b, 0) / values.length);
    } catch {
      // progress is informative only; the image state decides
    }
  }
  const ids = images.map((i) => `${i.ImageId} ${i.State ?? 'pending'}`).join(', ');
  opts.log.progress(`${region}: ${ids}${percent !== undefined ? `, snapshots ${percent}%` : ''}`, percent);
}

/**
 * Waits for an instance to reach `running` (returns it) or `terminated`
 * (NotFound counts as terminated). An instance that ends while we wait for
 * `running` is an error carrying EC2's state reason (capacity, spot, limits).
 */
export async function waitForInstanceState(
  client: EC2Client,
  region: string,
  instanceId: string,
  want: 'running' | 'terminated',
  opts: WaitOptions,
): Promise<Instance | undefined> {
  return pollUntil(
    `instance ${instanceId} in ${region} to be ${want}`,
    region,
    async () => {
      let inst: Instance | undefined;
      try {
        const out = await client.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }), { abortSignal: opts.signal });
        inst = out.Reservations?.[0]?.Instances?.[0];
      } catch (err) {
        if (want === 'terminated' && isNotFound(err)) return { InstanceId: instanceId } as Instance;
        throw err;
      }
      const state = inst?.State?.Name;
      if (!inst || !state) return undefined;
      opts.log?.progress(`${instanceId}: ${state}`);
      if (state === want) return inst;
      if (want === 'running' && (state === 'terminated' || state === 'shutting-down' || state === 'stopped' || state === 'stopping')) {
        throw new Ec2Error(`instance ${instanceId} in ${region} is ${state} instead of running: ${inst.StateReason?.Message ?? 'no reason given'}`, {
          region,
          awsCode: inst.StateReason?.Code,
          hint: 'check the instance type, capacity and limits in the region, and the image; see the console output of the instance',
        });
      }
      return undefined;
    },
    opts,
  );
}
