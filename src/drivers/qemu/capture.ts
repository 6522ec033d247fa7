import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { isAbortError } from '../../kernel/errors.js';
import type { ImageRecord } from '../../kernel/journal.js';
import type { CaptureRequest, DriverContext } from '../driver.js';
import { convertToStandalone } from './convert.js';
import { QemuError } from './errors.js';
import { imageInfo, sha256File } from './qemu-img.js';
import { isOurQemu, qmpCommand, waitForExit } from './process.js';
import type { QemuState } from './state.js';
import { defaultStoreDir, imageFiles, newImageId, writeImageEntry, type StoredImage } from './store.js';

const POWEROFF_WAIT_MS = 180_000;

/**
 * Captures the machine into the local image store: the guest is shut down
 * cleanly (req.shutdown over SSH, else an ACPI power-off through QMP), then
 * its overlay is converted into one standalone qcow2. The store id is
 * journaled before anything is written, so a crash mid-capture leaves an id
 * that deleteImage removes.
 */
export async function captureMachine(ctx: DriverContext, state: QemuState, req: CaptureRequest): Promise<ImageRecord> {
  const { journal, log, signal } = ctx;
  const storeDir = defaultStoreDir();
  const id = newImageId();
  const record: ImageRecord = { id, role: 'source', name: req.name };
  await journal.recordImage(record);

  await powerOff(ctx, state, req);

  const files = imageFiles(id, storeDir);
  await mkdir(storeDir, { recursive: true });
  const t0 = Date.now();
  log.info(`capturing ${ctx.instance.name} into the image store as ${id}`);
  try {
    await convertToStandalone(state.overlay, files.partial, signal);
  } catch (err) {
    await rm(files.partial, { force: true });
    throw err;
  }
  const captureMs = Date.now() - t0;
  const [info, sha256, st] = await Promise.all([imageInfo(files.partial, signal), sha256File(files.partial, signal), stat(files.partial)]);
  await rename(files.partial, files.qcow2);
  const tags = req.tags;
  const image: StoredImage = {
    id,
    name: req.name,
    tags,
    base: { name: state.baseName ?? state.baseImage ?? 'unknown', path: state.baseImage ?? '', sha256: state.baseSha256 },
    buildId: ctx.buildId,
    instance: ctx.instance.name,
    verification: tags['hallmark:verification'] ?? tags['hallmark:verify-digest'] ?? tags.verification ?? null,
    createdAt: new Date().toISOString(),
    sizeBytes: st.size,
    virtualSizeBytes: info.virtualSizeBytes,
    sha256,
    format: 'qcow2',
    cloudInit: state.cloudInit,
    captureMs,
  };
  await writeImageEntry(image, storeDir);
  log.info(`captured ${id}: ${(st.size / 2 ** 20).toFixed(0)} MiB in ${(captureMs / 1000).toFixed(1)}s`);
  return record;
}

/** Brings the guest down and waits for qemu to exit. A machine already stopped by an earlier attempt is fine. */
async function powerOff(ctx: DriverContext, state: QemuState, req: CaptureRequest): Promise<void> {
  const { log, signal } = ctx;
  const pid = state.pid;
  if (pid === undefined || !(await isOurQemu(pid, state.overlay))) {
    if (state.stoppedAt || state.pid !== undefined) {
      log.debug('qemu is not running: capturing the disk as it is');
      return;
    }
    throw new QemuError(`${ctx.instance.name} has no running machine to capture`, { hint: 'run hallmark create first' });
  }

  if (req.shutdown) {
    log.info('shutting the guest down over SSH');
    try {
      await req.shutdown(signal);
    } catch (err) {
      // The connection usually drops as the guest powers off; whether it
      // worked is judged by qemu exiting below.
      if (isAbortError(err) || signal.aborted) throw err;
      log.debug(`shutdown command ended with: ${(err as Error).message}`);
    }
    if (await waitForExit(pid, POWEROFF_WAIT_MS, signal)) return done();
    log.warn('the guest did not power off after the shutdown command; trying an ACPI power-off');
  } else {
    log.warn('no shutdown over SSH available: sending an ACPI power-off (the image keeps this machine\'s SSH host keys until its next boot replaces them)');
  }

  if (!state.qmpSocket) throw new QemuError('cannot power the guest off: no QMP socket recorded for this machine');
  await qmpCommand(state.qmpSocket, 'system_powerdown', 10_000, signal);
  if (await waitForExit(pid, POWEROFF_WAIT_MS, signal)) return done();
  throw new QemuError(`the guest of ${ctx.instance.name} did not power off within ${POWEROFF_WAIT_MS / 1000}s`, {
    hint: `look at the console log ${state.consoleLogPath ?? ''}; hallmark destroy stops the machine`,
  });

  async function done(): Promise<void> {
    await ctx.journal.recordDriver({ stoppedAt: new Date().toISOString() });
  }
}
