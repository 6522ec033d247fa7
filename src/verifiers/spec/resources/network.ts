import { isIPv4, isIPv6 } from 'node:net';
import { joinSh, NOTHING, sh, word } from '../shell.js';
import type { Observation, ResourceDef } from '../types.js';
import { absentFor, derived, err, every, firstLine, out, rc, target, wants } from './common.js';

function ipv4(hex: string): string {
  const b = Buffer.from(hex, 'hex');
  return [b[3], b[2], b[1], b[0]].join('.');
}

function ipv6(hex: string): string {
  // /proc/net/tcp6 prints four 32-bit words, each in host (little-endian) order.
  const words = (hex.match(/.{8}/g) ?? []).map((w) => Buffer.from(w, 'hex').reverse().toString('hex'));
  const groups = words.join('').match(/.{4}/g) ?? [];
  return new URL(`http://[${groups.join(':')}]`).hostname.slice(1, -1);
}

/** Listening sockets of one /proc/net table: port -> local IPs. */
export function listeners(table: string, proto: string): Map<number, string[]> {
  const res = new Map<number, string[]>();
  const listenState = proto.startsWith('tcp') ? '0A' : '07';
  for (const line of table.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 4 || f[3] !== listenState) continue;
    const [addr, port] = f[1]!.split(':');
    const p = parseInt(port!, 16);
    const ip = proto.endsWith('6') ? ipv6(addr!) : ipv4(addr!);
    res.set(p, [...(res.get(p) ?? []), ip]);
  }
  return res;
}

const PORT_KEY = /^(?:(tcp|tcp6|udp|udp6):)?(\d{1,5})$/;

/**
 * `port`: listening, ip. Keys are `tcp:22`, `tcp6:22`, `udp:53`, `udp6:53` or a
 * bare number (tcp). As in goss, `tcp` means the IPv4 table only: a daemon
 * bound to `[::]` is `tcp6`; the failure message says so when that is the case.
 */
export const portDef: ResourceDef = {
  type: 'port',
  gate: 'listening',
  attrs: { listening: 'value', ip: 'value' },
  options: ['port'],
  facts: ['net'],
  validate(r) {
    return PORT_KEY.test(target(r, 'port')) ? undefined : `port must look like tcp:22, tcp6:22, udp:53, udp6:53 or 22, found ${JSON.stringify(target(r, 'port'))}`;
  },
  probe: () => NOTHING,
  observe(r, data) {
    const m = PORT_KEY.exec(target(r, 'port'))!;
    const proto = m[1] ?? 'tcp';
    const port = Number(m[2]);
    const table = data.facts.get(`net.${proto}`);
    if (table === undefined) return every(r, { error: `cannot read /proc/net/${proto} on the target` });
    const ips = derived(data.facts, `net.${proto}`, () => listeners(table, proto)).get(port);
    if (!ips) {
      const other = proto.endsWith('6') ? proto.slice(0, -1) : `${proto}6`;
      const t2 = data.facts.get(`net.${other}`);
      const hint = t2 && derived(data.facts, `net.${other}`, () => listeners(t2, other)).has(port) ? ` (but ${other}:${port} is listening)` : '';
      return absentFor(r, { listening: { value: false, shown: `false${hint}` } }, `nothing listens on ${proto}:${port}${hint}`);
    }
    return { listening: { value: true }, ip: { value: ips } };
  },
};

/**
 * Why `name` cannot be a network interface name, as the kernel decides it
 * (dev_valid_name: 1 to 15 bytes, not "." or "..", no "/", ":" or white space).
 */
export function interfaceNameProblem(name: string): string | undefined {
  if (name === '' || Buffer.byteLength(name) > 15) return `an interface name has 1 to 15 bytes, found ${Buffer.byteLength(name)}`;
  if (name === '.' || name === '..') return `an interface name cannot be "${name}"`;
  if (/[/:\s]/.test(name)) return 'an interface name cannot contain "/", ":" or white space (the kernel refuses such names)';
  return undefined;
}

/** `interface`: exists, mtu (from /sys/class/net), addrs (`ip -o addr`, CIDR form). */
export const interfaceDef: ResourceDef = {
  type: 'interface',
  gate: 'exists',
  attrs: { exists: 'value', addrs: 'value', mtu: 'value' },
  options: ['name'],
  validate: (r) => interfaceNameProblem(target(r, 'name')),
  probe(r, { id, val }) {
    const n = val(target(r, 'name'));
    const lines = [sh`if [ -d /sys/class/net/${n} ]; then hm_val ${id} exists 1`];
    if (wants(r, 'mtu')) lines.push(sh`hm_read ${id} mtu /sys/class/net/${n}/mtu`);
    // `dev` takes the next word as the device name, whatever it looks like.
    if (wants(r, 'addrs')) lines.push(sh`if hm_has ip; then hm_run ${id} ip ip -o addr show dev ${n}; fi`);
    lines.push(sh`else hm_val ${id} exists 0; fi`);
    return joinSh(lines);
  },
  observe(r, data) {
    const n = target(r, 'name');
    if (data.own.get('exists') !== '1') return absentFor(r, { exists: { value: false } }, `interface ${n} does not exist`);
    const res: Record<string, Observation> = { exists: { value: true } };
    if (wants(r, 'mtu')) {
      const mtu = (data.own.get('mtu') ?? '').trim();
      res.mtu = /^\d+$/.test(mtu) ? { value: Number(mtu) } : { error: `cannot read /sys/class/net/${n}/mtu` };
    }
    if (wants(r, 'addrs')) {
      const code = rc(data, 'ip');
      if (code === undefined) res.addrs = { error: 'the ip tool (iproute2/busybox) is not installed on the target' };
      else if (code !== 0) res.addrs = { error: `ip addr failed: ${err(data, 'ip')}` };
      else res.addrs = { value: [...out(data, 'ip').matchAll(/\binet6? (\S+)/g)].map((x) => x[1]!) };
    }
    return res;
  },
};

const ADDR_KEY = /^(?:([A-Za-z0-9]+):\/\/)?(.+):(\d{1,5})$/;

/** Why `host` (of an addr) cannot be a host name or IP address. */
function hostProblem(host: string): string | undefined {
  if (host === '' || host.startsWith('-')) return `${JSON.stringify(host)} is not a host name or IP address`;
  if (/[\s/\0]/.test(host)) return `a host name cannot contain white space or "/", found ${JSON.stringify(host)}`;
  return undefined;
}

/** An IPv4 or IPv6 address, as Go's net.ParseIP takes it (no zone, no brackets). */
function isIP(s: string): boolean {
  return isIPv4(s) || (isIPv6(s) && !s.includes('%'));
}

/**
 * Dials as goss's Go dialer does (system/addr.go): resolve, keep the
 * addresses of the local address's family when one is given, then per
 * address socket, bind (local address, any port) and connect; for udp,
 * connect only fixes the peer and sends nothing. Values are @ARGV; the
 * program text is ours.
 */
const DIAL_PL = [
  'use Socket qw(getaddrinfo inet_pton AF_INET AF_INET6 SOCK_STREAM SOCK_DGRAM pack_sockaddr_in pack_sockaddr_in6);',
  'my ($proto, $host, $port, $local) = @ARGV; my $type = $proto eq "udp" ? SOCK_DGRAM : SOCK_STREAM;',
  'my ($lfam, $lip); if ($local ne "") { if ($lip = inet_pton(AF_INET, $local)) { $lfam = AF_INET } elsif ($lip = inet_pton(AF_INET6, $local)) { $lfam = AF_INET6 } }',
  'my ($err, @ai) = getaddrinfo($host, $port, {socktype => $type}); if ($err) { print STDERR "lookup $host: $err\n"; exit 1 }',
  'my $why = "no suitable address"; for my $a (@ai) { next if defined $lfam && $a->{family} != $lfam; socket(my $s, $a->{family}, $type, 0) or do { $why = "socket: $!"; next };',
  'if (defined $lfam) { bind($s, $lfam == AF_INET ? pack_sockaddr_in(0, $lip) : pack_sockaddr_in6(0, $lip)) or do { $why = "bind $local: $!"; next } }',
  'connect($s, $a->{addr}) and exit 0; $why = "connect: $!" } print STDERR "$why\n"; exit 1;',
].join(' ');

/**
 * `addr`: reachable, as goss dials (`timeout` ms, default 500): tcp (the
 * default when the address has no scheme) connects; udp only resolves and
 * connects a socket, which sends nothing, so it is reachable whenever the
 * host resolves and a route exists (goss: Go's net.Dial). `local-address`
 * (an IP) binds the socket first. On the target: bash's /dev/tcp and
 * /dev/udp (socket and connect, as Go), nc -z for tcp; with a local address
 * perl (Socket, in every perl, perl-base on Debian).
 */
export const addrDef: ResourceDef = {
  type: 'addr',
  attrs: { reachable: 'value' },
  options: ['address', 'local-address', 'timeout'],
  validate(r) {
    const m = ADDR_KEY.exec(target(r, 'address'));
    if (!m) return `address must look like tcp://host:port or udp://host:port, found ${JSON.stringify(target(r, 'address'))}`;
    if (m[1] !== undefined && m[1] !== 'tcp' && m[1] !== 'udp') return `address scheme ${JSON.stringify(m[1])} is not tcp or udp (goss dials only those; any other always fails)`;
    if (Number(m[3]) > 65535) return `port ${m[3]} is out of range (1-65535)`;
    const local = r.options['local-address'];
    // goss passes it to net.ParseIP and silently binds to any address when that fails.
    if (local !== undefined && (typeof local !== 'string' || !isIP(local))) return `local-address must be an IP address (goss ignores anything else), found ${JSON.stringify(local)}`;
    return hostProblem(m[2]!.replace(/^\[(.*)\]$/, '$1'));
  },
  probe(r, { id, val }) {
    const [, scheme, host, port] = ADDR_KEY.exec(target(r, 'address'))!;
    const proto = scheme ?? 'tcp';
    const h = val(host!.replace(/^\[(.*)\]$/, '$1'));
    const p = Number(port);
    const secs = Math.max(1, Math.ceil((typeof r.options.timeout === 'number' ? r.options.timeout : 500) / 1000));
    const local = r.options['local-address'] as string | undefined;
    const perl = sh`if hm_has timeout; then hm_run ${id} c timeout -- ${secs} perl -e ${val(DIAL_PL)} -- ${word(proto)} ${h} ${p} ${val(local ?? '')}; else hm_run ${id} c perl -e ${val(DIAL_PL)} -- ${word(proto)} ${h} ${p} ${val(local ?? '')}; fi`;
    if (local !== undefined) return sh`if hm_has perl; then ${perl}; fi`;
    // The host and port are bash's $1 and $2, the script text is ours.
    const bash =
      proto === 'udp'
        ? sh`if hm_has timeout; then hm_run ${id} c timeout -- ${secs} bash -c 'exec 3<>"/dev/udp/$1/$2"' bash ${h} ${p}; else hm_run ${id} c bash -c 'exec 3<>"/dev/udp/$1/$2"' bash ${h} ${p}; fi`
        : sh`if hm_has timeout; then hm_run ${id} c timeout -- ${secs} bash -c 'exec 3<>"/dev/tcp/$1/$2"' bash ${h} ${p}; else hm_run ${id} c bash -c 'exec 3<>"/dev/tcp/$1/$2"' bash ${h} ${p}; fi`;
    const other = proto === 'udp' ? sh`elif hm_has perl; then ${perl}; fi` : sh`elif hm_has nc; then hm_run ${id} c nc -z -w ${secs} -- ${h} ${p}; fi`;
    return joinSh([sh`if hm_has bash; then ${bash}`, other]);
  },
  observe(r, data) {
    const code = rc(data, 'c');
    if (code === undefined) {
      const need = r.options['local-address'] !== undefined ? 'perl (needed to bind a local-address)' : /^udp:/.test(target(r, 'address')) ? 'neither bash nor perl' : 'neither bash nor nc';
      return every(r, { error: `${need} is not installed on the target` });
    }
    const why = firstLine(err(data, 'c'));
    // An nc without -z (busybox's small one) prints its usage: that is not an answer.
    if (code !== 0 && /invalid option|unrecognized option|usage:/i.test(err(data, 'c'))) return every(r, { error: `nc cannot test a connection here: ${why}` });
    return { reachable: { value: code === 0, shown: code === 0 ? 'true' : `false (${why || `exit ${code}`})` } };
  },
};
