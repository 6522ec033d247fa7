import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { freeLoopbackPort, probeSshBanner, waitForSshBanner } from './net.js';

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

function listen(onConn: (sock: import('node:net').Socket) => void): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer(onConn);
    servers.push(srv);
    srv.listen(0, '127.0.0.1', () => resolve((srv.address() as { port: number }).port));
  });
}

describe('SSH banner probe', () => {
  it('accepts a server that sends an SSH banner', async () => {
    const port = await listen((s) => s.end('SSH-2.0-OpenSSH_9.2\r\n'));
    expect(await probeSshBanner(port, 2000)).toBe(true);
  });

  it('rejects what QEMU hostfwd does before the guest listens: accept, then close', async () => {
    const port = await listen((s) => s.destroy());
    expect(await probeSshBanner(port, 2000)).toBe(false);
  });

  it('rejects a closed port', async () => {
    expect(await probeSshBanner(await freeLoopbackPort(), 2000)).toBe(false);
  });

  it('ends the wait at once when qemu is gone, with the console tail', async () => {
    const port = await freeLoopbackPort();
    await expect(waitForSshBanner(port, { maxWaitMs: 60_000, stillRunning: () => false, consoleLogPath: '/nonexistent/console.log' })).rejects.toThrow(
      /qemu exited before[\s\S]*no console log/,
    );
  });

  it('finds the server through a new probe while an earlier one is held open without an answer, then ends the held ones', async () => {
    // QEMU's user networking before the guest has a network: the connection is accepted and nothing comes.
    const held: import('node:net').Socket[] = [];
    const heldClosed: Promise<void>[] = [];
    const port = await listen((s) => {
      if (held.length === 0) {
        held.push(s);
        heldClosed.push(new Promise((r) => s.on('close', () => r())));
        s.on('error', () => undefined);
        return;
      }
      s.end('SSH-2.0-OpenSSH_9.2\r\n');
    });
    // Far shorter than one probe's own timeout: only an overlapping probe can answer in time.
    await waitForSshBanner(port, { maxWaitMs: 3000, stillRunning: () => true });
    expect(held).toHaveLength(1);
    await heldClosed[0];
  });

  it('reports progress while waiting', async () => {
    const port = await listen((s) => s.destroy());
    const polls: number[] = [];
    await expect(waitForSshBanner(port, { maxWaitMs: 2500, stillRunning: () => true, onPoll: (ms) => polls.push(ms) })).rejects.toMatchObject({ code: 'TIMEOUT' });
    expect(polls.length).toBeGreaterThanOrEqual(1);
    expect(polls.length).toBeLessThanOrEqual(3);
  });

  it('ends at once when cancelled', async () => {
    const port = await listen((s) => s.destroy());
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 300);
    await expect(waitForSshBanner(port, { maxWaitMs: 60_000, stillRunning: () => true, signal: ac.signal })).rejects.toMatchObject({ code: 'CANCELLED' });
  });

  it('times out with a TimeoutError', async () => {
    const port = await listen((s) => s.destroy());
    await expect(waitForSshBanner(port, { maxWaitMs: 1500, stillRunning: () => true })).rejects.toMatchObject({ code: 'TIMEOUT' });
  });
});
