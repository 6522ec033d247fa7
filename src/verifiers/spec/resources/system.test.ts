import { describe, expect, test } from 'vitest';
import type { ResourceSpec } from '../types.js';
import { compileMatcher } from '../matchers.js';
import { findMount, mountDef, mountUsage, splitMountOptions } from './system.js';

// A /proc/self/mountinfo as Linux writes it: per-mount options in field 6,
// optional fields, "-", then type, source and superblock options.
const MOUNTINFO = [
  '22 27 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw',
  '27 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw,errors=remount-ro',
  '30 27 0:30 / /mnt/my\\040disk ro,nosuid,relatime master:3 shared:4 - tmpfs my\\040src rw,size=1024k,mode=755',
  '31 27 0:31 / /mnt/my\\040disk rw,relatime - ext4 /dev/sdb1 rw',
  '32 27 0:32 / /srv rw,noatime,rw - cifs //h/s rw,"a,b"=1,c',
].join('\n');

function mount(mp: string, attrs: Record<string, unknown>): ResourceSpec {
  return {
    type: 'mount',
    key: mp,
    probeId: 'r0',
    checks: Object.entries(attrs).map(([name, value]) => ({ name, value, matcher: compileMatcher(value), pos: { file: 'g.yml' } })),
    options: {},
    skip: false,
    pos: { file: 'g.yml' },
  };
}

describe('mount, as goss computes it (moby/sys/mountinfo, statfs)', () => {
  test('opts are the per-mount options only (no superblock options), duplicates dropped; vfs-opts the superblock ones', () => {
    const r = mount('/', { opts: ['rw'], 'vfs-opts': ['errors=remount-ro'] });
    const o = mountDef.observe(r, { own: new Map(), facts: new Map([['mountinfo', MOUNTINFO]]) });
    expect(o.opts).toEqual({ value: ['rw', 'relatime'] });
    expect(o['vfs-opts']).toEqual({ value: ['rw', 'errors=remount-ro'] });
    expect(o.source).toEqual({ value: '/dev/sda1' });
    expect(o.filesystem).toEqual({ value: 'ext4' });
    const srv = mountDef.observe(mount('/srv', { opts: ['rw'] }), { own: new Map(), facts: new Map([['mountinfo', MOUNTINFO]]) });
    expect(srv.opts).toEqual({ value: ['rw', 'noatime'] });
    expect(srv['vfs-opts']).toEqual({ value: ['rw', '"a,b"=1', 'c'] });
  });

  test('the first entry of a mount point wins (SingleEntryFilter), escapes are undone, optional fields skipped', () => {
    const m = findMount(MOUNTINFO, '/mnt/my disk')!;
    expect(m).toEqual({ mountpoint: '/mnt/my disk', opts: 'ro,nosuid,relatime', fstype: 'tmpfs', source: 'my src', vfsOpts: 'rw,size=1024k,mode=755' });
    expect(findMount(MOUNTINFO, '/mnt/my\\040disk')).toBeUndefined();
    expect(findMount(MOUNTINFO, '/nope')).toBeUndefined();
  });

  test('usage is round((1 - f_bfree/f_blocks) * 100), not df\'s used/(used+avail) rounded up', () => {
    // 1000 blocks, 300 free, 250 of them available to users: goss 70, df 75.
    expect(mountUsage('1000 300\n')).toBe(70);
    expect(mountUsage('1000 305')).toBe(70); // 69.5 rounds half away from zero, as Go's math.Round
    expect(mountUsage('1000 295')).toBe(71);
    expect(mountUsage('0 0')).toBeUndefined(); // 0/0: NaN in goss
    expect(mountUsage('garbage')).toBeUndefined();
    const o = mountDef.observe(mount('/proc', { usage: { lt: 90 } }), { own: new Map([['fs.out', '0 0\n'], ['fs.rc', '0']]), facts: new Map([['mountinfo', MOUNTINFO]]) });
    expect(o.usage).toMatchObject({ error: expect.stringContaining('0 blocks') });
  });

  test('options split at commas outside double quotes', () => {
    expect(splitMountOptions('rw,"x,y",,z')).toEqual(['rw', '"x,y"', 'z']);
    expect(splitMountOptions('')).toEqual([]);
  });
});
