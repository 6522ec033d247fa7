/**
 * Benchmark: one real quickstart build (`hallmark build debian-12` of
 * examples/quickstart) and, when `packer` is installed, Packer's qemu builder
 * doing the same work from the same base image (bench/build/packer.ts says
 * what "the same" means), one after the other in one invocation so both see
 * the same host. Prints each side's wall time with its breakdown, the host
 * load around each run, and hallmark/Packer.
 *
 * Without packer (or with --no-packer) it prints hallmark's numbers next to a
 * plain `qemu-img convert -c -O qcow2` (zlib) of the captured disk, which is
 * what Packer's compression step runs.
 *
 * Build and run:  npm run build && npx tsc -p tsconfig.json --outDir /tmp/hm-build && node /tmp/hm-build/bench/build/run.js [--keep] [--no-packer] [--packer-first]
 * (`bin/hallmark` runs dist/, so `npm run build` first.) Starts VMs: run it
 * under the VM lock (`flock /tmp/vm-tests.lock node ...`).
 */
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { runHallmark, type HallmarkRun } from './hallmark.js';
import { packerVersion, runPacker, type PackerRun } from './packer.js';
import { resolveBaseImage } from '../../src/drivers/qemu/base/index.js';

const repo = process.env.HALLMARK_REPO ?? '/work/main';
const cacheDir = path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'hallmark', 'base');

const s = (ms: number | undefined) => (ms === undefined ? '   n/a' : `${(ms / 1000).toFixed(1).padStart(6)}s`);
const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
const load = () => os.loadavg().map((l) => l.toFixed(2)).join(' ');

async function main(): Promise<void> {
  const keep = process.argv.includes('--keep');
  const packerFirst = process.argv.includes('--packer-first');
  const version = process.argv.includes('--no-packer') ? undefined : await packerVersion();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hallmark-bench-build-'));
  const lines: string[] = [];
  const say = (l: string) => {
    lines.push(l);
    process.stdout.write(l + '\n');
  };
  try {
    say(`build benchmark: examples/quickstart on debian-12, ${os.cpus().length} CPUs, ${new Date().toISOString()}`);
    let h: HallmarkRun | undefined;
    let p: PackerRun | undefined;
    const loads: Record<string, string> = {};
    const hallmark = async () => {
      const before = load();
      h = await runHallmark(repo, path.join(dir, 'hallmark'));
      loads.hallmark = `load ${before} -> ${load()}`;
    };
    const packer = async () => {
      const before = load();
      p = await runPacker({
        dir: path.join(dir, 'packer'),
        // The current build's own file, which a rebuild of the base never rewrites.
        baseImage: (await resolveBaseImage('debian-12', cacheDir)).path,
        provisionScript: path.join(repo, 'examples', 'quickstart', 'provision.sh'),
        memoryMiB: 1024,
        cpus: 2,
      });
      loads.packer = `load ${before} -> ${load()}`;
    };
    if (version && packerFirst) await packer();
    await hallmark();
    if (version && !packerFirst) await packer();
    const hr = h!;

    say(`hallmark build (${hr.accel}; create, converge, verify, capture, destroy)   ${loads.hallmark}`);
    say(`  boot-to-SSH   ${s(hr.bootMs)}   (create step: ${s(hr.timings.create).trim()})`);
    say(`  converge      ${s(hr.timings.converge)}`);
    say(`  verify        ${s(hr.timings.verify)}`);
    say(`  capture       ${s(hr.timings.capture)}   (convert alone: ${s(hr.captureMs).trim()})`);
    say(`  total         ${s(hr.totalMs)}   (wall, CLI start to exit)`);
    say(`  image         ${mib(hr.sizeBytes)} on disk, ${mib(hr.virtualSizeBytes)} virtual`);
    if (p) {
      const size = (await stat(p.imagePath)).size;
      say(`packer ${p.version} qemu builder (TCG; boot, provision.sh, shutdown, compressed qcow2; no verify)   ${loads.packer}`);
      say(`  boot-to-SSH   ${s(p.bootMs)}`);
      say(`  provision     ${s(p.provisionMs)}`);
      say(`  shutdown      ${s(p.shutdownMs)}`);
      say(`  convert       ${s(p.convertMs)}`);
      say(`  total         ${s(p.totalMs)}   (wall, packer start to exit)`);
      say(`  image         ${mib(size)} on disk`);
      say(`hallmark / packer: ${(hr.totalMs / p.totalMs).toFixed(2)}x   (target <= 0.75x)`);
    } else {
      const plain = path.join(dir, 'plain.qcow2');
      const c0 = Date.now();
      await execa('qemu-img', ['convert', '-c', '-O', 'qcow2', hr.imagePath, plain]);
      const plainMs = Date.now() - c0;
      const plainSize = (await stat(plain)).size;
      say(`plain qemu-img convert -c -O qcow2 (zlib) of the same disk${version === undefined ? ' (packer not run)' : ''}`);
      say(`  time          ${s(plainMs)}`);
      say(`  size          ${mib(plainSize)}`);
      say(`capture vs plain: ${(plainMs / (hr.captureMs ?? hr.timings.capture!)).toFixed(1)}x faster, size ${(hr.sizeBytes / plainSize).toFixed(2)}x`);
    }
    await writeFile(path.join(dir, 'result.txt'), lines.join('\n') + '\n');
  } finally {
    // Both builds stopped their VMs; the temp dir (projects, store, Packer output) is ours to remove.
    if (!keep) await rm(dir, { recursive: true, force: true });
    else process.stdout.write(`kept ${dir}\n`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench/build: ${(err as Error).message}\n`);
  process.exitCode = 1;
});
