import { describe, expect, test } from 'vitest';
import { proxyDriverSchema } from './schema.js';
import { hostPort, readProxyState } from './state.js';

describe('proxy driver schema', () => {
  test("Kitchen's block with defaults: port 22, user root, no reset command", () => {
    expect(proxyDriverSchema.parse({ name: 'proxy', host: 'db1.example.com', reset_command: null })).toEqual({
      name: 'proxy',
      host: 'db1.example.com',
      port: 22,
      username: 'root',
      reset_command: null,
    });
  });

  test('host is required; unknown keys and bad fingerprints are reported', () => {
    expect(proxyDriverSchema.safeParse({ name: 'proxy' }).success).toBe(false);
    const r = proxyDriverSchema.safeParse({ name: 'proxy', host: 'h', hostname: 'h' });
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues)).toContain('hostname');
    expect(proxyDriverSchema.safeParse({ name: 'proxy', host: 'h', host_key: 'md5:aa' }).success).toBe(false);
    expect(proxyDriverSchema.safeParse({ name: 'proxy', host: 'h', host_key: `SHA256:${'A'.repeat(43)}` }).success).toBe(true);
  });

  test('state: only a record with host/port/username counts as created', () => {
    expect(readProxyState({})).toBeUndefined();
    expect(readProxyState({ hostKeyFingerprint: 'SHA256:x' })).toBeUndefined();
    expect(readProxyState({ host: 'h', port: 22, username: 'root' })).toEqual({ host: 'h', port: 22, username: 'root' });
    expect(hostPort('::1', 22)).toBe('[::1]:22');
  });
});
