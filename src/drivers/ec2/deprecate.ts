import { DisableImageDeprecationCommand, EnableImageDeprecationCommand } from '@aws-sdk/client-ec2';
import type { Logger } from '../../kernel/events.js';
import type { ImageRecord } from '../../kernel/journal.js';
import { isNotFound, wrapAws } from './aws-errors.js';
import type { Ec2Clients } from './clients.js';
import { mapBounded, throwFirstFailure } from './distribute.js';

/**
 * image.deprecate_after: sets the deprecation time on the image and on every
 * copy, each in its own region, as Packer's `deprecate_at` does (its
 * StepEnableDeprecation calls EnableImageDeprecation for every region's AMI).
 * Setting the same time again is harmless, so this is idempotent. Waits for
 * every call to answer, then throws the first failure.
 */
export async function deprecateImages(a: { clients: Ec2Clients; images: ImageRecord[]; at: Date; concurrency: number; log: Logger; signal: AbortSignal }): Promise<void> {
  const results = await mapBounded(a.images, Math.max(1, a.concurrency), async (image) => {
    const region = image.region!;
    try {
      await a.clients.get(region).send(new EnableImageDeprecationCommand({ ImageId: image.id, DeprecateAt: a.at }), { abortSignal: a.signal });
    } catch (err) {
      throw wrapAws(err, `EnableImageDeprecation ${image.id}`, region, 'the build needs ec2:EnableImageDeprecation; image.deprecate_after must be at most 10 years');
    }
    a.log.info(`${image.id} in ${region} deprecated from ${a.at.toISOString()}`);
  });
  throwFirstFailure(results, a.signal, a.log, 'deprecating images');
}

/**
 * Undoes deprecateImages for a build that is rolled back after all. An image
 * already gone (the rollback removed it) needs nothing. Errors are collected;
 * every image is tried.
 */
export async function undeprecateImages(a: { clients: Ec2Clients; images: ImageRecord[]; log: Logger; signal: AbortSignal }): Promise<void> {
  const errors: unknown[] = [];
  for (const image of a.images) {
    const region = image.region!;
    try {
      await a.clients.get(region).send(new DisableImageDeprecationCommand({ ImageId: image.id }), { abortSignal: a.signal });
    } catch (err) {
      if (!isNotFound(err)) errors.push(wrapAws(err, `DisableImageDeprecation ${image.id}`, region));
    }
  }
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new AggregateError(errors, `could not cancel the deprecation of ${errors.length} image(s)`);
}
