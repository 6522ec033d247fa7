/**
 * The Markdown summary of a build, verify or test for a CI job page (GitHub
 * Actions' $GITHUB_STEP_SUMMARY): instances, passed/failed, image ids per
 * region, where the HTML report is. A pure function of the BuildReport.
 */
import type { BuildReport, InstanceReport } from './model.js';

/** A table cell: no pipe or line break may end the cell or the row early. */
const cell = (s: string): string => s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
const code = (s: string): string => `\`${s.replace(/`/g, "'")}\``;

function verdict(r: BuildReport, i: InstanceReport): string {
  if (!i.ok) return '❌ failed';
  if (r.action !== 'build') return '✅ passed';
  return i.published ? '✅ published' : '⚠️ passed, not published';
}

export interface SummaryLinks {
  /** The HTML report, relative to the job's working directory. */
  reportPath?: string;
  /** The page of this CI run, where its artifacts are listed. */
  runUrl?: string;
}

export function renderMarkdown(r: BuildReport, links: SummaryLinks = {}): string {
  const lines: string[] = [];
  lines.push(`### ${r.ok ? '✅' : '❌'} ${cell(r.title)}: ${r.ok ? 'passed' : 'FAILED'}`, '');
  lines.push('| Instance | Result | Passed | Failed | Errors | Skipped | Images |', '| --- | --- | ---: | ---: | ---: | ---: | --- |');
  for (const i of r.instances) {
    const all = i.verifications.flatMap((v) => v.results);
    const n = (s: string) => String(all.filter((c) => c.status === s).length);
    const images = i.published || r.action !== 'build' ? i.images.map((im) => `${im.region ? `${cell(im.region)}: ` : ''}${code(cell(im.id))}`).join('<br>') : '';
    lines.push(`| ${cell(i.name)} | ${verdict(r, i)} | ${n('pass')} | ${n('fail')} | ${n('error')} | ${n('skip')} | ${images || '—'} |`);
  }
  lines.push('');
  const failed = r.instances.filter((i) => !i.ok && i.error);
  for (const i of failed) lines.push(`- **${cell(i.name)}**: ${cell(i.error!.split('\n')[0]!)}`);
  if (r.commitError) lines.push(`- **commit**: ${cell(r.commitError.split('\n')[0]!)}`);
  if (failed.length || r.commitError) lines.push('');
  const facts = [r.buildId ? `build ${code(r.buildId)}` : undefined, `hallmark ${r.hallmarkVersion}`].filter(Boolean);
  lines.push(facts.join(' · '));
  if (links.reportPath) {
    const where = links.runUrl ? `, among the artifacts of [this run](${links.runUrl})` : '';
    lines.push('', `HTML report: ${code(links.reportPath)}${where}`);
  }
  return lines.join('\n') + '\n';
}
