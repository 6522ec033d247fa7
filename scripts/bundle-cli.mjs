// Bundles the CLI (dist/cli/main.js and everything it imports, lazily
// imported commands and plugins as separate chunks) into dist/cli-bundle/,
// which bin/hallmark runs. One file per chunk instead of ~400 modules (zod
// alone is 230) cuts the CLI's start by more than half; bench/cli measures it.
// ssh2 (an optional native addon) and the AWS SDK stay external: they load
// only when an instance uses them. The library (dist/index.js and its types)
// is tsc's output and is not touched.
import { build } from 'esbuild';
import { rm, writeFile } from 'node:fs/promises';
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
  // CommonJS dependencies (picocolors, ...) call require() for node builtins.
  banner: { js: "import { createRequire as __hmCreateRequire } from 'node:module'; const require = __hmCreateRequire(import.meta.url);" },
  chunkNames: 'chunks/[name]-[hash]',
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: 'warning',
  metafile: true,
  plugins: [zodEnglishOnly],
});
// Which source modules each chunk holds: test/cli/startup.test.ts maps the
// chunks a command loads back to modules with it.
await writeFile(`${outdir}/meta.json`, JSON.stringify(metafile));
