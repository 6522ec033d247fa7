/**
 * Builds the debian-12 base image once, before any test file runs, so that
 * the VM tests running in parallel workers never race to build it. Reuses
 * the cache when a valid image is there (a fresh CI machine builds it here).
 */
import { existsSync } from 'node:fs';
import { buildBaseImage } from '../src/drivers/qemu/base/index.js';
import { silentLogger } from '../src/kernel/events.js';

export default async function setup(): Promise<void> {
  if (process.getuid?.() !== 0 || !existsSync('/usr/sbin/debootstrap') || process.env.HALLMARK_SKIP_VM_TESTS) return;
  const t = Date.now();
  const info = await buildBaseImage({ distro: 'debian-12', rebuildStale: true, log: silentLogger, cacheDir: process.env.HALLMARK_BASE_CACHE });
  process.stderr.write(`global setup: base image ${info.name} ready in ${((Date.now() - t) / 1000).toFixed(0)}s\n`);
}
