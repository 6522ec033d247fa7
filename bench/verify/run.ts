/**
 * Benchmark: 200 checks against one target, three ways, printed as numbers:
 *   hallmark spec (one generated script, one round trip),
 *   testinfra over SSH (Debian's python3-testinfra, pytest),
 *   serverspec over SSH (Debian's ruby-serverspec, rspec).
 * Also the raw run time of the generated script on the target and one SSH
 * round trip. hallmark goes through the real ssh transport (ssh2, one
 * connection, one channel per exec); testinfra uses an OpenSSH ControlPersist
 * master; net-ssh keeps one session for serverspec. Every tool starts warm
 * (hallmark's script runs once untimed first, so it finds the caches as warm as
 * the tools timed after it do).
 *
 * Target: `--vm` boots a fresh debian-12 base image VM (test/helpers/vm.ts,
 * host key pinned, killed by PID at the end); `--host H --port P --user U
 * --key K [--host-key SHA256:...]` any machine; by default a real sshd started
 * on 127.0.0.1 (test/helpers/sshd.ts) and stopped at the end.
 * Build and run:  npx tsc -p tsconfig.json --outDir /tmp/hm-build; node /tmp/hm-build/bench/verify/run.js [--vm]
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { parseSpecText } from '../../src/verifiers/spec/load.js';
import { runSpecChecks } from '../../src/verifiers/spec/run.js';
import { summarize } from '../../src/verifiers/verifier.js';
import { silentLogger } from '../../src/kernel/events.js';
import { SshTransport } from '../../src/transports/ssh/transport.js';
import type { Connection } from '../../src/transports/transport.js';
import { startSshd, type Sshd } from '../../test/helpers/sshd.js';
import { gatherChecks, toGossfile, toServerspec, toTestinfra } from './checks.js';
import { bootDebian12, type VmTarget } from './vm-target.js';

interface BenchTarget {
  host: string;
  port: number;
  username: string;
  privateKeyPath: string;
  /** OpenSSH known_hosts line for testinfra's ssh_config; none: not checked. */
  knownHost?: string;
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t = performance.now();
  const value = await fn();
  return { ms: performance.now() - t, value };
}

async function main(): Promise<void> {
  let sshd: Sshd | undefined;
  const work = await mkdtemp(path.join(os.tmpdir(), 'hm-bench-verify-'));
  let conn: Connection | undefined;
  let vm: VmTarget | undefined;
  try {
    let target: BenchTarget;
    if (process.argv.includes('--vm')) {
      vm = await bootDebian12();
      conn = vm.connection;
      const pub = (await readFile(vm.vm.hostPublicKeyPath!, 'utf8')).trim().split(/\s+/).slice(0, 2).join(' ');
      target = { host: '127.0.0.1', port: vm.vm.sshPort, username: vm.target.username, privateKeyPath: vm.vm.privateKeyPath, knownHost: `[127.0.0.1]:${vm.vm.sshPort} ${pub}` };
    } else {
      if (arg('host')) {
        target = { host: arg('host')!, port: Number(arg('port') ?? 22), username: arg('user') ?? 'root', privateKeyPath: arg('key')! };
      } else {
        sshd = await startSshd();
        target = { host: sshd.host, port: sshd.port, username: sshd.rootUsername, privateKeyPath: sshd.privateKeyPath };
      }
      const hostKey = arg('host-key') ? { expected: arg('host-key')! } : { insecure: true };
      conn = await new SshTransport({}).connect(
        { hostname: target.host, port: target.port, username: target.username, privateKeyPath: target.privateKeyPath, hostKey },
        { log: silentLogger },
      );
    }
    await conn.exec('true'); // every tool below starts warm
    const checks = await gatherChecks(conn, vm ? 22 : Number(arg('guest-port') ?? target.port)); // the port sshd listens on inside the target
    const n = checks.length;
    const goss = toGossfile(checks);
    await writeFile(path.join(work, 'goss.yml'), goss);
    await writeFile(path.join(work, 'test_bench.py'), toTestinfra(checks));
    await writeFile(path.join(work, 'bench_spec.rb'), toServerspec(checks));
    const knownHosts = path.join(work, 'known_hosts');
    if (target.knownHost) await writeFile(knownHosts, `${target.knownHost}\n`);
    const pin = target.knownHost ? `StrictHostKeyChecking yes\n  UserKnownHostsFile ${knownHosts}` : 'StrictHostKeyChecking no\n  UserKnownHostsFile /dev/null';
    await writeFile(
      path.join(work, 'ssh_config'),
      `Host bench\n  HostName ${target.host}\n  Port ${target.port}\n  User ${target.username}\n  IdentityFile ${target.privateKeyPath}\n  IdentitiesOnly yes\n  ${pin}\n  LogLevel ERROR\n  ControlMaster auto\n  ControlPersist 60\n  ControlPath ${work}/cm-%C\n`,
    );

    const specs = await parseSpecText(goss, path.join(work, 'goss.yml'));
    // Warm-up, untimed: the first run on a fresh VM pays for cold page caches (binaries, dpkg's
    // database) that every later tool would then find warm; time hallmark warm like the others.
    await runSpecChecks(conn, specs, { sudo: false });
    // hallmark, the round trip and the raw script are cheap: the median of 5 runs each, so one
    // scheduling hiccup of the emulated guest does not decide the ratio. testinfra and serverspec run once.
    const median = async <T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> => {
      const runs: { ms: number; value: T }[] = [];
      for (let i = 0; i < 5; i++) runs.push(await timed(fn));
      return runs.sort((a, b) => a.ms - b.ms)[2]!;
    };
    const rt = await median(() => conn!.exec('true'));
    const hm = await median(() => runSpecChecks(conn!, specs, { sudo: false }));
    const hmSum = summarize(hm.value.results);
    const rawRuns: number[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await conn.exec(`T=$(mktemp); cat >"$T"; s=$(date +%s%N); sh "$T" >/dev/null 2>&1; e=$(date +%s%N); rm -f "$T"; echo $(( (e - s) / 1000000 ))`, { stdin: hm.value.script });
      rawRuns.push(Number(r.stdout.trim()));
    }
    const rawMs = rawRuns.sort((a, b) => a - b)[2]!;

    // --hallmark-only: skip testinfra and serverspec (minutes on a loaded host) when only hallmark's number is wanted.
    const others = !process.argv.includes('--hallmark-only');
    const skipped = { ms: Number.NaN, value: { stdout: '', stderr: '' } };
    const ti = !others ? skipped : await timed(() =>
      execa('/usr/bin/python3', ['-m', 'pytest', '-q', '-p', 'no:cacheprovider', `--hosts=ssh://bench`, `--ssh-config=${path.join(work, 'ssh_config')}`, path.join(work, 'test_bench.py')], {
        reject: false,
        cwd: work,
      }),
    );
    const tiPassed = Number(/(\d+) passed/.exec(ti.value.stdout)?.[1] ?? 0);
    const ss = !others ? skipped : await timed(() =>
      execa('rspec', ['--format', 'progress', path.join(work, 'bench_spec.rb')], {
        reject: false,
        cwd: work,
        env: { HM_HOST: target.host, HM_PORT: String(target.port), HM_USER: target.username, HM_KEY: target.privateKeyPath },
      }),
    );
    const ssPassed = (() => {
      const m = /(\d+) examples?, (\d+) failures?/.exec(ss.value.stdout);
      return m ? Number(m[1]) - Number(m[2]) : 0;
    })();

    const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
    const lines = [
      `verify benchmark: ${n} checks against ${target.username}@${target.host}:${target.port}`,
      `  one SSH round trip (true)        ${fmt(rt.ms)}  (median of 5)`,
      `  generated script, on the target  ${(rawMs / 1000).toFixed(2)} s  (${hm.value.script.length} bytes; median of 5)`,
      `  hallmark spec (one round trip)   ${fmt(hm.ms)}   pass ${hmSum.passed}/${hm.value.results.length} results   (median of 5; ${(hm.ms / (rt.ms + rawMs)).toFixed(2)}x round trip + script)`,
      ...(others
        ? [
            `  testinfra over SSH               ${fmt(ti.ms)}   pass ${tiPassed}/${n}   ${(ti.ms / hm.ms).toFixed(1)}x hallmark`,
            `  serverspec over SSH              ${fmt(ss.ms)}   pass ${ssPassed}/${n}   ${(ss.ms / hm.ms).toFixed(1)}x hallmark`,
          ]
        : []),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    const bad = hm.value.results.filter((r) => r.status !== 'pass');
    if (bad.length) process.stdout.write(`hallmark non-passing: ${bad.slice(0, 5).map((r) => `${r.id} ${r.status} ${r.message}`).join('; ')}\n`);
    if (others && tiPassed !== n) process.stdout.write(`testinfra output tail:\n${ti.value.stdout.split('\n').slice(-15).join('\n')}\n${ti.value.stderr.slice(-1500)}\n`);
    if (others && ssPassed !== n) process.stdout.write(`serverspec output tail:\n${ss.value.stdout.split('\n').slice(-15).join('\n')}\n${ss.value.stderr.slice(-1500)}\n`);
  } finally {
    if (vm) await vm.stop();
    else await conn?.close();
    await sshd?.stop();
    await rm(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
