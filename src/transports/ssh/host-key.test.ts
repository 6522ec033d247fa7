import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { HostKeyMismatchError } from './errors.js';
import { HostKeyPolicy, fingerprint, sameFingerprint } from './host-key.js';

/** A fresh public key blob and the fingerprint OpenSSH's ssh-keygen prints for it. */
function realKey(): { blob: Buffer; fp: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hallmark-hk-'));
  try {
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, 'k')]);
    const pub = readFileSync(path.join(dir, 'k.pub'), 'utf8');
    const fp = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', path.join(dir, 'k.pub')], { encoding: 'utf8' }).split(' ')[1]!;
    return { blob: Buffer.from(pub.split(' ')[1]!, 'base64'), fp };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const verify = (p: HostKeyPolicy, key: Buffer) => new Promise<boolean>((resolve) => p.verify(key, resolve));

describe('fingerprint', () => {
  it('matches ssh-keygen -l', () => {
    const { blob, fp } = realKey();
    expect(fingerprint(blob)).toBe(fp);
    expect(sameFingerprint(fp, fp.slice('SHA256:'.length))).toBe(true);
    expect(sameFingerprint(fp, `${fp}=`)).toBe(true);
    expect(sameFingerprint(fp, 'SHA256:other')).toBe(false);
  });
});

describe('HostKeyPolicy', () => {
  const a = realKey();
  const b = realKey();

  it('accepts the expected key and refuses another with a mismatch error', async () => {
    const p = new HostKeyPolicy('m', { expected: a.fp });
    expect(await verify(p, a.blob)).toBe(true);
    expect(await verify(p, b.blob)).toBe(false);
    expect(p.failure).toBeInstanceOf(HostKeyMismatchError);
    expect(p.failure!.message).toContain(a.fp);
    expect(p.failure!.message).toContain(b.fp);
  });

  it('records the first key and pins it for later attempts', async () => {
    const recorded: string[] = [];
    const p = new HostKeyPolicy('m', { record: async (fp) => void recorded.push(fp) });
    expect(await verify(p, a.blob)).toBe(true);
    expect(await verify(p, a.blob)).toBe(true);
    expect(await verify(p, b.blob)).toBe(false);
    expect(recorded).toEqual([a.fp]);
  });

  it('refuses the connection when recording fails, keeping the reason', async () => {
    const p = new HostKeyPolicy('m', { record: async () => Promise.reject(new Error('disk full')) });
    expect(await verify(p, a.blob)).toBe(false);
    expect(p.failure?.message).toBe('disk full');
  });

  it('accepts anything when insecure or when nothing is known', async () => {
    expect(await verify(new HostKeyPolicy('m', { expected: a.fp, insecure: true }), b.blob)).toBe(true);
    expect(await verify(new HostKeyPolicy('m', undefined), b.blob)).toBe(true);
  });
});
