import type { Logger } from '../../../kernel/events.js';

/**
 * Undo actions (unmount, detach, delete) registered as resources are made,
 * run in reverse order exactly once. `unwind` never throws: it runs every
 * action even when one fails and returns the errors, so the caller can attach
 * them to the first error instead of hiding it.
 */
export class CleanupStack {
  private readonly actions: { what: string; run: () => Promise<void> }[] = [];

  push(what: string, run: () => Promise<void>): void {
    this.actions.push({ what, run });
  }

  get size(): number {
    return this.actions.length;
  }

  async unwind(log?: Logger): Promise<unknown[]> {
    const errors: unknown[] = [];
    for (let a = this.actions.pop(); a; a = this.actions.pop()) {
      try {
        log?.debug(`cleanup: ${a.what}`);
        await a.run();
      } catch (err) {
        log?.warn(`cleanup failed: ${a.what}: ${err instanceof Error ? err.message : String(err)}`);
        errors.push(err);
      }
    }
    return errors;
  }
}
