/**
 * bin/hallmark keeps V8's code cache of each CLI bundle chunk it loads, in
 * ${XDG_CACHE_HOME}/hallmark/compile-cache/ (see its header). Asserted on the
 * cache files and the output, never on time (bench/cli times the start).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BIN, ROOT, assertBuilt } from './run-cli.js';

const QUICKSTART = path.join(ROOT, 'examples', 'quickstart');
let tmp: string;
beforeAll(async () => {
  assertBuilt();
  tmp = await mkdtemp(path.join(tmpdir(), 'hallmark-compile-cache-'));
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

/** `node [nodeArgs] bin/hallmark ...args` in the quickstart project with its own cache home. */
async function hallmark(cache: string, args: string[], nodeArgs: string[] = [], env: Record<string, string> = {}): Promise<string> {
  const r = await execa(process.execPath, [...nodeArgs, BIN, ...args], { cwd: QUICKSTART, env: { CI: '1', XDG_CACHE_HOME: cache, ...env }, reject: false, timeout: 60_000 });
  expect(r.exitCode, r.stderr).toBe(0);
  return r.stdout;
}

/** Each cache directory (one per node version and flags) with its files: name -> inode and mtime. */
async function caches(cache: string): Promise<Map<string, Map<string, string>>> {
  const base = path.join(cache, 'hallmark', 'compile-cache');
  const dirs = new Map<string, Map<string, string>>();
  if (!existsSync(base)) return dirs;
  for (const d of await readdir(base)) {
    const files = new Map<string, string>();
    for (const f of await readdir(path.join(base, d))) {
      const s = await stat(path.join(base, d, f));
      files.set(f, `${s.ino}:${s.mtimeMs}`);
    }
    dirs.set(d, files);
  }
  return dirs;
}

const keys = () => JSON.parse(readFileSync(path.join(ROOT, 'dist/cli-bundle/cache-keys.json'), 'utf8')) as Record<string, string>;

describe('the CLI keeps V8 code caches of its bundle chunks', () => {
  it('writes one cache per chunk a command loads, named by the chunk\'s hash, and uses them without rewriting on the next start', async () => {
    const cache = path.join(tmp, 'a');
    const first = await hallmark(cache, ['list']);
    const after1 = await caches(cache);
    expect([...after1.keys()]).toEqual([`${process.version}-${process.arch}`]);
    const files = [...after1.values()][0]!;
    const k = keys();
    expect([...files.keys()]).toContain(`${k['main.js']}.v8`);
    expect(files.size).toBeGreaterThan(5); // list loads the config code, yaml and zod: chunks of their own
    expect(files.size).toBeLessThan(Object.keys(k).length); // not the chunks of commands that did not run
    const known = new Set(Object.values(k).map((h) => `${h}.v8`));
    expect([...files.keys()].filter((f) => !known.has(f))).toEqual([]);

    expect(await hallmark(cache, ['list'])).toBe(first);
    // V8 accepted every cache: none was written again (a write is a new file renamed into place).
    expect(await caches(cache)).toEqual(after1);
  });

  it('compiles from source and writes the cache again when V8 refuses it', async () => {
    const cache = path.join(tmp, 'b');
    const first = await hallmark(cache, ['list']);
    const [dir, files] = [...(await caches(cache)).entries()][0]!;
    const main = path.join(cache, 'hallmark', 'compile-cache', dir, `${keys()['main.js']}.v8`);
    const good = await readFile(main);
    await writeFile(main, Buffer.alloc(good.length, 0x5a)); // same length, not a V8 cache
    expect(await hallmark(cache, ['list'])).toBe(first);
    expect((await readFile(main)).every((b) => b === 0x5a)).toBe(false);
    // Only the refused one was written again.
    const after = (await caches(cache)).get(dir)!;
    expect([...after].filter(([f, v]) => files.get(f) !== v).map(([f]) => f)).toEqual([path.basename(main)]);
  });

  it('keeps the caches of other V8 flags apart, and none with NODE_DISABLE_COMPILE_CACHE=1', async () => {
    const cache = path.join(tmp, 'c');
    const version = await hallmark(cache, ['--version']);
    const plain = await caches(cache);
    expect(await hallmark(cache, ['--version'], ['--stack-size=2000'])).toBe(version);
    const both = await caches(cache);
    expect(both.size).toBe(2);
    for (const [d, files] of plain) expect(both.get(d)).toEqual(files);

    const off = path.join(tmp, 'd');
    expect(await hallmark(off, ['list'], [], { NODE_DISABLE_COMPILE_CACHE: '1' })).toContain('default-debian-12');
    expect(existsSync(path.join(off, 'hallmark'))).toBe(false);
  });
});
