import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSshd, type Sshd } from '../helpers/sshd.js';

/** The helper itself, checked with the OpenSSH client (not with hallmark's code). */
describe('test helper startSshd', () => {
  let sshd: Sshd;
  beforeAll(async () => {
    sshd = await startSshd();
  });
  afterAll(async () => {
    await sshd?.stop();
  });

  const ssh = (user: string, command: string) =>
    execFileSync(
      'ssh',
      ['-i', sshd.privateKeyPath, '-p', String(sshd.port), '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no',
        '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR', `${user}@127.0.0.1`, command],
      { encoding: 'utf8', timeout: 20_000 },
    );

  it('lets the non-root user in, with passwordless sudo', () => {
    expect(ssh(sshd.username, 'id -un; sudo -n id -u').split('\n').slice(0, 2)).toEqual(['hallmark-test', '0']);
  });

  it('lets root in with the same key', () => {
    expect(ssh(sshd.rootUsername, 'id -u').trim()).toBe('0');
  });

  it('reports the fingerprint the server presents', () => {
    const scanned = execFileSync('sh', ['-c', `ssh-keyscan -p ${sshd.port} -t ed25519 127.0.0.1 2>/dev/null | ssh-keygen -lf -`], { encoding: 'utf8' });
    expect(scanned).toContain(sshd.hostKeyFingerprint);
  });

  it('stops by PID and removes its directory', async () => {
    const other = await startSshd();
    await other.stop();
    expect(() => process.kill(other.pid, 0)).toThrow();
    expect(existsSync(other.dir)).toBe(false);
  });
});
