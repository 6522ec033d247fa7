import { describe, expect, it } from 'vitest';
import { limiter } from './distribute.js';

/** A promise and the function that resolves it. */
function gate() {
  let open!: () => void;
  const p = new Promise<void>((r) => (open = r));
  return { p, open };
}

describe('limiter', () => {
  it('runs at most `limit` at once, in the order given, and passes each slot on when a function ends or throws', async () => {
    const limit = limiter(2);
    const gates = [gate(), gate(), gate(), gate()];
    const started: number[] = [];
    let running = 0;
    let most = 0;
    const runs = gates.map((g, i) =>
      limit(async () => {
        started.push(i);
        most = Math.max(most, ++running);
        await g.p;
        running--;
        if (i === 0) throw new Error('first failed');
        return i;
      }),
    );
    const tick = () => new Promise((r) => setImmediate(r));
    await tick();
    expect(started).toEqual([0, 1]);
    gates[0]!.open();
    await expect(runs[0]).rejects.toThrow('first failed');
    await tick();
    expect(started).toEqual([0, 1, 2]);
    gates[2]!.open();
    expect(await runs[2]).toBe(2);
    await tick();
    expect(started).toEqual([0, 1, 2, 3]);
    gates[1]!.open();
    gates[3]!.open();
    expect(await Promise.all(runs.slice(1))).toEqual([1, 2, 3]);
    expect(most).toBe(2);
  });
});
