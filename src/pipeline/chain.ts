import { runSteps, type CleanupOutcome, type RunStepsOptions, type RunStepsResult, type Step, type StepSkipped } from './runner.js';

/**
 * A step whose result later steps read: `run` returns its output (with
 * `skipped` when it had nothing to do), which becomes part of the context
 * every later step of the chain gets, typed. `cleanup` sees the context as
 * it was when the step started, and the output as far as it was made.
 */
export interface OutputStep<In, Out extends object> {
  readonly name: string;
  /** As Step.output: a build-level commit decides the fate of what it made. */
  readonly output?: boolean;
  run: (ctx: In, signal: AbortSignal) => Promise<Out & Partial<StepSkipped>>;
  cleanup?: (ctx: In & Partial<Out>, outcome: CleanupOutcome, signal: AbortSignal) => Promise<void>;
}

/**
 * Steps in order, typed by what each needs and what the earlier ones made: a
 * step that reads the captured image can only follow the capture step, and
 * the compiler says so, instead of an assertion at run time. The runner
 * (runSteps) still gets plain steps over one context object; each output is
 * merged into it when its step succeeds.
 */
export class Chain<Start, C = Start> {
  private constructor(private readonly steps: Step<C>[]) {}

  /** An empty chain over contexts of type `Start`. */
  static of<Start>(): Chain<Start> {
    return new Chain<Start>([]);
  }

  /** A step that adds nothing to the context. */
  then(step: Step<C>): Chain<Start, C> {
    return new Chain<Start, C>([...this.steps, step]);
  }

  /** The names of the steps, in order. */
  get names(): string[] {
    return this.steps.map((s) => s.name);
  }

  /**
   * Runs the chain on `ctx` (see runSteps): outputs are merged into it as
   * their steps succeed. `completed` is `ctx` with every output, when the run
   * succeeded (the one place its type is asserted: every step ran).
   */
  async run(ctx: Start, opts: RunStepsOptions): Promise<RunStepsResult & { completed?: C }> {
    const r = await runSteps(this.steps as unknown as Step<Start>[], ctx, opts);
    return r.ok ? { ...r, completed: ctx as unknown as C } : r;
  }

  /** A step whose output the later steps get. */
  yields<Out extends object>(step: OutputStep<C, Out>): Chain<Start, C & Out> {
    const plain: Step<C> = {
      name: step.name,
      output: step.output,
      async run(ctx, signal) {
        const { skipped, ...out } = await step.run(ctx, signal);
        Object.assign(ctx as object, out);
        return skipped === undefined ? undefined : { skipped };
      },
      cleanup: step.cleanup && ((ctx, outcome, signal) => step.cleanup!(ctx as C & Partial<Out>, outcome, signal)),
    };
    return new Chain<Start, C & Out>([...(this.steps as Step<C & Out>[]), plain as Step<C & Out>]);
  }
}
