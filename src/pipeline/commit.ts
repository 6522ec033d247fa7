import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import type { ShareRequest } from '../drivers/driver.js';
import { HallmarkError } from '../kernel/errors.js';
import type { EventBus, Logger } from '../kernel/events.js';
import { writeFileAtomic, type ImageRecord } from '../kernel/journal.js';
import { driverContext, type DriverRun, type InstanceRun } from './context.js';
import { writeOutputs, type BuildOutcome } from './publish.js';
import { runSteps, type CleanupOutcome, type Step } from './runner.js';
import { deprecateAction, keepAction, launchTemplatesAction } from './image-lifecycle.js';
import { unpublishParameters } from './steps.js';
import { driverOf, eachInstance, images } from './proven.js';
import { STATE_PENDING, STATE_PUBLISHED, TAG_STATE } from '../kernel/tags.js';

/**
 * The build's commit: the one step that makes proven images usable by others.
 *
 * Every instance of a build first runs to "proven, not committed": captured,
 * boot-tested, copied, journaled — and shared with no one. Then the commit
 * runs COMMIT_ACTIONS for those instances together, as one transaction: each
 * action's `do` in order; when one fails or the run is cancelled, the `undo`
 * of every action whose `do` started (the failed one too), in reverse. The
 * caller (actions.ts) then rolls back every instance: the capture step's held
 * cleanup removes its images and copies. Only when every action succeeded
 * are the images published, and forgotten by the journals, so that
 * `hallmark cleanup` leaves them alone. No action deletes what another step
 * made; the commit owns "published".
 *
 * Extending it: add a CommitAction at its place in COMMIT_ACTIONS.
 * - `do` gets every instance of this commit (`ctx.instances`, each with its
 *   run, source image and copies). It records what it changes (in the
 *   instance's journal) before it waits, so that `undo` — and `hallmark
 *   cleanup` after a crash — can put it back.
 * - `undo` puts back what `do` changed, also a `do` that failed half way, and
 *   is idempotent. It runs with a fresh deadline, never the cancelled signal.
 * - `finish` runs after the transaction, whether it held or rolled back (and
 *   also when the commit never started because an instance failed), with its
 *   outcome. It is for work that must never undo a commit: reports written on
 *   failure too, pruning older images after a success. Its errors are
 *   warnings.
 */
export interface CommitAction {
  readonly name: string;
  /** Why there is nothing for `do` to do in this commit (nothing configured), so views say "skipped (why)", not "ok (0.0s)". */
  skip?(ctx: CommitContext): string | undefined;
  do?(ctx: CommitContext, signal: AbortSignal): Promise<void>;
  undo?(ctx: CommitContext, signal: AbortSignal): Promise<void>;
  finish?(ctx: CommitContext, outcome: CommitOutcome, signal: AbortSignal): Promise<void>;
}

/** An instance that ran to "proven, not committed". */
export interface ProvenInstance {
  run: DriverRun;
  image: ImageRecord;
  copies: ImageRecord[];
  /** What the outputs describe (artifacts are added by the outputs action). */
  outcome: BuildOutcome;
}

export interface CommitContext {
  buildId: string;
  projectDir: string;
  events: EventBus;
  log: Logger;
  /** The instances this commit publishes, all proven. */
  instances: ProvenInstance[];
  /** Instances an earlier commit of this build published (--keep-passing: each instance commits alone). */
  committed: ProvenInstance[];
  /** Every instance of the build, failed ones too, as far as it got: for reports. */
  outcomes: BuildOutcome[];
  /** Files the outputs action wrote. */
  outputs: string[];
}

export interface CommitOutcome {
  /** The transaction held: the images of ctx.instances are published. */
  committed: boolean;
  /** Why not, when it did not. */
  error?: HallmarkError;
}

/** The name commit events and logs carry in place of an instance name (instance names always hold a `-`). */
export const COMMIT = 'build';
/** Tag set on every image and copy (and their snapshots) once the build committed; `pending` before (kernel/tags.ts). */
export { TAG_STATE, STATE_PUBLISHED, STATE_PENDING } from '../kernel/tags.js';

function shareRequest(run: InstanceRun): ShareRequest {
  const d = run.instance.distribute;
  return { accounts: d.accounts, organizationArns: d.organization_arns, ouArns: d.ou_arns, shareSnapshots: d.share_snapshots, concurrency: d.concurrency };
}

/** distribute.accounts, organization_arns, ou_arns: launch permissions on every image and copy. */
export const shareAction: CommitAction = {
  name: 'share',
  skip: (ctx) => {
    const d = (p: ProvenInstance) => p.run.instance.distribute;
    const any = ctx.instances.some((p) => driverOf(p).sharing && (d(p).accounts.length || d(p).organization_arns.length || d(p).ou_arns.length));
    return any ? undefined : 'no distribute.accounts, organization_arns or ou_arns';
  },
  async do(ctx, signal) {
    for (const p of ctx.instances) {
      await driverOf(p).sharing?.share(driverContext(p.run, signal), images(p), shareRequest(p.run));
    }
  },
  async undo(ctx, signal) {
    await eachInstance(ctx, async (p) => {
      await driverOf(p).sharing?.unshare(driverContext(p.run, signal), images(p), shareRequest(p.run));
    });
  },
};

/** publish.ssm_parameter: each region's image id, written once the images are shared (Driver.publish journals every write first). */
export const parametersAction: CommitAction = {
  name: 'ssm-parameter',
  skip: (ctx) => (ctx.instances.some((p) => p.run.parameterName !== undefined) ? undefined : 'no publish.ssm_parameter'),
  async do(ctx, signal) {
    for (const p of ctx.instances) {
      const name = p.run.parameterName;
      if (name === undefined) continue;
      const driver = driverOf(p);
      if (!driver.parameters) throw new HallmarkError(`driver "${driver.name}" cannot write publish.ssm_parameter`, { hint: 'remove publish.ssm_parameter for this instance' });
      p.run.parameters = await driver.parameters.publish(driverContext(p.run, signal), images(p), { name });
      p.outcome.parameters = p.run.parameters;
    }
  },
  async undo(ctx, signal) {
    await eachInstance(ctx, async (p) => {
      await unpublishParameters(p.run, signal);
      p.outcome.parameters = undefined;
    });
  },
};

/** `hallmark:state=published` on every image and copy: what the orphan reaper must never touch. */
export const publishedTagAction: CommitAction = {
  name: 'tag-published',
  async do(ctx, signal) {
    for (const p of ctx.instances) await driverOf(p).images?.tagImages(driverContext(p.run, signal), images(p), { [TAG_STATE]: STATE_PUBLISHED });
  },
  async undo(ctx, signal) {
    await eachInstance(ctx, async (p) => {
      // Back to what capture and distribute tagged: uncommitted (the reaper's, should the rollback die half way).
      await driverOf(p).images?.tagImages(driverContext(p.run, signal), images(p), { [TAG_STATE]: STATE_PENDING });
    });
  },
};

/**
 * env.properties, manifest.json, JUnit, CI outputs: last, so that IMAGE_ID
 * never names an image that is not shared, tagged and pointed at. They list
 * this commit's instances and those an earlier commit of the build published.
 * `undo` puts back what each file held before (or removes it).
 */
export function outputsAction(): CommitAction {
  let before: { file: string; content: string | null }[] = [];
  return {
    name: 'outputs',
    async do(ctx, signal) {
      for (const p of ctx.instances) {
        const driver = driverOf(p).images;
        if (!driver) continue;
        // Where the image is and its checksum, for the manifest. Best effort: the image is already proven.
        p.outcome.artifacts = await driver.describeImages(driverContext(p.run, AbortSignal.any([signal, AbortSignal.timeout(60_000)])), images(p)).catch((err: unknown) => {
          p.run.log.warn(`could not describe the images for the manifest: ${(err as Error).message}`);
          return undefined;
        });
      }
      const all = [...ctx.committed, ...ctx.instances];
      before = [];
      for (const file of outputFiles(ctx.projectDir, all[0]?.run.instance.publish)) {
        before.push({ file, content: await readFile(file, 'utf8').catch(() => null) });
      }
      ctx.outputs = await writeOutputs(ctx.projectDir, all.map((p) => p.outcome));
    },
    async undo(ctx) {
      for (const { file, content } of before.reverse()) {
        if (content === null) await rm(file, { force: true });
        else await writeFileAtomic(file, content);
      }
      before = [];
      ctx.outputs = [];
    },
  };
}

/** Every file writeOutputs may write for `publish`. */
function outputFiles(projectDir: string, publish: InstanceRun['instance']['publish'] | undefined): string[] {
  if (!publish) return [];
  const files = [publish.manifest, publish.junit, publish.env_properties].filter((f): f is string => typeof f === 'string').map((f) => path.resolve(projectDir, f));
  if (publish.ci_outputs && process.env.GITHUB_OUTPUT) files.push(process.env.GITHUB_OUTPUT);
  return files;
}

/** The commit actions, in order. Other commit actions take their place in this list (see CommitAction). */
export function commitActions(): CommitAction[] {
  return [shareAction, parametersAction, launchTemplatesAction, deprecateAction, publishedTagAction, outputsAction(), keepAction];
}

/**
 * Runs one commit transaction. With `blocked` (an instance of an atomic build
 * failed), no action's `do` runs and the outcome is that error. Every
 * action's `finish` runs afterwards. On success the journals forget the
 * published images and parameter writes.
 */
export async function runCommit(ctx: CommitContext, actions: CommitAction[], signal: AbortSignal, blocked?: HallmarkError): Promise<CommitOutcome> {
  let outcome: CommitOutcome;
  if (blocked) outcome = { committed: false, error: blocked };
  else {
    const steps: Step<CommitContext>[] = actions
      .filter((a) => a.do)
      .map((a) => ({
        name: a.name,
        run: async (c, s) => {
          const why = a.skip?.(c);
          if (why) return { skipped: why };
          await a.do!(c, s);
        },
        cleanup: a.undo ? async (c: CommitContext, o: CleanupOutcome, s: AbortSignal) => (o.failed ? a.undo!(c, s) : undefined) : undefined,
      }));
    const r = await runSteps(steps, ctx, { instance: COMMIT, events: ctx.events, signal });
    outcome = r.ok ? { committed: true } : { committed: false, error: r.error };
  }
  if (outcome.committed) {
    for (const p of ctx.instances) {
      // Published images are outputs now (in the manifest), not leftovers for `hallmark cleanup`.
      await p.run.journal.update((s) => {
        s.images = [];
        delete s.parameters;
        delete s.templateVersions;
      });
    }
  }
  for (const a of actions) {
    if (!a.finish) continue;
    try {
      await a.finish(ctx, outcome, AbortSignal.timeout(15 * 60_000));
    } catch (err) {
      ctx.log.warn(`${a.name}: ${(err as Error).message}`);
    }
  }
  return outcome;
}
