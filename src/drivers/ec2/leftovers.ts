import {
  DeleteSecurityGroupCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeKeyPairsCommand,
  DescribeSecurityGroupsCommand,
  DescribeSnapshotsCommand,
  DeleteSnapshotCommand,
  TerminateInstancesCommand,
  type EC2Client,
  type Filter,
  type Tag,
} from '@aws-sdk/client-ec2';
import { DeleteParameterCommand, GetParameterHistoryCommand, PutParameterCommand, type ParameterHistory, type SSMClient } from '@aws-sdk/client-ssm';
import { throwIfAborted } from '../../kernel/abort.js';
import { buildStartedAt, MACHINE_BUILD, STATE_PENDING, TAG_BUILD_ID, TAG_INSTANCE, TAG_MACHINE, TAG_STATE } from '../../kernel/tags.js';
import { retry } from '../../kernel/retry.js';
import type { Leftover, LeftoverQuery, LeftoverRemoval } from '../driver.js';
import { awsCode, isNotFound, wrapAws } from './aws-errors.js';
import type { Ec2Clients } from './clients.js';
import { deleteImageAndSnapshots, snapshotsOf } from './image-ops.js';
import { deleteKeyPair } from './key-pair.js';
import type { SsmClients } from './ssm-parameter.js';
import { waitForInstanceState, type WaitOptions } from './wait.js';

/**
 * The ec2 side of `hallmark cleanup --orphans`: what hallmark made and never
 * committed, found by tag in every region it may have used (see
 * kernel/tags.ts for what each tag proves).
 *
 * Taken: instances, key pairs and security groups tagged `hallmark:machine=build`
 * (a build's own machine and its temporaries; `kept` ones are create/converge
 * machines, left alone); images and copies tagged `hallmark:state=pending`
 * with their snapshots, and pending snapshots whose image is gone; versions of
 * a publish.ssm_parameter that point at such an image (put back to the latest
 * version that does not, or the parameter deleted when none does).
 * Never taken: an image without `hallmark:state` (an older hallmark's, or
 * anyone else's), a published one, a pending image some other machine still
 * runs from, anything younger than `olderThanMs`, and anything a journal
 * holds (that is `hallmark cleanup`'s).
 */
export interface Ec2LeftoverDeps {
  clients: Ec2Clients;
  ssm: () => Promise<SsmClients>;
  /** For terminations and the security groups they free. */
  instanceWait: Omit<WaitOptions, 'signal'>;
}

const tagsOf = (tags: Tag[] | undefined) => Object.fromEntries((tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));

function baseFilters(q: LeftoverQuery): Filter[] {
  const f: Filter[] = q.buildId ? [{ Name: `tag:${TAG_BUILD_ID}`, Values: [q.buildId] }] : [{ Name: 'tag-key', Values: [TAG_BUILD_ID] }];
  if (q.instance) f.push({ Name: `tag:${TAG_INSTANCE}`, Values: [q.instance] });
  return f;
}

/**
 * Machines, keys and groups: a build's only, unless one build is named
 * (`hallmark cleanup` of a killed build sweeps whatever that build made for the instance).
 */
function machineFilters(q: LeftoverQuery): Filter[] {
  return q.buildId ? baseFilters(q) : [...baseFilters(q), { Name: `tag:${TAG_MACHINE}`, Values: [MACHINE_BUILD] }];
}

function toDate(v: Date | string | undefined): Date | undefined {
  if (v === undefined) return undefined;
  const d = v instanceof Date ? v : new Date(v);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** Builds one Leftover, kept when it is too young (or its age is unknown). */
function leftover(q: LeftoverQuery, l: Omit<Leftover, 'createdAt'>, tags: Record<string, string>, own: Date | string | undefined): Leftover {
  const buildId = tags[TAG_BUILD_ID] ?? l.buildId;
  const createdAt = toDate(own) ?? buildStartedAt(buildId);
  const out: Leftover = { ...l, buildId, instance: tags[TAG_INSTANCE] ?? l.instance, createdAt };
  if (!createdAt) return { ...out, kept: true, detail: 'age unknown (build id without a time); remove it by hand if it is no one\'s' };
  if (q.olderThanMs > 0 && q.now.getTime() - createdAt.getTime() < q.olderThanMs) return { ...out, kept: true, detail: 'younger than --older-than: its build may still run' };
  return out;
}

export async function findEc2Leftovers(d: Ec2LeftoverDeps, q: LeftoverQuery): Promise<Leftover[]> {
  const found: Leftover[] = [];
  // One region after the other: moto makes a region's backend on first use, and parallel first uses have made it fail.
  for (const region of [...new Set(q.regions)]) {
    throwIfAborted(q.signal);
    const client = d.clients.get(region);
    const inRegion = await findInRegion(client, region, q);
    found.push(...inRegion);
    found.push(...(await findParameters(d, region, q, inRegion)));
  }
  return found;
}

async function findInRegion(client: EC2Client, region: string, q: LeftoverQuery): Promise<Leftover[]> {
  const out: Leftover[] = [];
  const opts = { abortSignal: q.signal };
  const call = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw wrapAws(err, what, region);
    }
  };
  const unclaimed = (id: string | undefined): id is string => !!id && !q.claimed.has(id);

  const reservations = await call('DescribeInstances (tag search)', () =>
    client.send(
      new DescribeInstancesCommand({ Filters: [...machineFilters(q), { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] }] }),
      opts,
    ),
  );
  const machines = new Set<string>();
  for (const inst of (reservations.Reservations ?? []).flatMap((r) => r.Instances ?? [])) {
    if (!unclaimed(inst.InstanceId)) continue;
    machines.add(inst.InstanceId);
    out.push(leftover(q, { kind: 'instance', id: inst.InstanceId, where: region, detail: `terminate (${inst.State?.Name ?? '?'})` }, tagsOf(inst.Tags), inst.LaunchTime));
  }

  const keys = await call('DescribeKeyPairs (tag search)', () => client.send(new DescribeKeyPairsCommand({ Filters: machineFilters(q) }), opts));
  for (const k of keys.KeyPairs ?? []) {
    if (!unclaimed(k.KeyName)) continue;
    out.push(leftover(q, { kind: 'key-pair', id: k.KeyName, where: region, detail: 'delete' }, tagsOf(k.Tags), k.CreateTime));
  }

  const groups = await call('DescribeSecurityGroups (tag search)', () => client.send(new DescribeSecurityGroupsCommand({ Filters: machineFilters(q) }), opts));
  for (const g of groups.SecurityGroups ?? []) {
    if (!unclaimed(g.GroupId)) continue;
    // A security group has no creation time: its build's start stands for it.
    out.push(leftover(q, { kind: 'security-group', id: g.GroupId, where: region, detail: `delete (${g.GroupName ?? ''})` }, tagsOf(g.Tags), undefined));
  }

  const pending = [...baseFilters(q), { Name: `tag:${TAG_STATE}`, Values: [STATE_PENDING] }];
  const images = await call('DescribeImages (tag search)', () => client.send(new DescribeImagesCommand({ Owners: ['self'], Filters: pending }), opts));
  const covered = new Set<string>();
  for (const img of images.Images ?? []) {
    if (!unclaimed(img.ImageId)) continue;
    const snaps = snapshotsOf(img);
    const l = leftover(q, { kind: 'image', id: img.ImageId, where: region, detail: `deregister (${img.Name ?? ''})` }, tagsOf(img.Tags), img.CreationDate);
    if (!l.kept) {
      // Someone else's machine running from an uncommitted image: leave both alone and say so.
      const users = await call(`DescribeInstances image-id=${img.ImageId}`, () =>
        client.send(
          new DescribeInstancesCommand({ Filters: [{ Name: 'image-id', Values: [img.ImageId!] }, { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] }] }),
          opts,
        ),
      );
      const others = (users.Reservations ?? []).flatMap((r) => r.Instances ?? []).map((i) => i.InstanceId!).filter((id) => !machines.has(id));
      if (others.length > 0) Object.assign(l, { kept: true, detail: `in use by ${others.join(', ')}` });
    }
    out.push(l);
    for (const s of snaps) {
      covered.add(s);
      out.push({ ...l, kind: 'snapshot', id: s, detail: l.kept ? `with ${img.ImageId}, ${l.detail ?? ''}` : `delete (of ${img.ImageId})` });
    }
  }

  // Pending snapshots whose image is gone (a rollback killed between deregistering and deleting them).
  const snaps = await call('DescribeSnapshots (tag search)', () => client.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'], Filters: pending }), opts));
  const lone = (snaps.Snapshots ?? []).filter((s) => unclaimed(s.SnapshotId) && !covered.has(s.SnapshotId));
  if (lone.length > 0) {
    // Every snapshot an image of this account still uses (one call, rather than a filter per snapshot).
    const all = await call('DescribeImages (snapshots in use)', () => client.send(new DescribeImagesCommand({ Owners: ['self'] }), opts));
    const used = new Set((all.Images ?? []).flatMap((i) => snapshotsOf(i)));
    for (const s of lone) {
      if (used.has(s.SnapshotId!)) continue; // its image is not a leftover (younger, claimed, or published)
      out.push(leftover(q, { kind: 'snapshot', id: s.SnapshotId!, where: region, detail: 'delete (its image is gone)' }, tagsOf(s.Tags), s.StartTime));
    }
  }
  return out;
}

/** Versions of the configured parameters that point at an image this search removes. */
async function findParameters(d: Ec2LeftoverDeps, region: string, q: LeftoverQuery, inRegion: Leftover[]): Promise<Leftover[]> {
  const doomed = new Set(inRegion.filter((l) => l.kind === 'image' && !l.kept).map((l) => l.id));
  if (doomed.size === 0 || q.parameterNames.length === 0) return [];
  const client = (await d.ssm()).get(region);
  const out: Leftover[] = [];
  for (const name of [...new Set(q.parameterNames)]) {
    const history = await parameterHistory(client, region, name, q.signal);
    const current = history.at(-1);
    if (!current || !doomed.has(current.Value ?? '')) continue;
    const back = [...history].reverse().find((v) => !doomed.has(v.Value ?? ''));
    const image = inRegion.find((l) => l.id === current.Value)!;
    out.push({
      kind: 'parameter',
      id: name,
      where: region,
      buildId: image.buildId,
      instance: image.instance,
      createdAt: toDate(current.LastModifiedDate) ?? image.createdAt,
      detail: back ? `put back ${back.Value} (as version ${back.Version} was); version ${current.Version} = ${current.Value}` : `delete: every version points at an uncommitted image`,
    });
  }
  return out;
}

async function parameterHistory(client: SSMClient, region: string, name: string, signal: AbortSignal): Promise<ParameterHistory[]> {
  const all: ParameterHistory[] = [];
  let token: string | undefined;
  try {
    do {
      const out = await client.send(new GetParameterHistoryCommand({ Name: name, NextToken: token, MaxResults: 50 }), { abortSignal: signal });
      all.push(...(out.Parameters ?? []));
      token = out.NextToken;
    } while (token);
  } catch (err) {
    if (awsCode(err) === 'ParameterNotFound') return [];
    throw wrapAws(err, `GetParameterHistory ${name}`, region);
  }
  return all.sort((a, b) => (a.Version ?? 0) - (b.Version ?? 0));
}

/**
 * Removes what findEc2Leftovers found (not the kept ones), region by region:
 * parameters put back first (no reader is left pointing at a deleted image),
 * then machines (terminated, waited for), their groups and keys, images with
 * their snapshots, lone snapshots. Idempotent: what is gone counts as removed.
 */
export async function removeEc2Leftovers(d: Ec2LeftoverDeps, q: LeftoverQuery, found: Leftover[]): Promise<LeftoverRemoval[]> {
  const results: LeftoverRemoval[] = [];
  const todo = found.filter((l) => !l.kept);
  const order: Leftover['kind'][] = ['parameter', 'instance', 'security-group', 'key-pair', 'image', 'snapshot'];
  for (const region of [...new Set(todo.map((l) => l.where))]) {
    const client = d.clients.get(region);
    const here = todo.filter((l) => l.where === region);
    const doomed = new Set(here.filter((l) => l.kind === 'image').map((l) => l.id));
    for (const kind of order) {
      for (const l of here.filter((x) => x.kind === kind)) {
        try {
          await removeOne(d, client, region, l, q, doomed);
          results.push({ leftover: l });
        } catch (err) {
          results.push({ leftover: l, error: err as Error });
        }
      }
    }
  }
  return results;
}

async function removeOne(d: Ec2LeftoverDeps, client: EC2Client, region: string, l: Leftover, q: LeftoverQuery, doomed: Set<string>): Promise<void> {
  const signal = q.signal;
  const opts = { abortSignal: signal };
  switch (l.kind) {
    case 'parameter':
      return putBackParameter(d, region, l.id, q, doomed);
    case 'instance': {
      try {
        await client.send(new TerminateInstancesCommand({ InstanceIds: [l.id] }), opts);
      } catch (err) {
        if (!isNotFound(err)) throw wrapAws(err, `TerminateInstances ${l.id}`, region);
      }
      await waitForInstanceState(client, region, l.id, 'terminated', { ...d.instanceWait, signal });
      q.log.info(`terminated ${l.id} in ${region}`);
      return;
    }
    case 'security-group':
      try {
        // In use until the terminated machine's interface is gone, a while after termination.
        await retry(() => client.send(new DeleteSecurityGroupCommand({ GroupId: l.id }), opts), {
          attempts: 30,
          baseDelayMs: 2000,
          maxDelayMs: 30_000,
          jitter: true,
          signal,
          retryable: (e) => awsCode(e) === 'DependencyViolation',
        });
      } catch (err) {
        if (!isNotFound(err)) throw wrapAws(err, `DeleteSecurityGroup ${l.id}`, region);
      }
      q.log.info(`deleted security group ${l.id} in ${region}`);
      return;
    case 'key-pair':
      await deleteKeyPair(client, region, l.id, signal);
      q.log.info(`deleted key pair ${l.id} in ${region}`);
      return;
    case 'image':
      await deleteImageAndSnapshots(client, { id: l.id, region, role: 'source' }, signal);
      q.log.info(`deregistered ${l.id} in ${region} and deleted its snapshots`);
      return;
    case 'snapshot':
      try {
        await client.send(new DeleteSnapshotCommand({ SnapshotId: l.id }), opts);
      } catch (err) {
        if (!isNotFound(err)) throw wrapAws(err, `DeleteSnapshot ${l.id}`, region);
      }
      return;
    default:
      throw new Error(`internal: the ec2 driver has no ${l.kind} leftovers`);
  }
}

/**
 * Puts the parameter back to its latest version that points at no leftover
 * image of this search (as a new version: Parameter Store cannot delete
 * one), or deletes it when every version does. Read again right before: a
 * parameter written since the search is left alone.
 */
async function putBackParameter(d: Ec2LeftoverDeps, region: string, name: string, q: LeftoverQuery, doomedImages: Set<string>): Promise<void> {
  const client = (await d.ssm()).get(region);
  const history = await parameterHistory(client, region, name, q.signal);
  const current = history.at(-1);
  if (!current) return;
  const doomed = (v: ParameterHistory) => doomedImages.has(v.Value ?? '');
  if (!doomed(current)) return;
  const back = [...history].reverse().find((v) => !doomed(v));
  try {
    if (back) {
      await client.send(new PutParameterCommand({ Name: name, Value: back.Value!, Type: 'String', DataType: back.DataType, Overwrite: true }), { abortSignal: q.signal });
      q.log.info(`${name} in ${region}: put back ${back.Value} (as version ${back.Version} was)`);
    } else {
      await client.send(new DeleteParameterCommand({ Name: name }), { abortSignal: q.signal });
      q.log.info(`${name} in ${region}: deleted (every version pointed at an uncommitted image)`);
    }
  } catch (err) {
    if (awsCode(err) === 'ParameterNotFound') return;
    throw wrapAws(err, `putting back SSM parameter ${name}`, region);
  }
}
