import { describe, expect, it } from 'vitest';
import { EventBus } from '../../kernel/events.js';
import { runSteps } from '../runner.js';
import { TimelineRecorder } from './timeline.js';
import { buildReport } from './model.js';
import { renderHtml } from './html.js';
import { ApiCallLedger } from '../../drivers/api-calls.js';
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
    expect(html).not.toContain('API calls');
  });

  it('shows the API calls each instance\'s driver made, by action and region, and the build total', () => {
    const ledger = new ApiCallLedger();
    ledger.call('ec2', 'eu-west-1', 'CopyImage');
    ledger.request('ec2', 'eu-west-1', 'CopyImage', { retry: false, throttled: true });
    ledger.request('ec2', 'eu-west-1', 'CopyImage', { retry: true, throttled: false });
    ledger.call('ec2', 'us-east-1', 'RunInstances');
    ledger.request('ec2', 'us-east-1', 'RunInstances', { retry: false, throttled: false });
    const outcome = { instance: undefined as never, buildId: 'b1', copies: [], timings: {}, ok: true, apiCalls: [ledger] };
    const report = buildReport({ action: 'build', buildId: 'b1', projectDir: '/p', lanes: [], instances: [{ name: 'default-al2023', ok: true, outcome }] });
    expect(report.apiCalls?.total).toEqual({ calls: 2, requests: 3, retries: 1, throttled: 1, failed: 0 });
    const html = renderHtml(report);
    const rows = [...html.matchAll(/<tr class="api-call" data-action="(\w+)" data-region="([\w-]+)">((?:<td[^>]*>[^<]*<\/td>)+)<\/tr>/g)].map(
      (m) => `${m[2]} ${m[1]}: ${[...m[3]!.matchAll(/class="num">(\d+)</g)].map((n) => n[1]).join(' ')}`,
    );
    expect(rows).toEqual(['eu-west-1 CopyImage: 1 2 1 1 0', 'us-east-1 RunInstances: 1 1 0 0 0']);
    expect(html).toContain('<dt>API calls</dt><dd>2 calls (3 requests: 1 retry, 1 throttled)</dd>');
  });
});
