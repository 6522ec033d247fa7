import { describe, expect, it } from 'vitest';
import type { ConnectionTarget } from '../transport.js';
import { applyTransportOverrides, hostKeyMode } from './overrides.js';
import { sshTransportSchema } from './schema.js';

const driverTarget: ConnectionTarget = {
  hostname: '10.0.0.5',
  port: 2222,
  username: 'ec2-user',
  privateKeyPath: '/state/key',
  hostKey: { expected: 'SHA256:abc' },
};

describe('sshTransportSchema', () => {
  it('accepts Kitchen option names', () => {
    const parsed = sshTransportSchema().parse({
      name: 'ssh',
      username: 'centos',
      port: 22,
      ssh_key: 'keys/id',
      connection_timeout: 10,
      connection_retries: 5,
      connection_retry_sleep: 1,
      max_wait_until_ready: 600,
      ssh_gateway: 'bastion.example.com',
      ssh_gateway_username: 'jump',
      ssh_gateway_port: 2200,
      verify_host_key: 'never',
      compression: 'zlib',
      compression_level: 6,
      keepalive: true,
      keepalive_interval: 60,
      keepalive_maxcount: 3,
    });
    expect(parsed.username).toBe('centos');
  });

  it('rejects unknown keys and wrong types', () => {
    const r = sshTransportSchema().safeParse({ name: 'ssh', usernmae: 'x', port: '22' });
    expect(r.success).toBe(false);
    const codes = r.error!.issues.map((i) => i.code).sort();
    expect(codes).toEqual(['invalid_type', 'unrecognized_keys']);
  });
});

describe('applyTransportOverrides', () => {
  it('keeps the driver target when the block sets nothing', () => {
    expect(applyTransportOverrides(driverTarget, { name: 'ssh' })).toEqual(driverTarget);
  });

  it('lets set fields win, converts seconds, resolves key paths', () => {
    const t = applyTransportOverrides(
      driverTarget,
      { name: 'ssh', hostname: 'h', port: 22, username: 'root', ssh_key: 'k/id', password: 'pw', max_wait_until_ready: 30 },
      '/proj',
    );
    expect(t).toMatchObject({ hostname: 'h', port: 22, username: 'root', privateKeyPath: '/proj/k/id', password: 'pw', maxWaitUntilReadyMs: 30_000 });
    expect(t.hostKey).toEqual({ expected: 'SHA256:abc' });
  });

  it('builds a gateway with Kitchen defaults (port 22, same user and key)', () => {
    const t = applyTransportOverrides(driverTarget, { name: 'ssh', ssh_gateway: 'bastion' });
    expect(t.gateway).toEqual({ hostname: 'bastion', port: 22, username: 'ec2-user', privateKeyPath: '/state/key' });
    const t2 = applyTransportOverrides(
      driverTarget,
      { name: 'ssh', ssh_gateway: 'bastion', ssh_gateway_port: 2200, ssh_gateway_username: 'jump', ssh_gateway_key: '/g' },
    );
    expect(t2.gateway).toEqual({ hostname: 'bastion', port: 2200, username: 'jump', privateKeyPath: '/g' });
  });

  it('is idempotent', () => {
    const opts = { name: 'ssh' as const, ssh_gateway: 'b', ssh_key: 'x', verify_host_key: false };
    const once = applyTransportOverrides(driverTarget, opts, '/p');
    expect(applyTransportOverrides(once, opts, '/p')).toEqual(once);
  });

  it('maps verify_host_key', () => {
    expect(applyTransportOverrides(driverTarget, { name: 'ssh', verify_host_key: 'never' }).hostKey?.insecure).toBe(true);
    expect(applyTransportOverrides(driverTarget, { name: 'ssh', verify_host_key: 'accept_new' }).hostKey?.insecure).toBeUndefined();
    expect(hostKeyMode(true)).toBe('always');
    expect(hostKeyMode(undefined)).toBe('accept_new');
    expect(hostKeyMode(false)).toBe('never');
  });
});
