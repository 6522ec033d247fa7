import { describe, expect, test } from 'vitest';
import { JunitReportError, junitResults, parseXml, stripHostParam } from './junit-xml.js';

// As pytest 7 writes it with junit_family=xunit2 (one testsuite inside testsuites).
const REPORT = `<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest" errors="1" failures="1" skipped="1" tests="4" time="1.2" timestamp="2024-05-02T10:11:12" hostname="ci"><testcase classname="test_web" name="test_nginx[ssh://10.0.0.5-nginx]" time="0.250" /><testcase classname="test_web" name="test_port[ssh://10.0.0.5]" time="0.010"><failure message="AssertionError: assert False&#10; +  where False = &lt;socket tcp://80&gt;.is_listening">host = &lt;testinfra.host.Host ssh://10.0.0.5&gt;

    def test_port(host):
&gt;       assert host.socket("tcp://80").is_listening
E       AssertionError: assert False</failure></testcase><testcase classname="test_web" name="test_tmp[ssh://10.0.0.5]" time="0.000"><skipped type="pytest.skip" message="only on systemd">/t/test_web.py:9: only on systemd</skipped></testcase><testcase classname="" name="test_broken" time="0.000"><error message="collection failure">ImportError: No module named 'x'</error></testcase><!-- end --></testsuite></testsuites>`;

describe('pytest JUnit XML -> CheckResults', () => {
  test('maps pass, failure, skip and error, with messages and durations', () => {
    const r = junitResults(REPORT, 'ssh://10.0.0.5');
    expect(r.map((x) => [x.id, x.status, x.durationMs])).toEqual([
      ['test_web::test_nginx[nginx]', 'pass', 250],
      ['test_web::test_port', 'fail', 10],
      ['test_web::test_tmp', 'skip', 0],
      ['test_broken', 'error', 0],
    ]);
    expect(r[1]!.message).toContain('AssertionError: assert False\n +  where False = <socket tcp://80>.is_listening');
    expect(r[1]!.message).toContain('>       assert host.socket("tcp://80").is_listening');
    expect(r[1]!.title).toBe('port');
    expect(r[2]!.message).toMatch(/^only on systemd\n/);
    expect(r[3]!.message).toContain("No module named 'x'");
  });

  test('CDATA, numeric character references and comments', () => {
    const r = junitResults(`<testsuite><testcase classname="c" name="t"><failure message="a&#x26;b"><![CDATA[<raw> & text]]></failure></testcase><!-- x --></testsuite>`);
    expect(r).toHaveLength(1);
    expect(r[0]!.status).toBe('fail');
    expect(r[0]!.message).toBe('a&b\n<raw> & text');
  });

  test('the host parameter is removed wherever it is, other parameters stay', () => {
    expect(stripHostParam('test_a[ssh://ip-10-0-0-1]', 'ssh://ip-10-0-0-1')).toBe('test_a');
    expect(stripHostParam('test_a[ssh://ip-10-0-0-1-x-y]', 'ssh://ip-10-0-0-1')).toBe('test_a[x-y]');
    expect(stripHostParam('test_a[x-ssh://h]', 'ssh://h')).toBe('test_a[x]');
    expect(stripHostParam('test_a[other]', 'ssh://h')).toBe('test_a[other]');
    expect(stripHostParam('test_a[ssh://h]', undefined)).toBe('test_a[ssh://h]');
  });

  test('malformed or foreign XML is an error', () => {
    expect(() => parseXml('<a><b></a>')).toThrow(JunitReportError);
    expect(() => parseXml('<a>')).toThrow(/malformed XML at line 1.*Unclosed/);
    expect(() => parseXml(REPORT.slice(0, -40))).toThrow(JunitReportError);
    expect(() => parseXml('')).toThrow(JunitReportError);
    expect(() => junitResults('<html></html>')).toThrow(/root element is <html>/);
  });
});
