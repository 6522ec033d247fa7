import { DeleteSecurityGroupCommand, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { randomBytes } from 'node:crypto';
import { throwIfAborted } from '../../kernel/abort.js';
import type { LaunchTemplateTarget } from '../../config/types.js';
import { MACHINE_KEPT, TAG_MACHINE } from '../../kernel/tags.js';
import type { ImageRecord, ParameterRecord, TemplateVersionRecord } from '../../kernel/journal.js';
import { retry } from '../../kernel/retry.js';
import type { ConnectionTarget } from '../../transports/transport.js';
import type { CaptureRequest, DistributeRequest, MachineCapability, ImageCapability, SharingCapability, ParameterCapability, LaunchTemplateCapability, DeprecationCapability, LeftoverCapability, DriverContext, Leftover, LeftoverQuery, LeftoverRemoval, PruneRequest, PruneResult, ShareRequest } from '../driver.js';
import { ApiCallLedger, type MetersApiCalls } from '../api-calls.js';
import type { Ec2LeftoverDeps } from './leftovers.js';
import { awsCode, Ec2Error, isNotFound, wrapAws } from './aws-errors.js';
import { clientSettings, Ec2Clients, type ClientSettings } from './clients.js';
import { copyImages, shareImages, unshareImages } from './distribute.js';
import { captureImage, deleteImageAndSnapshots, tagResources, untagResources } from './image-ops.js';
import { deprecateImages, undeprecateImages } from './deprecate.js';
import { createTemplateVersion, deleteTemplateVersion, describeTemplate } from './launch-template.js';
import { pruneFamily } from './prune.js';
import { createTemporaryKeyPair, deleteKeyPair, removeKeyFiles } from './key-pair.js';
import { chooseAddress, clientToken, machineTags, runInstance, runInstancesInput, toTags } from './launch.js';
import { createTemporaryGroup, resolvePlacement, sshCidrs } from './network.js';
import { prepareEc2 } from './prepare.js';
import type { Ec2Options } from './schema.js';
import { resolveSourceImage } from './source-image.js';
import type { SsmClients } from './ssm-parameter.js';
import { readEc2State, recordEc2State } from './state.js';
import { defaultUsername } from './username.js';
import { waitForInstanceState, type WaitOptions } from './wait.js';

/** What a library caller (or a test) may inject; the config never sets these. */
export interface Ec2DriverDeps {
  credentials?: ClientSettings['credentials'];
  fetch?: typeof fetch;
}

/**
 * The `ec2` driver: a machine is an EC2 instance, an image an AMI, copies are
 * AMIs in other regions. Each step lives in its own module; this class wires
 * them to the journal. All ids are journaled before any wait.
 */
export class Ec2Driver implements MachineCapability, ImageCapability, SharingCapability, ParameterCapability, LaunchTemplateCapability, DeprecationCapability, LeftoverCapability, MetersApiCalls {
  readonly name = 'ec2';
  readonly clients: Ec2Clients;
  /** Every call of every client this driver makes (EC2, and SSM), by service, region and action: for the manifest. */
  readonly apiCalls: ApiCallLedger;
  /** Made on first use (publish.ssm_parameter), with the EC2 clients' settings. */
  private ssmClients?: SsmClients;

  constructor(
    readonly options: Ec2Options,
    private readonly deps: Ec2DriverDeps = {},
  ) {
    this.clients = new Ec2Clients(clientSettings(options, deps.credentials));
    this.apiCalls = this.clients.settings.calls ?? new ApiCallLedger();
  }

  /** The machine's region: the journaled one (it may predate a config change), else the configured one. */
  private async region(ctx: DriverContext): Promise<string> {
    return readEc2State(ctx.journal).region ?? (await this.clients.resolveRegion(this.options.region));
  }

  /** Instance waits: kitchen-ec2's retryable_tries x retryable_sleep. */
  private instanceWait(ctx: DriverContext): WaitOptions {
    const o = this.options;
    return { delayMs: o.retryable_sleep * 1000, maxWaitMs: o.retryable_tries * o.retryable_sleep * 1000, signal: ctx.signal, log: ctx.log };
  }

  private imageWait(ctx: DriverContext): WaitOptions {
    return { delayMs: this.options.delay * 1000, maxWaitMs: this.options.max_wait * 1000, signal: ctx.signal, log: ctx.log };
  }

  /** The SSM side, imported only by builds that publish a parameter (the SDK client is large). */
  private async ssm() {
    const m = await import('./ssm-parameter.js');
    this.ssmClients ??= new m.SsmClients(this.clients.settings);
    return { m, clients: this.ssmClients };
  }

  async prepare(ctx: DriverContext, req: { imageName?: string; regions: string[]; parameterName?: string }): Promise<void> {
    const d = ctx.instance.distribute;
    const parameterName = req.parameterName;
    await prepareEc2({
      parameterProblems: parameterName
        ? async (regions) => {
            const { m, clients } = await this.ssm();
            return m.parameterProblems(clients, regions, parameterName, ctx.signal);
          }
        : undefined,
      options: this.options,
      platform: ctx.instance.platform,
      clients: this.clients,
      region: await this.clients.resolveRegion(this.options.region),
      imageName: req.imageName,
      regions: req.regions,
      accounts: d?.accounts ?? [],
      organizationArns: d?.organization_arns ?? [],
      ouArns: d?.ou_arns ?? [],
      signal: ctx.signal,
    });
    await this.prepareLaunchTemplates(ctx, req.regions);
  }

  /**
   * distribute.launch_templates: each template exists in its region, and the
   * build makes an image there (the source region or a distribute region).
   */
  private async prepareLaunchTemplates(ctx: DriverContext, regions: string[]): Promise<void> {
    const targets = ctx.instance.distribute?.launch_templates ?? [];
    if (targets.length === 0) return;
    const source = await this.clients.resolveRegion(this.options.region);
    for (const t of targets) {
      const region = t.region ?? source;
      if (region !== source && !regions.includes(region)) {
        throw new Ec2Error(`launch template ${t.name ?? t.id} is in ${region}, where this build makes no image`, {
          region,
          hint: `add ${region} to distribute.regions, or set the template's region to ${[source, ...regions].join(' or ')}`,
        });
      }
      await describeTemplate(this.clients.get(region), region, t, ctx.signal);
    }
  }

  /**
   * Launches the machine. Resumable: when the journal already holds an
   * instance, it only waits for it to run. Temporary key pair and security
   * group are journaled as they are made; destroy removes them.
   */
  async create(ctx: DriverContext): Promise<void> {
    const o = this.options;
    const name = ctx.instance.name;
    const region = await this.region(ctx);
    const client = this.clients.get(region);
    let state = readEc2State(ctx.journal);
    if (!state.instanceId) {
      await recordEc2State(ctx.journal, { region });
      const image = await resolveSourceImage(client, region, o, ctx.signal, ctx.instance.platform);
      const placement = await resolvePlacement(client, region, o, ctx.signal);
      // hallmark:machine says whether the orphan reaper may take this machine (and its key and group) once its build is dead.
      const tags = { ...machineTags(o, name, ctx.buildId), [TAG_MACHINE]: ctx.machine ?? MACHINE_KEPT };
      const suffix = `${ctx.buildId}-${randomBytes(3).toString('hex')}`.replace(/[^A-Za-z0-9_.-]/g, '-');

      let keyName = o.aws_ssh_key_id ?? state.keyName;
      if (!keyName) {
        const keyPath = await createTemporaryKeyPair(
          client,
          region,
          { name: `hallmark-${name}-${suffix}`.slice(0, 255), stateDir: ctx.stateDir, instance: name, tags: toTags(tags), signal: ctx.signal },
          (k) => recordEc2State(ctx.journal, { keyName: k, keyCreated: true }),
        );
        await recordEc2State(ctx.journal, { keyPath });
        keyName = readEc2State(ctx.journal).keyName!;
      } else if (o.aws_ssh_key_id) {
        await recordEc2State(ctx.journal, { keyName, keyCreated: false });
      }
      throwIfAborted(ctx.signal);

      let groupIds = placement.groupIds;
      if (groupIds.length === 0) {
        if (state.groupId) groupIds = [state.groupId];
        else {
          const cidrs = await sshCidrs(o, ctx.signal, this.deps.fetch);
          const groupId = await createTemporaryGroup(
            client,
            region,
            { name: `hallmark-${name}-${suffix}`.slice(0, 255), vpcId: placement.vpcId, cidrs, tags: toTags(tags), signal: ctx.signal },
            (g) => recordEc2State(ctx.journal, { groupId: g, groupCreated: true }),
          );
          groupIds = [groupId];
        }
      }
      throwIfAborted(ctx.signal);

      const input = await runInstancesInput(o, {
        imageId: image.ImageId!,
        keyName,
        placement,
        groupIds,
        tags,
        token: clientToken(ctx.buildId, name, image.ImageId!),
        projectDir: ctx.instance.projectDir,
      });
      const instanceId = await runInstance(client, region, input);
      await recordEc2State(ctx.journal, { instanceId, sourceImageId: image.ImageId });
      ctx.log.info(`launched ${instanceId} (${o.instance_type}) from ${image.ImageId} in ${region}`);
      state = readEc2State(ctx.journal);
    }
    const inst = await waitForInstanceState(client, region, state.instanceId!, 'running', this.instanceWait(ctx));
    const hostname = chooseAddress(inst!, o.interface);
    if (!hostname) {
      throw new Ec2Error(`instance ${state.instanceId} has no ${o.interface ?? 'public or private'} address`, {
        region,
        hint: 'set `interface:` to one the instance has (public needs associate_public_ip or a public subnet)',
      });
    }
    await recordEc2State(ctx.journal, { hostname, username: o.username ?? defaultUsername(ctx.instance.platform) });
  }

  async connectionTarget(ctx: DriverContext): Promise<ConnectionTarget> {
    const s = readEc2State(ctx.journal);
    if (!s.instanceId || !s.hostname) {
      throw new Ec2Error(`instance ${ctx.instance.name} has no running EC2 machine`, { hint: `run \`hallmark create ${ctx.instance.name}\` first` });
    }
    return {
      hostname: s.hostname,
      port: 22,
      username: s.username ?? this.options.username ?? defaultUsername(ctx.instance.platform),
      privateKeyPath: s.keyPath,
      hostKey: {
        expected: s.hostKeyFingerprint,
        record: (fp) => recordEc2State(ctx.journal, { hostKeyFingerprint: fp }),
      },
    };
  }

  /**
   * Removes the machine and its temporary key pair and group, from the
   * journal alone. Idempotent: what is already gone counts as removed, and
   * each id is cleared from the journal as soon as its resource is gone.
   */
  async destroy(ctx: DriverContext): Promise<void> {
    const s = readEc2State(ctx.journal);
    if (!s.instanceId && !s.groupId && !s.keyName && !s.keyPath) return;
    const region = await this.region(ctx);
    const client = this.clients.get(region);
    if (s.instanceId) {
      try {
        await client.send(new TerminateInstancesCommand({ InstanceIds: [s.instanceId] }), { abortSignal: ctx.signal });
      } catch (err) {
        if (!isNotFound(err)) throw wrapAws(err, `TerminateInstances ${s.instanceId}`, region);
      }
      await waitForInstanceState(client, region, s.instanceId, 'terminated', this.instanceWait(ctx));
      ctx.log.info(`terminated ${s.instanceId}`);
      await recordEc2State(ctx.journal, { instanceId: undefined, hostname: undefined, hostKeyFingerprint: undefined });
    }
    if (s.groupId && s.groupCreated) {
      const groupId = s.groupId;
      try {
        // The group stays "in use" until the instance's interface is gone, a while after termination.
        await retry(() => client.send(new DeleteSecurityGroupCommand({ GroupId: groupId }), { abortSignal: ctx.signal }), {
          attempts: this.options.retryable_tries,
          baseDelayMs: this.options.retryable_sleep * 1000,
          maxDelayMs: 30_000,
          jitter: true,
          signal: ctx.signal,
          retryable: (e) => awsCode(e) === 'DependencyViolation',
          onRetry: () => ctx.log.debug(`security group ${groupId} still in use; retrying`),
        });
      } catch (err) {
        if (!isNotFound(err)) throw wrapAws(err, `DeleteSecurityGroup ${groupId}`, region, `delete it later with: aws ec2 delete-security-group --region ${region} --group-id ${groupId}`);
      }
    }
    if (s.groupId) await recordEc2State(ctx.journal, { groupId: undefined, groupCreated: undefined });
    if (s.keyName && s.keyCreated) await deleteKeyPair(client, region, s.keyName, ctx.signal);
    await removeKeyFiles(ctx.stateDir, ctx.instance.name);
    await recordEc2State(ctx.journal, { keyName: undefined, keyCreated: undefined, keyPath: undefined });
  }

  async capture(ctx: DriverContext, req: CaptureRequest): Promise<ImageRecord> {
    const s = readEc2State(ctx.journal);
    if (!s.instanceId) throw new Ec2Error(`instance ${ctx.instance.name} has no EC2 machine to capture`, { hint: 'create and verify it first' });
    const region = await this.region(ctx);
    return captureImage(this.clients.get(region), region, {
      instanceId: s.instanceId,
      name: req.name,
      description: req.description,
      noReboot: this.options.no_reboot,
      // The seed's rule (`image.create_tags(tags: ec2_instance.tags)`): the image and its snapshots
      // carry the machine's tags, then image.tags and the provenance tags.
      tags: { ...machineTags(this.options, ctx.instance.name, ctx.buildId), ...req.tags },
      journal: ctx.journal,
      wait: this.imageWait(ctx),
    });
  }

  async distribute(ctx: DriverContext, image: ImageRecord, req: DistributeRequest): Promise<ImageRecord[]> {
    const region = image.region ?? (await this.region(ctx));
    if (!image.name) throw new Ec2Error(`image ${image.id} has no recorded name; cannot name its copies`);
    return copyImages({
      clients: this.clients,
      source: { ...image, region, name: image.name },
      description: ctx.instance.image?.description,
      regions: req.regions,
      concurrency: req.concurrency,
      encrypted: req.encrypted,
      kmsKeyIds: req.kmsKeyIds,
      tags: { ...req.tags, 'hallmark:build-id': ctx.buildId, 'hallmark:source-image': `${region}/${image.id}` },
      buildId: ctx.buildId,
      journal: ctx.journal,
      log: ctx.log,
      signal: ctx.signal,
      delayMs: this.options.delay * 1000,
      maxWaitMs: this.options.max_wait * 1000,
    });
  }

  async share(ctx: DriverContext, images: ImageRecord[], req: ShareRequest): Promise<void> {
    await shareImages(this.clients, await this.withRegion(ctx, images), req, req.concurrency, ctx.signal, ctx.log);
  }

  async unshare(ctx: DriverContext, images: ImageRecord[], req: ShareRequest): Promise<void> {
    await unshareImages(this.clients, await this.withRegion(ctx, images), req, req.concurrency, ctx.signal, ctx.log);
  }

  /** Tags each image and its snapshots (CreateTags), or removes the tags given as null (DeleteTags). */
  async tagImages(ctx: DriverContext, images: ImageRecord[], tags: Record<string, string | null>): Promise<void> {
    const set = Object.fromEntries(Object.entries(tags).filter((e): e is [string, string] => e[1] !== null));
    const remove = Object.keys(tags).filter((k) => tags[k] === null);
    for (const image of await this.withRegion(ctx, images)) {
      const client = this.clients.get(image.region!);
      const ids = [image.id, ...(image.snapshots ?? [])];
      await tagResources(client, image.region!, ids, set, ctx.signal);
      await untagResources(client, image.region!, ids, remove, ctx.signal);
    }
  }

  private async withRegion(ctx: DriverContext, images: ImageRecord[]): Promise<ImageRecord[]> {
    const region = await this.region(ctx);
    return images.map((i) => ({ ...i, region: i.region ?? region }));
  }

  /** Deregisters the image and deletes its snapshots, then forgets it. Idempotent. */
  /** Boot tests launch the captured AMI in the source region. */
  bootFrom(image: ImageRecord): Record<string, unknown> {
    return { image_id: image.id, image_search: undefined };
  }

  async deleteImage(ctx: DriverContext, image: ImageRecord): Promise<void> {
    const region = image.region ?? (await this.region(ctx));
    await deleteImageAndSnapshots(this.clients.get(region), { ...image, region }, ctx.signal);
    ctx.log.info(`deleted ${image.id} in ${region}`);
    await ctx.journal.forgetImage(image.id, image.region);
  }

  /** image.deprecate_after: every image and copy, each in its region (deprecate.ts). */
  async deprecateImages(ctx: DriverContext, images: ImageRecord[], at: Date): Promise<void> {
    const concurrency = ctx.instance.distribute?.concurrency ?? 4;
    await deprecateImages({ clients: this.clients, images: await this.withRegion(ctx, images), at, concurrency, log: ctx.log, signal: ctx.signal });
  }

  async undeprecateImages(ctx: DriverContext, images: ImageRecord[]): Promise<void> {
    await undeprecateImages({ clients: this.clients, images: await this.withRegion(ctx, images), log: ctx.log, signal: ctx.signal });
  }

  /**
   * distribute.launch_templates: one version per template naming the image
   * of its region (default: the source image's), one template after the
   * other; each is journaled before it is made (launch-template.ts).
   */
  async updateLaunchTemplates(ctx: DriverContext, images: ImageRecord[], targets: LaunchTemplateTarget[]): Promise<TemplateVersionRecord[]> {
    const all = await this.withRegion(ctx, images);
    const source = all.find((i) => i.role === 'source') ?? all[0];
    const made: TemplateVersionRecord[] = [];
    for (const t of targets) {
      throwIfAborted(ctx.signal);
      const region = t.region ?? source?.region;
      const image = all.find((i) => i.region === region);
      if (!region || !image) {
        throw new Ec2Error(`launch template ${t.name ?? t.id}: this build made no image in ${region ?? 'its region'}`, {
          region,
          hint: 'set the template\'s region to the source region or one of distribute.regions',
        });
      }
      made.push(
        await createTemplateVersion(this.clients.get(region), {
          region,
          target: t,
          imageId: image.id,
          buildId: ctx.buildId,
          log: ctx.log,
          signal: ctx.signal,
          record: (r) => ctx.journal.recordTemplateVersion(r),
        }),
      );
    }
    return made;
  }

  /** Undoes journaled launch template versions, each forgotten once undone; every record is tried. */
  async revertLaunchTemplates(ctx: DriverContext, records: TemplateVersionRecord[]): Promise<void> {
    const errors: unknown[] = [];
    for (const r of records) {
      try {
        await deleteTemplateVersion(this.clients.get(r.region), r, ctx.log, ctx.signal);
        await ctx.journal.forgetTemplateVersion(r);
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, `could not undo ${errors.length} launch template version(s)`);
  }

  /**
   * image.keep: the family's images beyond the newest `keep` in each region
   * go with their snapshots, except those an instance, a launch template's
   * default version or one of `parameterNames` uses (prune.ts).
   */
  async pruneImages(ctx: DriverContext, req: PruneRequest): Promise<PruneResult[]> {
    // The machine's region (where images are captured) and every region asked for.
    const regions = [...new Set([await this.region(ctx), ...req.regions])];
    const names = [...new Set(req.parameterNames)];
    return pruneFamily({
      clients: this.clients,
      regions,
      family: req.family,
      keep: req.keep,
      spare: req.spare,
      dryRun: req.dryRun,
      parameterValues:
        names.length === 0
          ? undefined
          : async (region) => {
              const { m, clients } = await this.ssm();
              const values = new Map<string, string>();
              for (const name of names) {
                const p = await m.currentParameter(clients.get(region), region, name, ctx.signal);
                if (p?.Value && !values.has(p.Value)) values.set(p.Value, name);
              }
              return values;
            },
      log: ctx.log,
      signal: ctx.signal,
    });
  }

  /** publish.ssm_parameter: each image's id to the parameter in its region (see ssm-parameter.ts). */
  async publish(ctx: DriverContext, images: ImageRecord[], req: { name: string }): Promise<ParameterRecord[]> {
    const { m, clients } = await this.ssm();
    return m.publishParameter({
      clients,
      images,
      name: req.name,
      journal: ctx.journal,
      log: ctx.log,
      signal: ctx.signal,
      concurrency: ctx.instance.distribute?.concurrency ?? 4,
      delayMs: this.options.delay * 1000,
      // Validation of an aws:ec2:image value takes seconds; one that never shows will not after ten minutes either.
      maxWaitMs: Math.min(this.options.max_wait, 600) * 1000,
    });
  }

  async unpublish(ctx: DriverContext, records: ParameterRecord[]): Promise<void> {
    if (records.length === 0) return;
    const { m, clients } = await this.ssm();
    await m.unpublishParameters({ clients, records, journal: ctx.journal, log: ctx.log, signal: ctx.signal });
  }

  /** cleanup --orphans: see leftovers.ts for what is and is not taken (imported on use: it loads the SSM SDK). */
  async findLeftovers(q: LeftoverQuery): Promise<Leftover[]> {
    const region = await this.clients.resolveRegion(this.options.region);
    const { findEc2Leftovers } = await import('./leftovers.js');
    return findEc2Leftovers(this.leftoverDeps(), { ...q, regions: [region, ...q.regions.filter((r) => r !== region)] });
  }

  async removeLeftovers(q: LeftoverQuery, found: Leftover[]): Promise<LeftoverRemoval[]> {
    const { removeEc2Leftovers } = await import('./leftovers.js');
    return removeEc2Leftovers(this.leftoverDeps(), q, found);
  }

  /** One search per endpoint and credentials profile; the regions are those of every instance using it. */
  leftoverScope(): string {
    return `ec2 ${this.options.endpoint ?? 'aws'} ${this.options.shared_credentials_profile ?? ''}`;
  }

  private leftoverDeps(): Ec2LeftoverDeps {
    const o = this.options;
    return {
      clients: this.clients,
      ssm: async () => (await this.ssm()).clients,
      instanceWait: { delayMs: o.retryable_sleep * 1000, maxWaitMs: o.retryable_tries * o.retryable_sleep * 1000 },
    };
  }

  async describeImages(_ctx: DriverContext, images: ImageRecord[]): Promise<Record<string, unknown>> {
    return {
      amis: Object.fromEntries(images.map((i) => [i.region ?? 'unknown', i.id])),
      images: images.map((i) => ({ id: i.id, region: i.region, name: i.name, role: i.role, snapshots: i.snapshots ?? [] })),
    };
  }

  /** Closes the SDK clients' sockets. */
  dispose(): void {
    this.clients.destroy();
    this.ssmClients?.destroy();
  }
}
