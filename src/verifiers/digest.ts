/**
 * A fingerprint of what a verification established: sha256 over a canonical
 * form of the results. Durations are left out and results are sorted, so the
 * same checks with the same outcomes give the same digest however fast or in
 * whatever order they ran; any change of a check, its expectation, what was
 * found or its status changes it.
 */
import { createHash } from 'node:crypto';
import type { VerifyReport } from './verifier.js';

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
    );
  }
  return v;
}

export function resultsDigest(report: Pick<VerifyReport, 'verifier' | 'results'>): string {
  const rows = report.results
    .map((r) => JSON.stringify(canonical({ id: r.id, resourceType: r.resourceType, resource: r.resource, property: r.property, expected: r.expected, found: r.found, status: r.status })))
    .sort();
  const h = createHash('sha256');
  h.update(`hallmark-results-v1\n${report.verifier}\n`);
  for (const row of rows) h.update(`${row}\n`);
  return `sha256:${h.digest('hex')}`;
}
