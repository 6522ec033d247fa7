import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectAccelerator, findProbeKernel, type ProbeResult } from './accel.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hallmark-accel-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const kvmAvailable = existsSync('/dev/kvm');

describe('detectAccelerator', () => {
  it('honours HALLMARK_ACCEL without probing', async () => {
    const probe = async (): Promise<ProbeResult> => {
      throw new Error('must not probe');
    };
    const v = await detectAccelerator({ cacheDir: dir, env: { HALLMARK_ACCEL: 'tcg' }, probe });
    expect(v).toMatchObject({ accel: 'tcg', args: ['-accel', 'tcg,thread=multi', '-cpu', 'max'] });
    const k = await detectAccelerator({ cacheDir: dir, env: { HALLMARK_ACCEL: 'kvm' }, probe });
    expect(k.args).toEqual(['-accel', 'kvm', '-cpu', 'host']);
    await expect(detectAccelerator({ cacheDir: dir, env: { HALLMARK_ACCEL: 'xen' }, probe })).rejects.toThrow(/HALLMARK_ACCEL/);
  });

  it.runIf(kvmAvailable)('probes once and caches the verdict per qemu version and kernel release', async () => {
    const cacheDir = join(dir, 'cache1');
    const kernel = join(dir, 'fake-vmlinuz');
    await writeFile(kernel, 'not really a kernel');
    let calls = 0;
    const probe = async (k: string): Promise<ProbeResult> => {
      calls++;
      expect(k).toBe(kernel);
      return { ok: true, reason: 'fake probe says yes' };
    };
    const first = await detectAccelerator({ cacheDir, env: {}, kernel, probe });
    expect(first.accel).toBe('kvm');
    const second = await detectAccelerator({ cacheDir, env: {}, kernel, probe });
    expect(second.accel).toBe('kvm');
    expect(second.reason).toMatch(/cached/);
    expect(calls).toBe(1);

    // A different key (new qemu or host kernel) means probe again.
    const file = join(cacheDir, 'accel.json');
    const saved = JSON.parse(await readFile(file, 'utf8'));
    await writeFile(file, JSON.stringify({ ...saved, key: 'QEMU emulator version 0.0|old-kernel' }));
    const third = await detectAccelerator({
      cacheDir, env: {}, kernel,
      probe: async () => { calls++; return { ok: false, reason: 'fake probe says hung' }; },
    });
    expect(third).toMatchObject({ accel: 'tcg', reason: 'fake probe says hung' });
    expect(calls).toBe(2);

    // A corrupt cache file is ignored, not fatal.
    await writeFile(file, '{not json');
    const fourth = await detectAccelerator({ cacheDir, env: {}, kernel, probe });
    expect(fourth.accel).toBe('kvm');
    expect(calls).toBe(3);
  });

  it.runIf(kvmAvailable)('answers tcg, uncached, when there is no kernel to probe with', async () => {
    const cacheDir = join(dir, 'cache2');
    const v = await detectAccelerator({ cacheDir, env: { HOME: join(dir, 'nohome') }, kernel: undefined,
      probe: async () => { throw new Error('must not probe'); } }).catch((e) => e);
    // With a kernel in /boot the real host may still probe; only assert the no-kernel path when there is none.
    if (!(await findProbeKernel({ HOME: join(dir, 'nohome') }))) {
      expect(v).toMatchObject({ accel: 'tcg' });
      expect(existsSync(join(cacheDir, 'accel.json'))).toBe(false);
    }
  });

  it.runIf(kvmAvailable)('real probe with a real kernel returns within a few seconds', async () => {
    const kernel = await findProbeKernel();
    if (!kernel) return; // no base image built yet: test/qemu/base.test.ts covers this after a build
    const started = Date.now();
    const v = await detectAccelerator({ cacheDir: join(dir, 'real'), env: {}, kernel });
    const secs = (Date.now() - started) / 1000;
    expect(['kvm', 'tcg']).toContain(v.accel);
    expect(v.reason).toMatch(/KVM/);
    expect(secs).toBeLessThan(15);
  }, 30_000);
});
