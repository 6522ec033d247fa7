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

// A read-write file stands in for /dev/kvm: the caching logic runs the same on
// every host (no device, a failing one, a working one); the real probe is in
// test/qemu/base.test.ts.
let fakeKvm: string;
beforeAll(async () => {
  fakeKvm = join(dir, 'kvm');
  await writeFile(fakeKvm, '');
});

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

  it('probes once and caches the verdict per qemu version and kernel release', async () => {
    const cacheDir = join(dir, 'cache1');
    const kernel = join(dir, 'fake-vmlinuz');
    await writeFile(kernel, 'not really a kernel');
    let calls = 0;
    const probe = async (k: string): Promise<ProbeResult> => {
      calls++;
      expect(k).toBe(kernel);
      return { ok: true, reason: 'fake probe says yes' };
    };
    const first = await detectAccelerator({ cacheDir, env: {}, kernel, probe, kvmDevice: fakeKvm });
    expect(first.accel).toBe('kvm');
    const second = await detectAccelerator({ cacheDir, env: {}, kernel, probe, kvmDevice: fakeKvm });
    expect(second.accel).toBe('kvm');
    expect(second.reason).toMatch(/cached/);
    expect(calls).toBe(1);

    // A different key (new qemu or host kernel) means probe again.
    const file = join(cacheDir, 'accel.json');
    const saved = JSON.parse(await readFile(file, 'utf8'));
    await writeFile(file, JSON.stringify({ ...saved, key: 'QEMU emulator version 0.0|old-kernel' }));
    const third = await detectAccelerator({
      cacheDir, env: {}, kernel, kvmDevice: fakeKvm,
      probe: async () => { calls++; return { ok: false, reason: 'fake probe says hung' }; },
    });
    expect(third).toMatchObject({ accel: 'tcg', reason: 'fake probe says hung' });
    expect(calls).toBe(2);

    // A corrupt cache file is ignored, not fatal.
    await writeFile(file, '{not json');
    const fourth = await detectAccelerator({ cacheDir, env: {}, kernel, probe, kvmDevice: fakeKvm });
    expect(fourth.accel).toBe('kvm');
    expect(calls).toBe(3);
  });

  it('answers tcg, uncached, when there is no kernel to probe with', async () => {
    const cacheDir = join(dir, 'cache2');
    const v = await detectAccelerator({ cacheDir, env: { HOME: join(dir, 'nohome') }, kernel: undefined, kvmDevice: fakeKvm,
      probe: async () => { throw new Error('must not probe'); } }).catch((e) => e);
    // With a kernel in /boot the real host may still probe; only assert the no-kernel path when there is none.
    if (!(await findProbeKernel({ HOME: join(dir, 'nohome') }))) {
      expect(v).toMatchObject({ accel: 'tcg' });
      expect(existsSync(join(cacheDir, 'accel.json'))).toBe(false);
    }
  });

  it('answers tcg without probing or caching when the KVM device is missing', async () => {
    const cacheDir = join(dir, 'cache3');
    const kernel = join(dir, 'fake-vmlinuz');
    await writeFile(kernel, 'not really a kernel');
    const v = await detectAccelerator({ cacheDir, env: {}, kernel, kvmDevice: join(dir, 'no-such-kvm'), probe: async () => {
      throw new Error('must not probe');
    } });
    expect(v).toMatchObject({ accel: 'tcg', args: ['-accel', 'tcg,thread=multi', '-cpu', 'max'] });
    expect(v.reason).toContain('no-such-kvm is missing');
    expect(existsSync(join(cacheDir, 'accel.json'))).toBe(false);
  });
});
