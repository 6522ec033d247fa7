import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { ConfigError } from '../../kernel/errors.js';
import { silentLogger } from '../../kernel/events.js';
import { loadPlugin } from '../../plugins.js';
import '../register.js';
import { inspecVerifierSchema } from './schema.js';
import { inspecTargets } from './targets.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'hallmark-inspec-targets-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const inst = () => ({ projectDir: dir, suite: 'web', file: path.join(dir, 'kitchen.yml') });
const opts = (o: Record<string, unknown> = {}) => inspecVerifierSchema().parse({ name: 'inspec', ...o });

describe('inspec profiles to run (kitchen-inspec rules)', () => {
  test('the suite directory, or its inspec/ subdirectory when other frameworks sit beside it', async () => {
    await mkdir(path.join(dir, 'test/integration/web'), { recursive: true });
    expect(inspecTargets(opts(), inst(), silentLogger)).toEqual([path.join(dir, 'test/integration/web')]);
    await mkdir(path.join(dir, 'test/integration/web/serverspec'));
    await mkdir(path.join(dir, 'test/integration/web/inspec'));
    expect(inspecTargets(opts(), inst(), silentLogger)).toEqual([path.join(dir, 'test/integration/web/inspec')]);
  });

  test('inspec_tests entries: paths resolved and deduplicated, remote ones as InSpec spells them', async () => {
    await mkdir(path.join(dir, 'test/integration/web'), { recursive: true });
    await mkdir(path.join(dir, 'profiles/base'), { recursive: true });
    const t = inspecTargets(
      opts({
        inspec_tests: [
          'test/integration/web',
          'profiles/base',
          { path: 'profiles/base' },
          'https://github.com/dev-sec/linux-baseline',
          { git: 'https://github.com/dev-sec/ssh-baseline.git' },
          { supermarket: 'dev-sec/linux-baseline' },
          { compliance: 'admin/cis' },
          { name: 'ssl-baseline' },
        ],
      }),
      inst(),
      silentLogger,
    );
    expect(t).toEqual([
      path.join(dir, 'test/integration/web'),
      path.join(dir, 'profiles/base'),
      'https://github.com/dev-sec/linux-baseline',
      'https://github.com/dev-sec/ssh-baseline.git',
      'supermarket://dev-sec/linux-baseline',
      'compliance://admin/cis',
      'supermarket://ssl-baseline',
    ]);
  });

  test('nothing to run is a config error naming the option', () => {
    expect(() => inspecTargets(opts(), inst(), silentLogger)).toThrow(ConfigError);
    expect(() => inspecTargets(opts(), inst(), silentLogger)).toThrow(/verifier\.inspec_tests: no InSpec profiles for suite "web"/);
  });

  test('registered as inspec and cinc-auditor; unknown options are rejected', async () => {
    expect((await loadPlugin('verifier', { name: 'cinc-auditor' })).name).toBe('cinc-auditor');
    expect((await loadPlugin('verifier', { name: 'testinfra' })).name).toBe('testinfra');
    expect(() => inspecVerifierSchema().parse({ name: 'inspec', inspec_test: [] })).toThrow();
    expect(() => inspecVerifierSchema().parse({ name: 'inspec', inspec_tests: [{ branch: 'main' }] })).toThrow(/needs one of path/);
  });
});
