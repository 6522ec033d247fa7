/**
 * results.json: the verification reports as data, with counts and the
 * results digest, so that a later reader (the image store, CI) can tell which
 * checks an image passed and recompute the digest to see it is unchanged.
 */
import { resultsDigest } from '../digest.js';
import { summarize, type CheckResult, type VerifyReport } from '../verifier.js';

export interface ResultsJson {
  schema: 'hallmark.results/v1';
  generatedAt: string;
  summary: ReturnType<typeof summarize>;
  passed: boolean;
  instances: {
    instance: string;
    verifier: string;
    durationMs: number;
    summary: ReturnType<typeof summarize>;
    digest: string;
    results: CheckResult[];
  }[];
}

/** A report passes when it has checks and none failed or errored (skips are allowed). */
export function reportPassed(r: VerifyReport): boolean {
  const s = summarize(r.results);
  return s.total > 0 && s.failed === 0 && s.errors === 0;
}

export function toResultsJson(reports: VerifyReport[], now: Date = new Date()): ResultsJson {
  return {
    schema: 'hallmark.results/v1',
    generatedAt: now.toISOString(),
    summary: summarize(reports.flatMap((r) => r.results)),
    passed: reports.length > 0 && reports.every(reportPassed),
    instances: reports.map((r) => ({
      instance: r.instance,
      verifier: r.verifier,
      durationMs: r.durationMs,
      summary: summarize(r.results),
      digest: resultsDigest(r),
      results: r.results,
    })),
  };
}

export function toResultsJsonText(reports: VerifyReport[], now?: Date): string {
  return `${JSON.stringify(toResultsJson(reports, now), null, 2)}\n`;
}
