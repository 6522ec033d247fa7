/**
 * `hallmark distribute AMI`: an existing AMI copied to regions, then one
 * commit as a build makes it (the same commit actions): launch permissions,
 * the SSM parameter, launch template versions, the published tag. Any
 * failure undoes what the commit did and removes the copies: all or nothing.
 */
import { parameterNameProblem } from '../config/parameter-name.js';
import { launchTemplateSchema } from '../config/sections.js';
import type { InstanceConfig, LaunchTemplateTarget } from '../config/types.js';
import { resolveDriver } from '../drivers/driver.js';
import { HallmarkError, UsageError } from '../kernel/errors.js';
import type { EventBus } from '../kernel/events.js';
import type { ImageRecord, ParameterRecord } from '../kernel/journal.js';
import { Journal } from '../kernel/journal.js';
import { ec2Plugin } from '../drivers/register.js';
import { parametersAction, publishedTagAction, runCommit, shareAction, type CommitContext, type ProvenInstance } from './commit.js';
import type { DriverRun } from './context.js';
import { launchTemplatesAction } from './image-lifecycle.js';
import type { BuildOutcome } from './publish.js';
import { deleteBuildImages } from './steps.js';

export interface DistributeExistingRequest {
  imageId: string;
  from: string;
  to: string[];
  accounts: string[];
  concurrency?: number;
  /** An SSM parameter name: each region's image id is written to it (as publish.ssm_parameter). */
  ssmParameter?: string;
  /** `NAME`, `lt-ID`, either with `@REGION` (default: the source region). */
  launchTemplates: string[];
  /** ec2 driver options (endpoint, retries) for every call. */
  driverOptions: Record<string, unknown>;
  /** Keep the copies made when something fails (the commit is still undone). */
  keepOnFailure?: boolean;
  /** Where the copies are journaled until the commit holds. */
  stateDir: string;
  projectDir: string;
  events: EventBus;
  signal: AbortSignal;
}

export interface DistributeExistingResult {
  source: ImageRecord;
  copies: ImageRecord[];
  parameters?: ParameterRecord[];
  launchTemplates?: BuildOutcome['launchTemplates'];
}

/** `web-fleet`, `lt-0abc…`, `web-fleet@eu-west-1`: a launch template target, checked as the config checks one. */
export function parseLaunchTemplateArg(arg: string): LaunchTemplateTarget {
  const at = arg.lastIndexOf('@');
  const [ref, region] = at > 0 ? [arg.slice(0, at), arg.slice(at + 1)] : [arg, undefined];
  const parsed = launchTemplateSchema.safeParse({ ...(/^lt-[0-9a-f]+$/.test(ref) ? { id: ref } : { name: ref }), ...(region ? { region } : {}) });
  if (!parsed.success) {
    throw new UsageError(`--launch-template ${arg}: ${parsed.error.issues.map((i) => i.message).join('; ')}`, { hint: 'give NAME or lt-ID, optionally @REGION (e.g. web-fleet@eu-west-1)' });
  }
  return parsed.data;
}

export async function distributeExistingImage(r: DistributeExistingRequest): Promise<DistributeExistingResult> {
  const targets = r.launchTemplates.map(parseLaunchTemplateArg);
  if (r.ssmParameter !== undefined) {
    const problem = parameterNameProblem(r.ssmParameter);
    if (problem) throw new UsageError(`--ssm-parameter ${r.ssmParameter} is not a valid SSM parameter name`, { hint: `expected ${problem}` });
  }
  const ec2 = await import('../drivers/ec2/index.js');
  // image_id: prepare checks that the AMI exists in `from`.
  const options = ec2.ec2Schema().parse({ name: 'ec2', region: r.from, image_id: r.imageId, ...r.driverOptions });
  const impl = new ec2.Ec2Driver(options);
  const driver = resolveDriver(impl, ec2Plugin.capabilities);
  const name = `distribute-${r.imageId}`;
  const journal = await Journal.open(r.stateDir, r.imageId);
  const buildId = `distribute-${r.imageId}`;
  const log = r.events.logger(r.imageId);
  const instance: InstanceConfig = {
    name,
    suite: 'distribute',
    platform: r.imageId,
    driver: { ...options, name: 'ec2' },
    transport: { name: 'ssh' },
    provisioner: { name: 'shell' },
    verifier: { name: 'spec' },
    image: { name: r.imageId, tags: {}, boot_test: false },
    distribute: {
      regions: r.to,
      accounts: r.accounts,
      organization_arns: [],
      ou_arns: [],
      share_snapshots: false,
      atomic: !r.keepOnFailure,
      concurrency: r.concurrency ?? 4,
      kms_key_ids: {},
      targets: [],
      format: 'qcow2',
      launch_templates: targets,
    },
    publish: { env_properties: false, manifest: false, junit: false, ci_outputs: false, ssm_parameter: r.ssmParameter },
    file: r.projectDir,
    projectDir: r.projectDir,
  };
  const run: DriverRun = {
    instance,
    journal,
    events: r.events,
    log,
    buildId,
    stateDir: r.stateDir,
    signal: r.signal,
    plugins: { driver },
    parameterName: r.ssmParameter,
  };
  try {
    if (targets.length > 0 || r.ssmParameter !== undefined) {
      // What can be checked before copying: the templates exist where the image will be, the parameter can be written.
      await impl.prepare({ instance, journal, log, signal: r.signal, buildId, stateDir: r.stateDir }, { regions: r.to, parameterName: r.ssmParameter });
    }
    let copied: { source: ImageRecord; copies: ImageRecord[] };
    try {
      copied = await ec2.distributeExisting({
        imageId: r.imageId,
        from: r.from,
        to: r.to,
        concurrency: r.concurrency,
        buildId,
        journal,
        driverOptions: r.driverOptions,
        log,
        signal: r.signal,
        share: false,
      });
    } catch (err) {
      await rollBack(run, r.keepOnFailure);
      throw err;
    }
    const outcome: BuildOutcome = { instance, buildId, image: copied.source, copies: copied.copies, timings: {}, ok: true };
    const proven: ProvenInstance = { run, image: copied.source, copies: copied.copies, outcome };
    const ctx: CommitContext = { buildId, projectDir: r.projectDir, events: r.events, log, instances: [proven], committed: [], outcomes: [outcome], outputs: [] };
    const result = await runCommit(ctx, [shareAction, parametersAction, launchTemplatesAction, publishedTagAction], r.signal);
    if (!result.committed) {
      await rollBack(run, r.keepOnFailure);
      throw result.error ?? new HallmarkError('the distribution was not committed');
    }
    return { source: copied.source, copies: copied.copies, parameters: outcome.parameters, launchTemplates: outcome.launchTemplates };
  } finally {
    driver.dispose();
  }
}

/** Removes the copies (unless kept); the commit's own undo already ran. */
async function rollBack(run: DriverRun, keep: boolean | undefined): Promise<void> {
  if (keep) {
    const left = run.journal.state.images.map((i) => `${i.id} (${i.region})`);
    if (left.length) run.log.warn(`--keep-on-failure: keeping ${left.join(', ')}`);
    return;
  }
  await deleteBuildImages(run, AbortSignal.timeout(15 * 60_000));
}
