import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { generateEd25519 } from './keys.js';
import { userData } from './seed.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('generateEd25519', () => {
  it('makes a private key only the owner reads, and the fingerprint ssh-keygen -l prints', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'hallmark-keys-'));
    dirs.push(dir);
    const k = await generateEd25519(path.join(dir, 'host'), 'host@x');
    expect(k.publicKey).toMatch(/^ssh-ed25519 AAAA\S+ host@x$/);
    expect((await stat(k.privateKeyPath)).mode & 0o077).toBe(0);
    const { stdout } = await execa('ssh-keygen', ['-l', '-E', 'sha256', '-f', k.publicKeyPath]);
    expect(stdout.split(' ')[1]).toBe(k.fingerprint);
    // A second call makes a different key (fresh per instance), in place.
    const k2 = await generateEd25519(path.join(dir, 'host'), 'host@x');
    expect(k2.fingerprint).not.toBe(k.fingerprint);
  });
});

describe('cloud-init user-data', () => {
  it('creates the user with the key and passes the host key through verbatim', () => {
    const ud = userData({
      instanceId: 'i-1',
      hostname: 'h',
      username: 'debian',
      authorizedKey: 'ssh-ed25519 AAAA client',
      hostKey: { privateKey: '-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----\n', publicKey: 'ssh-ed25519 BBBB host' },
    });
    expect(ud.startsWith('#cloud-config\n')).toBe(true);
    expect(ud).toContain('  - name: "debian"');
    expect(ud).toContain('      - "ssh-ed25519 AAAA client"');
    expect(ud).toMatch(/^manage_etc_hosts: localhost$/m);
    expect(ud).toContain('  ed25519_private: |\n    -----BEGIN OPENSSH PRIVATE KEY-----\n    abc\n    -----END OPENSSH PRIVATE KEY-----\n');
  });
});
