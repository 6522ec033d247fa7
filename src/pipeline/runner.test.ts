import { describe, expect, it } from 'vitest';
import { runSteps, type CleanupOutcome, type Step } from './runner.js';
import { CancelledError, HallmarkError } from '../kernel/errors.js';
import { EventBus, type HallmarkEvent } from '../kernel/events.js';
import { sleep } from '../kernel/abort.js';

interface Trace {
  log: string[];
  outcomes: Record<string, CleanupOutcome>;
  cleanupSignals: Record<string, AbortSignal>;
}

function step(name: string, opts: { fail?: Error; cleanupFail?: Error; noCleanup?: boolean; run?: (s: AbortSignal) => Promise<void> } = {}): Step<Trace> {
  return {
    name,
    async run(t, signal) {
      t.log.push(`run ${name}`);
      if (opts.run) await opts.run(signal);
      if (opts.fail) throw opts.fail;
    },
    cleanup: opts.noCleanup
      ? undefined
      : async (t, outcome, signal) => {
          t.log.push(`cleanup ${name}`);
          t.outcomes[name] = outcome;
          t.cleanupSignals[name] = signal;
          if (opts.cleanupFail) throw opts.cleanupFail;
        },
  };
}

const trace = (): Trace => ({ log: [], outcomes: {}, cleanupSignals: {} });
const live = () => new AbortController().signal;

describe('runSteps', () => {
  it('runs steps in order and cleans up in reverse', async () => {
    const t = trace();
    const r = await runSteps([step('a'), step('b'), step('c')], t, { instance: 'i', signal: live() });
    expect(r.ok).toBe(true);
    expect(r.error).toBeUndefined();
    expect(t.log).toEqual(['run a', 'run b', 'run c', 'cleanup c', 'cleanup b', 'cleanup a']);
    expect(r.started).toEqual(['a', 'b', 'c']);
    expect(r.cleaned).toEqual(['c', 'b', 'a']);
    expect(t.outcomes.a).toEqual({ failed: false, cancelled: false });
  });

  it('holdOutputs: a passing run leaves the cleanups of output steps to release(), which runs them once, in reverse, with the outcome given', async () => {
    const t = trace();
    const out = (name: string): Step<Trace> => ({ ...step(name), output: true });
    const r = await runSteps([step('a'), out('b'), step('c'), out('d')], t, { instance: 'i', signal: live(), holdOutputs: true });
    expect(r.ok).toBe(true);
    expect(t.log).toEqual(['run a', 'run b', 'run c', 'run d', 'cleanup c', 'cleanup a']);
    expect(await r.release!({ failed: true, cancelled: false })).toBeUndefined();
    expect(t.log.slice(6)).toEqual(['cleanup d', 'cleanup b']);
    expect(t.outcomes.b).toEqual({ failed: true, cancelled: false });
    await r.release!({ failed: false, cancelled: false });
    expect(t.log).toHaveLength(8);
  });

  it('holdOutputs: a failing run cleans up output steps at once; a failing temporary cleanup fails the run and its outputs go too', async () => {
    const t = trace();
    const out = (name: string, o = {}): Step<Trace> => ({ ...step(name, o), output: true });
    const r = await runSteps([out('a'), step('b', { fail: new HallmarkError('b broke') })], t, { instance: 'i', signal: live(), holdOutputs: true });
    expect(r.release).toBeUndefined();
    expect(t.log).toEqual(['run a', 'run b', 'cleanup b', 'cleanup a']);

    const t2 = trace();
    const r2 = await runSteps([step('machine', { cleanupFail: new Error('destroy broke') }), out('image')], t2, { instance: 'i', signal: live(), holdOutputs: true });
    expect(r2.ok).toBe(false);
    expect(r2.error?.message).toContain('destroy broke');
    expect(r2.release).toBeUndefined();
    expect(t2.log).toEqual(['run machine', 'run image', 'cleanup machine', 'cleanup image']);
    expect(t2.outcomes.image).toEqual({ failed: true, cancelled: false });
  });

  it('stops at the first failure, cleans up the failed step too, and keeps the first error', async () => {
    const t = trace();
    const boom = new HallmarkError('b broke');
    const r = await runSteps([step('a'), step('b', { fail: boom }), step('c')], t, { instance: 'i', signal: live() });
    expect(r.ok).toBe(false);
    expect(r.error).toBe(boom);
    expect(t.log).toEqual(['run a', 'run b', 'cleanup b', 'cleanup a']);
    expect(r.started).toEqual(['a', 'b']);
    expect(t.outcomes.b).toEqual({ failed: true, cancelled: false });
    expect(t.outcomes.a).toEqual({ failed: true, cancelled: false });
  });

  it('attaches cleanup errors to the first error instead of replacing it', async () => {
    const t = trace();
    const r = await runSteps(
      [step('a', { cleanupFail: new Error('a cleanup broke') }), step('b', { fail: new HallmarkError('b broke'), cleanupFail: new Error('b cleanup broke') })],
      t,
      { instance: 'i', signal: live() },
    );
    expect(r.error?.message).toBe('b broke');
    expect(r.error?.cleanupErrors.map((e) => (e as Error).message)).toEqual(['b cleanup broke', 'a cleanup broke']);
    // a failing cleanup does not stop the others
    expect(t.log).toEqual(['run a', 'run b', 'cleanup b', 'cleanup a']);
    expect(r.cleaned).toEqual([]);
  });

  it('fails the run when only a cleanup fails', async () => {
    const t = trace();
    const r = await runSteps([step('a', { cleanupFail: new Error('disk gone') }), step('b')], t, { instance: 'i', signal: live() });
    expect(r.ok).toBe(false);
    expect(r.error).toBeInstanceOf(HallmarkError);
    expect(r.error?.message).toContain('cleanup of a failed: disk gone');
    expect(r.error?.exitCode).toBe(4);
    expect(r.cleaned).toEqual(['b']);
  });

  it('wraps plain errors so the exit code is known', async () => {
    const r = await runSteps([step('a', { fail: new Error('plain') })], trace(), { instance: 'i', signal: live() });
    expect(r.error).toBeInstanceOf(HallmarkError);
    expect(r.error?.message).toContain('plain');
  });

  it('on abort during a step: CancelledError (130), later steps skipped, cleanup gets a fresh live signal', async () => {
    const t = trace();
    const ac = new AbortController();
    let runSignal: AbortSignal | undefined;
    const slow = step('slow', {
      run: async (s) => {
        runSignal = s;
        await sleep(60_000, s);
      },
    });
    setTimeout(() => ac.abort(), 50);
    // The step sleeps a minute, twice the test's timeout: only the abort can end it in time.
    const r = await runSteps([step('a'), slow, step('c')], t, { instance: 'i', signal: ac.signal });
    expect(r.ok).toBe(false);
    expect(r.error).toBeInstanceOf(CancelledError);
    expect(r.error?.exitCode).toBe(130);
    expect(t.log).toEqual(['run a', 'run slow', 'cleanup slow', 'cleanup a']);
    expect(t.outcomes.slow).toEqual({ failed: true, cancelled: true });
    expect(runSignal?.aborted).toBe(true);
    for (const s of Object.values(t.cleanupSignals)) {
      expect(s).not.toBe(ac.signal);
      expect(s.aborted).toBe(false);
    }
  });

  it('reports cancellation even when the step turned the abort into another error', async () => {
    const ac = new AbortController();
    const t = trace();
    const r = await runSteps(
      [
        step('x', {
          run: async (s) => {
            await new Promise<void>((resolve) => s.addEventListener('abort', () => resolve()));
            throw new Error('connection reset');
          },
        }),
      ],
      t,
      { instance: 'i', signal: (setTimeout(() => ac.abort(), 20), ac.signal) },
    );
    expect(r.error?.exitCode).toBe(130);
    expect(t.outcomes.x?.cancelled).toBe(true);
  });

  it('runs nothing when already aborted', async () => {
    const ac = new AbortController();
    ac.abort();
    const t = trace();
    const r = await runSteps([step('a')], t, { instance: 'i', signal: ac.signal });
    expect(r.error?.exitCode).toBe(130);
    expect(t.log).toEqual([]);
  });

  it('gives each cleanup its own deadline', async () => {
    const t = trace();
    const r = await runSteps(
      [
        {
          name: 'hang',
          async run() {},
          async cleanup(_c, _o, signal) {
            await sleep(60_000, signal);
          },
        },
        step('b'),
      ],
      t,
      { instance: 'i', signal: live(), cleanupTimeoutMs: 100 },
    );
    expect(r.ok).toBe(false);
    expect(r.error?.message).toContain('cleanup of hang failed');
    expect(t.log).toEqual(['run b', 'cleanup b']);
  });

  it('emits step and cleanup events', async () => {
    const events = new EventBus();
    const seen: HallmarkEvent[] = [];
    events.on((e) => seen.push(e));
    await runSteps([step('a'), step('b', { fail: new HallmarkError('nope'), noCleanup: true })], trace(), { instance: 'i', signal: live(), events });
    expect(seen.map((e) => `${e.type}:${'step' in e ? e.step : ''}:${'ok' in e ? e.ok : ''}`)).toEqual([
      'step-start:a:',
      'step-end:a:true',
      'step-start:b:',
      'step-end:b:false',
      'cleanup-start:a:',
      'cleanup-end:a:true',
    ]);
  });
});
