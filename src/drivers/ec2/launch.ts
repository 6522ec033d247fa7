import { RunInstancesCommand, type EC2Client, type Instance, type RunInstancesCommandInput, type Tag } from '@aws-sdk/client-ec2';
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { Ec2Error, wrapAws } from './aws-errors.js';
import type { Placement } from './network.js';
import type { Ec2Options } from './schema.js';

export function toTags(tags: Record<string, string>): Tag[] {
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}

/**
 * The tags on the machine and everything hallmark makes for it, so leftovers
 * can be found by tag. The configured driver `tags` win over hallmark's
 * default Name (kitchen-ec2's `tags: { Name: ... }` names the instance);
 * the hallmark:* provenance tags are hallmark's own and always set.
 */
export function machineTags(o: Ec2Options, instance: string, buildId: string): Record<string, string> {
  return { Name: instance, ...o.tags, 'hallmark:build-id': buildId, 'hallmark:instance': instance };
}

/**
 * ClientToken for a create call (max 64 ASCII chars). The same inputs give the
 * same token, so an SDK retry of a call whose first answer was lost returns
 * the first resource instead of making a second one.
 */
export function clientToken(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\0')).digest('hex').slice(0, 64);
}

async function userData(o: Ec2Options, projectDir: string): Promise<string | undefined> {
  if (o.user_data === undefined) return undefined;
  const file = path.resolve(projectDir, o.user_data);
  let text = o.user_data;
  // kitchen-ec2 semantics: a path to an existing file means its content.
  if (!o.user_data.includes('\n') && (await stat(file).catch(() => undefined))?.isFile()) text = await readFile(file, 'utf8');
  return Buffer.from(text, 'utf8').toString('base64');
}

export interface LaunchArgs {
  imageId: string;
  keyName: string;
  placement: Placement;
  groupIds: string[];
  tags: Record<string, string>;
  token: string;
  projectDir: string;
}

export async function runInstancesInput(o: Ec2Options, a: LaunchArgs): Promise<RunInstancesCommandInput> {
  const tags = toTags(a.tags);
  const input: RunInstancesCommandInput = {
    ImageId: a.imageId,
    InstanceType: o.instance_type as RunInstancesCommandInput['InstanceType'],
    MinCount: 1,
    MaxCount: 1,
    KeyName: a.keyName,
    ClientToken: a.token,
    UserData: await userData(o, a.projectDir),
    IamInstanceProfile: o.iam_profile_name ? { Name: o.iam_profile_name } : undefined,
    EbsOptimized: o.ebs_optimized,
    InstanceInitiatedShutdownBehavior: o.instance_initiated_shutdown_behavior,
    MetadataOptions: {
      HttpTokens: o.metadata_options.http_tokens,
      HttpEndpoint: o.metadata_options.http_endpoint,
      HttpPutResponseHopLimit: o.metadata_options.http_put_response_hop_limit,
      InstanceMetadataTags: o.metadata_options.instance_metadata_tags,
    },
    TagSpecifications: [
      { ResourceType: 'instance', Tags: tags },
      { ResourceType: 'volume', Tags: tags },
    ],
    BlockDeviceMappings: o.block_device_mappings?.map((b) => ({
      DeviceName: b.device_name,
      VirtualName: b.virtual_name,
      NoDevice: b.no_device,
      Ebs: b.ebs && {
        VolumeSize: b.ebs.volume_size,
        VolumeType: b.ebs.volume_type as 'gp3' | undefined,
        DeleteOnTermination: b.ebs.delete_on_termination ?? true,
        Encrypted: b.ebs.encrypted,
        KmsKeyId: b.ebs.kms_key_id,
        SnapshotId: b.ebs.snapshot_id,
        Iops: b.ebs.iops,
        Throughput: b.ebs.throughput,
      },
    })),
    InstanceMarketOptions: o.spot_price
      ? { MarketType: 'spot', SpotOptions: { MaxPrice: o.spot_price, SpotInstanceType: 'one-time', InstanceInterruptionBehavior: 'terminate' } }
      : undefined,
  };
  if (o.associate_public_ip !== undefined) {
    // A public-IP choice needs an explicit network interface, which then carries subnet and groups.
    input.NetworkInterfaces = [
      { DeviceIndex: 0, AssociatePublicIpAddress: o.associate_public_ip, SubnetId: a.placement.subnetId, Groups: a.groupIds, DeleteOnTermination: true },
    ];
  } else {
    input.SubnetId = a.placement.subnetId;
    input.SecurityGroupIds = a.groupIds;
  }
  return input;
}

/** RunInstances; the caller journals the returned id before waiting for it to run. */
export async function runInstance(client: EC2Client, region: string, input: RunInstancesCommandInput): Promise<string> {
  try {
    // Not aborted midway: the answer is the only record of the machine it made (see distribute.ts).
    const out = await client.send(new RunInstancesCommand(input));
    const id = out.Instances?.[0]?.InstanceId;
    if (!id) throw new Ec2Error(`RunInstances in ${region} returned no instance`, { region });
    return id;
  } catch (err) {
    throw wrapAws(err, 'RunInstances', region, undefined);
  }
}

/** The address `interface` asks for; by default the public IP, else the private one. */
export function chooseAddress(inst: Instance, iface: Ec2Options['interface']): string | undefined {
  switch (iface) {
    case 'public':
      return inst.PublicIpAddress;
    case 'private':
      return inst.PrivateIpAddress;
    case 'dns':
      return inst.PublicDnsName || inst.PrivateDnsName || undefined;
    case 'id':
      return inst.InstanceId;
    default:
      return inst.PublicIpAddress ?? inst.PrivateIpAddress;
  }
}
