/**
 * The reports of one action run (build, verify, test): the HTML report at
 * `publish.html` and, in GitHub Actions, a Markdown summary appended to
 * $GITHUB_STEP_SUMMARY. Written at the end of the run whether it passed or
 * failed (a failed build is when people open the report), after the commit
 * held or rolled back, so that they say what was finally published.
 */
import { appendFile, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { InstanceEntry } from '../../config/index.js';
import { writeFileAtomic } from '../../kernel/journal.js';
import { renderHtml } from './html.js';
import { buildReport, type BuildReportInput } from './model.js';
import { renderMarkdown } from './summary.js';

/** The actions that run checks, and so have something to report. */
export const REPORTED_ACTIONS: readonly string[] = ['verify', 'test', 'build'];

export interface ReportPlan {
  /** Absolute path of the HTML report, when publish.html is not false. */
  html?: string;
  /** $GITHUB_STEP_SUMMARY, when set and publish.ci_outputs is on. */
  stepSummary?: string;
  /** The CI run's page, for the summary's link to the artifacts. */
  runUrl?: string;
}

/**
 * Where the reports of `action` on `entries` go. publish.html is read from the
 * first instance (like the other outputs, one file per run).
 */
export function planReports(action: string, entries: InstanceEntry[], projectDir: string, env: NodeJS.ProcessEnv = process.env): ReportPlan {
  if (!REPORTED_ACTIONS.includes(action) || entries.length === 0) return {};
  const publish = entries[0]!.config.publish;
  const html = publish?.html ? path.resolve(projectDir, publish.html) : undefined;
  const ci = publish?.ci_outputs !== false && env.GITHUB_STEP_SUMMARY ? env.GITHUB_STEP_SUMMARY : undefined;
  const runUrl = env.GITHUB_SERVER_URL && env.GITHUB_REPOSITORY && env.GITHUB_RUN_ID ? `${env.GITHUB_SERVER_URL}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}` : undefined;
  return { ...(html ? { html } : {}), ...(ci ? { stepSummary: ci } : {}), ...(runUrl ? { runUrl } : {}) };
}

export interface WrittenReports {
  /** The HTML report's absolute path. */
  html?: string;
  /** The file the CI summary was appended to. */
  stepSummary?: string;
}

/** Writes what `plan` names; returns what it wrote. Throws on the first write that fails. */
export async function writeReports(plan: ReportPlan, input: BuildReportInput): Promise<WrittenReports> {
  if (!plan.html && !plan.stepSummary) return {};
  const report = buildReport(input);
  const written: WrittenReports = {};
  if (plan.html) {
    await writeFileAtomic(plan.html, renderHtml(report));
    written.html = plan.html;
  }
  if (plan.stepSummary) {
    const reportPath = plan.html ? path.relative(process.cwd(), plan.html) || plan.html : undefined;
    const prev = await readFile(plan.stepSummary, 'utf8').catch(() => '');
    await appendFile(plan.stepSummary, (prev && !prev.endsWith('\n') ? '\n' : '') + renderMarkdown(report, { reportPath, runUrl: plan.runUrl }));
    written.stepSummary = plan.stepSummary;
  }
  return written;
}
