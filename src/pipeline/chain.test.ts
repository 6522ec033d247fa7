import { describe, expect, it } from 'vitest';
import { Chain, type OutputStep } from './chain.js';
import type { Step } from './runner.js';

interface Base {
  log: string[];
}

const make: OutputStep<Base, { made: string }> = {
  name: 'make',
  async run(c) {
    c.log.push('make');
    return { made: 'thing-1' };
  },
  async cleanup(c, outcome) {
    c.log.push(`undo make ${c.made ?? 'nothing'} failed=${outcome.failed}`);
  },
};

const use: Step<Base & { made: string }> = {
  name: 'use',
  async run(c) {
    c.log.push(`use ${c.made}`);
  },
};

const skip: OutputStep<Base, { extra: number[] }> = {
  name: 'skip',
  async run() {
    return { extra: [], skipped: 'nothing to do' };
  },
};

const fail: Step<Base> = {
  name: 'fail',
  async run() {
    throw new Error('broke');
  },
};

describe('Chain', () => {
  it('hands each output to the later steps, reports a skipped one, and gives the completed context on success', async () => {
    const ctx: Base = { log: [] };
    const chain = Chain.of<Base>().yields(make).then(use).yields(skip);
    expect(chain.names).toEqual(['make', 'use', 'skip']);
    const r = await chain.run(ctx, { instance: 'i', signal: new AbortController().signal });
    expect(r.ok).toBe(true);
    expect(ctx.log).toEqual(['make', 'use thing-1', 'undo make thing-1 failed=false']);
    expect(r.completed).toBe(ctx);
    expect(r.completed?.made).toBe('thing-1');
    expect(r.completed?.extra).toEqual([]);
    // `skipped` is the step's verdict, not part of the context.
    expect(ctx).not.toHaveProperty('skipped');
  });

  it('a failure: no completed context; cleanups in reverse see the outputs made so far', async () => {
    const ctx: Base = { log: [] };
    const r = await Chain.of<Base>().yields(make).then(fail).run(ctx, { instance: 'i', signal: new AbortController().signal });
    expect(r.ok).toBe(false);
    expect(r.completed).toBeUndefined();
    expect(ctx.log).toEqual(['make', 'undo make thing-1 failed=true']);
  });

  it('a step that needs an output no earlier step makes does not compile', () => {
    // @ts-expect-error `use` needs `made`, which only `make` yields
    const wrong = Chain.of<Base>().then(use);
    expect(wrong.names).toEqual(['use']);
  });
});
