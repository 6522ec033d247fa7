// Records every module a Node process loads, for test/cli/startup.test.ts:
//   HALLMARK_MODULE_LOG=FILE node --import ./module-recorder.mjs bin/hallmark ...
// appends one line per module to FILE: the URL of each ES module (and of each
// CommonJS module that an ES module imports) as the loader loads it, and at
// exit `cjs:PATH` for every module in require's cache (what CommonJS packages
// such as ssh2 and the AWS SDK require from each other) and every chunk of
// the CLI bundle that bin/hallmark loaded; `builtin:NAME` for each of Node's
// own modules the process loaded (child_process, net, ...).
import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import process from 'node:process';

const log = process.env.HALLMARK_MODULE_LOG;
if (!log) throw new Error('module-recorder: set HALLMARK_MODULE_LOG to the file to write');

// The hook runs on the loader's thread; it appends synchronously so that no
// line is lost when the process exits.
const hooks = `
import { appendFileSync } from 'node:fs';
export async function load(url, context, next) {
  appendFileSync(${JSON.stringify(log)}, url + '\\n');
  return next(url, context);
}`;
register(`data:text/javascript,${encodeURIComponent(hooks)}`);

const require = createRequire(import.meta.url);
process.on('exit', () => {
  // bin/hallmark loads the CLI bundle's chunks itself (node:vm, for V8's code
  // cache): neither the loader hook nor require's cache sees them.
  const chunks = globalThis[Symbol.for('hallmark.cli-chunks')];
  appendFileSync(log, [...Object.keys(require.cache), ...(chunks ? chunks.keys() : [])].map((f) => `cjs:${f}\n`).join(''));
  // Node's own modules, however loaded (require's cache does not hold them).
  const builtins = process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => `builtin:${m.slice('NativeModule '.length)}\n`);
  appendFileSync(log, builtins.join(''));
});
