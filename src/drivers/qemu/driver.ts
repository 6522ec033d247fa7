import { rm } from 'node:fs/promises';
import { HallmarkError } from '../../kernel/errors.js';
import type { ImageRecord } from '../../kernel/journal.js';
import type { ConnectionTarget } from '../../transports/transport.js';
import type { CaptureRequest, DistributeRequest, MachineCapability, ImageCapability, LeftoverCapability, DriverContext, Leftover, LeftoverQuery, LeftoverRemoval, PruneRequest, PruneResult } from '../driver.js';
import { findQemuLeftovers, removeQemuLeftovers } from './leftovers.js';
import { captureMachine } from './capture.js';
import { ImageStoreError } from './errors.js';
import { deleteExport, exportImage } from './export.js';
import { resolveImage } from './image-source.js';
import { launchMachine } from './launch.js';
import { findQemuByOverlay, isOurQemu, stopQemu } from './process.js';
import type { QemuDriverOptions } from './schema.js';
import { readQemuState, type QemuState } from './state.js';
import { pruneStore } from './prune.js';
import { defaultStoreDir, getImage, imagePath, removeImage, setImageTags } from './store.js';

/**
 * The qemu driver: local VMs as copy-on-write overlays on a base image,
 * reached over SSH through a forwarded loopback port, captured into the local
 * image store and exported to directories or S3.
 */
export class QemuDriver implements MachineCapability, ImageCapability, LeftoverCapability {
  readonly name = 'qemu';

  constructor(private readonly opts: QemuDriverOptions) {}

  private state(ctx: DriverContext): QemuState | undefined {
    return readQemuState(ctx.journal);
  }

  async prepare(ctx: DriverContext): Promise<void> {
    await resolveImage(this.opts.image, { projectDir: ctx.instance.projectDir, checksum: this.opts.image_checksum, signal: ctx.signal });
  }

  /** Idempotent: a machine of this instance that is still running is kept. */
  async create(ctx: DriverContext): Promise<void> {
    const existing = this.state(ctx);
    if (existing?.pid !== undefined && !existing.stoppedAt && (await isOurQemu(existing.pid, existing.overlay))) {
      ctx.log.info(`qemu: machine already running (PID ${existing.pid}, port ${existing.port})`);
      return;
    }
    // Leftovers of a machine that died or a create that was interrupted.
    if (existing) await this.destroy(ctx);
    await launchMachine(ctx, this.opts);
  }

  async connectionTarget(ctx: DriverContext): Promise<ConnectionTarget> {
    const s = this.state(ctx);
    if (!s || s.port === undefined) {
      throw new HallmarkError(`${ctx.instance.name} has no qemu machine`, { hint: `run: hallmark create ${ctx.instance.name}` });
    }
    return {
      hostname: '127.0.0.1',
      port: s.port,
      username: s.username,
      privateKeyPath: s.privateKeyPath,
      hostKey: s.hostKeyFingerprint ? { expected: s.hostKeyFingerprint } : undefined,
      maxWaitUntilReadyMs: this.opts.boot_timeout * 1000,
      consoleLogPath: s.consoleLogPath,
    };
  }

  /**
   * Stops the qemu of this instance and removes its files, from the journal
   * alone. A PID is signalled only when /proc shows it is the qemu of this
   * instance's overlay; with no PID recorded (killed mid-create), the qemu is
   * found by its overlay path. Idempotent. The console log is kept.
   */
  async destroy(ctx: DriverContext): Promise<void> {
    const s = this.state(ctx);
    if (!s) return;
    const pids = new Set<number>(await findQemuByOverlay(s.overlay));
    if (s.pid !== undefined) pids.add(s.pid);
    for (const pid of pids) {
      if (await stopQemu(pid, s.overlay, { signal: ctx.signal })) ctx.log.info(`qemu: stopped PID ${pid}`);
    }
    await rm(s.instanceDir, { recursive: true, force: true });
    if (s.qmpSocket && !s.qmpSocket.startsWith(s.instanceDir)) await rm(s.qmpSocket, { force: true });
    await ctx.journal.resetMachine();
  }

  async capture(ctx: DriverContext, req: CaptureRequest): Promise<ImageRecord> {
    const s = this.state(ctx);
    if (!s) throw new HallmarkError(`${ctx.instance.name} has no qemu machine to capture`, { hint: 'run hallmark create first' });
    return captureMachine(ctx, s, req);
  }

  /** Exports the stored image to every target in turn; each copy is journaled before it is written. */
  async distribute(ctx: DriverContext, image: ImageRecord, req: DistributeRequest): Promise<ImageRecord[]> {
    const stored = await getImage(image.id);
    if (!stored) throw new ImageStoreError(`image ${image.id} is not in the image store (${defaultStoreDir()})`);
    const copies: ImageRecord[] = [];
    for (const target of req.targets) {
      copies.push(
        await exportImage(stored, imagePath(stored), target, {
          format: req.format,
          s3Endpoint: this.opts.s3_endpoint,
          signal: ctx.signal,
          log: ctx.log,
          record: (copy) => ctx.journal.recordImage(copy),
        }),
      );
    }
    return copies;
  }

  /** Removes a store entry (source) or an export (copy). Idempotent. */
  /** Boot tests start from the store entry: `image:` accepts a store id. */
  bootFrom(image: ImageRecord): Record<string, unknown> {
    return { image: image.id, image_checksum: undefined };
  }

  async deleteImage(ctx: DriverContext, image: ImageRecord): Promise<void> {
    if (image.role === 'copy') await deleteExport(image, { s3Endpoint: this.opts.s3_endpoint, signal: ctx.signal });
    else if (await removeImage(image.id)) ctx.log.info(`removed ${image.id} from the image store`);
  }

  /** Tags the store entries (the commit's `hallmark:state=published`); exports keep the metadata they were written with. */
  async tagImages(_ctx: DriverContext, images: ImageRecord[], tags: Record<string, string | null>): Promise<void> {
    for (const i of images) if (i.role === 'source') await setImageTags(i.id, tags);
  }

  /** image.keep / `hallmark images prune`: the local image store (prune.ts); regions mean nothing here. */
  async pruneImages(ctx: DriverContext, req: PruneRequest): Promise<PruneResult[]> {
    return [await pruneStore({ family: req.family, keep: req.keep, spare: req.spare, dryRun: req.dryRun, log: ctx.log })];
  }

  /** cleanup --orphans: machines and store entries no journal claims (see leftovers.ts). */
  async findLeftovers(q: LeftoverQuery): Promise<Leftover[]> {
    return findQemuLeftovers(q);
  }

  async removeLeftovers(q: LeftoverQuery, found: Leftover[]): Promise<LeftoverRemoval[]> {
    return removeQemuLeftovers(q, found);
  }

  /** One host, one image store. */
  leftoverScope(): string {
    return `qemu ${defaultStoreDir()}`;
  }

  async describeImages(_ctx: DriverContext, images: ImageRecord[]): Promise<Record<string, unknown>> {
    const out: Record<string, unknown>[] = [];
    for (const i of images) {
      if (i.role === 'copy') {
        out.push({ id: i.id, role: 'copy', target: i.region, name: i.name });
        continue;
      }
      const s = await getImage(i.id);
      out.push({ id: i.id, role: 'source', name: i.name, path: s ? imagePath(s) : undefined, sha256: s?.sha256, sizeBytes: s?.sizeBytes });
    }
    return { store: defaultStoreDir(), images: out };
  }
}
