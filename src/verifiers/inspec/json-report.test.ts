import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { inspecResults, parseInspecJson, InspecReportError } from './json-report.js';

const sample = readFileSync(new URL('./sample-report.test-data.json', import.meta.url), 'utf8');

describe('inspec json reporter -> CheckResults', () => {
  test('one result per control result, with ids, titles, impact, status and message', () => {
    const results = inspecResults(parseInspecJson(sample));
    expect(results.map((r) => [r.id, r.status, r.impact])).toEqual([
      ['default/ssh-01', 'pass', 1],
      ['default/nginx-01#1', 'pass', 0.7],
      ['default/nginx-01#2', 'fail', 0.7],
      ['default/tmp-01', 'skip', 0.3],
      ['default/(generated from example.rb:30 0f1d4c)', 'fail', 0.5],
      ['windows-baseline', 'skip', undefined],
    ]);
    const byId = Object.fromEntries(results.map((r) => [r.id, r]));
    expect(byId['default/ssh-01']).toMatchObject({ title: 'SSH: root login is restricted', resourceType: 'sshd_config', durationMs: 12 });
    expect(byId['default/ssh-01']!.message).toBeUndefined();
    expect(byId['default/nginx-01#2']).toMatchObject({
      title: 'nginx is installed and listening: Port 80 is expected to be listening',
      message: 'Port 80 is expected to be listening: expected `Port 80.listening?` to be truthy, got false',
    });
    expect(byId['default/tmp-01']!.message).toBe('No-op: Skipped control due to only_if condition.');
    // No title: the code description stands in; an empty message falls back to the exception.
    expect(byId['default/(generated from example.rb:30 0f1d4c)']).toMatchObject({
      title: 'File /etc/app.conf content is expected to match /secure/',
      message: 'File /etc/app.conf content is expected to match /secure/: Errno::EACCES',
    });
    expect(byId['windows-baseline']!.message).toContain('unsupported platform');
  });

  test('a profile that failed to load is an error result', () => {
    const r = inspecResults({ profiles: [{ name: 'broken', status: 'failed', status_message: 'syntax error in controls/x.rb' }] });
    expect(r).toMatchObject([{ id: 'broken', status: 'error', message: 'syntax error in controls/x.rb' }]);
  });

  test('InSpec 4 "error" status is an error result', () => {
    const r = inspecResults({ profiles: [{ name: 'p', controls: [{ id: 'c', results: [{ status: 'error', code_desc: 'x', exception: 'Boom' }] }] }] });
    expect(r[0]).toMatchObject({ status: 'error', message: 'x: Boom' });
  });

  test('text that is not a json report is an error', () => {
    expect(() => parseInspecJson('{"controls": []}')).toThrow(InspecReportError);
    expect(() => parseInspecJson('Error: no profile')).toThrow(/not JSON/);
  });
});
