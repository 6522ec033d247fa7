// Bundles the CLI (dist/cli/main.js and everything it imports, lazily
// imported commands and plugins as separate chunks) into dist/cli-bundle/,
// which bin/hallmark runs. One file per chunk instead of ~400 modules (zod
// alone is 230) cuts the CLI's start by more than half; bench/cli measures it.
// ssh2 (an optional native addon) and the AWS SDK stay external: they load
// only when an instance uses them. The library (dist/index.js and its types)
// is tsc's output and is not touched.
//
// The chunks are CommonJS (esbuild splits only ES modules, so each chunk is
// converted after the split): bin/hallmark compiles them with node:vm and
// keeps V8's code cache for each between runs, which Node 20 offers for
// scripts only (module.enableCompileCache, for ES modules too, is Node 22.1+).
// cache-keys.json names each chunk's code cache by a hash of its text.
import { build, transform } from 'esbuild';
import { createHash } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

const outdir = 'dist/cli-bundle';

// zod's `z.locales` namespace holds ~50 error-message locales (300 KB, half of
// zod's chunk) that every command loading the config would parse; hallmark
// speaks English only and never reads z.locales (zod's own default, en, is
// imported by zod directly, not through this index).
const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(b) {
    b.onLoad({ filter: /[\\/]zod[\\/]v4[\\/]locales[\\/]index\.js$/ }, (args) => ({
      contents: 'export { default as en } from "./en.js";',
      resolveDir: path.dirname(args.path),
    }));
  },
};

// commander requires node:child_process at load (~6 ms: it brings net,
// dgram and streams) for executable subcommands, which hallmark has none of:
// it is required when commander would spawn one.
const commanderSpawnsLazily = {
  name: 'commander-spawns-lazily',
  setup(b) {
    b.onLoad({ filter: /[\\/]commander[\\/]lib[\\/]command\.js$/ }, async (args) => {
      const text = await readFile(args.path, 'utf8');
      const eager = "const childProcess = require('node:child_process');";
      if (!text.includes(eager)) throw new Error(`${args.path}: no "${eager}" to make lazy (a new commander?)`);
      return { contents: text.replace(eager, "const childProcess = { spawn: (...a) => require('node:child_process').spawn(...a) };"), loader: 'js' };
    });
  },
};

await rm(outdir, { recursive: true, force: true });
const { metafile } = await build({
  entryPoints: { main: 'dist/cli/main.js' },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['ssh2', '@aws-sdk/*', '@smithy/*'],
  chunkNames: 'chunks/[name]-[hash]',
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: 'warning',
  metafile: true,
  plugins: [zodEnglishOnly, commanderSpawnsLazily],
});

// Each chunk to CommonJS: imports become require() (bin/hallmark resolves
// the relative ones to chunks, the rest with Node's require), import() a
// require() in a promise, import.meta.url the chunk's own URL (what it was
// in the ES chunk). Strict, as the ES modules were.
const keys = {};
for (const out of Object.keys(metafile.outputs).filter((f) => f.endsWith('.js'))) {
  const esm = await readFile(out, 'utf8');
  const metaUrl = esm.includes('import.meta') ? 'var __hmImportMetaUrl=require("node:url").pathToFileURL(__filename).href;' : '';
  const { code } = await transform(esm, {
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    supported: { 'dynamic-import': false },
    define: { 'import.meta.url': '__hmImportMetaUrl' },
    banner: `"use strict";${metaUrl}`,
    minifyWhitespace: true,
    minifySyntax: true,
    logLevel: 'warning',
  });
  if (code.includes('import.meta')) throw new Error(`${out}: import.meta other than import.meta.url cannot be converted`);
  await writeFile(out, code);
  keys[path.relative(outdir, out)] = createHash('sha256').update(code).digest('hex').slice(0, 32);
}
await writeFile(`${outdir}/cache-keys.json`, JSON.stringify(keys));
// The chunks are .js files that Node itself would read as CommonJS too.
await writeFile(`${outdir}/package.json`, '{"type":"commonjs"}\n');
// Which source modules each chunk holds: test/cli/startup.test.ts maps the
// chunks a command loads back to modules with it.
await writeFile(`${outdir}/meta.json`, JSON.stringify(metafile));
