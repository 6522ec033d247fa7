import { copyFile, mkdir, mkdtemp, readdir, readFile, rename, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { throwIfAborted } from '../../../kernel/abort.js';
import { CancelledError, HallmarkError, lastLines, toHallmarkError } from '../../../kernel/errors.js';
import type { Logger } from '../../../kernel/events.js';
import { FAST_CONVERT_OPTIONS } from '../convert.js';
import { baseImageFile, readBaseImageInfo, sha256File } from './cache.js';
import { installBuiltImage, removeUnusedVersions } from './install.js';
import { makeRefsDir } from './refs.js';
import { acquireBuildLock } from './lock.js';
import { CleanupStack } from './cleanup-stack.js';
import { configureGuest } from './configure.js';
import { attachLoop, mount, mountChrootFilesystems, partitionDisk } from './disk.js';
import { debCacheDir, defaultCacheDir, kernelPath } from './paths.js';
import { recipeDigest, staleRecipe } from './recipe.js';
import { endProcessesInside, releaseWorkDir, removeWorkDir, sweepStaleBuilds, unmountAllUnder } from './release.js';
import { run } from './run.js';
import { baseImageName, debootstrapPackages, DEFAULT_MIRROR, DISTROS, packagesFor, type BaseImageInfo, type Distro } from './types.js';

export interface BuildBaseImageOptions {
  distro: Distro;
  /** Build the variant with cloud-init (NoCloud) instead of fw_cfg key injection. */
  cloudInit?: boolean;
  cacheDir?: string;
  mirror?: string;
  /** Virtual disk size; the qcow2 stays small, the driver can grow overlays. */
  sizeGiB?: number;
  /** Rebuild even when a complete image is cached. */
  force?: boolean;
  /**
   * Rebuild a cached image that another recipe built, instead of returning it
   * with a warning (the tests: they must prove this recipe, not an older one).
   */
  rebuildStale?: boolean;
  signal?: AbortSignal;
  log: Logger;
}

/**
 * Builds a bootable Debian base image offline from a Debian mirror:
 * raw disk -> MBR + ext4 `root` -> debootstrap -> guest configuration ->
 * grub -> compressed qcow2 in the cache with `<name>.json` beside it.
 * Needs root (loop devices, mounts, chroot). Every loop device, mount and
 * temporary file is undone on success, error and abort alike; the cache only
 * ever sees complete images (written under a temp name, renamed, json last).
 * A rebuild writes a new file and leaves the earlier one to the overlays on it
 * (installBuiltImage, removeUnusedVersions).
 * Returns the cached image unless `force` is set; a cached image built by an
 * older recipe is returned too, with a warning that names --force.
 */
export async function buildBaseImage(opts: BuildBaseImageOptions): Promise<BaseImageInfo> {
  const { log, signal } = opts;
  const cloudInit = opts.cloudInit ?? false;
  const name = baseImageName(opts.distro, cloudInit);
  const cacheDir = opts.cacheDir ?? defaultCacheDir();
  const mirror = (opts.mirror ?? DEFAULT_MIRROR).replace(/\/+$/, '');
  const { suite } = DISTROS[opts.distro];
  const sizeGiB = opts.sizeGiB ?? 4;

  const cachedInfo = async () => {
    if (opts.force) return undefined;
    const cached = await readBaseImageInfo(cacheDir, name);
    if (!cached) return undefined;
    const stale = staleRecipe(cached);
    if (stale && opts.rebuildStale) {
      log.info(`${stale.split(';')[0]}: rebuilding it`);
      return undefined;
    }
    if (stale) log.warn(stale);
    else log.info(`base image ${name} is already built (${baseImageFile(cacheDir, cached)}); use --force to rebuild`);
    return cached;
  };
  const early = await cachedInfo();
  if (early) return early;
  if (process.getuid?.() !== 0) {
    throw new HallmarkError('building a base image needs root (loop devices, mounts, chroot)', {
      hint: `run \`sudo hallmark base build ${opts.distro}${cloudInit ? ' --cloud-init' : ''}\``,
    });
  }

  await mkdir(cacheDir, { recursive: true });
  await makeRefsDir(cacheDir);
  const release = await acquireBuildLock(cacheDir, suite, { signal, log });
  try {
    // Another process may have built it while we waited for the lock.
    return (await cachedInfo()) ?? (await buildLocked());
  } finally {
    await release();
  }

  async function buildLocked(): Promise<BaseImageInfo> {
    const started = Date.now();
    const phase = (msg: string) => log.progress(`${name}: ${msg}`);
    await sweepStaleBuilds(cacheDir, name, log);
    const work = await mkdtemp(join(cacheDir, `.build-${name}-`));
    const outer = new CleanupStack();
    outer.push(`remove ${work}`, () => removeWorkDir(work));
    // Whatever the recorded steps missed (a cancelled mount or losetup that did its work, debootstrap's own mounts).
    outer.push(`release ${work}`, () => releaseWorkDir(work, log));
    const disk = new CleanupStack();
    /** The finished image's files in the cache: removed unless the build completes. */
    const outputs = new CleanupStack();
    const packages = packagesFor(opts.distro, cloudInit);
    try {
      const raw = join(work, 'disk.raw');
      const root = join(work, 'root');
      phase(`creating a ${sizeGiB} GiB disk`);
      await writeFile(raw, '');
      await truncate(raw, sizeGiB * 1024 ** 3);
      await partitionDisk(raw, signal);
      const { disk: loop, part } = await attachLoop(raw, disk, signal);
      await run('mkfs.ext4', ['-q', '-L', 'root', part], { signal, what: 'mkfs.ext4' });
      await mkdir(root);
      await mount([part], root, disk, signal);
      // Before the root is unmounted: debootstrap's chroot'ed dpkg, and the /proc and /sys it mounts itself.
      disk.push(`end processes and unmount below ${root}`, async () => {
        await endProcessesInside(root, { log });
        await unmountAllUnder(root, { keepDir: true });
      });

      phase(`debootstrap ${suite} from ${mirror}`);
      const debs = debCacheDir(cacheDir, suite);
      await mkdir(debs, { recursive: true });
      const t0 = Date.now();
      await run(
        'debootstrap',
        ['--variant=minbase', `--include=${debootstrapPackages(opts.distro, cloudInit).join(',')}`, '--components=main', `--cache-dir=${debs}`, suite, root, mirror],
        { signal, log, stream: true, what: 'debootstrap' },
      ).catch(async (err: unknown) => {
        // The tree (and its log) is removed by the cleanup; keep the log's tail for the user.
        if (err instanceof CancelledError) throw err;
        const detail = await readFile(join(root, 'debootstrap/debootstrap.log'), 'utf8').catch(() => '');
        if (detail) log.error(`debootstrap.log (last lines):\n${lastLines(detail, 40)}`);
        throw err;
      });
      log.info(`debootstrap took ${Math.round((Date.now() - t0) / 1000)}s`);

      phase('configuring the guest');
      await mountChrootFilesystems(root, disk, signal, log);
      await configureGuest({ root, disk: loop, part, suite, mirror, cloudInit, signal, log });
      const kernel = (await readdir(join(root, 'boot'))).filter((n) => n.startsWith('vmlinuz-')).sort().pop();
      if (kernel) await copyFile(join(root, 'boot', kernel), join(work, 'vmlinuz'));
      // Discard freed blocks so the raw file (and so the qcow2) only holds live data.
      await run('fstrim', [root], { signal, what: 'fstrim' }).catch((e) => log.debug(`fstrim: ${String(e)}`));

      phase('unmounting');
      const errors = await disk.unwind(log);
      if (errors.length) throw new HallmarkError('could not unmount or detach the image cleanly', { cause: errors[0] });

      phase('compressing to qcow2');
      const qcow2 = join(work, 'image.qcow2');
      // zstd, not qcow2's zlib default: every read of the base (each boot, each
      // capture's convert) inflates its clusters, and zstd does that several
      // times faster; a capture of the quickstart converted in 4.5 s instead of 6.2.
      await run('qemu-img', ['convert', ...FAST_CONVERT_OPTIONS, '-O', 'qcow2', '-f', 'raw', raw, qcow2], { signal, what: 'qemu-img convert' });
      await rm(raw, { force: true });
      const sha256 = await sha256File(qcow2, signal);
      const qinfo = JSON.parse(await run('qemu-img', ['info', '--output=json', qcow2], { signal })) as { 'virtual-size': number };
      throwIfAborted(signal);

      const built: Omit<BaseImageInfo, 'file'> = {
        name,
        distro: opts.distro,
        suite,
        variant: cloudInit ? 'cloudinit' : 'hallmark',
        sha256,
        recipe: recipeDigest({ distro: opts.distro, cloudInit, mirror }),
        sizeBytes: (await stat(qcow2)).size,
        virtualSizeBytes: qinfo['virtual-size'],
        createdAt: new Date().toISOString(),
        packages,
        mirror,
      };
      if (kernel) {
        outputs.push(`remove ${kernelPath(cacheDir, name)}`, () => rm(kernelPath(cacheDir, name), { force: true }));
        await rename(join(work, 'vmlinuz'), kernelPath(cacheDir, name));
      }
      // json last: its presence marks a complete image. Nothing can fail after it.
      const info = await installBuiltImage(cacheDir, qcow2, built, (file) => outputs.push(`remove ${file}`, () => rm(file, { force: true })));
      log.info(`built ${name} in ${Math.round((Date.now() - started) / 1000)}s: ${baseImageFile(cacheDir, info)} (${(info.sizeBytes / 1024 ** 2).toFixed(0)} MiB)`);
      // Earlier builds nothing uses any more; a failure here leaves files, never a broken cache.
      await removeUnusedVersions(cacheDir, info, log).catch((e: unknown) => log.warn(`could not remove earlier builds of ${name}: ${String(e)}`));
      return info;
    } catch (err) {
      const e = toHallmarkError(err);
      e.cleanupErrors.push(...(await disk.unwind(log)), ...(await outputs.unwind(log)), ...(await outer.unwind(log)));
      throw e;
    } finally {
      // Normal path: the disk stack is already empty; this removes the work dir.
      const errors = [...(await disk.unwind(log)), ...(await outer.unwind(log))];
      if (errors.length) log.warn(`${errors.length} cleanup step(s) failed after building ${name}`);
    }
  }
}
