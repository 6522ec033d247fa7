import { joinSh, sh } from '../shell.js';
import type { Observation, ResourceDef, ResourceSpec } from '../types.js';
import { err, every, firstLine, out, rc, target } from './common.js';

const CURL_ONLY = ['method', 'request-headers', 'request-body', 'username', 'password', 'ca-file', 'cert-file', 'key-file', 'proxy'];

/** Proxy schemes Go's transport can use (any other fails every request: "unsupported proxy scheme"). */
const PROXY_SCHEMES = ['http', 'https', 'socks5', 'socks5h'];

/** RFC 9110 token: a header name or a method. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** The last response's header block (redirects, 100 Continue and a proxy's CONNECT answer produce one block each). */
function lastBlock(headers: string): string {
  const blocks = headers.replace(/\r/g, '').split(/\n(?=HTTP\/)/);
  return (blocks[blocks.length - 1] ?? '').trim();
}

/** Go's textproto.CanonicalMIMEHeaderKey: `content-type` -> `Content-Type`; a key with a byte that is not a token character stays as it is. */
export function canonicalHeaderKey(k: string): string {
  if (!TOKEN.test(k)) return k;
  let upper = true;
  let res = '';
  for (const c of k) {
    res += upper ? c.toUpperCase() : c.toLowerCase();
    upper = c === '-';
  }
  return res;
}

/**
 * goss's `headers` (system/http.go `HeaderToArray`) from a raw header block:
 * no status line; each field as `Name: value` with Go's canonical name and
 * the value trimmed (continuation lines joined with a space); what Go's
 * client removes is removed (Transfer-Encoding always, Content-Length of a
 * chunked response, Trailer, and Content-Encoding and Content-Length of a
 * gzip response it decompressed itself); sorted (byte order).
 */
export function goHeaders(block: string, opts: { gunzipped?: boolean } = {}): string[] {
  const fields: [string, string][] = [];
  for (const line of block.replace(/\r/g, '').split('\n').slice(1)) {
    if (/^[ \t]/.test(line) && fields.length) {
      const last = fields[fields.length - 1]!;
      last[1] = `${last[1]} ${line.trim()}`.trim();
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    fields.push([canonicalHeaderKey(line.slice(0, colon)), line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '')]);
  }
  const has = (k: string) => fields.some(([n]) => n === k);
  const drop = new Set(['Transfer-Encoding', 'Trailer']);
  if (fields.some(([n, v]) => n === 'Transfer-Encoding' && /^\s*chunked\s*(,|$)/i.test(v))) drop.add('Content-Length');
  if (opts.gunzipped && fields.some(([n, v]) => n === 'Content-Encoding' && v.toLowerCase() === 'gzip')) {
    drop.add('Content-Encoding');
    drop.add('Content-Length');
  }
  if (has('Content-Length') && fields.filter(([n]) => n === 'Content-Length').every(([, v]) => v === '')) drop.add('Content-Length');
  const out = fields.filter(([n]) => !drop.has(n)).map(([n, v]) => `${n}: ${v}`);
  // Repeated equal Content-Length fields are one (Go dedups them).
  const cls = out.filter((l) => l.startsWith('Content-Length: '));
  const rest = cls.length > 1 && new Set(cls).size === 1 ? [...out.filter((l) => !l.startsWith('Content-Length: ')), cls[0]!] : out;
  return rest.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * Why curl could not use this proxy URL the way goss would. curl ignores a
 * proxy whose user name or password holds a control character once
 * percent-decoded, and then connects directly: a check that should go
 * through the proxy would silently bypass it.
 */
function proxyProblem(proxy: string): string | undefined {
  let u: URL;
  try {
    u = new URL(proxy);
  } catch {
    return `proxy ${JSON.stringify(proxy)} is not a valid URL`;
  }
  if (!u.hostname) return `proxy ${JSON.stringify(proxy)} has no host`;
  let creds: string;
  try {
    creds = decodeURIComponent(u.username) + decodeURIComponent(u.password);
  } catch {
    return `proxy ${JSON.stringify(proxy)} has a malformed percent-escape in its user name or password`;
  }
  if (/[\0-\x1f]/.test(creds)) return 'the proxy user name or password holds a control character: curl would ignore the proxy and connect directly, so the check cannot be made as goss makes it';
  return undefined;
}

/** Whether Go's transport asks for gzip itself (and so decompresses): no Accept-Encoding or Range of the user's, not HEAD. */
function goAsksGzip(r: ResourceSpec): boolean {
  const headers = (r.options['request-headers'] as string[] | undefined) ?? [];
  return r.options.method !== 'HEAD' && !headers.some((h) => /^(accept-encoding|range): /i.test(h));
}

/** A path for curl's `cert`, which reads `:` as the start of a password and `\\` as an escape; relative paths get `./` (a `pkcs11:` prefix would be a PKCS#11 URI). */
export function curlCertPath(p: string): string {
  const rel = p.startsWith('/') ? p : `./${p}`;
  return rel.replace(/[\\:]/g, (c) => `\\${c}`);
}

/** A curl config-file string: curl reads \\ \" \t \n \r \v in double quotes, every other character as it is. */
export function curlQuote(s: string): string {
  const esc: Record<string, string> = { '\\': '\\\\', '"': '\\"', '\t': '\\t', '\n': '\\n', '\r': '\\r', '\v': '\\v' };
  return `"${s.replace(/[\\"\t\n\r\v]/g, (c) => esc[c]!)}"`;
}

function headerProblem(h: unknown): string | undefined {
  if (typeof h !== 'string') return `request-headers must be "Name: value" strings, found ${JSON.stringify(h)}`;
  const sep = h.indexOf(': ');
  if (sep < 0) return `request header ${JSON.stringify(h)} must be "Name: value" (goss splits it at ": ")`;
  if (!TOKEN.test(h.slice(0, sep))) return `request header name ${JSON.stringify(h.slice(0, sep))} is not a valid HTTP header name`;
  if (/[\r\n\0]/.test(h)) return `request header ${JSON.stringify(h)} contains a line break or NUL, which HTTP does not allow`;
  return undefined;
}

/**
 * Everything of the request that comes from the gossfile, as one curl config
 * file (`curl -K`): the URL, method, headers, body, credentials and CA file
 * reach curl as literal strings, never as options, `@file` references or URL
 * globs, and nothing of them shows in the process list. goss sends the
 * literal text, with no Content-Type of its own.
 */
export function curlConfig(r: ResourceSpec): string {
  const o = r.options;
  // Go's client with its own TLS config speaks HTTP/1.1 only (no ForceAttemptHTTP2).
  const lines = [`url = ${curlQuote(target(r, 'url'))}`, 'http1.1'];
  const body = typeof o['request-body'] === 'string' ? o['request-body'] : undefined;
  const method = typeof o.method === 'string' ? o.method : body !== undefined ? 'GET' : undefined;
  // HEAD as a custom request would wait for a body that never comes: curl's own HEAD (-I) instead.
  if (method === 'HEAD') lines.push('head');
  else if (method !== undefined) lines.push(`request = ${curlQuote(method)}`);
  const headers = (o['request-headers'] as string[] | undefined) ?? [];
  for (const h of headers) {
    const [name, value] = [h.slice(0, h.indexOf(': ')), h.slice(h.indexOf(': ') + 2)];
    // curl drops a header given as "Name:"; "Name;" sends it with an empty value, as goss does.
    lines.push(`header = ${curlQuote(value === '' ? `${name};` : `${name}: ${value}`)}`);
  }
  if (body !== undefined) {
    lines.push(`data-raw = ${curlQuote(body)}`);
    if (!headers.some((h) => /^content-type: /i.test(h))) lines.push('header = "Content-Type:"');
  }
  // goss's transport keeps no connection alive: Go adds "Connection: close" unless the request already says close.
  if (!headers.some((h) => /^connection: /i.test(h) && /(^|,)\s*close\s*(,|$)/i.test(h.slice(h.indexOf(': ') + 2)))) lines.push('header = "Connection: close"');
  // Go's transport asks for gzip and decompresses the answer itself (headers: see goHeaders).
  if (goAsksGzip(r)) lines.push('header = "Accept-Encoding: gzip"', 'compressed');
  if (typeof o.username === 'string' || typeof o.password === 'string') lines.push(`user = ${curlQuote(`${String(o.username ?? '')}:${String(o.password ?? '')}`)}`);
  if (typeof o['ca-file'] === 'string') lines.push(`cacert = ${curlQuote(o['ca-file'])}`);
  if (typeof o['cert-file'] === 'string' && typeof o['key-file'] === 'string') {
    // An empty passphrase: an encrypted key fails, as in Go, instead of curl asking on a terminal.
    lines.push(`cert = ${curlQuote(curlCertPath(o['cert-file']))}`, `key = ${curlQuote(o['key-file'].startsWith('/') ? o['key-file'] : `./${o['key-file']}`)}`, 'pass = ""');
  }
  if (typeof o.proxy === 'string') {
    // Go's socks5 sends host names to the proxy: curl's socks5h. An explicit proxy is used for every host (no no_proxy).
    lines.push(`proxy = ${curlQuote(o.proxy.replace(/^socks5:/i, 'socks5h:'))}`, 'noproxy = ""');
  }
  return `${lines.join('\n')}\n`;
}

/**
 * `http`: status, body and headers (line patterns), fetched on the target with
 * curl (or wget for plain GETs). Redirects are followed unless
 * `no-follow-redirects` (to http and https only, as goss's Go client);
 * `timeout` is in milliseconds, default 5000 (goss). A refused connection is a
 * failure (nothing answered), not an error.
 */
export const httpDef: ResourceDef = {
  type: 'http',
  gate: 'status',
  attrs: { status: 'value', body: 'patterns', headers: 'patterns' },
  options: ['url', 'allow-insecure', 'no-follow-redirects', 'timeout', ...CURL_ONLY],
  validate(r) {
    const o = r.options;
    if (!/^https?:\/\/[^\s]/.test(target(r, 'url'))) return `url must start with http:// or https://, found ${JSON.stringify(target(r, 'url'))}`;
    if (/[\s\0]/.test(target(r, 'url'))) return `url must not contain spaces or control characters (percent-encode them), found ${JSON.stringify(target(r, 'url'))}`;
    const rh = o['request-headers'];
    if (rh !== undefined && !Array.isArray(rh)) return 'request-headers must be a list of "Name: value" strings';
    for (const h of (rh as unknown[] | undefined) ?? []) {
      const bad = headerProblem(h);
      if (bad) return bad;
    }
    if (o.method !== undefined && (typeof o.method !== 'string' || !TOKEN.test(o.method))) return `method must be an HTTP method name (a token such as GET), found ${JSON.stringify(o.method)}`;
    if (o['request-body'] !== undefined && typeof o['request-body'] !== 'string') return 'request-body must be a string';
    if (o.username !== undefined && (typeof o.username !== 'string' || o.username.includes(':'))) return 'username must be a string without ":" (HTTP basic authentication cannot carry it)';
    if (o.password !== undefined && typeof o.password !== 'string') return 'password must be a string';
    if (o['ca-file'] !== undefined && typeof o['ca-file'] !== 'string') return 'ca-file must be a path';
    for (const k of ['cert-file', 'key-file'] as const) if (o[k] !== undefined && (typeof o[k] !== 'string' || o[k] === '')) return `${k} must be a path`;
    if ((o['cert-file'] === undefined) !== (o['key-file'] === undefined)) return 'cert-file and key-file go together: goss uses a client certificate only when both are given (and silently ignores one alone)';
    if (o.proxy !== undefined) {
      const scheme = typeof o.proxy === 'string' ? /^([A-Za-z][A-Za-z0-9+.-]*):\/\/[^\s/]/.exec(o.proxy)?.[1]?.toLowerCase() : undefined;
      if (!scheme || !PROXY_SCHEMES.includes(scheme) || /[\s\0]/.test(o.proxy as string)) return `proxy must be a URL such as http://proxy:3128 (scheme ${PROXY_SCHEMES.join(', ')}; Go's client refuses any other), found ${JSON.stringify(o.proxy)}`;
      const bad = proxyProblem(o.proxy as string);
      if (bad) return bad;
    }
    if (o.timeout !== undefined && (typeof o.timeout !== 'number' || !(o.timeout > 0))) return `timeout must be a positive number of milliseconds, found ${JSON.stringify(o.timeout)}`;
    return undefined;
  },
  probe(r, { id, val }) {
    const o = r.options;
    const secs = Math.max(1, Math.round(typeof o.timeout === 'number' ? o.timeout : 5000)) / 1000;
    const insecure = o['allow-insecure'] === true;
    const usesCurlOnly = CURL_ONLY.some((k) => o[k] !== undefined) || o['no-follow-redirects'] === true;
    // -q first: no ~/.curlrc. -g: no URL globbing. The config file is written from the value with printf, a builtin.
    const curl = joinSh(
      [
        sh`printf '%s' ${val(curlConfig(r))} >"$HM_T/curl"`,
        sh`hm_capture ${id} body; _b=$HM_F; hm_capture ${id} headers; _h=$HM_F`,
        sh`hm_val ${id} tool curl; hm_run ${id} c curl -q -sS -g -K "$HM_T/curl" -o "$_b" -D "$_h" -w '%{http_code}' --max-time ${secs} --max-redirs 10 --proto-redir =http,https ${insecure ? sh`-k` : sh``} ${o['no-follow-redirects'] === true ? sh`` : sh`-L`}`,
      ],
      '; ',
    );
    const wget = sh`hm_capture ${id} body; hm_val ${id} tool wget; hm_run ${id} c wget -q -S -O "$HM_F" -T ${Math.ceil(secs)} ${insecure ? sh`--no-check-certificate` : sh``} -- ${val(target(r, 'url'))}`;
    return usesCurlOnly ? sh`if hm_has curl; then ${curl}; fi` : sh`if hm_has curl; then ${curl}; elif hm_has wget; then ${wget}; fi`;
  },
  observe(r, data) {
    const tool = data.own.get('tool');
    const url = target(r, 'url');
    if (!tool) return every(r, { error: 'curl is not installed on the target (wget serves only plain GET requests)' });
    const code = rc(data, 'c');
    // A response to HEAD has no body (curl -I writes the headers there).
    const body = r.options.method === 'HEAD' ? '' : (data.own.get('body') ?? '');
    let status: number;
    let headers: string;
    if (tool === 'curl') {
      status = Number(out(data, 'c').trim());
      headers = goHeaders(lastBlock(data.own.get('headers') ?? ''), { gunzipped: goAsksGzip(r) }).join('\n');
      if (code !== 0 || !status) {
        const why = `no response from ${url}: ${firstLine(err(data, 'c')) || `curl exit ${code}`}`;
        return every(r, { missing: why });
      }
    } else {
      // wget -S writes the response headers to stderr.
      const lines = (data.own.get('c.err') ?? '').split('\n').map((l) => l.trim());
      const idx = lines.map((l, i) => (/^HTTP\/\S+ \d{3}/.test(l) ? i : -1)).filter((i) => i >= 0).pop();
      if (idx === undefined) return every(r, { missing: `no response from ${url}: ${firstLine(data.own.get('c.err') ?? '') || `wget exit ${code}`}` });
      status = Number(lines[idx]!.split(' ')[1]);
      headers = goHeaders(lines.slice(idx).filter(Boolean).join('\n')).join('\n');
    }
    // wget keeps no body of an error answer (GNU: ERROR 404, the file left empty; busybox: none): unknown, never "".
    const bodyObs: Observation = tool === 'wget' && status >= 400 ? { error: `wget does not keep the body of an HTTP ${status} answer (install curl on the target to check it)` } : { value: body };
    return { status: { value: status }, body: bodyObs, headers: { value: headers } };
  },
};
