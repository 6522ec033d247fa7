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
  /** Returns `{ skipped }` when there was nothing to do in this run (no regions, no boot test), so views can say so. */
  run(ctx: C, signal: AbortSignal): Promise<void | StepSkipped>;
  cleanup?(ctx: C, outcome: CleanupOutcome, signal: AbortSignal): Promise<void>;
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
}

export interface RunStepsResult {
  ok: boolean;
  error?: HallmarkError;
  started: string[];
  cleaned: string[];
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
  for (const step of [...started].reverse()) {
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
      if (error) error.cleanupErrors.push(e);
      else error = new HallmarkError(`cleanup of ${step.name} failed: ${e.message}`, { cause: e });
    }
  }

  return { ok: error === undefined, error, started: started.map((s) => s.name), cleaned };
}
