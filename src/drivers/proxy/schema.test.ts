import { describe, expect, test } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { proxyDriverSchema } from './schema.js';
import { hostPort, readProxyState } from './state.js';
import { Journal } from '../../kernel/journal.js';
import { StateFileError } from '../../kernel/errors.js';

describe('proxy driver schema', () => {
  test("Kitchen's block with defaults: port 22, user root, no reset command", () => {
    expect(proxyDriverSchema().parse({ name: 'proxy', host: 'db1.example.com', reset_command: null })).toEqual({
      name: 'proxy',
      host: 'db1.example.com',
      port: 22,
      username: 'root',
      reset_command: null,
    });
  });

  test('host is required; unknown keys and bad fingerprints are reported', () => {
    expect(proxyDriverSchema().safeParse({ name: 'proxy' }).success).toBe(false);
    const r = proxyDriverSchema().safeParse({ name: 'proxy', host: 'h', hostname: 'h' });
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues)).toContain('hostname');
    expect(proxyDriverSchema().safeParse({ name: 'proxy', host: 'h', host_key: 'md5:aa' }).success).toBe(false);
    expect(proxyDriverSchema().safeParse({ name: 'proxy', host: 'h', host_key: `SHA256:${'A'.repeat(43)}` }).success).toBe(true);
  });

  test('state: only a record with a host counts as created; a damaged one is an error', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'hallmark-proxy-state-'));
    const journal = async (driver: Record<string, unknown>) => {
      const j = await Journal.open(dir, 'x');
      await j.update((s) => {
        s.driver = driver;
      });
      return j;
    };
    expect(readProxyState(await journal({}))).toBeUndefined();
    expect(readProxyState(await journal({ hostKeyFingerprint: 'SHA256:x' }))).toBeUndefined();
    expect(readProxyState(await journal({ host: 'h', port: 22, username: 'root' }))).toEqual({ host: 'h', port: 22, username: 'root' });
    const damaged = await journal({ host: 'h', port: 'twenty-two', username: 'root' });
    expect(() => readProxyState(damaged)).toThrow(StateFileError);
    await rm(dir, { recursive: true, force: true });
    expect(hostPort('::1', 22)).toBe('[::1]:22');
  });
});
