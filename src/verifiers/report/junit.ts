/**
 * JUnit XML for CI: one <testsuite> per instance, one <testcase> per check;
 * `fail` is a <failure>, `error` an <error>, `skip` <skipped/>. Text is
 * escaped for XML 1.0, and characters XML 1.0 cannot carry at all (most
 * control characters, lone surrogates) are replaced, so any command output
 * in a message still yields a parseable file.
 */
import { summarize, type CheckResult, type VerifyReport } from '../verifier.js';

/** Escapes text and attribute values; drops characters invalid in XML 1.0. */
export function xmlEscape(s: string): string {
  return s
    .replace(/[^\u0009\u000A\u000D\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '\uFFFD')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

const secs = (ms: number) => (ms / 1000).toFixed(3);

function testcase(r: CheckResult, suite: string): string {
  const attrs = `name="${xmlEscape(r.title)}" classname="${xmlEscape(`${suite}.${r.resourceType}`)}" time="${secs(r.durationMs)}"`;
  const detail = xmlEscape(`${r.message ?? ''}\nexpected: ${r.expected}\nfound: ${r.found}`);
  switch (r.status) {
    case 'pass':
      return `    <testcase ${attrs}/>`;
    case 'skip':
      return `    <testcase ${attrs}>\n      <skipped message="${xmlEscape(r.message ?? 'skipped')}"/>\n    </testcase>`;
    case 'fail':
      return `    <testcase ${attrs}>\n      <failure message="${xmlEscape(r.message ?? 'failed')}" type="${xmlEscape(r.property)}">${detail}</failure>\n    </testcase>`;
    default:
      return `    <testcase ${attrs}>\n      <error message="${xmlEscape(r.message ?? 'error')}" type="${xmlEscape(r.property)}">${detail}</error>\n    </testcase>`;
  }
}

export function toJUnitXml(reports: VerifyReport[]): string {
  const all = reports.flatMap((r) => r.results);
  const t = summarize(all);
  const total = reports.reduce((n, r) => n + r.durationMs, 0);
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="hallmark" tests="${t.total}" failures="${t.failed}" errors="${t.errors}" skipped="${t.skipped}" time="${secs(total)}">`,
  ];
  for (const rep of reports) {
    const s = summarize(rep.results);
    lines.push(
      `  <testsuite name="${xmlEscape(rep.instance)}" tests="${s.total}" failures="${s.failed}" errors="${s.errors}" skipped="${s.skipped}" time="${secs(rep.durationMs)}">`,
      `    <properties><property name="verifier" value="${xmlEscape(rep.verifier)}"/></properties>`,
      ...rep.results.map((r) => testcase(r, rep.instance)),
      '  </testsuite>',
    );
  }
  lines.push('</testsuites>', '');
  return lines.join('\n');
}
