import { describe, expect, test } from 'vitest';
import { resultsDigest } from './digest.js';
import type { CheckResult } from './verifier.js';

const mk = (id: string, status: CheckResult['status'], durationMs: number): CheckResult => ({
  id,
  resourceType: 'file',
  resource: '/x',
  property: id,
  title: id,
  expected: 'equal 1',
  found: '1',
  status,
  durationMs,
});

describe('resultsDigest', () => {
  const a = [mk('a', 'pass', 1), mk('b', 'fail', 2), mk('c', 'skip', 3)];
  test('independent of durations and ordering', () => {
    const d = resultsDigest({ verifier: 'spec', results: a });
    expect(resultsDigest({ verifier: 'spec', results: [...a].reverse().map((r) => ({ ...r, durationMs: r.durationMs * 100 })) })).toBe(d);
    expect(d).toMatch(/^sha256:[0-9a-f]{64}$/);
  });
  test('changes with any status, expectation, found value or check', () => {
    const d = resultsDigest({ verifier: 'spec', results: a });
    expect(resultsDigest({ verifier: 'spec', results: [mk('a', 'fail', 1), a[1]!, a[2]!] })).not.toBe(d);
    expect(resultsDigest({ verifier: 'spec', results: [{ ...a[0]!, found: '2' }, a[1]!, a[2]!] })).not.toBe(d);
    expect(resultsDigest({ verifier: 'spec', results: [{ ...a[0]!, expected: 'equal 2' }, a[1]!, a[2]!] })).not.toBe(d);
    expect(resultsDigest({ verifier: 'spec', results: a.slice(0, 2) })).not.toBe(d);
    expect(resultsDigest({ verifier: 'inspec', results: a })).not.toBe(d);
  });
});
