import { describe, expect, it } from 'vitest';
import { EventBus } from '../../kernel/events.js';
import { runSteps } from '../runner.js';
import { TimelineRecorder } from './timeline.js';
import { buildReport } from './model.js';
import { renderHtml } from './html.js';
import type { CheckResult } from '../../verifiers/verifier.js';

const check = (id: string, status: CheckResult['status'], source: string): CheckResult => ({
  id, resourceType: 'package', resource: id, property: 'installed', title: `Package: ${id}: installed`, expected: 'true', found: status === 'pass' ? 'true' : 'false', status, durationMs: 1, source,
});

describe('report', () => {
  it('records skipped steps, orders failures first and names every image', async () => {
    const events = new EventBus();
    const rec = new TimelineRecorder(events);
    await runSteps(
      [
        { name: 'verify', run: async () => {} },
        { name: 'boot-test', run: async () => ({ skipped: 'image.boot_test is off' }) },
      ],
      {},
      { instance: 'default-debian', events, signal: new AbortController().signal },
    );
    rec.stop();
    const lanes = rec.lanes();
    expect(lanes[0]!.spans.map((s) => [s.name, s.status])).toEqual([['verify', 'ok'], ['boot-test', 'skipped']]);
    const report = buildReport({
      action: 'build',
      buildId: 'b1',
      projectDir: '/p',
      lanes,
      instances: [{ name: 'default-debian', ok: false, error: 'verification failed' }],
    });
    report.instances[0]!.verifications = [
      {
        label: 'verify', instance: 'default-debian', verifier: 'spec', digest: 'sha256:x', summary: { total: 3, passed: 2, failed: 1, skipped: 0, errors: 0 },
        results: [check('a', 'pass', 'a.yml'), check('b', 'fail', 'b.yml'), check('c', 'pass', 'b.yml')].map((c) => ({ ...c, group: c.source! })),
      },
    ];
    report.instances[0]!.images = [{ id: 'ami-0123', role: 'source', region: 'us-east-1' }];
    const html = renderHtml(report);
    const rows = [...html.matchAll(/<tr class="check [^"]*" data-status="(\w+)" data-id="(\w+)"/g)].map((m) => `${m[2]}:${m[1]}`);
    expect(rows).toEqual(['b:fail', 'c:pass', 'a:pass']);
    expect(html).toContain('ami-0123');
    expect(html).toMatch(/data-step="boot-test" data-kind="step" data-status="skipped"/);
    expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)=/);
    expect(html).toContain('FAILED');
  });
});
