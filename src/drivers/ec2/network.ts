import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  type EC2Client,
  type Filter,
  type Tag,
} from '@aws-sdk/client-ec2';
import { isIP } from 'node:net';
import { Ec2Error, wrapAws } from './aws-errors.js';
import type { Ec2Options, Ec2TagFilter } from './schema.js';

/** Where the machine goes: a subnet (and so a VPC) and security groups given by the user. */
export interface Placement {
  subnetId?: string;
  vpcId?: string;
  /** Security groups the user named; empty means hallmark makes a temporary one. */
  groupIds: string[];
}

function tagFilters(f: Ec2TagFilter | Ec2TagFilter[]): Filter[] {
  return (Array.isArray(f) ? f : [f]).map((t) => ({ Name: `tag:${t.tag}`, Values: [t.value] }));
}

export async function resolvePlacement(client: EC2Client, region: string, o: Ec2Options, signal: AbortSignal): Promise<Placement> {
  let subnetId = o.subnet_id;
  let vpcId: string | undefined;
  try {
    if (o.subnet_id || o.subnet_filter) {
      const out = await client.send(
        new DescribeSubnetsCommand(o.subnet_id ? { SubnetIds: [o.subnet_id] } : { Filters: tagFilters(o.subnet_filter!) }),
        { abortSignal: signal },
      );
      const subnet = out.Subnets?.[0];
      if (!subnet) {
        throw new Ec2Error(`no subnet in ${region} matches ${o.subnet_id ?? JSON.stringify(o.subnet_filter)}`, {
          region,
          hint: 'check subnet_id / subnet_filter and the region',
        });
      }
      subnetId = subnet.SubnetId;
      vpcId = subnet.VpcId;
    }
    let groupIds = o.security_group_ids ?? [];
    if (o.security_group_filter) {
      const filters = tagFilters(o.security_group_filter);
      if (vpcId) filters.push({ Name: 'vpc-id', Values: [vpcId] });
      const out = await client.send(new DescribeSecurityGroupsCommand({ Filters: filters }), { abortSignal: signal });
      groupIds = (out.SecurityGroups ?? []).map((g) => g.GroupId!).filter(Boolean);
      if (groupIds.length === 0) {
        throw new Ec2Error(`no security group in ${region} matches ${JSON.stringify(o.security_group_filter)}`, { region });
      }
    }
    return { subnetId, vpcId, groupIds };
  } catch (err) {
    throw wrapAws(err, 'looking up subnet and security groups', region);
  }
}

/**
 * The CIDR blocks allowed to reach SSH on the temporary security group. Never
 * 0.0.0.0/0 by default:
 * 1. `security_group_cidr_ip` when given (what CI behind a NAT or a bastion needs);
 * 2. 127.0.0.1/32 when the endpoint is on loopback (moto_server, tests: offline);
 * 3. otherwise this controller's public address, as https://checkip.amazonaws.com
 *    reports it, /32. When that cannot be reached the error says to set option 1.
 */
export async function sshCidrs(o: Ec2Options, signal: AbortSignal, fetchImpl: typeof fetch = fetch): Promise<string[]> {
  if (o.security_group_cidr_ip) return Array.isArray(o.security_group_cidr_ip) ? o.security_group_cidr_ip : [o.security_group_cidr_ip];
  if (o.endpoint && isLoopback(new URL(o.endpoint).hostname)) return ['127.0.0.1/32'];
  try {
    const res = await fetchImpl('https://checkip.amazonaws.com/', { signal: AbortSignal.any([signal, AbortSignal.timeout(10_000)]) });
    const ip = (await res.text()).trim();
    if (isIP(ip) !== 4) throw new Error(`unexpected answer ${JSON.stringify(ip.slice(0, 40))}`);
    return [`${ip}/32`];
  } catch (err) {
    if (signal.aborted) throw err;
    throw new Ec2Error(`could not learn this machine's public address from checkip.amazonaws.com: ${(err as Error).message}`, {
      cause: err,
      hint: 'set `security_group_cidr_ip:` (e.g. your NAT address/32) or `security_group_ids:` in the ec2 driver block',
    });
  }
}

export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\./.test(h);
}

/** Creates the temporary group; `onCreated` journals its id before the rule is added. */
export async function createTemporaryGroup(
  client: EC2Client,
  region: string,
  args: { name: string; vpcId?: string; cidrs: string[]; tags: Tag[]; signal: AbortSignal },
  onCreated: (groupId: string) => Promise<void>,
): Promise<string> {
  let groupId: string;
  try {
    const out = await client.send(
      new CreateSecurityGroupCommand({
        GroupName: args.name,
        Description: 'hallmark temporary group: SSH from the build controller only',
        VpcId: args.vpcId,
        TagSpecifications: [{ ResourceType: 'security-group', Tags: args.tags }],
      }),
      // Not aborted midway: the answer is the only record of what it made.
    );
    groupId = out.GroupId!;
  } catch (err) {
    throw wrapAws(err, 'CreateSecurityGroup', region);
  }
  await onCreated(groupId);
  try {
    await client.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: groupId,
        IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: args.cidrs.map((c) => ({ CidrIp: c, Description: 'hallmark SSH' })) }],
      }),
      { abortSignal: args.signal },
    );
  } catch (err) {
    throw wrapAws(err, 'AuthorizeSecurityGroupIngress', region);
  }
  return groupId;
}
