/**
 * The hallmark side of bench/build: `hallmark build debian-12` of
 * examples/quickstart as a child process, in a copy of the project with its
 * own image store (`HALLMARK_IMAGE_STORE`), timed as a user sees it.
 *
 * Where the numbers come from: step timings from manifest.json; boot-to-SSH
 * from the qemu driver's `bootMs` in the instance journal (read while the
 * build runs: the journal forgets the machine when it is destroyed); image
 * size and path from the image store.
 */
import { cp, readFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';

const instance = 'default-debian-12';

export interface HallmarkRun {
  totalMs: number;
  bootMs?: number;
  /** Step timings from manifest.json (create, converge, verify, capture, ...). */
  timings: Record<string, number>;
  accel: string;
  imagePath: string;
  sizeBytes: number;
  virtualSizeBytes: number;
  /** The qemu-img convert alone, from the image store entry. */
  captureMs?: number;
}

interface ManifestBuild {
  image: { id: string };
  timings: Record<string, number>;
  artifacts?: { images: { id: string; path?: string }[] };
}

/** Copies the quickstart into `dir/project` and builds it with `bin`; the build destroys its VM. */
export async function runHallmark(repo: string, dir: string): Promise<HallmarkRun> {
  const bin = path.join(repo, 'bin', 'hallmark');
  const store = path.join(dir, 'store');
  const project = path.join(dir, 'project');
  for (const f of ['hallmark.yml', 'provision.sh', 'test']) await cp(path.join(repo, 'examples', 'quickstart', f), path.join(project, f), { recursive: true });
  const env = { CI: '1', HALLMARK_IMAGE_STORE: store };

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
  if (r.exitCode !== 0) throw new Error(`hallmark build exited ${r.exitCode}:\n${String(r.all).split('\n').slice(-40).join('\n')}`);
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
  return {
    totalMs,
    bootMs,
    timings: b.timings,
    accel: /using (KVM|TCG)/.exec(String(r.all))?.[1] ?? '?',
    imagePath: b.artifacts?.images[0]?.path ?? path.join(store, `${img.id}.qcow2`),
    sizeBytes: img.sizeBytes,
    virtualSizeBytes: img.virtualSizeBytes,
    captureMs: img.captureMs,
  };
}
