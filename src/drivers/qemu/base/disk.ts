import { existsSync } from 'node:fs';
import { poll } from '../../../kernel/abort.js';
import { HallmarkError } from '../../../kernel/errors.js';
import type { Logger } from '../../../kernel/events.js';
import type { CleanupStack } from './cleanup-stack.js';
import { endProcessesInside, loopDevicesUnder, mountsUnder } from './release.js';
import { cleanupSignal, run } from './run.js';

/**
 * Writes an MBR label with one bootable Linux partition starting at 1 MiB
 * (room for grub's core.img) to a raw disk file.
 */
export async function partitionDisk(raw: string, signal?: AbortSignal): Promise<void> {
  await run('sfdisk', ['--quiet', '--no-reread', '--no-tell-kernel', raw], {
    input: 'label: dos\nstart=2048, type=83, bootable\n',
    signal,
    what: 'sfdisk',
  });
}

/**
 * Attaches `raw` to a free loop device with its partitions visible and
 * returns `{ disk, part }` (`/dev/loopN`, `/dev/loopNp1`). Some kernels
 * (loop max_part=0, no udev in containers) do not create the partition
 * device from --partscan; `partx -a` then adds it. Detaching is registered on
 * `stack` as soon as the device exists.
 */
export async function attachLoop(raw: string, stack: CleanupStack, signal?: AbortSignal): Promise<{ disk: string; part: string }> {
  const disk = (await run('losetup', ['--find', '--show', '--partscan', raw], { signal, what: 'losetup' })).trim();
  stack.push(`detach ${disk}`, async () => {
    // Already detached by a sweep (and maybe reused by another build since): not ours to detach.
    if (!(await loopDevicesUnder(raw)).some((l) => l.device === disk)) return;
    await run('partx', ['-d', disk], { signal: cleanupSignal() }).catch(() => undefined);
    await run('losetup', ['-d', disk], { signal: cleanupSignal(), what: 'losetup -d' });
  });
  const part = `${disk}p1`;
  let checks = 0;
  const appeared = await poll(
    async () => {
      if (existsSync(part)) return true;
      // Half a second without it: the kernel did not scan the partitions; partx adds them.
      if (++checks === 6) await run('partx', ['-a', disk], { signal, what: 'partx -a' }).catch(() => undefined);
      return undefined;
    },
    { delayMs: 100, maxWaitMs: 2000, signal },
  );
  if (!appeared) {
    throw new HallmarkError(`the partition device ${part} did not appear after attaching ${raw}`, {
      hint: 'the kernel must support partitions on loop devices (modprobe loop max_part=8)',
    });
  }
  return { disk, part };
}

/**
 * Mounts and registers the unmount (lazy as a last resort, so a stray process
 * cannot block detaching). The unmount is skipped when `target` is no longer
 * a mount point (a sweep of the whole tree got there first).
 */
export async function mount(args: string[], target: string, stack: CleanupStack, signal?: AbortSignal): Promise<void> {
  await run('mount', [...args, target], { signal, what: 'mount' });
  stack.push(`unmount ${target}`, async () => {
    if (!(await mountsUnder(target)).includes(target)) return;
    try {
      await run('umount', [target], { signal: cleanupSignal(), what: 'umount' });
    } catch {
      await run('umount', ['-l', target], { signal: cleanupSignal(), what: 'umount -l' });
    }
  });
}

/**
 * Bind mounts a chroot needs for grub-install, update-initramfs and
 * maintainer scripts. Unwinding first ends every process still running in
 * the chroot: it would keep /proc and /dev busy.
 */
export async function mountChrootFilesystems(root: string, stack: CleanupStack, signal?: AbortSignal, log?: Logger): Promise<void> {
  log?.debug(`mounting /dev, /dev/pts, /proc, /sys under ${root}`);
  await mount(['--bind', '/dev'], `${root}/dev`, stack, signal);
  await mount(['--bind', '/dev/pts'], `${root}/dev/pts`, stack, signal);
  await mount(['-t', 'proc', 'proc'], `${root}/proc`, stack, signal);
  await mount(['-t', 'sysfs', 'sysfs'], `${root}/sys`, stack, signal);
  stack.push(`end processes in ${root}`, () => endProcessesInside(root, { log }));
}
