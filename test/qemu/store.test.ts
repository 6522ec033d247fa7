import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InstanceConfig } from '../../src/config/types.js';
import { silentLogger } from '../../src/kernel/events.js';
import { Journal } from '../../src/kernel/journal.js';
import type { DistributeRequest, DriverContext } from '../../src/drivers/driver.js';
import { QemuDriver } from '../../src/drivers/qemu/driver.js';
import { sha256File } from '../../src/drivers/qemu/qemu-img.js';
import { qemuDriverSchema } from '../../src/drivers/qemu/schema.js';
import { getImage, imageFiles, listImages, newImageId, removeImage, writeImageEntry, type StoredImage } from '../../src/drivers/qemu/store.js';
import { startMoto, type Moto } from '../helpers/moto.js';

/**
 * The local image store and exports, on a real (small) qcow2 written with
 * qemu-io, real qemu-img conversions and a real moto_server for S3.
 */
let root: string;
let storeDir: string;
let moto: Moto;
const MiB = 1 << 20;

async function makeStoredImage(name: string): Promise<StoredImage> {
  const id = newImageId();
  const f = imageFiles(id, storeDir);
  await execa('qemu-img', ['create', '-q', '-f', 'qcow2', f.qcow2, '64M']);
  // Real data at two offsets, so raw export and sizes are meaningful.
  await execa('qemu-io', ['-c', 'write -P 0xab 0 3M', '-c', 'write -P 0xcd 40M 2M', f.qcow2]);
  const st = await stat(f.qcow2);
  const image: StoredImage = {
    id,
    name,
    tags: { 'hallmark:build-id': 'b-1', 'hallmark:verification': 'sha256:abc' },
    base: { name: 'debian-12', path: '/nowhere/debian-12.qcow2' },
    buildId: 'b-1',
    instance: 'default-debian-12',
    verification: 'sha256:abc',
    createdAt: new Date().toISOString(),
    sizeBytes: st.size,
    virtualSizeBytes: 64 * MiB,
    sha256: await sha256File(f.qcow2),
    format: 'qcow2',
  };
  await writeImageEntry(image, storeDir);
  return image;
}

async function context(name: string): Promise<DriverContext> {
  const stateDir = path.join(root, '.hallmark');
  return {
    instance: { name, projectDir: root } as InstanceConfig,
    journal: await Journal.open(stateDir, name),
    log: silentLogger,
    signal: AbortSignal.timeout(120_000),
    buildId: 'b-1',
    stateDir,
  };
}

function distributeReq(targets: string[], format: 'qcow2' | 'raw'): DistributeRequest {
  return { regions: [], concurrency: 1, kmsKeyIds: {}, tags: {}, targets, format };
}

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'hallmark-store-'));
  storeDir = path.join(root, 'store');
  await mkdir(storeDir, { recursive: true });
  process.env.HALLMARK_IMAGE_STORE = storeDir;
  moto = await startMoto();
  Object.assign(process.env, moto.env);
});

afterAll(async () => {
  await moto?.stop();
  await rm(root, { recursive: true, force: true });
});

describe('image store', () => {
  it('lists complete entries only, finds by id and by newest name, removes idempotently', async () => {
    const a = await makeStoredImage('web-1');
    await new Promise((r) => setTimeout(r, 5));
    const b = await makeStoredImage('web-1');
    // An unfinished capture: a partial disk and no json.
    const orphan = newImageId();
    await writeFile(imageFiles(orphan, storeDir).partial, 'x');

    const all = await listImages(storeDir);
    expect(all.map((i) => i.id)).toEqual([a.id, b.id]);
    expect((await getImage(a.id, storeDir))?.sha256).toBe(a.sha256);
    expect((await getImage('web-1', storeDir))?.id).toBe(b.id);
    expect(await getImage('nope', storeDir)).toBeUndefined();

    expect(await removeImage(orphan, storeDir)).toBe(true);
    expect(await removeImage(a.id, storeDir)).toBe(true);
    expect(await removeImage(a.id, storeDir)).toBe(false);
    expect((await listImages(storeDir)).map((i) => i.id)).toEqual([b.id]);
    await expect(stat(imageFiles(a.id, storeDir).qcow2)).rejects.toThrow();
    await removeImage(b.id, storeDir);
  });

  it('the schema applies defaults and rejects unknown keys', () => {
    const o = qemuDriverSchema().parse({ name: 'qemu' });
    expect(o).toMatchObject({ image: 'debian-12', memory: 1024, cpus: 2, accel: 'auto', username: 'debian', boot_timeout: 300 });
    expect(qemuDriverSchema().safeParse({ name: 'qemu', memroy: 1 }).success).toBe(false);
    expect(qemuDriverSchema().safeParse({ name: 'qemu', disk_size: 'eight' }).success).toBe(false);
  });
});

describe('distribute', () => {
  it('exports to a directory as qcow2 and raw, journals the copies, refuses to overwrite; deleteImage removes them', async () => {
    const image = await makeStoredImage('app image/1');
    const ctx = await context('dir-export');
    const driver = new QemuDriver(qemuDriverSchema().parse({ name: 'qemu' }));
    const source = { id: image.id, role: 'source' as const, name: image.name };
    const dirQ = path.join(root, 'out-qcow2');
    const dirR = path.join(root, 'out-raw');

    const [q] = await driver.distribute(ctx, source, distributeReq([dirQ], 'qcow2'));
    const [r] = await driver.distribute(ctx, source, distributeReq([dirR], 'raw'));
    expect(q).toMatchObject({ role: 'copy', region: dirQ, id: path.join(dirQ, 'app-image-1.qcow2') });
    expect(r!.id).toBe(path.join(dirR, 'app-image-1.raw'));
    expect(await sha256File(q!.id)).toBe(image.sha256);
    expect((await stat(r!.id)).size).toBe(64 * MiB);
    const raw = await readFile(r!.id);
    expect(raw[0]).toBe(0xab);
    expect(raw[40 * MiB + 1]).toBe(0xcd);
    expect(raw[20 * MiB]).toBe(0);
    const meta = JSON.parse(await readFile(`${q!.id}.json`, 'utf8')) as StoredImage;
    expect(meta).toMatchObject({ id: image.id, name: 'app image/1', sha256: image.sha256 });
    expect(ctx.journal.state.images.filter((i) => i.role === 'copy').map((i) => i.id)).toEqual([q!.id, r!.id]);

    await expect(driver.distribute(ctx, source, distributeReq([dirQ], 'qcow2'))).rejects.toThrow(/already exists/);

    for (const c of [q!, r!]) {
      await driver.deleteImage(ctx, c);
      await driver.deleteImage(ctx, c);
      await expect(stat(c.id)).rejects.toThrow();
      await expect(stat(`${c.id}.json`)).rejects.toThrow();
    }
    await driver.deleteImage(ctx, source);
    expect(await getImage(image.id, storeDir)).toBeUndefined();
  });

  it('uploads to S3 (moto) with the metadata beside it; deleteImage removes both objects', async () => {
    const image = await makeStoredImage('s3-image');
    const s3 = new S3Client({ endpoint: moto.endpoint, forcePathStyle: true, region: 'us-east-1', credentials: moto.credentials });
    await s3.send(new CreateBucketCommand({ Bucket: 'images' }));
    const ctx = await context('s3-export');
    const driver = new QemuDriver(qemuDriverSchema().parse({ name: 'qemu', s3_endpoint: moto.endpoint }));
    const source = { id: image.id, role: 'source' as const, name: image.name };

    const [copy] = await driver.distribute(ctx, source, distributeReq(['s3://images/golden/'], 'qcow2'));
    expect(copy).toMatchObject({ id: 's3://images/golden/s3-image.qcow2', role: 'copy', region: 's3://images/golden/' });
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'images', Key: 'golden/s3-image.qcow2' }));
    expect(head.ContentLength).toBe(image.sizeBytes);
    const meta = await s3.send(new GetObjectCommand({ Bucket: 'images', Key: 'golden/s3-image.qcow2.json' }));
    expect(JSON.parse(await meta.Body!.transformToString())).toMatchObject({ id: image.id, sha256: image.sha256 });

    const [rawCopy] = await driver.distribute(ctx, source, distributeReq(['s3://images/raw'], 'raw'));
    const rawHead = await s3.send(new HeadObjectCommand({ Bucket: 'images', Key: 'raw/s3-image.raw' }));
    expect(rawHead.ContentLength).toBe(64 * MiB);

    for (const c of [copy!, rawCopy!]) {
      await driver.deleteImage(ctx, c);
      await driver.deleteImage(ctx, c);
    }
    for (const key of ['golden/s3-image.qcow2', 'golden/s3-image.qcow2.json', 'raw/s3-image.raw']) {
      await expect(s3.send(new HeadObjectCommand({ Bucket: 'images', Key: key }))).rejects.toMatchObject({ name: 'NotFound' });
    }
    s3.destroy();
    await removeImage(image.id, storeDir);
  });
});
