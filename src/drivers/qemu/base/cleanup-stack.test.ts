import { describe, expect, it } from 'vitest';
import { CleanupStack } from './cleanup-stack.js';

describe('CleanupStack', () => {
  it('runs every action once, in reverse, and collects errors without stopping', async () => {
    const order: string[] = [];
    const s = new CleanupStack();
    s.push('a', async () => void order.push('a'));
    s.push('b', async () => {
      order.push('b');
      throw new Error('b failed');
    });
    s.push('c', async () => void order.push('c'));
    const errors = await s.unwind();
    expect(order).toEqual(['c', 'b', 'a']);
    expect(errors).toHaveLength(1);
    expect(await s.unwind()).toEqual([]);
    expect(order).toHaveLength(3);
  });
});
