/**
 * A spec suite over a real sshd on loopback (test/helpers/sshd.ts), logged in
 * as a non-root user: the script runs as root through `sudo -n`, in one exec.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { SshCliConnection } from '../../bench/verify/ssh-cli-connection.js';
import { parseSpecText } from '../../src/verifiers/spec/load.js';
import { runSpecChecks } from '../../src/verifiers/spec/run.js';
import { startSshd, type Sshd } from '../helpers/sshd.js';

let sshd: Sshd;
let conn: SshCliConnection;

beforeAll(async () => {
  sshd = await startSshd();
  conn = new SshCliConnection({ host: sshd.host, port: sshd.port, username: sshd.username, privateKeyPath: sshd.privateKeyPath });
});

afterAll(async () => {
  await conn?.close();
  await sshd?.stop();
});

describe('spec over ssh', () => {
  test('runs as root via sudo in one round trip, and as the login user without sudo', async () => {
    const specs = await parseSpecText(
      `command:\n  id -un: {exit-status: 0, stdout: [root]}\nfile:\n  /etc/shadow: {exists: true, contents: ["/^root:/"]}\nport:\n  tcp:${sshd.port}: {listening: true, ip: [127.0.0.1]}\n`,
      '/virtual/ssh.yml',
    );
    const calls: string[] = [];
    const counting = { ...conn, exec: (c: string, o?: Parameters<SshCliConnection['exec']>[1]) => (calls.push(c), conn.exec(c, o)), close: async () => {}, upload: conn.upload, download: conn.download };
    const run = await runSpecChecks(counting, specs);
    expect(calls).toEqual(['sh -s']);
    expect(run.results.map((r) => `${r.id} ${r.status} ${r.message ?? ''}`.trim())).toEqual([
      'command:id -un:exit-status pass',
      'command:id -un:stdout pass',
      'file:/etc/shadow:exists pass',
      'file:/etc/shadow:contents pass',
      `port:tcp:${sshd.port}:listening pass`,
      `port:tcp:${sshd.port}:ip pass`,
    ]);

    const asUser = await runSpecChecks(conn, specs, { sudo: false });
    const byId = Object.fromEntries(asUser.results.map((r) => [r.id, r]));
    expect(byId['command:id -un:stdout']!.status).toBe('fail');
    expect(byId['command:id -un:stdout']!.found.trim()).toBe(sshd.username);
    expect(byId['file:/etc/shadow:contents']).toMatchObject({ status: 'error', message: expect.stringContaining('Permission denied') });
  });
});
