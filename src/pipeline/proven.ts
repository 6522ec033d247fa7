/** Helpers the commit actions share (commit.ts and image-lifecycle.ts). */
import { toHallmarkError, type HallmarkError } from '../kernel/errors.js';
import type { ImageRecord } from '../kernel/journal.js';
import type { CommitContext, ProvenInstance } from './commit.js';

/** The captured image and its copies. */
export const images = (p: ProvenInstance): ImageRecord[] => [p.image, ...p.copies];
export const driverOf = (p: ProvenInstance) => p.run.plugins.driver;

/** Runs `fn` for every instance, each to its end; then throws the first failure, the others attached. */
export async function eachInstance(ctx: CommitContext, fn: (p: ProvenInstance) => Promise<void>): Promise<void> {
  let first: HallmarkError | undefined;
  for (const p of ctx.instances) {
    try {
      await fn(p);
    } catch (err) {
      if (first) first.cleanupErrors.push(err);
      else first = toHallmarkError(err);
    }
  }
  if (first) throw first;
}
