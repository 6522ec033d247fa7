import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, expect, it } from 'vitest';
import { layersPlugin } from '../eslint/layers.js';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const srcDir = path.join(root, 'src');

// Only the layer rule, so this test says one thing: no upward import.
const eslint = new ESLint({
  cwd: root,
  overrideConfigFile: true,
  overrideConfig: [
    {
      files: ['**/*.ts'],
      languageOptions: { parser: tseslint.parser },
      plugins: { hallmark: layersPlugin },
      rules: { 'hallmark/layers': ['error', { srcDir }] },
    },
  ],
});

async function lint(file: string, code: string): Promise<string[]> {
  const [r] = await eslint.lintText(code, { filePath: path.join(srcDir, file) });
  return r!.messages.map((m) => m.message);
}

describe('the layer rule (kernel < transports < plugins < pipeline < cli)', () => {
  it('finds no upward import anywhere in src/', async () => {
    const results = await eslint.lintFiles(['src/**/*.ts']);
    expect(results.length).toBeGreaterThan(100);
    const problems = results.flatMap((r) => r.messages.map((m) => `${path.relative(root, r.filePath)}: ${m.message}`));
    expect(problems).toEqual([]);
  }, 180_000); // parses every file of src/: seconds when idle, far more on a loaded 2-core box

  it.each([
    ['kernel/x.ts', "import { runAction } from '../pipeline/actions.js';", 'pipeline'],
    ['kernel/x.ts', "import '../transports/ssh/transport.js';", 'transports'],
    ['transports/ssh/x.ts', "import { registerPlugin } from '../../plugins.js';", 'plugins'],
    ['drivers/qemu/base/x.ts', "export { main } from '../../../cli/main.js';", 'cli'],
    ['verifiers/spec/x.ts', "export * from '../../pipeline/steps.js';", 'pipeline'],
    ['config/x.ts', "const m = await import('../pipeline/runner.js');", 'pipeline'],
    ['pipeline/x.ts', "import { main } from '../index.js';", 'cli'],
  ])('refuses %s importing upward: %s', async (file, code, layer) => {
    const messages = await lint(file, code);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toContain(`(layer ${layer})`);
  });

  it.each([
    ['pipeline/x.ts', "import { ConfigError } from '../kernel/errors.js';"],
    ['drivers/qemu/base/x.ts', "import { x } from '../config.js';"], // drivers/qemu/config, not src/config
    ['cli/x.ts', "import { runAction } from '../pipeline/actions.js';"],
    ['transport-plugins.ts', "import './transports/ssh/schema.js';"],
    ['kernel/x.ts', "import { z } from 'zod';"],
  ])('allows %s: %s', async (file, code) => {
    expect(await lint(file, code)).toEqual([]);
  });

  it('leaves tests alone (a test may build a pipeline around a kernel unit)', async () => {
    expect(await lint('kernel/x.test.ts', "import { runAction } from '../pipeline/actions.js';")).toEqual([]);
  });
});
