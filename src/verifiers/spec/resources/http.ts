import { joinSh, sh } from '../shell.js';
import type { Observation, ResourceDef, ResourceSpec } from '../types.js';
import { err, every, firstLine, out, rc, target } from './common.js';

const CURL_ONLY = ['method', 'request-headers', 'request-body', 'username', 'password', 'ca-file'];

/** RFC 9110 token: a header name or a method. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** The last response's header block (redirects produce one block each). */
function lastBlock(headers: string): string {
  const blocks = headers.replace(/\r/g, '').split(/\n(?=HTTP\/)/);
  return (blocks[blocks.length - 1] ?? '').trim();
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
  const lines = [`url = ${curlQuote(target(r, 'url'))}`];
  const body = typeof o['request-body'] === 'string' ? o['request-body'] : undefined;
  const method = typeof o.method === 'string' ? o.method : body !== undefined ? 'GET' : undefined;
  if (method !== undefined) lines.push(`request = ${curlQuote(method)}`);
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
  if (typeof o.username === 'string' || typeof o.password === 'string') lines.push(`user = ${curlQuote(`${String(o.username ?? '')}:${String(o.password ?? '')}`)}`);
  if (typeof o['ca-file'] === 'string') lines.push(`cacert = ${curlQuote(o['ca-file'])}`);
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
        sh`hm_val ${id} tool curl; hm_run ${id} c curl -q -sS -g -K "$HM_T/curl" -o "$_b" -D "$_h" -w '%{http_code}' --max-time ${secs} --proto-redir =http,https ${insecure ? sh`-k` : sh``} ${o['no-follow-redirects'] === true ? sh`` : sh`-L`}`,
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
    const body = data.own.get('body') ?? '';
    let status: number;
    let headers: string;
    if (tool === 'curl') {
      status = Number(out(data, 'c').trim());
      headers = lastBlock(data.own.get('headers') ?? '');
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
      headers = lines.slice(idx).filter(Boolean).join('\n');
    }
    const res: Record<string, Observation> = { status: { value: status }, body: { value: body }, headers: { value: headers } };
    return res;
  },
};
