/**
 * Reads the JUnit XML that pytest writes with `--junit-xml` (its built-in
 * reporter, schema xunit2) into CheckResults: one per `<testcase>`.
 *
 * pytest's output is well-formed XML with escaped text and no DTD, so a small
 * tokenizer for elements, attributes and text is enough; no XML dependency.
 *
 * Status: `<failure>` -> fail, `<error>` -> error (a fixture or collection
 * error: the check could not be evaluated), `<skipped>` -> skip (an expected
 * failure, `xfail`, is reported by pytest as skipped too), else pass.
 */
import { HallmarkError } from '../../kernel/errors.js';
import type { CheckResult, CheckStatus } from '../verifier.js';

export class JunitReportError extends HallmarkError {
  override readonly code = 'JUNIT_REPORT';
}

interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function unescape(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (m, e: string) => {
    if (e[0] === '#') return String.fromCodePoint(e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
    return ENTITIES[e] ?? m;
  });
}

/** Parses an XML document into its root element. Throws on unbalanced tags. */
export function parseXml(text: string): XmlElement {
  const root: XmlElement = { name: '#document', attrs: {}, children: [], text: '' };
  const stack = [root];
  const token = /<!\[CDATA\[([\s\S]*?)\]\]>|<!--[\s\S]*?-->|<\?[\s\S]*?\?>|<!DOCTYPE[^>]*>|<\/\s*([^\s>]+)\s*>|<([^\s/>]+)((?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>|([^<]+)/gy;
  let m: RegExpExecArray | null;
  let pos = 0;
  while (pos < text.length && (m = token.exec(text)) !== null) {
    pos = token.lastIndex;
    const top = stack[stack.length - 1]!;
    if (m[1] !== undefined) top.text += m[1];
    else if (m[2] !== undefined) {
      if (top.name !== m[2]) throw new JunitReportError(`malformed XML: </${m[2]}> closes <${top.name}>`);
      stack.pop();
    } else if (m[3] !== undefined) {
      const attrs: Record<string, string> = {};
      for (const a of (m[4] ?? '').matchAll(/([^\s=]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) attrs[a[1]!] = unescape(a[2] ?? a[3] ?? '');
      const el: XmlElement = { name: m[3], attrs, children: [], text: '' };
      top.children.push(el);
      if (m[5] !== '/') stack.push(el);
    } else if (m[6] !== undefined) top.text += unescape(m[6]);
  }
  if (pos < text.length) throw new JunitReportError(`malformed XML at offset ${pos}: ${JSON.stringify(text.slice(pos, pos + 40))}`);
  if (stack.length !== 1) throw new JunitReportError(`malformed XML: <${stack[stack.length - 1]!.name}> is not closed`);
  const top = root.children[0];
  if (!top) throw new JunitReportError('empty XML document');
  return top;
}

function* testcases(el: XmlElement): Generator<XmlElement> {
  for (const c of el.children) {
    if (c.name === 'testcase') yield c;
    else yield* testcases(c);
  }
}

/**
 * Drops testinfra's host parameter from a test name, so that ids do not
 * change with the machine's address: with `hostId` `ssh://10.0.0.5`,
 * `test_x[ssh://10.0.0.5]` -> `test_x` and `test_y[ssh://10.0.0.5-nginx]` ->
 * `test_y[nginx]`. Other parameters are kept.
 */
export function stripHostParam(name: string, hostId: string | undefined): string {
  if (!hostId) return name;
  const open = name.indexOf('[');
  if (open < 0 || !name.endsWith(']')) return name;
  const params = name.slice(open + 1, -1);
  let rest: string;
  if (params === hostId) rest = '';
  else if (params.startsWith(`${hostId}-`)) rest = params.slice(hostId.length + 1);
  else if (params.endsWith(`-${hostId}`)) rest = params.slice(0, -hostId.length - 1);
  else return name;
  return rest ? `${name.slice(0, open)}[${rest}]` : name.slice(0, open);
}

const TAIL = 2000;

/** `hostId` is testinfra's id of the host (`ssh://<hostname>`), stripped from test names. */
export function junitResults(xml: string, hostId?: string): CheckResult[] {
  const root = parseXml(xml);
  if (root.name !== 'testsuites' && root.name !== 'testsuite') {
    throw new JunitReportError(`not a JUnit report: the root element is <${root.name}>`);
  }
  const results: CheckResult[] = [];
  for (const tc of testcases(root)) {
    const classname = tc.attrs.classname ?? '';
    const name = stripHostParam(tc.attrs.name ?? 'test', hostId);
    const failure = tc.children.find((c) => c.name === 'failure');
    const error = tc.children.find((c) => c.name === 'error');
    const skipped = tc.children.find((c) => c.name === 'skipped');
    const outcome = failure ?? error ?? skipped;
    const status: CheckStatus = failure ? 'fail' : error ? 'error' : skipped ? 'skip' : 'pass';
    let message: string | undefined;
    if (outcome) {
      const head = outcome.attrs.message ?? '';
      const body = outcome.text.trim();
      const tail = body.length > TAIL ? `...${body.slice(-TAIL)}` : body;
      message = [head, tail && !head.includes(tail) ? tail : ''].filter(Boolean).join('\n') || status;
    }
    const id = classname ? `${classname}::${name}` : name;
    results.push({
      id,
      resourceType: 'testinfra',
      resource: classname || (tc.attrs.file ?? ''),
      property: name,
      title: name.replace(/^test_/, '').replace(/_/g, ' '),
      expected: 'pass',
      found: status === 'pass' ? 'passed' : status === 'fail' ? 'failed' : status === 'skip' ? 'skipped' : 'error',
      status,
      ...(message !== undefined ? { message } : {}),
      durationMs: Math.round(Number(tc.attrs.time ?? 0) * 1000),
      meta: { classname, name: tc.attrs.name ?? '' },
    });
  }
  return results;
}
