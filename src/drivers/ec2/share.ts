import {
  DescribeImageAttributeCommand,
  ModifyImageAttributeCommand,
  ModifySnapshotAttributeCommand,
  type EC2Client,
  type LaunchPermission,
} from '@aws-sdk/client-ec2';
import type { ImageRecord } from '../../kernel/journal.js';
import { Ec2Error, wrapAws } from './aws-errors.js';

export interface ShareTargets {
  accounts: string[];
  organizationArns: string[];
  ouArns: string[];
  /** Also grant createVolumePermission on the snapshots (accounts only: EC2 has no org sharing for snapshots). */
  shareSnapshots: boolean;
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
export async function shareImage(client: EC2Client, image: ImageRecord, t: ShareTargets, signal: AbortSignal): Promise<void> {
  if (!hasShareTargets(t)) return;
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
  if (t.shareSnapshots && t.accounts.length > 0) {
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
}
