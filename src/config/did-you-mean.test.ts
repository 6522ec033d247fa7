import { describe, expect, it } from 'vitest';
import { didYouMean, editDistance, suggestionHint } from './did-you-mean.js';

describe('editDistance', () => {
  it('counts a swap of neighbouring letters as one edit', () => {
    expect(editDistance('regoin', 'region')).toBe(1);
    expect(editDistance('platfroms', 'platforms')).toBe(1);
  });
  it('counts insertions, deletions and substitutions', () => {
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('same', 'same')).toBe(0);
  });
});

describe('didYouMean', () => {
  const keys = ['driver', 'transport', 'provisioner', 'verifier', 'platforms', 'suites'];
  it('suggests the close candidates, best first', () => {
    expect(didYouMean('provisoner', keys)).toEqual(['provisioner']);
    expect(didYouMean('verifer', keys)).toEqual(['verifier']);
  });
  it('treats case and -/_ as the same', () => {
    expect(didYouMean('Boot-Test', ['boot_test', 'encrypted'])).toEqual(['boot_test']);
  });
  it('suggests nothing for unrelated words', () => {
    expect(didYouMean('banana', keys)).toEqual([]);
    expect(suggestionHint('banana', keys)).toBeUndefined();
  });
  it('formats a hint', () => {
    expect(suggestionHint('sutes', keys)).toBe('did you mean: suites');
  });
});
