/**
 * Benchmark: one real quickstart build (`hallmark build debian-12` of
 * examples/quickstart, as a child process, in a temp copy with its own image
 * store), printed as numbers: boot-to-SSH, converge, verify, capture and total
 * seconds and the image size, next to a full `qemu-img convert -c -O qcow2`
 * (zlib) of the same disk, time and size.
 *
 * Where the numbers come from: step timings from manifest.json; boot-to-SSH
 * from the qemu driver's `bootMs` in the instance journal (read while the
 * build runs: the journal forgets the machine when it is destroyed); image
 * size and path from the image store. The plain convert reads the captured
 * image (the same guest disk, already standalone) because the build's overlay
 * is gone once the build ends.
 *
 * Build and run:  npm run build && npx tsc -p tsconfig.json --outDir /tmp/hm-build && node /tmp/hm-build/bench/build/run.js [--keep]
 * (`bin/hallmark` runs dist/, so `npm run build` first.)
 */
import { cp, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';

const repo = process.env.HALLMARK_REPO ?? '/work/main';
const bin = path.join(repo, 'bin', 'hallmark');
const instance = 'default-debian-12';

interface ManifestBuild {
  image: { id: string };
  timings: Record<string, number>;
  artifacts?: { images: { id: string; path?: string; sizeBytes?: number; sha256?: string }[] };
}

const s = (ms: number | undefined) => (ms === undefined ? '   n/a' : `${(ms / 1000).toFixed(1).padStart(6)}s`);
const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;

async function main(): Promise<void> {
  const keep = process.argv.includes('--keep');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hallmark-bench-build-'));
  const store = path.join(dir, 'store');
  const project = path.join(dir, 'project');
  for (const f of ['hallmark.yml', 'provision.sh', 'test']) await cp(path.join(repo, 'examples', 'quickstart', f), path.join(project, f), { recursive: true });
  const env = { CI: '1', HALLMARK_IMAGE_STORE: store };
  try {
    // Watch the journal for bootMs while the build runs.
    let bootMs: number | undefined;
    const journalFile = path.join(project, '.hallmark', `${instance}.json`);
    const watch = setInterval(() => {
      readFile(journalFile, 'utf8')
        .then((t) => {
          const b = (JSON.parse(t) as { driver?: { bootMs?: number } }).driver?.bootMs;
          if (typeof b === 'number') bootMs = b;
        })
        .catch(() => {});
    }, 200);
    const t0 = Date.now();
    const r = await execa(bin, ['build', 'debian-12'], { cwd: project, env, reject: false, all: true });
    const totalMs = Date.now() - t0;
    clearInterval(watch);
    if (r.exitCode !== 0) {
      process.stderr.write(String(r.all) + '\n');
      throw new Error(`hallmark build exited ${r.exitCode}`);
    }
    if (bootMs === undefined) {
      // Fallback: the driver's log line (whole seconds).
      const log = await readFile(path.join(project, '.hallmark', 'logs', `${instance}.log`), 'utf8').catch(() => String(r.all));
      const m = /SSH server answered after (\d+(?:\.\d+)?)s/.exec(log);
      if (m) bootMs = Number(m[1]) * 1000;
    }

    const manifest = JSON.parse(await readFile(path.join(project, 'manifest.json'), 'utf8')) as { builds: ManifestBuild[] };
    const b = manifest.builds[0]!;
    const images = JSON.parse((await execa(bin, ['images', '--json'], { cwd: project, env })).stdout) as { id: string; sizeBytes: number; virtualSizeBytes: number; captureMs?: number }[];
    const img = images.find((i) => i.id === b.image.id)!;
    const file = b.artifacts?.images[0]?.path ?? path.join(store, `${img.id}.qcow2`);

    const plain = path.join(dir, 'plain.qcow2');
    const c0 = Date.now();
    await execa('qemu-img', ['convert', '-c', '-O', 'qcow2', file, plain]);
    const plainMs = Date.now() - c0;
    const plainSize = (await stat(plain)).size;

    const accel = /using (KVM|TCG)/.exec(String(r.all))?.[1] ?? '?';
    const lines = [
      `hallmark build of examples/quickstart (debian-12, ${accel}, nginx from the mirror)`,
      `  boot-to-SSH   ${s(bootMs)}   (create step: ${s(b.timings.create).trim()})`,
      `  converge      ${s(b.timings.converge)}`,
      `  verify        ${s(b.timings.verify)}`,
      `  capture       ${s(b.timings.capture)}   (convert alone: ${s(img.captureMs).trim()})`,
      `  total         ${s(totalMs)}   (wall, CLI start to exit)`,
      `  image         ${mib(img.sizeBytes)} on disk, ${mib(img.virtualSizeBytes)} virtual  ${file}`,
      `plain qemu-img convert -c -O qcow2 (zlib) of the same disk`,
      `  time          ${s(plainMs)}`,
      `  size          ${mib(plainSize)}`,
      `capture vs plain: ${(plainMs / (img.captureMs ?? b.timings.capture!)).toFixed(1)}x faster, size ${(img.sizeBytes / plainSize).toFixed(2)}x`,
    ];
    process.stdout.write(lines.join('\n') + '\n');
    await writeFile(path.join(dir, 'result.txt'), lines.join('\n') + '\n');
  } finally {
    // The build destroyed its machine; the store and project are ours to remove.
    if (!keep) await rm(dir, { recursive: true, force: true });
    else process.stdout.write(`kept ${dir}\n`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench/build: ${(err as Error).message}\n`);
  process.exitCode = 1;
});
