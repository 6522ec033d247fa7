/**
 * The build-result model the HTML report and the CI summary are rendered
 * from: plain data, built once from what the pipeline returned and what the
 * timeline recorder saw, so that every renderer is a pure function of it.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { InstanceConfig } from '../../config/types.js';
import { sumApiCalls, summaryOf, type ApiCallSummary } from '../../drivers/api-calls.js';
import type { ParameterRecord } from '../../kernel/journal.js';
import { resultsDigest } from '../../verifiers/digest.js';
import { summarize, type CheckResult, type VerifyReport } from '../../verifiers/verifier.js';
import { COMMIT } from '../commit.js';
import type { BuildOutcome } from '../publish.js';
import { TAG_BUILD_ID, TAG_INSTANCE, TAG_VERIFICATION } from '../steps.js';
import type { Lane } from './timeline.js';

export interface ReportImage {
  id: string;
  role: 'source' | 'copy';
  /** A cloud region, or an export target for local images. */
  region?: string;
  name?: string;
  /** qcow2 images: the file, its sha256 and size. */
  path?: string;
  sha256?: string;
  sizeBytes?: number;
}

export interface ReportVerification {
  /** `verify` on the build machine, or `boot test` on a machine booted from the image. */
  label: string;
  instance: string;
  verifier: string;
  digest: string;
  summary: ReturnType<typeof summarize>;
  results: ReportCheck[];
}

export interface ReportCheck extends CheckResult {
  /** The gossfile (relative to the project) or profile the check came from. */
  group: string;
}

export interface InstanceReport {
  name: string;
  suite?: string;
  platform?: string;
  driver?: string;
  ok: boolean;
  error?: string;
  /** The driver's source image as configured (qemu `image`, ec2 `image_id` or `image_search`). */
  baseImage?: string;
  configDigest?: string;
  imageName?: string;
  /** Whether the images below were published; a failed build removed them. */
  published: boolean;
  images: ReportImage[];
  tags: Record<string, string>;
  sharing: { accounts: string[]; organizations: string[]; ous: string[] };
  parameters: ParameterRecord[];
  verifications: ReportVerification[];
  /** The instance's lane, then its boot-test machine's, when it had one. */
  lanes: Lane[];
  /** The API calls its drivers made (ec2), until the run ended: rollback and pruning included. */
  apiCalls?: ApiCallSummary;
}

export interface BuildReport {
  schema: 'hallmark.report/v1';
  title: string;
  action: string;
  buildId?: string;
  hallmarkVersion: string;
  generatedAt: string;
  ok: boolean;
  instances: InstanceReport[];
  /** Output files the build wrote (manifest, env.properties, ...), relative to the project. */
  outputs: string[];
  /** The build-level lane (the commit), when there was one. */
  commit?: Lane;
  /** Why the commit did not hold, when the instances' own errors do not say it. */
  commitError?: string;
  /** The sum of the instances' API calls, when any driver counted them. */
  apiCalls?: ApiCallSummary;
}

export interface InstanceInput {
  name: string;
  ok: boolean;
  error?: string;
  outcome?: BuildOutcome;
  config?: InstanceConfig;
  /** build: the commit published this instance's images (default: it passed and made images). */
  published?: boolean;
}

export interface BuildReportInput {
  action: string;
  buildId?: string;
  projectDir: string;
  instances: InstanceInput[];
  lanes: Lane[];
  outputs?: string[];
  commitError?: string;
  now?: Date;
}

let version: string | undefined;
/** hallmark's own version (package.json; the path holds from src/ and dist/ alike). */
export function hallmarkVersion(): string {
  version ??= (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  return version;
}

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

/**
 * sha256 over the instance's merged, normalized configuration (keys sorted),
 * without where it was loaded from: the same settings give the same digest
 * in any checkout.
 */
export function configDigest(config: InstanceConfig): string {
  const { projectDir: _p, file: _f, ...rest } = config as InstanceConfig & { projectDir?: string; file?: string };
  return `sha256:${createHash('sha256').update(JSON.stringify(canonical(rest))).digest('hex')}`;
}

function baseImageOf(config: InstanceConfig): string | undefined {
  const d = config.driver;
  for (const k of ['image', 'image_id']) if (typeof d[k] === 'string') return d[k];
  if (d.image_search && typeof d.image_search === 'object') return `search ${JSON.stringify(d.image_search)}`;
  return undefined;
}

/** The group a check is shown under: its gossfile relative to the project, or its profile, or the verifier. */
function groupOf(r: CheckResult, verifier: string, projectDir: string): string {
  if (r.source) return path.isAbsolute(r.source) ? path.relative(projectDir, r.source) || r.source : r.source;
  const profile = r.meta?.profile;
  return typeof profile === 'string' ? profile : verifier;
}

export function verificationOf(label: string, report: VerifyReport, projectDir: string): ReportVerification {
  return {
    label,
    instance: report.instance,
    verifier: report.verifier,
    digest: resultsDigest(report),
    summary: summarize(report.results),
    results: report.results.map((r) => ({ ...r, group: groupOf(r, report.verifier, projectDir) })),
  };
}

function imagesOf(o: BuildOutcome): ReportImage[] {
  const described = new Map<string, Record<string, unknown>>();
  const list = (o.artifacts as { images?: unknown } | undefined)?.images;
  if (Array.isArray(list)) for (const a of list as Record<string, unknown>[]) if (typeof a.id === 'string') described.set(a.id, a);
  return [...(o.image ? [o.image] : []), ...o.copies].map((i) => {
    const a = described.get(i.id) ?? {};
    return {
      id: i.id,
      role: i.role,
      ...(i.region ? { region: i.region } : {}),
      ...(i.name ? { name: i.name } : {}),
      ...(typeof a.path === 'string' ? { path: a.path } : {}),
      ...(typeof a.sha256 === 'string' ? { sha256: a.sha256 } : {}),
      ...(typeof a.sizeBytes === 'number' ? { sizeBytes: a.sizeBytes } : {}),
    };
  });
}

export function buildReport(input: BuildReportInput): BuildReport {
  const lanes = new Map(input.lanes.map((l) => [l.instance, l]));
  const instances = input.instances.map((i): InstanceReport => {
    const o = i.outcome;
    const config = o?.instance ?? i.config;
    const images = o ? imagesOf(o) : [];
    const verifications = [
      ...(o?.report ? [verificationOf('verify', o.report, input.projectDir)] : []),
      ...(o?.bootTest ? [verificationOf('boot test', o.bootTest.report, input.projectDir)] : []),
    ];
    const own = [...lanes.values()].filter((l) => l.instance === i.name || l.instance === `${i.name}-boot-test`);
    return {
      name: i.name,
      ...(config ? { suite: config.suite, platform: config.platform, driver: config.driver.name, baseImage: baseImageOf(config), configDigest: configDigest(config) } : {}),
      ok: i.ok,
      ...(i.error ? { error: i.error } : {}),
      ...(o?.imageName ? { imageName: o.imageName } : {}),
      published: input.action === 'build' && images.length > 0 && (i.published ?? i.ok),
      images,
      tags: images.length && config ? { ...config.image.tags, [TAG_BUILD_ID]: o!.buildId, [TAG_INSTANCE]: i.name, ...(verifications[0] ? { [TAG_VERIFICATION]: verifications[0].digest } : {}) } : {},
      sharing: config
        ? { accounts: config.distribute.accounts, organizations: config.distribute.organization_arns, ous: config.distribute.ou_arns }
        : { accounts: [], organizations: [], ous: [] },
      parameters: o?.parameters ?? [],
      verifications,
      lanes: own,
      ...(o?.apiCalls?.length ? { apiCalls: summaryOf(o.apiCalls) } : {}),
    };
  });
  const commit = lanes.get(COMMIT);
  const calls = instances.flatMap((i) => (i.apiCalls ? [i.apiCalls] : []));
  const ok = instances.length > 0 && instances.every((i) => i.ok) && !input.commitError;
  return {
    schema: 'hallmark.report/v1',
    title: `hallmark ${input.action}${input.buildId ? ` ${input.buildId}` : ''}`,
    action: input.action,
    ...(input.buildId ? { buildId: input.buildId } : {}),
    hallmarkVersion: hallmarkVersion(),
    generatedAt: (input.now ?? new Date()).toISOString(),
    ok,
    instances,
    outputs: (input.outputs ?? []).map((f) => (path.isAbsolute(f) ? path.relative(input.projectDir, f) || f : f)),
    ...(commit ? { commit } : {}),
    ...(input.commitError ? { commitError: input.commitError } : {}),
    ...(calls.length ? { apiCalls: sumApiCalls(calls) } : {}),
  };
}
