/**
 * Ending a child's whole process tree. A child started with `detached: true`
 * leads its own process group (setsid), so its descendants (a shell script's
 * commands, `chroot apt-get`'s dpkg and maintainer scripts) can be signalled
 * together with `kill(-pgid)`; signalling the child alone leaves them running
 * and holding its stdout, so waiting for the child never ends. A group in its
 * own session also no longer gets the terminal's Ctrl-C: ending it is ours.
 */

/** Groups started through `endGroupOnAbort` whose run has not finished. */
const live = new Set<number>();
let exitHook = false;

/** Signals every process of group `pgid`; false when none is left (ESRCH). */
export function signalGroup(pgid: number, sig: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, sig);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface GroupGuard {
  /** Whether the signal fired while the group was running. */
  readonly cancelled: boolean;
  /**
   * Call once the leader has exited and its output has closed. After a cancel,
   * members that closed their output but ignored SIGTERM get SIGKILL now
   * instead of at the end of the grace period. Removes the abort listener.
   */
  done(): void;
}

/**
 * Watches `signal` for the group led by `pgid`: when it fires, the group gets
 * SIGTERM, and SIGKILL `graceMs` later if any member is left. Until `done()`,
 * the group is also SIGKILLed if this process exits (a second Ctrl-C calls
 * process.exit): a child in its own session would otherwise outlive us.
 */
export function endGroupOnAbort(pgid: number, signal: AbortSignal | undefined, graceMs: number): GroupGuard {
  let cancelled = false;
  let timer: NodeJS.Timeout | undefined;
  live.add(pgid);
  if (!exitHook) {
    exitHook = true;
    process.on('exit', () => {
      for (const g of live) signalGroup(g, 'SIGKILL');
    });
  }
  const onAbort = () => {
    cancelled = true;
    signalGroup(pgid, 'SIGTERM');
    timer = setTimeout(() => signalGroup(pgid, 'SIGKILL'), graceMs);
    timer.unref();
  };
  if (signal?.aborted) onAbort();
  else signal?.addEventListener('abort', onAbort, { once: true });
  return {
    get cancelled() {
      return cancelled;
    },
    done() {
      signal?.removeEventListener('abort', onAbort);
      live.delete(pgid);
      if (cancelled) {
        clearTimeout(timer);
        signalGroup(pgid, 'SIGKILL');
      }
    },
  };
}
