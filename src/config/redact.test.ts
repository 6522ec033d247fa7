import { describe, expect, it } from 'vitest';
import { redactSecrets } from './redact.js';

describe('redactSecrets', () => {
  it('masks values of secret-looking keys at any depth, keeps key paths', () => {
    const input = {
      driver: { name: 'ec2', aws_secret_access_key: 'abc', aws_access_key_id: 'AKIA', session_token: 't', ssh_key: '~/.ssh/id' },
      transport: { name: 'ssh', password: 'pw', ssh_key: '/k', private_key: '-----BEGIN' },
      list: [{ api_token: 'x', keep: 1 }],
      empty: { password: null },
    };
    expect(redactSecrets(input)).toEqual({
      driver: { name: 'ec2', aws_secret_access_key: '***', aws_access_key_id: '***', session_token: '***', ssh_key: '~/.ssh/id' },
      transport: { name: 'ssh', password: '***', ssh_key: '/k', private_key: '***' },
      list: [{ api_token: '***', keep: 1 }],
      empty: { password: null },
    });
  });

  it('keeps the names of secret extra vars and masks their values', () => {
    const input = { provisioner: { name: 'ansible_playbook', extra_vars: { port: 80 }, secret_extra_vars: { db_password: 'x', api: { key: 'y' } } } };
    expect(redactSecrets(input)).toEqual({
      provisioner: { name: 'ansible_playbook', extra_vars: { port: 80 }, secret_extra_vars: { db_password: '***', api: { key: '***' } } },
    });
  });

  it('masks passwords in URLs and leaves the input untouched', () => {
    const input = { image: 'https://user:hunter2@example.com/x.qcow2', plain: 'https://example.com/a:b' };
    expect(redactSecrets(input)).toEqual({ image: 'https://user:***@example.com/x.qcow2', plain: 'https://example.com/a:b' });
    expect(input.image).toContain('hunter2');
  });
});
