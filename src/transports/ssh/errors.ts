import { HallmarkError, type ErrorOptions } from '../../kernel/errors.js';

/** The server presented a different host key than the pinned one. Never retried. */
export class HostKeyMismatchError extends HallmarkError {
  override readonly code = 'HOST_KEY_MISMATCH';
  readonly expected: string;
  readonly actual: string;

  constructor(where: string, expected: string, actual: string, options: ErrorOptions = {}) {
    super(
      `the SSH host key of ${where} changed: expected ${expected}, the server presented ${actual}. ` +
        'Someone may be intercepting the connection, or the machine was replaced.',
      {
        hint:
          'if the machine was legitimately rebuilt, remove its recorded host key (hallmark destroy clears it) ' +
          'or set verify_host_key: never for this transport',
        ...options,
      },
    );
    this.expected = expected;
    this.actual = actual;
  }
}

/** The SSH connection ended while commands or transfers were still running on it. */
export class ConnectionLostError extends HallmarkError {
  override readonly code = 'SSH_CONNECTION_LOST';
}

/** Setting up a connection failed in a way that waiting will not fix (unreadable key file, ...). */
export class SshSetupError extends HallmarkError {
  override readonly code = 'SSH_SETUP';
}
