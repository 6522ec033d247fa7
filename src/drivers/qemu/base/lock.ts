import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sleep } from '../../../kernel/abort.js';
import type { Logger } from '../../../kernel/events.js';

/**
 * A cross-process lock on the base-image cache (one per Debian suite: the
 * builds of a suite share the .deb cache, which debootstrap does not lock).
 * `mkdir` is atomic; the holder's pid is written inside, and a lock whose
 * holder is gone is taken over. Waiting observes `signal`. Returns release().
 */
export async function acquireBuildLock(
  cacheDir: string,
  key: string,
  opts: { signal?: AbortSignal; log?: Logger; pollMs?: number } = {},
): Promise<() => Promise<void>> {
  const dir = join(cacheDir, `.lock-${key}`);
  let announced = false;
  for (;;) {
    try {
      await mkdir(dir);
      await writeFile(join(dir, 'pid'), String(process.pid));
      return () => rm(dir, { recursive: true, force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = Number((await readFile(join(dir, 'pid'), 'utf8').catch(() => '')).trim());
    if (holder > 0 && !alive(holder)) {
      opts.log?.warn(`taking over the base-image build lock ${dir} from exited process ${holder}`);
      await rm(dir, { recursive: true, force: true });
      continue;
    }
    if (!announced) {
      opts.log?.info(`waiting for another base-image build (pid ${holder || '?'}) to finish`);
      announced = true;
    }
    await sleep(opts.pollMs ?? 2000, opts.signal);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
