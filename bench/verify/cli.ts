/**
 * Benchmark (issue 13, goal 1): the whole `hallmark verify --target ssh://...
 * --spec` process as a user runs it, next to the physical limit: one plain
 * OpenSSH `ssh host sh -s < script` running the very script hallmark
 * generates (fresh connection, host key checked, same sudo wrapper). Prints
 * both, their ratio (goal: within 1.3x), and where hallmark's time goes:
 *   node start + module load   a child that imports what verify --target loads
 *   SSH handshake              ssh2 connect (pinned host key) vs OpenSSH `ssh host true`
 *   host-key work              connect with the key pinned minus unchecked
 *   round trips / channels     execs and uploads one verify makes (counted), one exec round trip
 *   remote temp files          uploads counted (the script goes on stdin)
 *   the script on the target   its own run time, measured there
 * Every number is the median of N interleaved runs (default 5).
 *
 * Target: `--vm` boots a fresh debian-12 base image VM (run it under
 * `flock /tmp/vm-tests.lock`); by default a real sshd on 127.0.0.1
 * (test/helpers/sshd.ts). Build and run:
 *   npm run build && npx tsc -p tsconfig.json --outDir /tmp/hm-build
 *   HALLMARK_REPO=$PWD node /tmp/hm-build/bench/verify/cli.js [--vm] [--runs N]
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { silentLogger } from '../../src/kernel/events.js';
import { SshTransport } from '../../src/transports/ssh/transport.js';
import { buildRemoteCommand } from '../../src/transports/ssh/quote.js';
import type { Connection, ConnectionTarget } from '../../src/transports/transport.js';
import { parseSpecText } from '../../src/verifiers/spec/load.js';
import { runSpecChecks } from '../../src/verifiers/spec/run.js';
import { startSshd, type Sshd } from '../../test/helpers/sshd.js';
import { gatherChecks, toGossfile } from './checks.js';
import { bootDebian12, fingerprintOf, type VmTarget } from './vm-target.js';

const repo = process.env.HALLMARK_REPO ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 5;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
async function wall(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

/** CPU time (user + system) of this process's waited-for children, in ms (Linux: /proc/self/stat cutime + cstime, 10 ms ticks). */
function childCpuMs(): number {
  const f = readFileSync('/proc/self/stat', 'utf8');
  const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[13]) + Number(fields[14])) * 1000) / 100;
}

/** The bundle chunks `hallmark verify --target` imports, from the bundle's metafile. */
function verifyChunks(): string[] {
  const meta = JSON.parse(readFileSync(path.join(repo, 'dist/cli-bundle/meta.json'), 'utf8')) as { outputs: Record<string, { entryPoint?: string }> };
  const want = [
    'dist/cli/main.js',
    'dist/cli/verify-target.js',
    'dist/verifiers/target.js',
    'dist/transports/ssh/transport.js',
    'dist/verifiers/spec/load.js',
    'dist/verifiers/spec/files.js',
    'dist/verifiers/spec/template.js',
    'dist/verifiers/spec/run.js',
  ];
  // The spec modules are chunks of their own since verifyTarget imports them
  // when it runs; in older builds they are inside target.js's chunk.
  return want.flatMap((e, i) => {
    const out = Object.entries(meta.outputs).find(([, o]) => o.entryPoint === e)?.[0];
    if (!out && i < 4) throw new Error(`no bundle chunk for ${e}: run npm run build`);
    return out ? [path.join(repo, out)] : [];
  });
}

async function main(): Promise<void> {
  const work = await mkdtemp(path.join(os.tmpdir(), 'hm-bench-verify-cli-'));
  let sshd: Sshd | undefined;
  let vm: VmTarget | undefined;
  let conn: Connection | undefined;
  try {
    let target: ConnectionTarget;
    let hostPub: string;
    if (process.argv.includes('--vm')) {
      vm = await bootDebian12();
      conn = vm.connection;
      target = { ...vm.target, maxWaitUntilReadyMs: 30_000 };
      hostPub = (await readFile(vm.vm.hostPublicKeyPath!, 'utf8')).trim();
    } else {
      sshd = await startSshd();
      hostPub = (await readFile(path.join(sshd.dir, 'host_ed25519.pub'), 'utf8')).trim();
      target = { hostname: sshd.host, port: sshd.port, username: sshd.username, privateKeyPath: sshd.privateKeyPath, hostKey: { expected: sshd.hostKeyFingerprint } };
      conn = await new SshTransport({}).connect(target, { log: silentLogger });
    }
    const fp = target.hostKey && 'expected' in target.hostKey ? target.hostKey.expected! : await fingerprintOf(vm!.vm.hostPublicKeyPath!);
    const sudo = target.username !== 'root';
    const checks = await gatherChecks(conn, vm ? 22 : target.port);
    const goss = toGossfile(checks);
    const gossFile = path.join(work, 'goss.yml');
    await writeFile(gossFile, goss);
    const specs = await parseSpecText(goss, gossFile);
    // Warm the target's caches, and count what one verify sends: execs and uploads.
    let execs = 0;
    let uploads = 0;
    const counting = new Proxy(conn, {
      get(t, p, r) {
        if (p === 'exec') execs++;
        if (p === 'upload') uploads++;
        return Reflect.get(t, p, r) as unknown;
      },
    });
    const warm = await runSpecChecks(counting, specs, { sudo });
    const script = warm.script;
    const scriptFile = path.join(work, 'script.sh');
    await writeFile(scriptFile, script);
    const remote = buildRemoteCommand('sh -s', { sudo, username: target.username });

    // OpenSSH: a fresh connection per run, the host key checked against known_hosts.
    const knownHosts = path.join(work, 'known_hosts');
    await writeFile(knownHosts, `[${target.hostname}]:${target.port} ${hostPub.split(/\s+/).slice(0, 2).join(' ')}\n`);
    const sshArgs = ['-F', '/dev/null', '-p', String(target.port), '-i', target.privateKeyPath!, '-o', 'IdentitiesOnly=yes', '-o', 'StrictHostKeyChecking=yes', '-o', `UserKnownHostsFile=${knownHosts}`, '-o', 'LogLevel=ERROR', '-o', 'BatchMode=yes', `${target.username}@${target.hostname}`];
    const plainSsh = async () => {
      const r = await execa('ssh', [...sshArgs, remote], { inputFile: scriptFile, reject: false });
      if (r.exitCode !== 0) throw new Error(`ssh ... sh -s exited ${r.exitCode}: ${r.stderr}`);
    };
    const sshTrue = async () => {
      const r = await execa('ssh', [...sshArgs, 'true'], { reject: false });
      if (r.exitCode !== 0) throw new Error(`ssh ... true exited ${r.exitCode}: ${r.stderr}`);
    };
    const bin = path.join(repo, 'bin', 'hallmark');
    const cliArgs = [bin, 'verify', '--target', `ssh://${target.username}@${target.hostname}:${target.port}`, '--key', target.privateKeyPath!, '--host-key', fp, '--spec', gossFile];
    const cli = async () => {
      const r = await execa(process.execPath, cliArgs, { reject: false, env: { CI: '1', XDG_CACHE_HOME: work } });
      if (r.exitCode !== 0) throw new Error(`hallmark verify exited ${r.exitCode}: ${r.stdout}\n${r.stderr}`);
    };
    const chunks = verifyChunks();
    const load = `for (const m of ${JSON.stringify(chunks)}) await import(m); await import('ssh2');`;
    const nodeLoad = () => execa(process.execPath, ['--input-type=module', '-e', load], { cwd: repo });
    const nodeBare = () => execa(process.execPath, ['-e', '']);
    const connect = (hostKey: ConnectionTarget['hostKey']) => async () => {
      const c = await new SshTransport({}).connect({ ...target, hostKey }, { log: silentLogger });
      await c.close();
    };
    const rawOnTarget = async () => {
      const r = await conn!.exec(`T=$(mktemp); cat >"$T"; s=$(date +%s%N); ${sudo ? 'sudo -n ' : ''}sh "$T" >/dev/null 2>&1; e=$(date +%s%N); rm -f "$T"; echo $(( (e - s) / 1000000 ))`, { stdin: script });
      return Number(r.stdout.trim());
    };

    const cases: [string, () => Promise<unknown>][] = [
      ['cli', cli],
      ['plain', plainSsh],
      ['sshTrue', sshTrue],
      ['nodeBare', nodeBare],
      ['nodeLoad', nodeLoad],
      ['connectPinned', connect(target.hostKey)],
      ['connectUnchecked', connect({ insecure: true })],
      ['roundTrip', () => conn!.exec('true')],
    ];
    const t: Record<string, number[]> = Object.fromEntries(cases.map(([k]) => [k, []]));
    // CPU of the child processes (the CLI, OpenSSH's client, bare node): on a
    // loaded host wall time includes waiting for a core, CPU time does not.
    const cpu: Record<string, number[]> = Object.fromEntries(cases.map(([k]) => [k, []]));
    const onTarget: number[] = [];
    const load0 = os.loadavg()[0]!;
    for (let i = 0; i < RUNS; i++) {
      for (const [k, fn] of cases) {
        const c0 = childCpuMs();
        t[k]!.push(await wall(fn));
        cpu[k]!.push(childCpuMs() - c0);
      }
      onTarget.push(await rawOnTarget());
    }
    const m = (k: string) => median(t[k]!);
    const s = (ms: number) => `${(ms / 1000).toFixed(3)} s`;
    const cliMs = m('cli');
    const plainMs = m('plain');
    const c = (k: string) => `${median(cpu[k]!).toFixed(0)} ms`;
    const lines = [
      `verify --target, whole process: ${checks.length} checks on ${target.username}@${target.hostname}:${target.port} (${vm ? 'debian-12 VM' : 'local sshd'}), median of ${RUNS}, node ${process.version}, load ${load0.toFixed(1)} -> ${os.loadavg()[0]!.toFixed(1)}`,
      `  hallmark verify --target ... --spec (whole CLI)   ${s(cliMs)}  (CPU of the process ${c('cli')})`,
      `  ssh host '${remote.length > 40 ? 'sudo -n sh -c ...' : remote}' < script (OpenSSH)   ${s(plainMs)}  (CPU of ssh ${c('plain')})`,
      `  ratio                                             ${(cliMs / plainMs).toFixed(2)}x  (goal: 1.3x; ${cliMs <= 1.3 * plainMs ? `met, ${s(1.3 * plainMs - cliMs)} to spare` : `missed by ${s(cliMs - 1.3 * plainMs)}`})`,
      `where hallmark's time goes:`,
      `  node start + module load      ${s(m('nodeLoad'))}  (bare node ${s(m('nodeBare'))}: +${s(m('nodeLoad') - m('nodeBare'))}; CPU ${c('nodeLoad')} vs ${c('nodeBare')})`,
      `  SSH handshake, ssh2           ${s(m('connectPinned'))}  (OpenSSH ssh host true, with its exec: ${s(m('sshTrue'))})`,
      `  host-key work                 ${s(m('connectPinned') - m('connectUnchecked'))}  (pinned minus unchecked connect)`,
      `  round trips                   ${execs} exec channel(s) per verify; one exec round trip ${s(m('roundTrip'))}`,
      `  remote temp files             ${uploads} upload(s) per verify (the script goes on stdin: ${script.length} bytes)`,
      `  the script on the target      ${s(median(onTarget))}`,
      `  the rest (gossfile load, script build, evaluation, output, exit)  ${s(cliMs - m('nodeLoad') - m('connectPinned') - m('roundTrip') - median(onTarget))}`,
      `  (the handshake overlaps the gossfile load since 2026-12-02, so "the rest" is what neither hides)`,
    ];
    process.stdout.write(lines.join('\n') + '\n');
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
