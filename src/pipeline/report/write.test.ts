import { describe, expect, it } from 'vitest';
import type { InstanceEntry } from '../../config/index.js';
import { buildReport } from './model.js';
import { renderMarkdown } from './summary.js';
import { planReports } from './write.js';

const entry = (publish: Record<string, unknown>): InstanceEntry => ({ config: { publish } as never, problems: [] });

describe('planReports', () => {
  it('build, verify and test write publish.html relative to the project; other verbs and html: false none', () => {
    const e = [entry({ html: 'out/r.html', ci_outputs: true })];
    for (const a of ['build', 'verify', 'test']) expect(planReports(a, e, '/p', {})).toEqual({ html: '/p/out/r.html' });
    for (const a of ['create', 'converge', 'setup', 'destroy']) expect(planReports(a, e, '/p', {})).toEqual({});
    expect(planReports('build', [entry({ html: false, ci_outputs: true })], '/p', {})).toEqual({});
  });

  it('the step summary only in GitHub Actions with ci_outputs on; the run page when GitHub names it', () => {
    const env = { GITHUB_STEP_SUMMARY: '/s.md', GITHUB_SERVER_URL: 'https://github.example', GITHUB_REPOSITORY: 'o/r', GITHUB_RUN_ID: '42' };
    expect(planReports('build', [entry({ html: 'r.html', ci_outputs: true })], '/p', env)).toEqual({
      html: '/p/r.html',
      stepSummary: '/s.md',
      runUrl: 'https://github.example/o/r/actions/runs/42',
    });
    expect(planReports('build', [entry({ html: 'r.html', ci_outputs: false })], '/p', env).stepSummary).toBeUndefined();
  });
});

describe('renderMarkdown', () => {
  it('one row per instance; a pipe or newline in a value cannot break the table', () => {
    const r = buildReport({
      action: 'verify',
      projectDir: '/p',
      lanes: [],
      instances: [{ name: 'a-x', ok: false, error: 'broke | badly\nsecond line' }],
      now: new Date(0),
    });
    r.instances[0]!.images = [{ id: 'img|1', role: 'source', region: 'r1' }];
    const md = renderMarkdown(r, { reportPath: 'report.html' });
    const rows = md.split('\n').filter((l) => l.startsWith('| a-x'));
    expect(rows).toEqual(['| a-x | ❌ failed | 0 | 0 | 0 | 0 | r1: `img\\|1` |']);
    expect(md).toContain('- **a-x**: broke \\| badly\n');
    expect(md).toContain('HTML report: `report.html`');
    expect(md.startsWith('### ❌ hallmark verify: FAILED\n')).toBe(true);
  });
});
