import { toHallmarkError, HallmarkError } from '../kernel/errors.js';
import type { EventBus } from '../kernel/events.js';

/**
 * One step of a pipeline. `run` does the work; `cleanup`, when present, undoes
 * what `run` left behind. `cleanup` is called for every step whose `run`
 * started — including the step that failed — in reverse order, after the
 * pipeline ends, whether it succeeded, failed or was cancelled. It receives
 * `failed` so that outputs (images) can be kept on success and removed on
 * failure, while temporary resources (machines, keys) always go.
 */
export interface Step<C> {
  readonly name: string;
  /**
   * The step makes outputs (images) whose fate a later, build-level commit
   * decides. With `holdOutputs`, a run that succeeds does not clean such a
   * step up at once: its cleanup is handed back (RunStepsResult.release), to
   * be called with the build's outcome.
   */
  readonly output?: boolean;
  /** Returns `{ skipped }` when there was nothing to do in this run (no regions, no boot test), so views can say so. */
  // Function properties, not methods: a step for a richer context than a chain has is then a type error (see chain.ts).
  run: (ctx: C, signal: AbortSignal) => Promise<void | StepSkipped>;
  cleanup?: (ctx: C, outcome: CleanupOutcome, signal: AbortSignal) => Promise<void>;
}

export interface StepSkipped {
  /** Why the step did nothing, e.g. "image.boot_test is off". */
  skipped: string;
}

export interface CleanupOutcome {
  /** The pipeline failed or was cancelled. */
  failed: boolean;
  cancelled: boolean;
}

export interface RunStepsOptions {
  instance: string;
  events?: EventBus;
  /** The run's signal. Cleanups never see it; each gets a fresh deadline. */
  signal: AbortSignal;
  /** Deadline for each step's cleanup. */
  cleanupTimeoutMs?: number;
  /** Hold the cleanups of `output` steps when the run succeeds (see Step.output). */
  holdOutputs?: boolean;
}

export interface RunStepsResult {
  ok: boolean;
  error?: HallmarkError;
  started: string[];
  cleaned: string[];
  /**
   * With `holdOutputs`, after a run that succeeded: runs the held cleanups (in
   * reverse) with the build's outcome. Resolves to the first cleanup error,
   * the others attached to it; never rejects. Call it exactly once.
   */
  release?: (outcome: CleanupOutcome) => Promise<HallmarkError | undefined>;
}

/**
 * Runs steps in order; stops at the first failure or abort; then cleans up in
 * reverse. The first error is the one reported; cleanup errors are attached to
 * it (error.cleanupErrors) and never replace it.
 */
export async function runSteps<C>(steps: Step<C>[], ctx: C, opts: RunStepsOptions): Promise<RunStepsResult> {
  const started: Step<C>[] = [];
  const cleaned: string[] = [];
  let error: HallmarkError | undefined;
  const { events, instance } = opts;

  for (const step of steps) {
    if (opts.signal.aborted) {
      error = toHallmarkError(new DOMException('aborted', 'AbortError'));
      break;
    }
    started.push(step);
    const t0 = Date.now();
    events?.emit({ type: 'step-start', instance, step: step.name });
    try {
      const r = await step.run(ctx, opts.signal);
      events?.emit({ type: 'step-end', instance, step: step.name, ok: true, ...(r ? { skipped: r.skipped } : {}), durationMs: Date.now() - t0 });
    } catch (err) {
      error = opts.signal.aborted ? toHallmarkError(new DOMException('aborted', 'AbortError')) : toHallmarkError(err);
      if (opts.signal.aborted && !(err instanceof HallmarkError && err.exitCode === 130)) {
        // keep the original failure around for the log when cancellation caused it
        (error as { cause?: unknown }).cause ??= err;
      }
      events?.emit({ type: 'step-end', instance, step: step.name, ok: false, error: error.message, durationMs: Date.now() - t0 });
      break;
    }
  }

  const outcome: CleanupOutcome = { failed: error !== undefined, cancelled: error?.exitCode === 130 };
  const hold = opts.holdOutputs === true && !outcome.failed;
  const now = [...started].reverse().filter((s) => !(hold && s.output));
  const held = [...started].reverse().filter((s) => hold && s.output);
  error = attach(error, await cleanUp(now, ctx, outcome, opts, cleaned));
  if (error && hold) {
    // A temporary resource's cleanup failed after all: the run failed, and its outputs go too.
    error = attach(error, await cleanUp(held, ctx, { failed: true, cancelled: false }, opts, cleaned));
  }
  const result: RunStepsResult = { ok: error === undefined, error, started: started.map((s) => s.name), cleaned };
  if (hold && !error && held.length > 0) {
    let released = false;
    result.release = async (o) => {
      if (released) return undefined;
      released = true;
      return attach(undefined, await cleanUp(held, ctx, o, opts, cleaned));
    };
  }
  return result;
}

/** Attaches cleanup failures to the first error, or makes the first of them the error. */
function attach(error: HallmarkError | undefined, failures: { step: string; error: HallmarkError }[]): HallmarkError | undefined {
  for (const f of failures) {
    if (error) error.cleanupErrors.push(f.error);
    else error = new HallmarkError(`cleanup of ${f.step} failed: ${f.error.message}`, { cause: f.error });
  }
  return error;
}

/** Runs each step's cleanup in the order given, each with its own deadline, never stopping half way. */
async function cleanUp<C>(steps: Step<C>[], ctx: C, outcome: CleanupOutcome, opts: RunStepsOptions, cleaned: string[]) {
  const { events, instance } = opts;
  const failures: { step: string; error: HallmarkError }[] = [];
  for (const step of steps) {
    if (!step.cleanup) continue;
    const t0 = Date.now();
    events?.emit({ type: 'cleanup-start', instance, step: step.name });
    try {
      await step.cleanup(ctx, outcome, AbortSignal.timeout(opts.cleanupTimeoutMs ?? 15 * 60_000));
      cleaned.push(step.name);
      events?.emit({ type: 'cleanup-end', instance, step: step.name, ok: true, durationMs: Date.now() - t0 });
    } catch (err) {
      const e = toHallmarkError(err);
      events?.emit({ type: 'cleanup-end', instance, step: step.name, ok: false, error: e.message, durationMs: Date.now() - t0 });
      failures.push({ step: step.name, error: e });
    }
  }
  return failures;
}
