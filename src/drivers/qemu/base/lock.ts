import { join } from 'node:path';
import { lockFile } from '../../../kernel/lock.js';
import type { Logger } from '../../../kernel/events.js';

/**
 * A cross-process lock on the base-image cache (one per Debian suite: the
 * builds of a suite share the .deb cache, which debootstrap does not lock).
 * Waits while another live build holds it, observing `signal`; a lock whose
 * holder is gone is taken over. Returns release().
 */
export async function acquireBuildLock(
  cacheDir: string,
  key: string,
  opts: { signal?: AbortSignal; log?: Logger; pollMs?: number } = {},
): Promise<() => Promise<void>> {
  const file = join(cacheDir, `.lock-${key}`);
  const lock = await lockFile(file, {
    signal: opts.signal,
    pollMs: opts.pollMs ?? 2000,
    onWait: (holder) => opts.log?.info(`waiting for another base-image build (pid ${holder ?? '?'}) to finish`),
    onTakeover: (holder) => opts.log?.warn(`taking over the base-image build lock ${file} from exited process ${holder ?? '?'}`),
  });
  return () => lock.release();
}
