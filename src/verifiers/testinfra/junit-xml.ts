/**
 * Reads the JUnit XML that pytest writes with `--junit-xml` (its built-in
 * reporter, schema xunit2) into CheckResults: one per `<testcase>`. Parsed
 * with fast-xml-parser after its validator has checked the document is
 * well-formed, so a truncated report is an error, never a partial pass.
 *
 * Status: `<failure>` -> fail, `<error>` -> error (a fixture or collection
 * error: the check could not be evaluated), `<skipped>` -> skip (an expected
 * failure, `xfail`, is reported by pytest as skipped too), else pass.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
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

type Ordered = Record<string, unknown>;

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseAttributeValue: false,
  parseTagValue: false,
  trimValues: false,
  // &#10; and &#x2028; in failure messages are character references, not HTML names.
  htmlEntities: true,
  commentPropName: '#comment',
  cdataPropName: '#cdata',
});

/** The ordered node list of fast-xml-parser as elements; text and CDATA become the element's text. */
function toElements(nodes: Ordered[]): { elements: XmlElement[]; text: string } {
  const elements: XmlElement[] = [];
  let text = '';
  for (const node of nodes) {
    const name = Object.keys(node).find((k) => k !== ':@');
    if (name === undefined || name === '#comment' || name.startsWith('?')) continue;
    const body = node[name];
    if (name === '#text') {
      text += String(body);
      continue;
    }
    if (name === '#cdata') {
      text += toElements(body as Ordered[]).text;
      continue;
    }
    const inner = toElements(body as Ordered[]);
    elements.push({ name, attrs: (node[':@'] as Record<string, string> | undefined) ?? {}, children: inner.elements, text: inner.text });
  }
  return { elements, text };
}

/** Parses an XML document into its root element. Throws on malformed XML. */
export function parseXml(text: string): XmlElement {
  const valid = XMLValidator.validate(text);
  if (valid !== true) {
    throw new JunitReportError(`malformed XML at line ${valid.err.line}, column ${valid.err.col}: ${valid.err.msg}`);
  }
  const top = toElements(parser.parse(text) as Ordered[]).elements[0];
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
