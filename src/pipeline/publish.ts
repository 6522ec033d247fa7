import path from 'node:path';
import { appendFile, readFile } from 'node:fs/promises';
import type { InstanceConfig } from '../config/types.js';
import { sumApiCalls, summaryOf, type ApiCallLedger, type ApiCallSummary } from '../drivers/api-calls.js';
import type { PruneResult } from '../drivers/driver.js';
import type { ImageRecord, ParameterRecord } from '../kernel/journal.js';
import { writeFileAtomic } from '../kernel/journal.js';
import type { VerifyReport } from '../verifiers/verifier.js';
import { summarize } from '../verifiers/verifier.js';
import { resultsDigest } from '../verifiers/digest.js';
import { toJUnitXml } from '../verifiers/report/junit.js';

/** What one instance's build produced, for the outputs. */
export interface BuildOutcome {
  instance: InstanceConfig;
  buildId: string;
  imageName?: string;
  image?: ImageRecord;
  copies: ImageRecord[];
  /** publish.ssm_parameter: what was written, per region. */
  parameters?: ParameterRecord[];
  /** distribute.launch_templates: the versions the commit made. */
  launchTemplates?: { region: string; template: string; version?: number; imageId: string; default: boolean }[];
  /** image.deprecate_after: when the images become deprecated (ISO time). */
  deprecateAt?: string;
  /** image.keep: what the pruning after the commit removed and kept, per region. */
  pruned?: PruneResult[];
  /** The driver's description of the published images (Driver.describeImages: files, checksums, sizes), when it has one. */
  artifacts?: Record<string, unknown>;
  report?: VerifyReport;
  /** image.boot_test: the verification of a machine booted from the image (passed, when outputs are written). */
  bootTest?: { instance: string; image: string; report: VerifyReport };
  timings: Record<string, number>;
  /**
   * Where the instance's drivers count their API calls (drivers that count
   * them: ec2), the build machine's and the boot test machine's. Live: the
   * manifest shows the counts when it is written, the report when the run ended.
   */
  apiCalls?: ApiCallLedger[];
  ok: boolean;
  error?: string;
}

/** `IMAGE_ID_<KEY>` with the key upper-cased and non-alphanumerics as `_`. */
export function envKey(s: string): string {
  return s.toUpperCase().replace(/[^A-Z0-9]+/g, '_').replace(/^_|_$/g, '');
}

/**
 * env.properties: `IMAGE_ID` is the source image when the build made exactly
 * one image; per instance `IMAGE_ID_<INSTANCE>`; per region/target
 * `IMAGE_ID_<REGION>` (one instance) or `IMAGE_ID_<INSTANCE>_<REGION>`.
 */
export function envProperties(outcomes: BuildOutcome[]): string {
  const lines: string[] = [];
  const built = outcomes.filter((o) => o.image);
  const single = built.length === 1;
  for (const o of built) {
    const img = o.image!;
    if (single) lines.push(`IMAGE_ID=${img.id}`);
    lines.push(`IMAGE_ID_${envKey(o.instance.name)}=${img.id}`);
    if (single && o.imageName) lines.push(`IMAGE_NAME=${o.imageName}`);
    if (single && img.region) lines.push(`IMAGE_ID_${envKey(img.region)}=${img.id}`);
    for (const c of o.copies) {
      if (!c.region) continue;
      lines.push(single ? `IMAGE_ID_${envKey(c.region)}=${c.id}` : `IMAGE_ID_${envKey(o.instance.name)}_${envKey(c.region)}=${c.id}`);
    }
  }
  if (built[0]) lines.push(`BUILD_ID=${built[0].buildId}`);
  return lines.join('\n') + '\n';
}

/**
 * manifest.json. `apiCalls` (per build, and the sum over the builds listed at
 * the top) counts every call up to the moment the manifest is written: the
 * whole build and its commit, not the pruning of older images after it.
 */
export function manifest(outcomes: BuildOutcome[], extra: Record<string, unknown> = {}) {
  const calls = new Map<BuildOutcome, ApiCallSummary>();
  for (const o of outcomes) if (o.apiCalls?.length) calls.set(o, summaryOf(o.apiCalls));
  return {
    schema: 'hallmark.manifest/v1',
    generatedAt: new Date().toISOString(),
    ...(calls.size > 0 ? { apiCalls: sumApiCalls([...calls.values()]) } : {}),
    builds: outcomes.map((o) => ({
      instance: o.instance.name,
      suite: o.instance.suite,
      platform: o.instance.platform,
      driver: o.instance.driver.name,
      buildId: o.buildId,
      imageName: o.imageName,
      image: o.image,
      copies: o.copies,
      ...(o.parameters?.length ? { ssmParameter: ssmParameterEntry(o.parameters) } : {}),
      ...(o.launchTemplates?.length ? { launchTemplates: o.launchTemplates } : {}),
      ...(o.deprecateAt ? { deprecateAt: o.deprecateAt } : {}),
      ...(o.artifacts ? { artifacts: o.artifacts } : {}),
      verification: o.report ? { digest: resultsDigest(o.report), summary: summarize(o.report.results) } : undefined,
      ...(o.bootTest
        ? {
            bootTest: {
              instance: o.bootTest.instance,
              image: o.bootTest.image,
              verification: { digest: resultsDigest(o.bootTest.report), summary: summarize(o.bootTest.report.results) },
            },
          }
        : {}),
      timings: o.timings,
      ...(calls.has(o) ? { apiCalls: calls.get(o) } : {}),
      ...(extra[o.instance.name] as object | undefined),
    })),
  };
}

/** The manifest's record of publish.ssm_parameter: the name, and per region the version written and its value (the region's image). */
function ssmParameterEntry(records: ParameterRecord[]) {
  return {
    name: records[0]!.name,
    regions: Object.fromEntries(records.map((r) => [r.region, { version: r.version, value: r.value, previousVersion: r.previous?.version ?? null }])),
  };
}

/**
 * Writes the outputs of a build. Called only when every instance passed, so
 * that IMAGE_ID never names an image that is not proven and published.
 * Returns the files written.
 */
export async function writeOutputs(projectDir: string, outcomes: BuildOutcome[], extra: Record<string, unknown> = {}): Promise<string[]> {
  const publish = outcomes[0]?.instance.publish;
  if (!publish) return [];
  const written: string[] = [];
  const at = (p: string) => path.resolve(projectDir, p);
  if (publish.manifest) {
    await writeFileAtomic(at(publish.manifest), JSON.stringify(manifest(outcomes, extra), null, 2) + '\n');
    written.push(at(publish.manifest));
  }
  if (publish.junit) {
    const reports = outcomes.flatMap((o) => [...(o.report ? [o.report] : []), ...(o.bootTest ? [o.bootTest.report] : [])]);
    await writeFileAtomic(at(publish.junit), toJUnitXml(reports));
    written.push(at(publish.junit));
  }
  if (publish.env_properties) {
    // Last, so that a reader that sees IMAGE_ID also finds the manifest.
    await writeFileAtomic(at(publish.env_properties), envProperties(outcomes));
    written.push(at(publish.env_properties));
  }
  const gh = process.env.GITHUB_OUTPUT;
  if (publish.ci_outputs && gh) {
    const prev = await readFile(gh, 'utf8').catch(() => '');
    await appendFile(gh, (prev && !prev.endsWith('\n') ? '\n' : '') + envProperties(outcomes).replace(/^([A-Z0-9_]+)=/gm, (_m, k: string) => `${k.toLowerCase()}=`));
    written.push(gh);
  }
  return written;
}
