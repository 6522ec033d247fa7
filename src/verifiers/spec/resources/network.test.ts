import os from 'node:os';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { ConfigError } from '../../../kernel/errors.js';
import { parseSpecText } from '../load.js';

const file = path.join(os.tmpdir(), 'hallmark-network-test.yml');

describe('dns', () => {
  test('resolveable is goss\'s old spelling of resolvable: checked and reported as resolvable', async () => {
    const [r] = await parseSpecText('dns:\n  localhost:\n    resolveable: true\n    addrs: [127.0.0.1]\n', file);
    expect(r!.checks.map((c) => c.name)).toEqual(['resolvable', 'addrs']);
  });

  test('both spellings at once is refused with file:line', async () => {
    const err = await parseSpecText('dns:\n  localhost:\n    resolvable: true\n    resolveable: false\n', file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems).toMatchObject([{ file, line: 4, message: expect.stringContaining('old spelling of resolvable') }]);
  });
});
