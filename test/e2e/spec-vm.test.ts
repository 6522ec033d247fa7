/**
 * The spec verifier against a fresh debian-12 base image VM (systemd running),
 * through the real ssh transport as the login user `debian` with `sudo -n`:
 * - the shipped `baseline` profile: exactly which checks pass and fail on the
 *   fresh image (each expected failure with its reason), and no `error`;
 * - every resource type against the real system, with one passing and one
 *   failing check each, cross-checked against systemctl, ss, dpkg-query,
 *   findmnt and ip on the same VM.
 * One VM for the file (booted in beforeAll, killed by PID in afterAll).
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { bootDebian12, type VmTarget } from '../../bench/verify/vm-target.js';
import type { CheckResult } from '../../src/verifiers/verifier.js';
import { profileFiles } from '../../src/verifiers/spec/files.js';
import { parseSpecText } from '../../src/verifiers/spec/load.js';
import { runSpecChecks } from '../../src/verifiers/spec/run.js';

let t: VmTarget;

beforeAll(async () => {
  t = await bootDebian12();
}, 600_000);

afterAll(async () => {
  await t?.stop();
}, 60_000);

const statuses = (results: CheckResult[]) => Object.fromEntries(results.map((r) => [r.id, r.status]));

/** Runs `command` as root on the VM; its stdout. */
async function onVm(command: string): Promise<string> {
  const r = await t.connection.exec(command, { sudo: true, timeoutMs: 60_000 });
  expect(r.exitCode, `${command}: ${r.stderr}`).toBe(0);
  return r.stdout;
}

/**
 * Checks of the baseline profile that fail on a fresh debian-12 base image,
 * and why. Everything else in the profile passes.
 */
const EXPECTED_FAILURES: Record<string, string> = {
  // Debian ships /etc/cron.d (from e2fsprogs' e2scrub_all) as 0755: others may read and enter it.
  'HM-CRON-01:stdout': '/etc/cron.d is 0755',
  // Linux defaults: a host accepts and sends ICMP redirects unless told otherwise.
  'HM-NET-01': 'net.ipv4.conf.all.accept_redirects = 1',
  'HM-NET-02': 'net.ipv4.conf.default.accept_redirects = 1',
  'HM-NET-03': 'net.ipv4.conf.all.send_redirects = 1',
  // No "* hard core 0" in /etc/security/limits.conf, and limits.d is empty (grep exits 2).
  'HM-KRN-03': 'core dumps not limited',
  // Debian's sshd_config sets X11Forwarding yes.
  'HM-SSH-04:stdout': 'x11forwarding yes',
  // OpenSSH's default MaxAuthTries is 6.
  'HM-SSH-05:stdout': 'maxauthtries 6',
};

describe('spec verifier on a debian-12 VM', () => {
  test('baseline profile on the fresh image: the expected checks fail, all others pass, none errors', async () => {
    const run = await runSpecChecks(t.connection, await profileFiles('baseline'));
    const byStatus = statuses(run.results);
    expect(run.results.filter((r) => r.status === 'error').map((r) => `${r.id}: ${r.message}`)).toEqual([]);
    const failed = run.results.filter((r) => r.status === 'fail').map((r) => r.id);
    expect(failed.sort()).toEqual(Object.keys(EXPECTED_FAILURES).sort());
    // 58 checks, plus `exists` of the five file checks (goss requires a file's first attribute).
    expect(run.results.length).toBe(63);
    expect(run.results.filter((r) => /^HM-FS-0[1-5]:exists$/.test(r.id)).map((r) => r.status)).toEqual(Array(5).fill('pass'));
    expect(Object.values(byStatus).filter((s) => s === 'pass').length).toBe(63 - failed.length);

    // The failures say what was found, and it matches the machine.
    const msg = (id: string) => run.results.find((r) => r.id === id)!.message ?? '';
    expect(msg('HM-NET-01')).toContain('found 1');
    expect(msg('HM-CRON-01:stdout')).toContain('/etc/cron.d 755 root');
    expect((await onVm('sysctl -n net.ipv4.conf.all.accept_redirects')).trim()).toBe('1');
    expect(await onVm('sshd -T')).toMatch(/^x11forwarding yes$/m);
  }, 240_000);

  test('every resource type against the running system, one pass and one fail each', async () => {
    const nic = (await onVm("ls /sys/class/net | grep -v '^lo$' | head -n 1")).trim();
    const sshVersion = (await onVm("dpkg-query -W -f='${Version}' openssh-server")).trim();
    const specs = await parseSpecText(
      `service:
  ssh: {enabled: true, running: true}
  hallmark-absent: {enabled: true, running: true}
port:
  tcp:22: {listening: true, ip: [0.0.0.0]}
  tcp6:22: {listening: true, ip: ["::"]}
  tcp:2323: {listening: true}
package:
  openssh-server: {installed: true, versions: ["${sshVersion}"]}
  telnetd: {installed: true}
kernel-param:
  kernel.ostype: {value: Linux}
  net.ipv4.ip_forward: {value: "1"}
mount:
  /: {exists: true, filesystem: ext4, opts: [rw], source: {have-prefix: /dev/}, usage: {lt: 95}}
  /hallmark-absent: {exists: true}
interface:
  lo: {exists: true, addrs: [127.0.0.1/8]}
  ${nic}: {exists: true, addrs: [10.0.2.15/24], mtu: 1500}
  hm-absent0: {exists: true}
addr:
  tcp://127.0.0.1:22: {reachable: true, timeout: 5000}
  tcp://127.0.0.1:2323: {reachable: true, timeout: 2000}
dns:
  localhost: {resolvable: true, addrs: {contain-element: 127.0.0.1}, timeout: 5000}
  hallmark-absent.invalid: {resolvable: true, timeout: 5000}
file:
  /etc/ssh/sshd_config: {exists: true, owner: root, mode: "0644", filetype: file, contents: ["/^Include /"]}
  /etc/hallmark-absent: {exists: true}
command:
  systemctl is-system-running: {exit-status: 0, stdout: [running]}
  "false": {exit-status: 0}
user:
  debian: {exists: true, groups: [sudo], shell: /bin/bash}
  hallmark-absent: {exists: true}
group:
  sudo: {exists: true, gid: 27}
  hallmark-absent: {exists: true}
process:
  sshd: {running: true}
  hallmark-absent: {running: true}
http:
  http://127.0.0.1:22/: {status: 200, timeout: 3000}
matching:
  same: {content: 3, matches: {lt: 4}}
  different: {content: 3, matches: {gt: 4}}
`,
      '/virtual/resources.yml',
    );
    const run = await runSpecChecks(t.connection, specs);
    const s = statuses(run.results);
    expect(run.results.filter((r) => r.status === 'error').map((r) => `${r.id}: ${r.message}`)).toEqual([]);

    const passing = [
      'service:ssh:enabled', 'service:ssh:running',
      'port:tcp:22:listening', 'port:tcp:22:ip', 'port:tcp6:22:listening', 'port:tcp6:22:ip',
      'package:openssh-server:installed', 'package:openssh-server:versions',
      'kernel-param:kernel.ostype:value', 'mount:/:exists', 'mount:/:filesystem', 'mount:/:opts', 'mount:/:source', 'mount:/:usage',
      'interface:lo:exists', 'interface:lo:addrs', `interface:${nic}:exists`, `interface:${nic}:addrs`, `interface:${nic}:mtu`,
      'addr:tcp://127.0.0.1:22:reachable', 'dns:localhost:resolvable', 'dns:localhost:addrs',
      'file:/etc/ssh/sshd_config:exists', 'file:/etc/ssh/sshd_config:owner', 'file:/etc/ssh/sshd_config:mode',
      'file:/etc/ssh/sshd_config:filetype', 'file:/etc/ssh/sshd_config:contents',
      'command:systemctl is-system-running:exit-status', 'command:systemctl is-system-running:stdout',
      'user:debian:exists', 'user:debian:groups', 'user:debian:shell', 'group:sudo:exists', 'group:sudo:gid',
      'process:sshd:running', 'matching:same:matches',
    ];
    const failing = [
      'service:hallmark-absent:enabled', 'service:hallmark-absent:running', 'port:tcp:2323:listening', 'package:telnetd:installed',
      'kernel-param:net.ipv4.ip_forward:value', 'mount:/hallmark-absent:exists', 'interface:hm-absent0:exists', 'addr:tcp://127.0.0.1:2323:reachable',
      'dns:hallmark-absent.invalid:resolvable', 'file:/etc/hallmark-absent:exists', 'command:false:exit-status', 'user:hallmark-absent:exists',
      'group:hallmark-absent:exists', 'process:hallmark-absent:running', 'matching:different:matches',
      // sshd answers, but not with HTTP
      'http:http://127.0.0.1:22/:status',
    ];
    const want = Object.fromEntries([...passing.map((id) => [id, 'pass']), ...failing.map((id) => [id, 'fail'])]);
    expect(s).toEqual(want);

    // Cross-checks: what the script saw is what the system's own tools say.
    expect((await onVm('systemctl is-enabled ssh; systemctl is-active ssh')).split('\n').slice(0, 2)).toEqual(['enabled', 'active']);
    const ss = await onVm('ss -Hltn');
    expect(ss).toMatch(/0\.0\.0\.0:22\s/);
    expect(ss).not.toMatch(/:2323\s/);
    expect(await onVm('findmnt -no FSTYPE /')).toMatch(/^ext4/);
    expect(await onVm(`ip -o -4 addr show dev ${nic}`)).toContain('10.0.2.15/24');
  }, 240_000);
});
