import { describe, expect, test } from 'vitest';
import { compileMatcher } from '../matchers.js';
import type { ResourceSpec } from '../types.js';
import { canonicalHeaderKey, curlCertPath, goHeaders, httpDef } from './http.js';

describe('http headers as goss computes them (Go net/http + HeaderToArray)', () => {
  test('canonical names as Go writes them; a name with a non-token byte stays as it is', () => {
    expect(canonicalHeaderKey('content-TYPE')).toBe('Content-Type');
    expect(canonicalHeaderKey('x-amz-id-2')).toBe('X-Amz-Id-2');
    expect(canonicalHeaderKey('bad name')).toBe('bad name');
  });

  test('no status line, trimmed values, continuation lines joined, sorted', () => {
    expect(goHeaders('HTTP/1.1 200 OK\r\nx-b:  two \r\nX-A: one\r\n folded\r\nX-B: a\r\n')).toEqual(['X-A: one folded', 'X-B: a', 'X-B: two']);
  });

  test('what Go removes: Transfer-Encoding, Trailer, Content-Length of a chunked answer, and of a gzip answer it decompressed', () => {
    expect(goHeaders('HTTP/1.1 200 OK\nTransfer-Encoding: chunked\nContent-Length: 5\nTrailer: X\nA: b')).toEqual(['A: b']);
    expect(goHeaders('HTTP/1.1 200 OK\nContent-Encoding: gzip\nContent-Length: 30', { gunzipped: true })).toEqual([]);
    expect(goHeaders('HTTP/1.1 200 OK\nContent-Encoding: gzip\nContent-Length: 30')).toEqual(['Content-Encoding: gzip', 'Content-Length: 30']);
    expect(goHeaders('HTTP/1.1 200 OK\nContent-Length: 3\nContent-Length: 3')).toEqual(['Content-Length: 3']);
  });

  test("curl's cert path: : and \\ escaped, relative paths anchored (no pkcs11: URI)", () => {
    expect(curlCertPath('/etc/a:b\\c.pem')).toBe('/etc/a\\:b\\\\c.pem');
    expect(curlCertPath('pkcs11:x.pem')).toBe('./pkcs11\\:x.pem');
  });

  test('wget keeps no body of an error answer: the body is unknown (an error), never the empty text', () => {
    const r: ResourceSpec = {
      type: 'http',
      key: 'http://127.0.0.1/missing',
      probeId: 'r0',
      checks: [
        { name: 'status', value: 404, matcher: compileMatcher(404), pos: { file: 'g.yml' } },
        { name: 'body', value: ['!error page'], matcher: compileMatcher({ 'have-patterns': ['!error page'] }), pos: { file: 'g.yml' } },
      ],
      options: {},
      skip: false,
      pos: { file: 'g.yml' },
    };
    // What GNU wget -q -S writes for a 404 (headers on stderr, exit 8, the output file left empty).
    const own = new Map([['tool', 'wget'], ['c.rc', '8'], ['c.out', ''], ['c.err', '  HTTP/1.1 404 Not Found\n  Content-Length: 15\n'], ['body', '']]);
    const o = httpDef.observe(r, { own, facts: new Map() });
    expect(o.status).toEqual({ value: 404 });
    expect(o.body).toMatchObject({ error: expect.stringContaining('does not keep the body of an HTTP 404 answer') });
    own.set('c.err', '  HTTP/1.1 200 OK\n').set('c.rc', '0').set('body', 'ok\n');
    expect(httpDef.observe(r, { own, facts: new Map() }).body).toEqual({ value: 'ok\n' });
  });
});
