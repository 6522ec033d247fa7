import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireBuildLock } from './lock.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hallmark-lock-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('acquireBuildLock', () => {
  it('makes a second holder wait until the first releases', async () => {
    const events: string[] = [];
    const release1 = await acquireBuildLock(dir, 'bookworm', { pollMs: 20 });
    const second = acquireBuildLock(dir, 'bookworm', { pollMs: 20 }).then((r) => {
      events.push('second acquired');
      return r;
    });
    await new Promise((r) => setTimeout(r, 100));
    events.push('first releases');
    await release1();
    const release2 = await second;
    expect(events).toEqual(['first releases', 'second acquired']);
    await release2();
  });

  it('takes over a lock whose holder has exited', async () => {
    await mkdir(join(dir, '.lock-trixie'));
    await writeFile(join(dir, '.lock-trixie', 'pid'), '999999999');
    const release = await acquireBuildLock(dir, 'trixie', { pollMs: 20 });
    await release();
  });

  it('stops waiting when cancelled', async () => {
    const release = await acquireBuildLock(dir, 'sid', { pollMs: 20 });
    const ac = new AbortController();
    const waiting = acquireBuildLock(dir, 'sid', { pollMs: 20, signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    await expect(waiting).rejects.toMatchObject({ code: 'CANCELLED' });
    await release();
  });
});
