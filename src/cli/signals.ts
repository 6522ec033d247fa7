import { listStateFiles, readInstanceState } from '../kernel/journal.js';

/**
 * One AbortController for the whole command, fired by the first SIGINT or
 * SIGTERM. Cleanup then runs with fresh deadlines. A second signal reports
 * what is still recorded as existing and how to remove it, and exits 130.
 * `report` replaces the state-file report for commands whose resources are
 * not in state files (a base build's mounts and loop devices).
 */
export function installSignalHandlers(
  stateDir: () => string | undefined,
  report: () => Promise<string> = () => leftovers(stateDir()),
): { signal: AbortSignal; dispose(): void } {
  const ac = new AbortController();
  let count = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    count++;
    if (count === 1) {
      process.stderr.write(`\n${sig}: stopping, cleaning up (press Ctrl-C again to exit now)\n`);
      ac.abort(new Error(`received ${sig}`));
      return;
    }
    void report()
      .catch((err: unknown) => `exiting now; could not list what is left: ${err instanceof Error ? err.message : String(err)}\n`)
      .then((msg) => {
        process.stderr.write(msg);
        process.exit(130);
      });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: ac.signal,
    dispose() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

export async function leftovers(stateDir: string | undefined): Promise<string> {
  if (!stateDir) return 'exiting now\n';
  const lines: string[] = [];
  for (const name of await listStateFiles(stateDir)) {
    const s = await readInstanceState(stateDir, name).catch(() => undefined);
    if (!s) continue;
    const ids = Object.entries(s.driver)
      .filter(([, v]) => typeof v === 'string' || typeof v === 'number')
      .map(([k, v]) => `${k}=${String(v)}`);
    if (s.created || ids.length) lines.push(`  ${name}: machine ${ids.join(' ')}`);
    for (const img of s.images) lines.push(`  ${name}: ${img.role} image ${img.id}${img.region ? ` (${img.region})` : ''}`);
  }
  if (!lines.length) return 'exiting now; nothing is left behind\n';
  return `exiting now; these may still exist:\n${lines.join('\n')}\nremove them with: hallmark cleanup\n`;
}
