import { RETRY_OPTIONS } from '../retry.js';
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import dnsPacket from 'dns-packet';
import { joinSh, sh, type Sh } from '../shell.js';
import type { Observation, ProbeData, ResourceDef, ResourceSpec } from '../types.js';
import { absentFor, err, every, firstLine, out, rc, target } from './common.js';

/** Record types goss asks a `server` for (system/dns.go DNSlookup); any other prefix is a plain A + AAAA lookup. */
const TYPED = ['A', 'AAAA', 'PTR', 'CNAME', 'MX', 'NS', 'SRV', 'TXT', 'SSHFP', 'CAA'] as const;
type Typed = (typeof TYPED)[number];

/** goss's split of a dns name: `MX:example.com` is type MX of example.com when the prefix is upper-case letters. */
export function splitDnsName(name: string): { qtype?: string; host: string } {
  const i = name.indexOf(':');
  if (i > 0 && /^[A-Z]+$/.test(name.slice(0, i))) return { qtype: name.slice(0, i), host: name.slice(i + 1) };
  return { host: name };
}

/** goss's parseServerString: `host`, `host:port`, `[v6]:port`; no port means 53. */
export function parseServer(server: string): { host: string; port: string } {
  const m = /^\[([^\]]*)\]:([^:]*)$/.exec(server) ?? /^([^:[\]]*):([^:]*)$/.exec(server);
  return m ? { host: m[1]!, port: m[2]! } : { host: server.replace(/^\[(.*)\]$/, '$1'), port: '53' };
}

/** What is asked: the record types, and whether a failed exchange is an error (typed) or just no answer (LookupHost swallows it). */
function questions(r: ResourceSpec): { types: Typed[]; typed: boolean } {
  const { qtype } = splitDnsName(target(r, 'resolve'));
  return TYPED.includes(qtype as Typed) ? { types: [qtype as Typed], typed: true } : { types: ['A', 'AAAA'], typed: false };
}

/** dns.ReverseAddr: the PTR question of an IP address. */
export function reverseName(ip: string): string {
  if (isIP(ip) === 4) return `${ip.split('.').reverse().join('.')}.in-addr.arpa`;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return reverseName(mapped[1]!);
  const [head, tail = ''] = ip.split('::');
  const groups = (s: string) => (s ? s.split(':') : []);
  const h = groups(head!);
  const t = groups(tail);
  const all = ip.includes('::') ? [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t] : h;
  return `${[...all.map((g) => g.padStart(4, '0')).join('')].reverse().join('.')}.ip6.arpa`;
}

/** The question name of a type and host, without the trailing dot (dns.Fqdn adds it on the wire). */
function questionName(type: Typed, host: string): string {
  return type === 'PTR' ? reverseName(host) : host.replace(/\.$/, '');
}

/** A stable query id per question (goss draws one at random; the reply must carry it back). */
function queryId(type: string, name: string): number {
  return createHash('sha256').update(`${type}\0${name}`).digest().readUInt16BE(0);
}

/** The query as a printf %b string: every byte an octal escape, so the value is plain text. */
export function queryEscapes(type: Typed, host: string): string {
  const name = questionName(type, host);
  const q = dnsPacket.encode({ type: 'query', id: queryId(type, name), flags: dnsPacket.RECURSION_DESIRED, questions: [{ type, name, class: 'IN' }] });
  return [...q].map((b) => `\\0${b.toString(8).padStart(3, '0')}`).join('');
}

/** miekg/dns's text of a character-string: `"` and `\` escaped, unprintable bytes as \DDD. */
function txtString(b: Buffer): string {
  return [...b].map((c) => (c === 0x22 || c === 0x5c ? `\\${String.fromCharCode(c)}` : c < 0x20 || c > 0x7e ? `\\${String(c).padStart(3, '0')}` : String.fromCharCode(c))).join('');
}

/** A domain name as miekg/dns writes it: fully qualified. */
function fqdn(n: string): string {
  return n === '' || n === '.' ? '.' : `${n}.`;
}

/** Go's net.IP.String of an AAAA address: RFC 5952 form; an IPv4-mapped address as dotted IPv4. */
function ipv6Text(a: string): string {
  const s = new URL(`http://[${a}]`).hostname.slice(1, -1);
  const m = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(s);
  if (!m) return s;
  const [hi, lo] = [parseInt(m[1]!, 16), parseInt(m[2]!, 16)];
  return [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.');
}

/** The answers of one type, each as goss's Lookup* function formats it (system/dns.go). */
export function answerTexts(type: Typed, answers: dnsPacket.Answer[]): string[] {
  const res: string[] = [];
  for (const a of answers) {
    if (a.type !== type) continue;
    switch (a.type) {
      case 'A':
        res.push(a.data);
        break;
      case 'AAAA':
        res.push(ipv6Text(a.data));
        break;
      case 'CNAME':
      case 'NS':
      case 'PTR':
        res.push(fqdn(a.data));
        break;
      case 'MX':
        res.push(`${a.data.preference ?? 0} ${fqdn(a.data.exchange)}`);
        break;
      case 'SRV':
        res.push(`${a.data.priority ?? 0} ${a.data.weight ?? 0} ${a.data.port} ${fqdn(a.data.target)}`);
        break;
      case 'TXT': {
        const parts = Array.isArray(a.data) ? a.data : [a.data];
        for (const p of parts) res.push(txtString(Buffer.isBuffer(p) ? p : Buffer.from(p)));
        break;
      }
      case 'SSHFP':
        res.push(`${a.data.algorithm} ${a.data.hash} ${a.data.fingerprint.toUpperCase()}`);
        break;
      case 'CAA':
        res.push(`${a.data.flags ?? 0} ${a.data.tag} ${a.data.value}`);
        break;
    }
  }
  return res;
}

/** What miekg/dns could not send as a question name. */
function nameProblem(host: string): string | undefined {
  if (host === '' || host === '.') return 'a DNS name cannot be empty';
  if (host.includes('\\')) return `${JSON.stringify(host)}: a backslash in a DNS name is an escape to goss's DNS library; write the name without it`;
  const labels = host.replace(/\.$/, '').split('.');
  if (labels.some((l) => l === '')) return `${JSON.stringify(host)} has an empty label (".." or a leading ".")`;
  if (labels.some((l) => Buffer.byteLength(l) > 63)) return `${JSON.stringify(host)} has a label over 63 bytes`;
  if (labels.reduce((n, l) => n + Buffer.byteLength(l) + 1, 1) > 255) return `${JSON.stringify(host)} is over 255 bytes`;
  return undefined;
}

/** Sends one query from the target and prints the reply in hex: bash's /dev/udp (socket + connect, as Go's client), dd for one datagram each way. */
const EXCHANGE = `exec 3<>"/dev/udp/$1/$2" || exit 3; printf "%b" "$3" >"$4" || exit 4; dd if="$4" bs=4096 count=1 >&3 2>/dev/null || exit 5; dd bs=65536 count=1 <&3 | od -An -v -tx1`;

function serverProbe(r: ResourceSpec, id: Sh, val: (v: string) => Sh): Sh {
  const { host } = splitDnsName(target(r, 'resolve'));
  const srv = parseServer(r.options.server as string);
  const ms = typeof r.options.timeout === 'number' && r.options.timeout > 0 ? r.options.timeout : 500;
  const secs = Math.max(1, Math.ceil(ms / 1000));
  const [h, p, prog] = [val(srv.host), val(srv.port), val(EXCHANGE)];
  const runs = questions(r).types.map((t, i) => {
    const q = val(queryEscapes(t, host));
    const f = sh`q${i}`;
    return sh`if hm_has timeout; then hm_run ${id} ${f} timeout -- ${secs} bash -c ${prog} bash ${h} ${p} ${q} "$HM_T/dq"; else hm_run ${id} ${f} bash -c ${prog} bash ${h} ${p} ${q} "$HM_T/dq"; fi`;
  });
  return sh`if hm_has bash; then ${joinSh(runs, '; ')}; fi`;
}

function observeServer(r: ResourceSpec, data: ProbeData): Record<string, Observation> {
  const { types, typed } = questions(r);
  const { host } = splitDnsName(target(r, 'resolve'));
  const server = r.options.server as string;
  if (rc(data, 'q0') === undefined) return every(r, { error: `bash is not installed on the target (a query to a dns server goes through its /dev/udp)` });
  const addrs: string[] = [];
  for (const [i, t] of types.entries()) {
    const code = rc(data, `q${i}`);
    const hex = out(data, `q${i}`).replace(/\s+/g, '');
    let why: string | undefined;
    let reply: dnsPacket.DecodedPacket | undefined;
    // dd's own statistics are not the reason.
    const said = firstLine(err(data, `q${i}`).split('\n').filter((l) => !/records (in|out)$|bytes? .*copied/.test(l)).join('\n'));
    if (code !== 0 || hex === '') why = code === 124 ? `no answer from ${server} within the timeout` : `no answer from ${server}: ${said.replace(/^dd: /, '') || `exit ${code}`}`;
    else {
      try {
        reply = dnsPacket.decode(Buffer.from(hex, 'hex'));
      } catch (e) {
        why = `the answer of ${server} is not a DNS message: ${(e as Error).message}`;
      }
      if (reply && (reply.type !== 'response' || reply.id !== queryId(t, questionName(t, host)))) why = `the answer of ${server} does not match the query (dns: id mismatch)`;
    }
    // goss: a typed lookup's failed exchange is an error; LookupHost (A + AAAA) ignores it.
    if (why) {
      if (typed) return every(r, { error: why });
      continue;
    }
    addrs.push(...answerTexts(t, reply!.answers ?? []));
  }
  // goss sorts them (sort.Strings: byte order).
  addrs.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (addrs.length === 0) return absentFor(r, { resolvable: { value: false } }, `${target(r, 'resolve')} has no answer from ${server}`);
  return { resolvable: { value: true }, addrs: { value: addrs } };
}

/**
 * `dns`: resolvable (or goss's old spelling `resolveable`), addrs.
 * Without `server`, as goss's net.LookupHost: the target's resolver
 * (getent ahosts/hosts, else nslookup), for the name without a type prefix.
 * With `server` (`host`, `host:port`, `[v6]:port`), as goss's miekg/dns
 * client: one UDP query per record type (`A:`, `AAAA:`, `CNAME:`, `MX:`,
 * `NS:`, `PTR:` of an IP, `SRV:`, `TXT:`, `SSHFP:`, `CAA:`; no prefix: A and
 * AAAA), built and read here with dns-packet and sent from the target
 * through bash's /dev/udp; answers formatted as goss formats them, sorted.
 * `timeout` is in ms (default 500, as goss); on the target it is whole
 * seconds.
 */
export const dnsDef: ResourceDef = {
  type: 'dns',
  gate: 'resolvable',
  attrs: { resolvable: 'value', addrs: 'value' },
  aliases: { resolveable: 'resolvable' },
  options: ['resolve', 'server', 'timeout', ...RETRY_OPTIONS],
  validate(r) {
    const { qtype, host } = splitDnsName(target(r, 'resolve'));
    const server = r.options.server;
    const t = r.options.timeout;
    if (t !== undefined && (typeof t !== 'number' || !(t > 0))) return `timeout must be a positive number of milliseconds, found ${JSON.stringify(t)}`;
    if (server === undefined) {
      // busybox nslookup takes no "--": a name that looks like an option would be one.
      if (host === '' || host.startsWith('-')) return `${JSON.stringify(host)} is not a host name (a DNS name cannot start with "-")`;
      return undefined;
    }
    if (typeof server !== 'string' || server === '') return 'server must be a host or IP address, with an optional :port';
    const srv = parseServer(server);
    if (srv.host === '' || srv.host.startsWith('-') || /[\s/\0]/.test(srv.host)) return `server ${JSON.stringify(server)} is not a host name or IP address`;
    if (!/^\d{1,5}$/.test(srv.port) || Number(srv.port) < 1 || Number(srv.port) > 65535) return `server ${JSON.stringify(server)}: the port must be a number from 1 to 65535`;
    if (qtype === 'PTR' && !isIP(host)) return `PTR:${host}: a PTR lookup takes an IP address (goss: "unrecognized address")`;
    return qtype === 'PTR' ? undefined : nameProblem(host);
  },
  probe(r, { id, val }) {
    if (r.options.server !== undefined) return serverProbe(r, id, val);
    const n = val(splitDnsName(target(r, 'resolve')).host);
    // getent exits 1 when it does not know the ahosts database (musl): then hosts.
    return joinSh([
      sh`if hm_has getent; then hm_run ${id} h getent ahosts -- ${n}; if [ "$HM_RC" = 1 ]; then hm_run ${id} h2 getent hosts -- ${n}; fi`,
      sh`elif hm_has nslookup; then hm_run ${id} n nslookup ${n}; fi`,
    ]);
  },
  observe(r, data) {
    if (r.options.server !== undefined) return observeServer(r, data);
    const name = splitDnsName(target(r, 'resolve')).host;
    let addrs: string[];
    const h = rc(data, 'h2') !== undefined ? 'h2' : 'h';
    if (rc(data, h) !== undefined) {
      addrs = rc(data, h) === 0 ? out(data, h).split('\n').map((l) => l.split(/\s+/)[0]!).filter(Boolean) : [];
    } else if (rc(data, 'n') !== undefined) {
      const text = out(data, 'n');
      const after = text.slice(Math.max(0, text.indexOf('Name:')));
      addrs = rc(data, 'n') === 0 && text.includes('Name:') ? [...after.matchAll(/Address(?: \d+)?:\s*(\S+)/g)].map((m) => m[1]!) : [];
    } else {
      return every(r, { error: 'neither getent nor nslookup is installed on the target' });
    }
    // goss sorts them (sort.Strings: byte order).
    addrs = [...new Set(addrs)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    if (addrs.length === 0) return absentFor(r, { resolvable: { value: false } }, `${name} does not resolve`);
    return { resolvable: { value: true }, addrs: { value: addrs } };
  },
};
