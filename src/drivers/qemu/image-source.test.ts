import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveImage } from './image-source.js';

/** URL images against a real HTTP server on loopback; file paths against real files. */
let dir: string;
let server: Server;
let url: string;
let hits = 0;
const body = Buffer.alloc(256 * 1024, 7);
const sha = createHash('sha256').update(body).digest('hex');

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'hallmark-src-'));
  server = createServer((req, res) => {
    hits++;
    if (req.url === '/disk.qcow2') res.end(body);
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
  await rm(dir, { recursive: true, force: true });
});

describe('resolveImage', () => {
  it('downloads a URL once into the cache, verified by its sha256', async () => {
    const cacheDir = path.join(dir, 'cache');
    const r = await resolveImage(`${url}/disk.qcow2`, { projectDir: dir, checksum: `sha256:${sha}`, cacheDir });
    expect(r).toMatchObject({ kind: 'url', sha256: sha, hallmarkGuest: false });
    expect(await readFile(r.path)).toEqual(body);
    const again = await resolveImage(`${url}/disk.qcow2`, { projectDir: dir, checksum: sha, cacheDir });
    expect(again.path).toBe(r.path);
    expect(hits).toBe(1);
  });

  it('refuses a download whose checksum differs, and leaves nothing behind', async () => {
    const cacheDir = path.join(dir, 'cache2');
    await expect(resolveImage(`${url}/disk.qcow2`, { projectDir: dir, checksum: '0'.repeat(64), cacheDir })).rejects.toThrow(/has sha256 .* but driver.image_checksum/);
    expect(await readdir(path.join(cacheDir, 'downloads'))).toEqual([]);
  });

  it('requires image_checksum for URLs and reports HTTP errors', async () => {
    await expect(resolveImage(`${url}/disk.qcow2`, { projectDir: dir })).rejects.toThrow(/image_checksum is not set/);
    await expect(resolveImage(`${url}/missing.qcow2`, { projectDir: dir, checksum: sha, cacheDir: dir })).rejects.toThrow(/HTTP 404/);
  });

  it('resolves paths relative to the project; a sidecar json with a distro marks a hallmark base image', async () => {
    await writeFile(path.join(dir, 'mine.qcow2'), 'x');
    await writeFile(path.join(dir, 'mine.json'), JSON.stringify({ name: 'mine', distro: 'debian', variant: 'default' }));
    await writeFile(path.join(dir, 'cloud.qcow2'), 'x');
    expect(await resolveImage('./mine.qcow2', { projectDir: dir })).toMatchObject({ path: path.join(dir, 'mine.qcow2'), kind: 'file', hallmarkGuest: true });
    expect(await resolveImage('cloud.qcow2', { projectDir: dir })).toMatchObject({ kind: 'file', hallmarkGuest: false });
    await expect(resolveImage('./none.qcow2', { projectDir: dir })).rejects.toThrow(/no such file/);
  });

  it('resolves a base name to the current build\'s own file, and a path to a versioned base file by its name\'s json', async () => {
    const cacheDir = path.join(dir, 'base-cache');
    await mkdir(cacheDir);
    const file = path.join(cacheDir, 'debian-12.0123456789abcdef.qcow2');
    await writeFile(file, 'x');
    await writeFile(path.join(cacheDir, 'debian-12.json'), JSON.stringify({ name: 'debian-12', distro: 'debian-12', variant: 'hallmark', sha256: '0123456789abcdef'.padEnd(64, '0'), file: path.basename(file), mirror: 'http://deb.debian.org/debian', createdAt: 'then' }));
    const r = await resolveImage('debian-12', { projectDir: dir, cacheDir });
    expect(r).toMatchObject({ path: file, kind: 'base', hallmarkGuest: true, stale: expect.stringMatching(/hallmark base build debian-12 --force/) });
    expect(await resolveImage(file, { projectDir: dir })).toMatchObject({ path: file, kind: 'file', hallmarkGuest: true });
  });

  it('checks a path against image_checksum when one is given', async () => {
    await writeFile(path.join(dir, 'cloud-sum.qcow2'), body);
    expect(await resolveImage('cloud-sum.qcow2', { projectDir: dir, checksum: `sha256:${sha.toUpperCase()}` })).toMatchObject({ kind: 'file', sha256: sha });
    await expect(resolveImage('cloud-sum.qcow2', { projectDir: dir, checksum: '0'.repeat(64) })).rejects.toMatchObject({
      message: expect.stringMatching(new RegExp(`has sha256 ${sha}, but driver.image_checksum is 0{64}$`)),
      exitCode: 2,
    });
  });
});
