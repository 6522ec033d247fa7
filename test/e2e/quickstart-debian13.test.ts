/**
 * The quickstart's second platform: `hallmark test debian-13` (create,
 * converge, verify, destroy) on a real Debian 13 VM made from a debian-13 base
 * image built here from Debian's mirror when the cache has none. Debian 13's
 * packaged nginx differs from 12's (its nginx.conf already sets
 * server_tokens), which once made the quickstart's provisioning fail on 13
 * only; the README promises both platforms. Every qemu started here is
 * stopped by PID in afterAll, pass or fail.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/kernel/events.js';
import { buildBaseImage, defaultCacheDir } from '../../src/drivers/qemu/base/index.js';
import { makeProject, type Project } from './qemu-cli.js';

let p: Project;

beforeAll(async () => {
  const t = Date.now();
  await buildBaseImage({ distro: 'debian-13', rebuildStale: true, cacheDir: process.env.HALLMARK_BASE_CACHE ?? defaultCacheDir(), log: silentLogger });
  console.log(`[e2e] debian-13 base build/reuse: ${((Date.now() - t) / 1000).toFixed(0)}s`);
  p = await makeProject({}, { copyQuickstart: true });
}, 1_200_000);

afterAll(async () => {
  await p?.sweep();
});

describe('the quickstart on debian-13', () => {
  it('hallmark test debian-13: nginx installed and hardened, every check passes, the machine is gone after', async () => {
    const t0 = Date.now();
    const r = await p.run(['test', 'debian-13']);
    console.log(`[e2e] quickstart test debian-13: ${((Date.now() - t0) / 1000).toFixed(0)}s`);
    expect(r.exitCode, r.all).toBe(0);
    expect(r.all).toMatch(/default-debian-13\s+18\s+0\s+0\s+0\s+ok/);
    expect(r.all).toMatch(/deb.debian.org\/debian trixie\b/); // apt on the guest talks to Debian 13's suite
    expect(await p.qemuPids()).toEqual([]);
    expect(await p.qemuFiles()).toEqual([]);
    expect((await p.journal('default-debian-13'))?.lastAction).toBe('test');
  }, 900_000);
});
