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

  it('times out with a TimeoutError', async () => {
    const port = await listen((s) => s.destroy());
    await expect(waitForSshBanner(port, { maxWaitMs: 1500, stillRunning: () => true })).rejects.toMatchObject({ code: 'TIMEOUT' });
  });
});
