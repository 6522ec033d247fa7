import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { poll } from './abort.js';
import { endGroupOnAbort, signalGroup } from './process-group.js';

const groups: number[] = [];
afterAll(() => {
  for (const g of groups) signalGroup(g, 'SIGKILL');
});

/** A detached shell (its own group) with one background child; resolves with the leader's and the child's pids. */
async function group(): Promise<{ leader: number; member: number; exited: Promise<unknown> }> {
  const c = spawn('sh', ['-c', 'sleep 300 & echo $!; wait'], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
  groups.push(c.pid!);
  const exited = new Promise((r) => c.once('exit', r));
  const member = await new Promise<number>((resolve) => c.stdout.once('data', (b: Buffer) => resolve(Number(b.toString().trim()))));
  return { leader: c.pid!, member, exited };
}
const running = async (pid: number) => {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  return stat !== undefined && !/^\d+ \(.*\) Z/.test(stat);
};
const ended = (pid: number) => poll(async () => ((await running(pid)) ? undefined : true), { delayMs: 20, maxWaitMs: 10_000 });

describe('process groups', () => {
  it('signalGroup reaches every member and says whether any was left', async () => {
    const g = await group();
    expect(signalGroup(g.leader, 0)).toBe(true);
    expect(signalGroup(g.leader, 'SIGTERM')).toBe(true);
    expect(await ended(g.member)).toBe(true);
    await g.exited;
    // Once the zombies are reaped (the orphaned member by init, which takes a moment), no member is left.
    expect(await poll(async () => (signalGroup(g.leader, 0) ? undefined : true), { delayMs: 20, maxWaitMs: 10_000 })).toBe(true);
  });

  it('endGroupOnAbort ends the group when the signal fires (also when it already has), and leaves it alone otherwise', async () => {
    const quiet = await group();
    const ac = new AbortController();
    const guard = endGroupOnAbort(quiet.leader, ac.signal, 1000);
    guard.done();
    ac.abort();
    expect(guard.cancelled).toBe(false);
    expect(await running(quiet.member)).toBe(true);

    const g = await group();
    const g2 = endGroupOnAbort(g.leader, ac.signal, 1000);
    expect(g2.cancelled).toBe(true);
    expect(await ended(g.member)).toBe(true);
    g2.done();
  });
});
