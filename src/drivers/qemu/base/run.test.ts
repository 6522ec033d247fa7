import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { poll } from '../../../kernel/abort.js';
import { CancelledError, CommandFailedError } from '../../../kernel/errors.js';
import { run } from './run.js';

const dirs: string[] = [];
const strays: number[] = [];
afterAll(async () => {
  for (const pid of strays) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** Gone, or a zombie waiting for init to reap it: either way it runs no more. */
async function running(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  return stat !== undefined && !/^\d+ \(.*\) Z/.test(stat);
}

/** Starts `script` through run() and resolves, with the outcome, once the script wrote `n` pids to $PIDS. */
async function started(script: string, n: number, killGraceMs?: number) {
  const dir = await mkdtemp(path.join(tmpdir(), 'hallmark-run-'));
  dirs.push(dir);
  const file = path.join(dir, 'pids');
  const ac = new AbortController();
  const outcome = run('sh', ['-c', script], { signal: ac.signal, env: { PIDS: file }, killGraceMs }).then(
    () => undefined,
    (e: unknown) => e,
  );
  const pids = await poll(
    async () => {
      const lines = (await readFile(file, 'utf8').catch(() => '')).split('\n').filter(Boolean).map(Number);
      return lines.length >= n ? lines : undefined;
    },
    { delayMs: 20, maxWaitMs: 20_000 },
  );
  if (!pids) throw new Error(`the script did not start its ${n} processes`);
  strays.push(...pids);
  return { ac, outcome, pids };
}

describe('run', () => {
  it('a cancel ends the whole process tree, not only the command, and rejects with CancelledError', async () => {
    // Like debootstrap: a shell whose work is done by its children, which keep its output open.
    const { ac, outcome, pids } = await started('sleep 300 & echo $! >> "$PIDS"; sleep 300 & echo $! >> "$PIDS"; wait', 2);
    for (const p of pids) expect(await running(p)).toBe(true);
    ac.abort(new Error('test'));
    expect(await outcome).toBeInstanceOf(CancelledError);
    for (const p of pids) expect(await poll(async () => ((await running(p)) ? undefined : true), { delayMs: 20, maxWaitMs: 10_000 })).toBe(true);
  });

  it('kills the processes that ignore SIGTERM after the grace period', async () => {
    const { ac, outcome, pids } = await started('trap "" TERM; sleep 300 & echo $! >> "$PIDS"; wait; wait', 1, 200);
    ac.abort(new Error('test'));
    expect(await outcome).toBeInstanceOf(CancelledError);
    expect(await poll(async () => ((await running(pids[0]!)) ? undefined : true), { delayMs: 20, maxWaitMs: 10_000 })).toBe(true);
  });

  it('returns after a cancel even when a process that left the group holds the output open', async () => {
    // The pid is written after setsid() (writing $! would race with it).
    const { ac, outcome, pids } = await started(`setsid sh -c 'echo $$ >> "$PIDS"; exec sleep 300' & sleep 300`, 1, 200);
    ac.abort(new Error('test'));
    expect(await outcome).toBeInstanceOf(CancelledError);
    // Not ours to end here (the base build ends what runs in its tree by other means).
    expect(await running(pids[0]!)).toBe(true);
  }, 30_000);

  it('reports a failed command with its exit code and output, and one that cannot start', async () => {
    const e = await run('sh', ['-c', 'echo oops >&2; exit 3'], { what: 'thing' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(CommandFailedError);
    expect(e).toMatchObject({ exitStatus: 3, output: "oops" });
    expect((e as Error).message).toMatch(/^thing failed with exit code 3/);
    await expect(run('/nonexistent/hallmark-no-such-command', [])).rejects.toBeInstanceOf(CommandFailedError);
    expect(await run('sh', ['-c', 'echo ok'])).toBe('ok');
  });
});
