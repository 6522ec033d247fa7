/**
 * A realistic mix of 200 checks, taken from the target's actual state (so
 * every tool should report 200 passes), and the same checks written for
 * hallmark spec (gossfile), testinfra (pytest) and serverspec (rspec).
 */
import type { Connection } from '../../src/transports/transport.js';

export type Check =
  | { kind: 'package'; name: string; installed: boolean }
  | { kind: 'file-mode'; path: string; mode: string }
  | { kind: 'file-owner'; path: string; owner: string }
  | { kind: 'user'; name: string }
  | { kind: 'group'; name: string }
  | { kind: 'sysctl'; name: string; value: string }
  | { kind: 'command'; exec: string }
  | { kind: 'port'; port: number; listening: boolean };

const GATHER = String.raw`
echo "== packages"; (dpkg-query -W -f='$'{Package}'\n' 2>/dev/null || rpm -qa --qf '%{NAME}\n') | sort | head -n 40
echo "== files"; for f in /etc/* /etc/*/*; do [ -f "$f" ] && [ ! -L "$f" ] && stat -c '%n %a %U' "$f"; done | head -n 60
echo "== users"; getent passwd | cut -d: -f1 | head -n 15
echo "== groups"; getent group | cut -d: -f1 | head -n 10
echo "== sysctl"; for f in /proc/sys/net/ipv4/* /proc/sys/net/core/* /proc/sys/vm/*; do [ -f "$f" ] && [ -r "$f" ] && v=$(cat "$f" 2>/dev/null) && case "$v" in *[!0-9]*|'') ;; *) echo "$f $v";; esac; done | grep -v -e stat_interval -e nr_ -e dirty -e drop_caches | head -n 35
`;

/** 200 checks; `sshPort` is the port sshd listens on inside the target (22 on a VM behind a forwarded port). */
export async function gatherChecks(conn: Connection, sshPort: number): Promise<Check[]> {
  const r = await conn.exec('sh -s', { stdin: GATHER });
  const sections = new Map<string, string[]>();
  let cur = '';
  for (const line of r.stdout.split('\n')) {
    if (line.startsWith('== ')) sections.set((cur = line.slice(3)), []);
    else if (line.trim()) sections.get(cur)?.push(line.trim());
  }
  const get = (k: string) => sections.get(k) ?? [];
  const checks: Check[] = [];
  for (const p of get('packages')) checks.push({ kind: 'package', name: p, installed: true });
  for (let i = 0; i < 10; i++) checks.push({ kind: 'package', name: `hm-bench-absent-${i}`, installed: false });
  const files = get('files').map((l) => l.split(' '));
  for (const [p, mode] of files.slice(0, 40)) checks.push({ kind: 'file-mode', path: p!, mode: mode!.padStart(4, '0') });
  for (const [p, , owner] of files.slice(40, 60)) checks.push({ kind: 'file-owner', path: p!, owner: owner! });
  for (const u of get('users')) checks.push({ kind: 'user', name: u });
  for (const g of get('groups')) checks.push({ kind: 'group', name: g });
  for (const l of get('sysctl')) {
    const [f, v] = l.split(' ');
    checks.push({ kind: 'sysctl', name: f!.slice('/proc/sys/'.length).replace(/\//g, '.'), value: v! });
  }
  for (const [p] of files.slice(0, 20)) checks.push({ kind: 'command', exec: `test -e ${p}` });
  checks.push({ kind: 'port', port: sshPort, listening: true });
  for (let i = 1; i <= 9; i++) checks.push({ kind: 'port', port: 1 + i, listening: false });
  if (checks.length !== 200) throw new Error(`gathered ${checks.length} checks from the target, not 200: ${JSON.stringify(Object.fromEntries([...sections].map(([k, v]) => [k, v.length])))}`);
  return checks;
}

export function toGossfile(checks: Check[]): string {
  const by: Record<string, string[]> = {};
  const add = (t: string, s: string) => (by[t] ??= []).push(s);
  const q = JSON.stringify;
  checks.forEach((c, i) => {
    switch (c.kind) {
      case 'package': return add('package', `  ${q(c.name)}: {installed: ${c.installed}}`);
      // goss fails a file without exists (Missing required attribute): hallmark refuses one, so each file check is two results.
      case 'file-mode': return add('file', `  mode-${i}: {path: ${q(c.path)}, exists: true, mode: ${q(c.mode)}}`);
      case 'file-owner': return add('file', `  owner-${i}: {path: ${q(c.path)}, exists: true, owner: ${q(c.owner)}}`);
      case 'user': return add('user', `  ${q(c.name)}: {exists: true}`);
      case 'group': return add('group', `  ${q(c.name)}: {exists: true}`);
      case 'sysctl': return add('kernel-param', `  ${q(c.name)}: {value: ${q(c.value)}}`);
      case 'command': return add('command', `  ${q(c.exec)}: {exit-status: 0}`);
      case 'port': return add('port', `  ${q(`tcp:${c.port}`)}: {listening: ${c.listening}}`);
    }
  });
  return Object.entries(by).map(([t, lines]) => `${t}:\n${lines.join('\n')}\n`).join('');
}

export function toTestinfra(checks: Check[]): string {
  const py = (s: string) => JSON.stringify(s);
  const body = checks.map((c, i) => {
    const t = `def test_${i}(host):\n    assert `;
    switch (c.kind) {
      case 'package': return `${t}${c.installed ? '' : 'not '}host.package(${py(c.name)}).is_installed`;
      case 'file-mode': return `${t}host.file(${py(c.path)}).mode == 0o${c.mode}`;
      case 'file-owner': return `${t}host.file(${py(c.path)}).user == ${py(c.owner)}`;
      case 'user': return `${t}host.user(${py(c.name)}).exists`;
      case 'group': return `${t}host.group(${py(c.name)}).exists`;
      case 'sysctl': return `${t}str(host.sysctl(${py(c.name)})) == ${py(c.value)}`;
      case 'command': return `${t}host.run(${py(c.exec)}).rc == 0`;
      case 'port': return `${t}${c.listening ? '' : 'not '}host.socket("tcp://0.0.0.0:${c.port}").is_listening or ${c.listening ? '' : 'not '}host.socket("tcp://127.0.0.1:${c.port}").is_listening`;
    }
  });
  return `${body.join('\n\n')}\n`;
}

export function toServerspec(checks: Check[]): string {
  const rb = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  const body = checks.map((c) => {
    switch (c.kind) {
      case 'package': return `describe package(${rb(c.name)}) do\n  it { should${c.installed ? '' : '_not'} be_installed }\nend`;
      case 'file-mode': return `describe file(${rb(c.path)}) do\n  it { should be_mode ${c.mode.replace(/^0(?=\d{3})/, '')} }\nend`;
      case 'file-owner': return `describe file(${rb(c.path)}) do\n  it { should be_owned_by ${rb(c.owner)} }\nend`;
      case 'user': return `describe user(${rb(c.name)}) do\n  it { should exist }\nend`;
      case 'group': return `describe group(${rb(c.name)}) do\n  it { should exist }\nend`;
      case 'sysctl': return `describe linux_kernel_parameter(${rb(c.name)}) do\n  its(:value) { should eq ${c.value} }\nend`;
      case 'command': return `describe command(${rb(c.exec)}) do\n  its(:exit_status) { should eq 0 }\nend`;
      case 'port': return `describe port(${c.port}) do\n  it { should${c.listening ? '' : '_not'} be_listening }\nend`;
    }
  });
  return `require 'serverspec'\nrequire 'net/ssh'\nset :backend, :ssh\nset :host, ENV['HM_HOST']\nset :ssh_options, { user: ENV['HM_USER'], port: ENV['HM_PORT'].to_i, keys: [ENV['HM_KEY']], keys_only: true, verify_host_key: :never, non_interactive: true }\n\n${body.join('\n\n')}\n`;
}
