import {
  DescribeImageAttributeCommand,
  DescribeSnapshotsCommand,
  ModifyImageAttributeCommand,
  ModifySnapshotAttributeCommand,
  type EC2Client,
  type LaunchPermission,
} from '@aws-sdk/client-ec2';
import type { ImageRecord } from '../../kernel/journal.js';
import { Ec2Error, isNotFound, wrapAws } from './aws-errors.js';

export interface ShareTargets {
  accounts: string[];
  organizationArns: string[];
  ouArns: string[];
  /** Also grant createVolumePermission on the snapshots (accounts only: EC2 has no org sharing for snapshots). */
  shareSnapshots: boolean;
}

/**
 * An encrypted image's snapshots are shared, but the accounts can launch it
 * only once the KMS key lets them use it: a key policy statement or grant
 * (kms:DescribeKey, kms:ReEncrypt*, kms:CreateGrant, kms:Decrypt) that
 * hallmark does not write, because the key belongs to whoever owns its policy.
 */
export interface KmsGrantNeed {
  region: string;
  keyId: string;
  imageId: string;
  /** Accounts, organization and OU ARNs that need the grant. */
  principals: string[];
}

export function hasShareTargets(t: ShareTargets): boolean {
  return t.accounts.length + t.organizationArns.length + t.ouArns.length > 0;
}

/**
 * Grants launch permission on one image (and optionally its snapshots), then
 * reads the permission back and fails unless every grant is there: a share
 * that did not take must not be reported as published. Adding a permission
 * that exists is a no-op, so this is idempotent.
 */
export async function shareImage(client: EC2Client, image: ImageRecord, t: ShareTargets, signal: AbortSignal): Promise<KmsGrantNeed[]> {
  if (!hasShareTargets(t)) return [];
  const region = image.region;
  const add: LaunchPermission[] = [
    ...t.accounts.map((UserId) => ({ UserId })),
    ...t.organizationArns.map((OrganizationArn) => ({ OrganizationArn })),
    ...t.ouArns.map((OrganizationalUnitArn) => ({ OrganizationalUnitArn })),
  ];
  try {
    await client.send(new ModifyImageAttributeCommand({ ImageId: image.id, LaunchPermission: { Add: add } }), { abortSignal: signal });
  } catch (err) {
    throw wrapAws(err, `sharing ${image.id} (ModifyImageAttribute launchPermission)`, region, 'check the account ids and organization/OU ARNs, and that the image is not encrypted with the default KMS key (it cannot be shared)');
  }
  // An encrypted image cannot be launched by an account that cannot read its
  // snapshots, so those are shared with the accounts whatever share_snapshots says.
  const encrypted = await encryptedSnapshots(client, image, signal);
  if ((t.shareSnapshots || encrypted.size > 0) && t.accounts.length > 0) {
    for (const SnapshotId of image.snapshots ?? []) {
      try {
        await client.send(
          new ModifySnapshotAttributeCommand({ SnapshotId, Attribute: 'createVolumePermission', OperationType: 'add', UserIds: t.accounts }),
          { abortSignal: signal },
        );
      } catch (err) {
        throw wrapAws(err, `sharing snapshot ${SnapshotId} of ${image.id}`, region);
      }
    }
  }
  let granted: LaunchPermission[];
  try {
    const out = await client.send(new DescribeImageAttributeCommand({ ImageId: image.id, Attribute: 'launchPermission' }), { abortSignal: signal });
    granted = out.LaunchPermissions ?? [];
  } catch (err) {
    throw wrapAws(err, `reading back launch permissions of ${image.id}`, region);
  }
  const missing = [
    ...t.accounts.filter((a) => !granted.some((g) => g.UserId === a)),
    ...t.organizationArns.filter((a) => !granted.some((g) => g.OrganizationArn === a)),
    ...t.ouArns.filter((a) => !granted.some((g) => g.OrganizationalUnitArn === a)),
  ];
  if (missing.length > 0) {
    throw new Ec2Error(`image ${image.id} in ${region} is not shared with ${missing.join(', ')} after ModifyImageAttribute`, {
      region,
      hint: 'run the share again with `hallmark distribute`; if it persists, check the permissions for ec2:ModifyImageAttribute',
    });
  }
  const principals = [...t.accounts, ...t.organizationArns, ...t.ouArns];
  return [...new Set(encrypted.values())].map((keyId) => ({ region: region!, keyId, imageId: image.id, principals }));
}

/** The image's encrypted snapshots and their KMS keys (snapshot id -> key id). */
async function encryptedSnapshots(client: EC2Client, image: ImageRecord, signal: AbortSignal): Promise<Map<string, string>> {
  const ids = image.snapshots ?? [];
  const out = new Map<string, string>();
  if (ids.length === 0) return out;
  try {
    const r = await client.send(new DescribeSnapshotsCommand({ SnapshotIds: ids }), { abortSignal: signal });
    for (const s of r.Snapshots ?? []) if (s.Encrypted) out.set(s.SnapshotId!, s.KmsKeyId ?? 'alias/aws/ebs');
  } catch (err) {
    throw wrapAws(err, `DescribeSnapshots of ${image.id}`, image.region);
  }
  return out;
}

/** One line per key: which principals need a grant on which KMS key, and in which region. */
export function kmsGrantMessages(needs: KmsGrantNeed[]): string[] {
  const byKey = new Map<string, KmsGrantNeed[]>();
  for (const n of needs) byKey.set(`${n.region} ${n.keyId}`, [...(byKey.get(`${n.region} ${n.keyId}`) ?? []), n]);
  return [...byKey.values()].map((group) => {
    const { region, keyId } = group[0]!;
    const principals = [...new Set(group.flatMap((n) => n.principals))];
    const images = [...new Set(group.map((n) => n.imageId))];
    return /alias\/aws\/ebs$/.test(keyId)
      ? `${images.join(', ')} in ${region} is encrypted with the AWS managed key ${keyId}, which cannot be shared: copy it with distribute.kms_key_ids set to a customer managed key`
      : `${principals.join(', ')} can launch ${images.join(', ')} in ${region} only with a grant on KMS key ${keyId} (kms:DescribeKey, kms:ReEncrypt*, kms:CreateGrant, kms:Decrypt in its key policy or a grant)`;
  });
}

/**
 * Takes back what shareImage granted: the launch permissions of `t` on the
 * image and, with shareSnapshots, the accounts' createVolumePermission on its
 * snapshots. An image or snapshot that is gone counts as done. Idempotent.
 */
export async function unshareImage(client: EC2Client, image: ImageRecord, t: ShareTargets, signal: AbortSignal): Promise<void> {
  if (!hasShareTargets(t)) return;
  const region = image.region;
  const remove: LaunchPermission[] = [
    ...t.accounts.map((UserId) => ({ UserId })),
    ...t.organizationArns.map((OrganizationArn) => ({ OrganizationArn })),
    ...t.ouArns.map((OrganizationalUnitArn) => ({ OrganizationalUnitArn })),
  ];
  try {
    await client.send(new ModifyImageAttributeCommand({ ImageId: image.id, LaunchPermission: { Remove: remove } }), { abortSignal: signal });
  } catch (err) {
    if (!isNotFound(err)) throw wrapAws(err, `taking back launch permissions of ${image.id} (ModifyImageAttribute)`, region);
  }
  if (!t.shareSnapshots || t.accounts.length === 0) return;
  for (const SnapshotId of image.snapshots ?? []) {
    try {
      await client.send(new ModifySnapshotAttributeCommand({ SnapshotId, Attribute: 'createVolumePermission', OperationType: 'remove', UserIds: t.accounts }), { abortSignal: signal });
    } catch (err) {
      if (!isNotFound(err)) throw wrapAws(err, `taking back createVolumePermission of snapshot ${SnapshotId}`, region);
    }
  }
}
