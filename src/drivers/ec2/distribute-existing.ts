import { silentLogger, type Logger } from '../../kernel/events.js';
import type { ImageRecord, Journal } from '../../kernel/journal.js';
import { Ec2Error } from './aws-errors.js';
import { clientSettings, Ec2Clients, type ClientSettings } from './clients.js';
import { copyImages, describeSource, distributeImage } from './distribute.js';
import { ec2Schema } from './schema.js';

export interface DistributeExistingOptions {
  imageId: string;
  /** Region of the existing image. */
  from: string;
  /** Regions to copy to; `from` is skipped if listed. */
  to: string[];
  accounts?: string[];
  organizationArns?: string[];
  ouArns?: string[];
  shareSnapshots?: boolean;
  concurrency?: number;
  encrypted?: boolean;
  kmsKeyIds?: Record<string, string>;
  tags?: Record<string, string>;
  /** Id that makes copy ClientTokens deterministic: re-running with the same id cannot make second copies. */
  buildId: string;
  /** Every copy is recorded here before any wait (role `copy`); the source is not recorded: it is not ours. */
  journal: Journal;
  /** ec2 driver options that apply: endpoint, max_attempts, retry_mode, delay, max_wait, shared_credentials_profile. */
  driverOptions?: Record<string, unknown>;
  credentials?: ClientSettings['credentials'];
  log?: Logger;
  signal?: AbortSignal;
  /**
   * false: copy only, share nothing (the caller commits: shares, writes
   * parameters and launch templates as one transaction). Default true.
   */
  share?: boolean;
}

/**
 * `hallmark distribute IMAGE_ID --from R --to R1,R2 --accounts A,B`: copy, tag
 * and share an AMI that already exists, with exactly the code a build uses.
 * On failure the copies made so far are in the journal; the caller deletes
 * them (deleteImage) when it wants all-or-nothing.
 */
export async function distributeExisting(opts: DistributeExistingOptions): Promise<{ source: ImageRecord; copies: ImageRecord[] }> {
  const o = ec2Schema().parse({ name: 'ec2', region: opts.from, ...opts.driverOptions });
  const clients = new Ec2Clients(clientSettings(o, opts.credentials));
  const signal = opts.signal ?? new AbortController().signal;
  try {
    const img = await describeSource(clients, opts.imageId, opts.from, signal);
    if (!img.Name) throw new Ec2Error(`image ${opts.imageId} has no name`, { region: opts.from });
    const source: ImageRecord & { region: string; name: string } = {
      id: opts.imageId,
      region: opts.from,
      name: img.Name,
      role: 'source',
      snapshots: (img.BlockDeviceMappings ?? []).map((b) => b.Ebs?.SnapshotId).filter((s): s is string => !!s),
    };
    const copies = await (opts.share === false ? copyImages : distributeImage)({
      clients,
      source,
      description: img.Description,
      regions: opts.to,
      accounts: opts.accounts ?? [],
      organizationArns: opts.organizationArns ?? [],
      ouArns: opts.ouArns ?? [],
      shareSnapshots: opts.shareSnapshots ?? false,
      concurrency: opts.concurrency ?? 4,
      encrypted: opts.encrypted,
      kmsKeyIds: opts.kmsKeyIds ?? {},
      sourceTags: img.Tags ?? [],
      tags: { ...opts.tags, 'hallmark:build-id': opts.buildId, 'hallmark:source-image': `${opts.from}/${opts.imageId}` },
      buildId: opts.buildId,
      journal: opts.journal,
      log: opts.log ?? silentLogger,
      signal,
      delayMs: o.delay * 1000,
      maxWaitMs: o.max_wait * 1000,
    });
    return { source, copies };
  } finally {
    clients.destroy();
  }
}
