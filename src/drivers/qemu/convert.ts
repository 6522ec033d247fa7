import { qemuImg } from './qemu-img.js';

/**
 * Turns an instance overlay (qcow2 on a backing base image) into ONE
 * standalone, compressed qcow2 that boots by itself.
 *
 * Why this is faster than a plain `qemu-img convert -c -O qcow2 overlay out`
 * (the zlib default), measured on a real VM disk (see the driver test, which
 * prints both):
 *  - `compression_type=zstd`: zstd compresses several times faster than
 *    zlib at a similar ratio; qemu >= 5.1 reads such images.
 *  - `-W -m 8`: out-of-order writes with 8 coroutines, so reading the base,
 *    compressing (qcow2 compresses in a thread pool) and writing overlap
 *    instead of running one cluster at a time.
 *  - the guest ran `fstrim -av` before powering off and the disk has
 *    discard=unmap, so blocks the guest deleted (apt caches, temporary
 *    files) are holes in the overlay and are neither read nor compressed;
 *    zero clusters are skipped either way.
 */
export const FAST_CONVERT_OPTIONS = ['-c', '-o', 'compression_type=zstd', '-W', '-m', '8'];

export async function convertToStandalone(source: string, dest: string, signal?: AbortSignal): Promise<void> {
  await qemuImg(['convert', '-O', 'qcow2', ...FAST_CONVERT_OPTIONS, source, dest], signal, 'writing the captured image');
}
