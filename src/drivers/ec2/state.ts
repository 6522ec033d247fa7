import { z } from 'zod';
import type { Journal } from '../../kernel/journal.js';

/**
 * What the ec2 driver keeps in the instance journal (`state.driver`). Every id
 * is written the moment the API returns it, before any wait, so `destroy`
 * works from this record alone after a crash. `*Created` says whether hallmark
 * made the resource (and so must delete it) or was given it by the user.
 */
export const ec2StateSchema = z.object({
  region: z.string().optional(),
  keyName: z.string().optional(),
  keyCreated: z.boolean().optional(),
  /** Local private key of the temporary key pair (0600). */
  keyPath: z.string().optional(),
  groupId: z.string().optional(),
  groupCreated: z.boolean().optional(),
  instanceId: z.string().optional(),
  /** Address chosen by `interface`, known once the instance runs. */
  hostname: z.string().optional(),
  username: z.string().optional(),
  sourceImageId: z.string().optional(),
  /** SSH host key fingerprint seen first (trust on first use). */
  hostKeyFingerprint: z.string().optional(),
});

export type Ec2State = z.output<typeof ec2StateSchema>;

/**
 * Reads the driver record back ({} when the journal holds no machine). A
 * damaged record, or another driver's, is a StateFileError, never "no machine".
 */
export function readEc2State(journal: Journal): Ec2State {
  return journal.driverRecord(ec2StateSchema, 'ec2') ?? {};
}

export async function recordEc2State(journal: Journal, patch: Partial<Ec2State>): Promise<void> {
  await journal.recordDriver(patch as Record<string, unknown>);
}
