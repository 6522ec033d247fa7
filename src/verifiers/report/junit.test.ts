import { execFileSync } from 'node:child_process';
import { describe, expect, test } from 'vitest';
import type { CheckResult, VerifyReport } from '../verifier.js';
import { toResultsJson } from './json.js';
import { toJUnitXml, xmlEscape } from './junit.js';

const r = (status: CheckResult['status'], extra: Partial<CheckResult> = {}): CheckResult => ({
  id: `file:/x:${status}`,
  resourceType: 'file',
  resource: '/x',
  property: 'mode',
  title: `File: /x: ${status}`,
  expected: 'equal "0644"',
  found: '0600',
  status,
  durationMs: 12,
  ...extra,
});

const reports: VerifyReport[] = [
  {
    instance: 'default-debian-12',
    verifier: 'spec',
    durationMs: 1234,
    results: [
      r('pass'),
      r('fail', { message: 'expected <mode> & "quotes" \'x\'', found: 'bell\u0007 nul\u0000 esc\u001b[31m ]]> lone\ud800 ok' }),
      r('error', { message: 'timed out' }),
      r('skip', { message: 'skipped' }),
    ],
  },
  { instance: 'web-centos-7', verifier: 'spec', durationMs: 5, results: [r('pass', { title: 'a & b < c' })] },
];

describe('JUnit XML', () => {
  test('parses back with a real XML parser, with the right counts and text', () => {
    const xml = toJUnitXml(reports);
    const py = `
import sys, xml.dom.minidom as m
d = m.parseString(sys.stdin.buffer.read())
root = d.documentElement
print(root.tagName, root.getAttribute('tests'), root.getAttribute('failures'), root.getAttribute('errors'), root.getAttribute('skipped'))
for s in d.getElementsByTagName('testsuite'):
    print('suite', s.getAttribute('name'), s.getAttribute('tests'), len(s.getElementsByTagName('testcase')))
f = d.getElementsByTagName('failure')[0]
print('failure', f.getAttribute('message'))
print('text', repr(f.firstChild.data))
print('skipped', len(d.getElementsByTagName('skipped')), 'error', len(d.getElementsByTagName('error')))
print('name', d.getElementsByTagName('testsuite')[1].getElementsByTagName('testcase')[0].getAttribute('name'))
`;
    const out = execFileSync('python3', ['-c', py], { input: xml, encoding: 'utf8' }).trim().split('\n');
    expect(out[0]).toBe('testsuites 5 1 1 1');
    expect(out[1]).toBe('suite default-debian-12 4 4');
    expect(out[2]).toBe('suite web-centos-7 1 1');
    expect(out[3]).toBe(`failure expected <mode> & "quotes" 'x'`);
    expect(out[4]).toContain('found: bell\ufffd nul\ufffd esc\ufffd[31m ]]> lone\ufffd ok');
    expect(out[5]).toBe('skipped 1 error 1');
    expect(out[6]).toBe('name a & b < c');
  });

  test('escaping', () => {
    expect(xmlEscape(`<a href="x">&'</a>\u0001`)).toBe('&lt;a href=&quot;x&quot;&gt;&amp;&apos;&lt;/a&gt;\ufffd');
  });
});

describe('results.json', () => {
  test('counts, pass/fail and a digest per instance', () => {
    const j = toResultsJson(reports, new Date(0));
    expect(j).toMatchObject({ schema: 'hallmark.results/v1', generatedAt: '1970-01-01T00:00:00.000Z', passed: false, summary: { total: 5, passed: 2, failed: 1, errors: 1, skipped: 1 } });
    expect(j.instances[1]).toMatchObject({ instance: 'web-centos-7', summary: { total: 1, passed: 1 } });
    expect(j.instances[0]!.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(JSON.parse(JSON.stringify(j))).toEqual(j);
    expect(toResultsJson([reports[1]!]).passed).toBe(true);
    expect(toResultsJson([{ ...reports[1]!, results: [] }]).passed).toBe(false); // no checks is not a pass
  });
});
