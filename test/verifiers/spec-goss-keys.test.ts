/**
 * The goss keys of issue 11 §5 that the spec verifier used to refuse or
 * compute differently, run for real on this machine (`--target local`
 * style: LocalConnection, no VM), each value computed here the way goss
 * computes it (goss-org/goss resource/*.go, system/*.go) and compared with
 * what the verifier found. Servers the checks talk to (DNS, HTTP, proxy,
 * TLS with client certificates, UDP) are loopback servers this test starts.
 */
import { execFileSync } from 'node:child_process';
import dgram from 'node:dgram';
import { readFileSync, statfsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import dnsPacket from 'dns-packet';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ConfigError } from '../../src/kernel/errors.js';
import { LocalConnection } from '../../src/transports/local/connection.js';
import { parseSpecText } from '../../src/verifiers/spec/load.js';
import { runSpecChecks, type SpecRun } from '../../src/verifiers/spec/run.js';

let dir: string;
const servers: { close(cb: () => void): unknown }[] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'hallmark-spec-keys-'));
});

afterAll(async () => {
  for (const s of servers) await new Promise<void>((r) => s.close(() => r()));
  await rm(dir, { recursive: true, force: true });
});

async function listen<T extends http.Server | https.Server>(server: T): Promise<number> {
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

async function loadError(yaml: string): Promise<string> {
  try {
    await parseSpecText(yaml, path.join(dir, 'bad.yml'));
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error(`loaded without error: ${yaml}`);
}

async function run(yaml: string): Promise<SpecRun> {
  const file = path.join(dir, `g${Math.random().toString(36).slice(2)}.yml`);
  await writeFile(file, yaml);
  return runSpecChecks(new LocalConnection(), [file], { sudo: false, timeoutSec: 60 });
}

function statuses(r: SpecRun): string[] {
  return r.results.map((c) => `${c.resource} ${c.property}: ${c.status}${c.status === 'pass' ? '' : ` (${c.message})`}`);
}

describe('mount: opts, vfs-opts and usage as goss computes them', () => {
  test('/ : per-mount opts, superblock vfs-opts, statfs usage; superblock options and df\'s percentage do not leak in', async () => {
    // goss: the first /proc/self/mountinfo entry of "/", field 6 and the last field.
    const line = readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .map((l) => l.split(' '))
      .find((f) => f[4] === '/')!;
    const opts = [...new Set(line[5]!.split(','))];
    const vfs = line.at(-1)!.split(',');
    const superOnly = vfs.filter((o) => !opts.includes(o));
    const st = statfsSync('/');
    const usage = Math.round((1 - st.bfree / st.blocks) * 100);
    // df -P: used / (used + available), rounded up.
    const used = st.blocks - st.bfree;
    const df = Math.ceil((used / (used + st.bavail)) * 100);
    const res = await run(
      [
        'mount:',
        '  /:',
        '    exists: true',
        `    opts: {consist-of: ${JSON.stringify(opts)}}`,
        `    vfs-opts: {consist-of: ${JSON.stringify(vfs)}}`,
        `    usage: ${usage}`,
        ...(superOnly.length ? ['  superblock-options-are-not-opts:', '    mountpoint: /', '    exists: true', `    opts: ${JSON.stringify(superOnly)}`] : []),
        ...(df !== usage ? ['  df-percentage-is-not-usage:', '    mountpoint: /', '    exists: true', `    usage: ${df}`] : []),
      ].join('\n'),
    );
    expect(statuses(res)).toEqual([
      '/ exists: pass',
      '/ opts: pass',
      '/ vfs-opts: pass',
      '/ usage: pass',
      ...(superOnly.length ? ['superblock-options-are-not-opts exists: pass', expect.stringMatching(/^superblock-options-are-not-opts opts: fail/)] : []),
      ...(df !== usage ? ['df-percentage-is-not-usage exists: pass', expect.stringMatching(/^df-percentage-is-not-usage usage: fail/)] : []),
    ]);
  });

  test('a mount without blocks (/proc) has no usage in goss (0/0): an error, never a pass', async () => {
    const res = await run('mount:\n  /proc: {exists: true, filesystem: proc, vfs-opts: [rw], usage: {lt: 100}}\n');
    expect(res.results.map((r) => [r.property, r.status])).toEqual([
      ['exists', 'pass'],
      ['filesystem', 'pass'],
      ['vfs-opts', 'pass'],
      ['usage', 'error'],
    ]);
  });
});

describe('http: headers as goss computes them, proxy, cert-file/key-file', () => {
  let port: number;
  const seen: http.IncomingHttpHeaders[] = [];
  beforeAll(async () => {
    const server = http.createServer((req, res) => {
      seen.push(req.headers);
      res.sendDate = false;
      if (req.url === '/gzip') {
        const gz = /gzip/.test(String(req.headers['accept-encoding'] ?? ''));
        const body = gz ? gzipSync('hello gzip\n') : Buffer.from('hello gzip\n');
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length, ...(gz ? { 'content-encoding': 'gzip' } : {}) });
        res.end(body);
        return;
      }
      // Raw field names as written, a value with blanks around it, a repeated field, a chunked body.
      res.writeHead(200, [
        ['x-lower', '  v  '],
        ['X-Dup', 'b'],
        ['X-Dup', 'a'],
        ['content-type', 'text/plain'],
      ]);
      if (req.method === 'HEAD') return void res.end();
      res.write('chunk one\n');
      res.end('chunk two\n');
    });
    port = await listen(server);
  });

  test('headers: canonical names, trimmed values, one line per value, sorted; no status line, no Transfer-Encoding', async () => {
    const url = `http://127.0.0.1:${port}/h`;
    const res = await run(
      stringify({
        http: {
          [url]: { status: 200, headers: 'Connection: close\nContent-Type: text/plain\nX-Dup: a\nX-Dup: b\nX-Lower: v', body: 'chunk one\nchunk two\n' },
          'status-line': { url, status: 200, headers: ['/^HTTP\\//'] },
          'transfer-encoding': { url, status: 200, headers: ['Transfer-Encoding'] },
          'raw-name': { url, status: 200, headers: ['x-lower'] },
        },
      }),
    );
    expect(statuses(res)).toEqual([
      `${url} status: pass`,
      `${url} headers: pass`,
      `${url} body: pass`,
      'status-line status: pass',
      expect.stringMatching(/^status-line headers: fail/),
      'transfer-encoding status: pass',
      expect.stringMatching(/^transfer-encoding headers: fail/),
      'raw-name status: pass',
      expect.stringMatching(/^raw-name headers: fail/),
    ]);
  });

  test('gzip: Go asks for it and decompresses, dropping Content-Encoding and Content-Length; not when the gossfile sets Accept-Encoding', async () => {
    const url = `http://127.0.0.1:${port}/gzip`;
    const res = await run(
      stringify({
        http: {
          [url]: { status: 200, body: 'hello gzip\n', headers: 'Connection: close\nContent-Type: text/plain' },
          identity: { url, status: 200, 'request-headers': ['Accept-Encoding: identity'], body: 'hello gzip\n', headers: ['Content-Length: 11'] },
        },
      }),
    );
    expect(statuses(res)).toEqual([`${url} status: pass`, `${url} body: pass`, `${url} headers: pass`, 'identity status: pass', 'identity body: pass', 'identity headers: pass']);
  });

  test('method HEAD answers at once with an empty body (curl is not left waiting for one)', async () => {
    const res = await run(stringify({ http: { head: { url: `http://127.0.0.1:${port}/h`, method: 'HEAD', status: 200, body: '', headers: ['X-Dup: a'], timeout: 20000 } } }));
    expect(statuses(res)).toEqual(['head status: pass', 'head body: pass', 'head headers: pass']);
    expect(seen.at(-1)!.connection).toBe('close');
  });

  test('proxy: the request goes through it (the host is never resolved here); a proxy URL Go cannot use is refused at load', async () => {
    const via: string[] = [];
    const proxy = http.createServer((req, res) => {
      via.push(req.url!);
      res.end('via proxy\n');
    });
    const pport = await listen(proxy);
    const res = await run(stringify({ http: { 'http://hallmark-proxied.invalid/p': { status: 200, body: 'via proxy\n', proxy: `http://127.0.0.1:${pport}` } } }));
    expect(statuses(res)).toEqual(['http://hallmark-proxied.invalid/p status: pass', 'http://hallmark-proxied.invalid/p body: pass']);
    expect(via).toEqual(['http://hallmark-proxied.invalid/p']);
    expect(await loadError(stringify({ http: { x: { url: 'http://a/', status: 200, proxy: '127.0.0.1:3128' } } }))).toMatch(/proxy must be a URL/);
    expect(await loadError(stringify({ http: { x: { url: 'http://a/', status: 200, proxy: 'ftp://p:21' } } }))).toMatch(/proxy must be a URL/);
    // curl would ignore this proxy and connect directly: refused rather than bypassed.
    expect(await loadError(stringify({ http: { x: { url: 'http://a/', status: 200, proxy: 'http://u:a%0Ab@127.0.0.1:3128' } } }))).toMatch(/curl would ignore the proxy/);
  });

  test('cert-file and key-file: a client certificate a TLS server requires; one without the other is refused', async () => {
    const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=hallmark test CA');
    for (const [name, cn, ext] of [
      ['server', '127.0.0.1', 'subjectAltName=IP:127.0.0.1'],
      ['client', 'hallmark client', 'extendedKeyUsage=clientAuth'],
    ] as const) {
      ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
      await writeFile(path.join(dir, `${name}.ext`), `${ext}\n`);
      ssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '2', '-extfile', `${name}.ext`);
    }
    const f = (n: string) => path.join(dir, n);
    const tls = https.createServer({ key: await readFile(f('server.key')), cert: await readFile(f('server.pem')), ca: await readFile(f('ca.pem')), requestCert: true, rejectUnauthorized: true }, (req, res) => {
      res.end(`hello ${(req.socket as import('node:tls').TLSSocket).getPeerCertificate().subject.CN}\n`);
    });
    const tport = await listen(tls);
    const url = `https://127.0.0.1:${tport}/`;
    const res = await run(
      stringify({
        http: {
          [url]: { status: 200, body: 'hello hallmark client\n', 'ca-file': f('ca.pem'), 'cert-file': f('client.pem'), 'key-file': f('client.key') },
          'no-client-cert': { url, status: 200, 'ca-file': f('ca.pem') },
        },
      }),
    );
    expect(statuses(res)).toEqual([`${url} status: pass`, `${url} body: pass`, expect.stringMatching(/^no-client-cert status: fail/)]);
    expect(await loadError(stringify({ http: { x: { url, status: 200, 'cert-file': f('client.pem') } } }))).toMatch(/cert-file and key-file go together/);
  });
});

describe('addr: udp, no scheme, local-address (goss dials with Go: connect, bind)', () => {
  test('udp is reachable whenever it resolves (connecting a udp socket sends nothing); tcp is the default scheme; local-address binds first', async () => {
    const server = http.createServer((_q, s) => s.end());
    const port = await listen(server);
    const res = await run(
      stringify({
        addr: {
          'udp://127.0.0.1:9': { reachable: true },
          'udp://hallmark-no-such-host.invalid:53': { reachable: false },
          [`127.0.0.1:${port}`]: { reachable: true },
          'bound-loopback': { address: `tcp://127.0.0.1:${port}`, 'local-address': '127.0.0.2', reachable: true },
          'bound-udp': { address: 'udp://127.0.0.1:9', 'local-address': '127.0.0.1', reachable: true },
          'bound-other-family': { address: `tcp://127.0.0.1:${port}`, 'local-address': '::1', reachable: false },
          'bound-not-here': { address: `tcp://127.0.0.1:${port}`, 'local-address': '192.0.2.1', reachable: false },
          'bound-closed': { address: 'tcp://127.0.0.1:1', 'local-address': '127.0.0.1', reachable: false },
        },
      }),
    );
    expect(statuses(res)).toEqual([
      'udp://127.0.0.1:9 reachable: pass',
      'udp://hallmark-no-such-host.invalid:53 reachable: pass',
      `127.0.0.1:${port} reachable: pass`,
      'bound-loopback reachable: pass',
      'bound-udp reachable: pass',
      'bound-other-family reachable: pass',
      'bound-not-here reachable: pass',
      'bound-closed reachable: pass',
    ]);
    expect(res.results.find((r) => r.resource === 'bound-not-here')!.found).toMatch(/bind 192\.0\.2\.1/);
  });

  test('a local-address that is not an IP (goss would ignore it) and a scheme goss does not dial are refused at load', async () => {
    expect(await loadError(stringify({ addr: { 'tcp://127.0.0.1:22': { reachable: true, 'local-address': 'localhost' } } }))).toMatch(/local-address must be an IP address/);
    expect(await loadError(stringify({ addr: { 'sctp://127.0.0.1:22': { reachable: true } } }))).toMatch(/is not tcp or udp/);
  });
});

describe('dns: server and typed records, as goss asks them (miekg/dns over UDP)', () => {
  let dnsPort: number;
  const asked: string[] = [];
  beforeAll(async () => {
    const zone: Record<string, dnsPacket.Answer[]> = {
      'A hm.test': [
        { type: 'A', name: 'hm.test', data: '192.0.2.2' },
        { type: 'A', name: 'hm.test', data: '192.0.2.1' },
      ],
      'AAAA hm.test': [{ type: 'AAAA', name: 'hm.test', data: '2001:0db8:0:0:0:0:0:1' }],
      'CNAME c.hm.test': [{ type: 'CNAME', name: 'c.hm.test', data: 'a.hm.test' }],
      'MX hm.test': [{ type: 'MX', name: 'hm.test', data: { preference: 10, exchange: 'mx.hm.test' } }],
      'NS hm.test': [{ type: 'NS', name: 'hm.test', data: 'ns1.hm.test' }],
      'SRV _x._tcp.hm.test': [{ type: 'SRV', name: '_x._tcp.hm.test', data: { priority: 0, weight: 5, port: 443, target: 'a.hm.test' } }],
      'TXT hm.test': [{ type: 'TXT', name: 'hm.test', data: ['v=spf1 -all', Buffer.from('a"b\\c\x01')] }],
      'CAA hm.test': [{ type: 'CAA', name: 'hm.test', data: { flags: 0, tag: 'issue', value: 'ca.example' } }],
      'SSHFP hm.test': [{ type: 'SSHFP', name: 'hm.test', data: { algorithm: 4, hash: 2, fingerprint: '99db27696110bb3918599bf35d932d35daa3de09d6f42506fdaa08ebd2ad7311' } }],
      'PTR 1.2.0.192.in-addr.arpa': [{ type: 'PTR', name: '1.2.0.192.in-addr.arpa', data: 'host.hm.test' }],
    };
    const udp = dgram.createSocket('udp4');
    udp.on('message', (msg, from) => {
      const q = dnsPacket.decode(msg);
      const question = q.questions![0]!;
      asked.push(`${question.type} ${question.name}`);
      if (question.name === 'silent.hm.test') return; // never answers
      const answers = zone[`${question.type} ${question.name}`] ?? [];
      const known = Object.keys(zone).some((k) => k.endsWith(` ${question.name}`));
      const reply = dnsPacket.encode({ type: 'response', id: q.id, flags: dnsPacket.RECURSION_DESIRED | (known ? 0 : 3), questions: q.questions, answers });
      udp.send(reply, from.port, from.address);
    });
    await new Promise<void>((r) => udp.bind(0, '127.0.0.1', r));
    dnsPort = udp.address().port;
    servers.push({ close: (cb: () => void) => udp.close(cb) });
  });

  test('each record type reads as goss formats it; addrs sorted; no answer (NXDOMAIN) is resolvable: false', async () => {
    const server = `127.0.0.1:${dnsPort}`;
    const res = await run(
      stringify({
        dns: {
          'A:hm.test': { server, resolvable: true, addrs: { 'consist-of': ['192.0.2.1', '192.0.2.2'] } },
          'hm.test': { server, resolveable: true, addrs: { 'consist-of': ['192.0.2.1', '192.0.2.2', '2001:db8::1'] } },
          'AAAA:hm.test': { server, resolvable: true, addrs: ['2001:db8::1'] },
          'CNAME:c.hm.test': { server, resolvable: true, addrs: ['a.hm.test.'] },
          'MX:hm.test': { server, resolvable: true, addrs: ['10 mx.hm.test.'] },
          'NS:hm.test': { server, resolvable: true, addrs: ['ns1.hm.test.'] },
          'SRV:_x._tcp.hm.test': { server, resolvable: true, addrs: ['0 5 443 a.hm.test.'] },
          'TXT:hm.test': { server, resolvable: true, addrs: { 'consist-of': ['v=spf1 -all', 'a\\"b\\\\c\\001'] } },
          'CAA:hm.test': { server, resolvable: true, addrs: ['0 issue ca.example'] },
          'SSHFP:hm.test': { server, resolvable: true, addrs: ['4 2 99DB27696110BB3918599BF35D932D35DAA3DE09D6F42506FDAA08EBD2AD7311'] },
          'PTR:192.0.2.1': { server, resolvable: true, addrs: ['host.hm.test.'] },
          'A:nx.hm.test': { server, resolvable: false, addrs: [] },
          'MX:nx.hm.test': { server, resolvable: true },
        },
      }),
    );
    expect(statuses(res)).toEqual([
      'A:hm.test resolvable: pass',
      'A:hm.test addrs: pass',
      'hm.test resolvable: pass',
      'hm.test addrs: pass',
      'AAAA:hm.test resolvable: pass',
      'AAAA:hm.test addrs: pass',
      'CNAME:c.hm.test resolvable: pass',
      'CNAME:c.hm.test addrs: pass',
      'MX:hm.test resolvable: pass',
      'MX:hm.test addrs: pass',
      'NS:hm.test resolvable: pass',
      'NS:hm.test addrs: pass',
      'SRV:_x._tcp.hm.test resolvable: pass',
      'SRV:_x._tcp.hm.test addrs: pass',
      'TXT:hm.test resolvable: pass',
      'TXT:hm.test addrs: pass',
      'CAA:hm.test resolvable: pass',
      'CAA:hm.test addrs: pass',
      'SSHFP:hm.test resolvable: pass',
      'SSHFP:hm.test addrs: pass',
      'PTR:192.0.2.1 resolvable: pass',
      'PTR:192.0.2.1 addrs: pass',
      'A:nx.hm.test resolvable: pass',
      expect.stringMatching(/^A:nx.hm.test addrs: skip/),
      expect.stringMatching(/^MX:nx.hm.test resolvable: fail/),
    ]);
    // sorted as goss sorts them, A and AAAA both asked when there is no type
    expect(res.results.find((r) => r.resource === 'A:hm.test' && r.property === 'addrs')!.found).toBe('["192.0.2.1", "192.0.2.2"]');
    expect(asked).toEqual(expect.arrayContaining(['A hm.test', 'AAAA hm.test', 'PTR 1.2.0.192.in-addr.arpa']));
  });

  test('a typed query that gets no answer is an error (goss: the exchange failed); an untyped one is resolvable: false', async () => {
    const server = `127.0.0.1:${dnsPort}`;
    const res = await run(stringify({ dns: { 'A:silent.hm.test': { server, resolvable: false }, 'silent.hm.test': { server, resolvable: false } } }));
    expect(res.results.map((r) => [r.resource, r.status])).toEqual([
      ['A:silent.hm.test', 'error'],
      ['silent.hm.test', 'pass'],
    ]);
    expect(res.results[0]!.message).toMatch(/no answer from 127\.0\.0\.1:\d+ within the timeout/);
  });

  test('without a server a typed name is a plain lookup of the name (goss: net.LookupHost); what cannot be asked is refused at load', async () => {
    const res = await run(stringify({ dns: { 'A:localhost': { resolvable: true, addrs: { 'contain-element': '127.0.0.1' } } } }));
    expect(statuses(res)).toEqual(['A:localhost resolvable: pass', 'A:localhost addrs: pass']);
    expect(await loadError(stringify({ dns: { 'PTR:not-an-ip': { server: '127.0.0.1', resolvable: true } } }))).toMatch(/PTR lookup takes an IP address/);
    expect(await loadError(stringify({ dns: { 'A:a..b': { server: '127.0.0.1', resolvable: true } } }))).toMatch(/empty label/);
    expect(await loadError(stringify({ dns: { x: { server: '127.0.0.1:99999', resolvable: true } } }))).toMatch(/port must be a number/);
  });
});

describe('retry_count / retry_delay (goss resource/retry.go)', () => {
  test('a command that fails once passes with retry_count 1 (rerun whole, after retry_delay); without retries it fails', async () => {
    const flag = (n: string) => path.join(dir, `retry-${n}`);
    const cmd = (n: string) => `test -e ${flag(n)} || { touch ${flag(n)}; echo first; exit 1; }; echo again`;
    const res = await run(
      stringify({
        command: {
          retried: { exec: cmd('a'), 'exit-status': 0, stdout: 'again\n', retry_count: 1, retry_delay: '10ms' },
          'not-retried': { exec: cmd('b'), 'exit-status': 0 },
          'retried-in-vain': { exec: 'echo no; exit 3', 'exit-status': 0, retry_count: 2, retry_delay: 5 },
        },
      }),
    );
    expect(statuses(res)).toEqual(['retried exit-status: pass', 'retried stdout: pass', expect.stringMatching(/^not-retried exit-status: fail/), expect.stringMatching(/^retried-in-vain exit-status: fail/)]);
    expect(await loadError(stringify({ command: { x: { 'exit-status': 0, retry_delay: 'soon' } } }))).toMatch(/invalid retry_delay value "soon"/);
    expect(await loadError(stringify({ command: { x: { 'exit-status': 0, retry_count: 1.5 } } }))).toMatch(/retry_count must be a whole number/);
  });
});
