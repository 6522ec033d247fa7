import { createHash } from 'node:crypto';
import type { ConnectionTarget } from '../transport.js';
import { HostKeyMismatchError } from './errors.js';

/**
 * OpenSSH's SHA256 fingerprint of a public key blob (the wire encoding the
 * server sends): `SHA256:` and unpadded base64, as `ssh-keygen -l` prints.
 */
export function fingerprint(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

/** Fingerprints compare without the optional `SHA256:` prefix and padding. */
export function sameFingerprint(a: string, b: string): boolean {
  const norm = (s: string) => s.trim().replace(/^SHA256:/i, '').replace(/=+$/, '');
  return norm(a) === norm(b);
}

/**
 * Host key policy for one target, shared by all connection attempts of one
 * `connect()`: once a key was recorded (trust on first use) it is pinned,
 * so a different key on a later attempt is a mismatch.
 *
 * `verify()` is used as ssh2's asynchronous hostVerifier. It never throws:
 * a mismatch is remembered in `failure` (ssh2 only reports a generic
 * "host denied"), and the caller raises that instead.
 */
export class HostKeyPolicy {
  private pinned: string | undefined;
  failure: HostKeyMismatchError | Error | undefined;
  /** The last key seen, for log messages. */
  seen: string | undefined;

  constructor(
    private readonly where: string,
    private readonly spec: ConnectionTarget['hostKey'],
  ) {
    this.pinned = spec?.expected;
  }

  verify = (key: Buffer, done: (ok: boolean) => void): void => {
    const actual = fingerprint(key);
    this.seen = actual;
    this.failure = undefined;
    if (this.spec?.insecure) return done(true);
    if (this.pinned !== undefined) {
      if (sameFingerprint(this.pinned, actual)) return done(true);
      this.failure = new HostKeyMismatchError(this.where, this.pinned, actual);
      return done(false);
    }
    if (!this.spec?.record) return done(true);
    this.spec.record(actual).then(
      () => {
        this.pinned = actual;
        done(true);
      },
      (err: unknown) => {
        this.failure = err instanceof Error ? err : new Error(String(err));
        done(false);
      },
    );
  };
}
