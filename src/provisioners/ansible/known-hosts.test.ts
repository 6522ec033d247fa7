import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { keyFingerprint, knownHostsName, parseKeyscan } from './known-hosts.js';

describe('keyFingerprint', () => {
  it('equals what ssh-keygen -l prints for the same key', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'hallmark-kh-'));
    try {
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, 'k')]);
      const pub = readFileSync(path.join(dir, 'k.pub'), 'utf8').split(' ');
      const fp = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', path.join(dir, 'k.pub')], { encoding: 'utf8' }).split(' ')[1];
      expect(keyFingerprint(pub[1]!)).toBe(fp);
      const scanned = parseKeyscan(`# 127.0.0.1:22 SSH-2.0-OpenSSH\n127.0.0.1 ${pub[0]} ${pub[1]}\n`);
      expect(scanned).toEqual([{ type: 'ssh-ed25519', key: pub[1], fingerprint: fp }]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('names non-standard ports the way OpenSSH looks them up', () => {
    expect(knownHostsName('127.0.0.1', 2222)).toBe('[127.0.0.1]:2222');
    expect(knownHostsName('host', 22)).toBe('host');
  });
});
