import { shq } from '../shell.js';
import type { Observation, ResourceDef } from '../types.js';
import { err, every, firstLine, out, rc, target } from './common.js';

const CURL_ONLY = ['method', 'request-headers', 'request-body', 'username', 'password', 'ca-file'];

/** The last response's header block (redirects produce one block each). */
function lastBlock(headers: string): string {
  const blocks = headers.replace(/\r/g, '').split(/\n(?=HTTP\/)/);
  return (blocks[blocks.length - 1] ?? '').trim();
}

/**
 * `http`: status, body and headers (line patterns), fetched on the target with
 * curl (or wget for plain GETs). Redirects are followed unless
 * `no-follow-redirects`; `timeout` is in milliseconds, default 5000 (goss).
 * A refused connection is a failure (nothing answered), not an error.
 */
export const httpDef: ResourceDef = {
  type: 'http',
  attrs: { status: 'value', body: 'patterns', headers: 'patterns' },
  options: ['url', 'allow-insecure', 'no-follow-redirects', 'timeout', ...CURL_ONLY],
  validate(r) {
    if (!/^https?:\/\//.test(target(r, 'url'))) return `url must start with http:// or https://, found ${JSON.stringify(target(r, 'url'))}`;
    const rh = r.options['request-headers'];
    if (rh !== undefined && (!Array.isArray(rh) || rh.some((h) => typeof h !== 'string'))) return 'request-headers must be a list of "Name: value" strings';
    return undefined;
  },
  probe(r) {
    const o = r.options;
    const url = shq(target(r, 'url'));
    const secs = ((typeof o.timeout === 'number' ? o.timeout : 5000) / 1000).toString();
    const curl = ['curl', '-sS', '-o', '"$HM_T/hb"', '-D', '"$HM_T/hh"', '-w', `'%{http_code}'`, '--max-time', secs];
    if (o['allow-insecure'] === true) curl.push('-k');
    if (o['no-follow-redirects'] !== true) curl.push('-L');
    if (typeof o.method === 'string') curl.push('-X', shq(o.method));
    for (const h of (o['request-headers'] as string[] | undefined) ?? []) curl.push('-H', shq(h));
    if (typeof o['request-body'] === 'string') curl.push('--data-binary', shq(o['request-body']));
    if (typeof o.username === 'string') curl.push('-u', shq(`${o.username}:${String(o.password ?? '')}`));
    if (typeof o['ca-file'] === 'string') curl.push('--cacert', shq(o['ca-file']));
    curl.push(url);
    const wget = ['wget', '-q', '-S', '-O', '"$HM_T/hb"', '-T', String(Math.max(1, Math.ceil(Number(secs))))];
    if (o['allow-insecure'] === true) wget.push('--no-check-certificate');
    wget.push(url, '2>"$HM_T/hh"');
    const id = r.probeId;
    const usesCurlOnly = CURL_ONLY.some((k) => o[k] !== undefined) || o['no-follow-redirects'] === true;
    return [
      `rm -f "$HM_T/hb" "$HM_T/hh"; : >"$HM_T/hb"; : >"$HM_T/hh"`,
      `if hm_has curl; then hm_val ${id} tool curl; hm_cap ${id} c ${shq(curl.join(' '))}`,
      usesCurlOnly ? '' : `elif hm_has wget; then hm_val ${id} tool wget; hm_cap ${id} c ${shq(wget.join(' '))}`,
      `fi`,
      `hm_file ${id} body "$HM_T/hb"; hm_file ${id} headers "$HM_T/hh"`,
    ]
      .filter(Boolean)
      .join('\n');
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
      const lines = (data.own.get('headers') ?? '').split('\n').map((l) => l.trim());
      const idx = lines.map((l, i) => (/^HTTP\/\S+ \d{3}/.test(l) ? i : -1)).filter((i) => i >= 0).pop();
      if (idx === undefined) return every(r, { missing: `no response from ${url}: ${firstLine(data.own.get('headers') ?? '') || `wget exit ${code}`}` });
      status = Number(lines[idx]!.split(' ')[1]);
      headers = lines.slice(idx).filter(Boolean).join('\n');
    }
    const res: Record<string, Observation> = { status: { value: status }, body: { value: body }, headers: { value: headers } };
    return res;
  },
};
