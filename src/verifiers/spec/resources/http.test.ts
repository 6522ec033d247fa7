import { describe, expect, test } from 'vitest';
import { canonicalHeaderKey, curlCertPath, goHeaders } from './http.js';

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
});
