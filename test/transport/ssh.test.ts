/**
 * The ssh transport against a real OpenSSH server (test/helpers/sshd.ts).
 * Every server here listens on 127.0.0.1 and is stopped by the test.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CancelledError, TimeoutError } from '../../src/kernel/errors.js';
import { silentLogger } from '../../src/kernel/events.js';
import { getPluginDef } from '../../src/plugins.js';
import '../../src/transport-plugins.js';
import { ConnectionLostError, HostKeyMismatchError } from '../../src/transports/ssh/errors.js';
import { SshTransport } from '../../src/transports/ssh/transport.js';
import type { Connection, ConnectionTarget } from '../../src/transports/transport.js';
import { freePort, startSshd, type Sshd } from '../helpers/sshd.js';

let sshd: Sshd;
let local: string;
const transport = new SshTransport();
const log = silentLogger;

/** A logger that keeps the lines the transport says (its attempts while waiting), for asserting on them. */
function recordingLogger(): { log: typeof silentLogger; lines: string[] } {
  const lines: string[] = [];
  return { lines, log: { ...silentLogger, info: (m) => void lines.push(m), debug: (m) => void lines.push(m) } };
}

/**
 * `gone` when the process whose PID is in `pidFile` has ended (zombies count
 * as ended: orphans may stay unreaped in this container), else kills it by
 * that PID and says `running`. Removes the file.
 */
function remoteState(pidFile: string): string {
  return `pid=$(cat ${pidFile}); rm -f ${pidFile}; st=$(ps -o stat= -p "$pid" 2>/dev/null); case "$st" in ""|Z*) echo gone;; *) sudo -n kill -9 "$pid"; echo running;; esac`;
}

function targetFor(s: Sshd, over: Partial<ConnectionTarget> = {}): ConnectionTarget {
  return {
    hostname: s.host,
    port: s.port,
    username: s.username,
    privateKeyPath: s.privateKeyPath,
    hostKey: { expected: s.hostKeyFingerprint },
    maxWaitUntilReadyMs: 15_000,
    ...over,
  };
}

beforeAll(async () => {
  sshd = await startSshd();
  local = await mkdtemp(path.join(os.tmpdir(), 'hallmark-ssh-test-'));
});
afterAll(async () => {
  await sshd?.stop();
  if (local) await rm(local, { recursive: true, force: true });
});

describe('exec', () => {
  let conn: Connection;
  beforeAll(async () => {
    conn = await transport.connect(targetFor(sshd), { log });
  });
  afterAll(async () => {
    await conn?.close();
  });

  it('returns stdout, stderr and the exit code', async () => {
    const r = await conn.exec('echo out; echo err >&2; exit 3');
    expect(r).toMatchObject({ stdout: 'out\n', stderr: 'err\n', exitCode: 3 });
    expect((await conn.exec('true')).exitCode).toBe(0);
    expect((await conn.exec('id -un')).stdout).toBe('hallmark-test\n');
  });

  it('never loses the exit status of a command that ends at once', async () => {
    // Output, exit status and close of a fast command can arrive in one read;
    // listeners attached a tick late would miss 'exit' (seen as exitCode null).
    for (let i = 0; i < 60; i++) {
      expect((await conn.exec(`exit ${i}`)).exitCode).toBe(i);
    }
  });

  it('streams output while the command runs', async () => {
    // The command prints `second` only once the test, having received `first`, has created a flag file:
    // output that was not streamed while it ran would come too late and leave it printing `unanswered`.
    const flag = `/tmp/hallmark-ssh-stream-${process.pid}-${Date.now()}`;
    const chunks: string[] = [];
    let answered: Promise<unknown> | undefined;
    const r = await conn.exec(
      `echo first; i=0; while [ ! -e ${flag} ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i+1)); done; if [ -e ${flag} ]; then echo second >&2; else echo unanswered >&2; fi; rm -f ${flag}`,
      {
        onStdout: (text) => {
          chunks.push(text);
          if (text === 'first\n') answered = conn.exec(`touch ${flag}`);
        },
        onStderr: (text) => chunks.push(text),
      },
    );
    await answered;
    expect(chunks).toEqual(['first\n', 'second\n']);
    expect(r.exitCode).toBe(0);
  });

  it('feeds stdin, text and binary', async () => {
    expect((await conn.exec('cat | wc -c', { stdin: 'hello' })).stdout.trim()).toBe('5');
    const bin = randomBytes(100_000);
    const r = await conn.exec('sha256sum | cut -d" " -f1', { stdin: bin });
    const { createHash } = await import('node:crypto');
    expect(r.stdout.trim()).toBe(createHash('sha256').update(bin).digest('hex'));
    // Without stdin the command sees EOF at once instead of hanging.
    expect((await conn.exec('cat; echo done', { timeoutMs: 5000 })).stdout).toBe('done\n');
  });

  it('exports env values verbatim, however hostile', async () => {
    const env = { A: "it's $HOME `id` $(id) ; rm -rf /", B: 'two\nlines', C: '', D: '\\"' };
    const r = await conn.exec('printf "%s|%s|%s|%s" "$A" "$B" "$C" "$D"', { env });
    expect(r.stdout).toBe(`${env.A}|${env.B}||${env.D}`);
  });

  it('runs through sudo for a non-root user, env included', async () => {
    expect((await conn.exec('id -u')).stdout.trim()).not.toBe('0');
    const r = await conn.exec('id -u; printf %s "$X"', { sudo: true, env: { X: "a'b c" } });
    expect(r).toMatchObject({ exitCode: 0, stdout: "0\na'b c" });
  });

  it('kills a hung command at the timeout and reports exitCode null', async () => {
    const pidFile = `/tmp/hallmark-ssh-timeout-${process.pid}-${Date.now()}`;
    const r = await conn.exec(`echo $$ > ${pidFile}; echo started; exec sleep 30`, { timeoutMs: 1000 });
    expect(r).toMatchObject({ exitCode: null, timedOut: true, stdout: 'started\n' });
    // The remote process is gone (SIGTERM through the channel), not just abandoned.
    expect((await conn.exec(remoteState(pidFile))).stdout.trim()).toBe('gone');
  });

  it('kills a hung compound command under sudo, children included', async () => {
    const pidFile = `/tmp/hallmark-ssh-sudo-timeout-${process.pid}-${Date.now()}`;
    const r = await conn.exec(`sleep 30 & echo $! > ${pidFile}; wait`, { sudo: true, timeoutMs: 1000 });
    expect(r).toMatchObject({ exitCode: null, timedOut: true });
    await new Promise((r) => setTimeout(r, 300));
    expect((await conn.exec(remoteState(pidFile))).stdout.trim()).toBe('gone');
  });

  it('rejects with CancelledError on abort, and the connection stays usable', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 300);
    // Sleeps beyond the test's timeout: only the abort can end the exec in time.
    await expect(conn.exec('sleep 300', { signal: ac.signal })).rejects.toBeInstanceOf(CancelledError);
    await expect(conn.exec('echo ok', { signal: ac.signal })).rejects.toBeInstanceOf(CancelledError);
    expect((await conn.exec('echo ok')).stdout).toBe('ok\n');
  });

  it('runs commands in parallel over the one connection', async () => {
    const before = sshd.log().split('Accepted publickey').length;
    const rs = await Promise.all([1, 2, 3, 4, 5].map((i) => conn.exec(`sleep 0.3; echo ${i}`)));
    expect(rs.map((r) => r.stdout.trim())).toEqual(['1', '2', '3', '4', '5']);
    expect(sshd.log().split('Accepted publickey').length).toBe(before);
  });
});

describe('upload and download', () => {
  let conn: Connection;
  const remote = `/tmp/hallmark-ssh-xfer-${process.pid}-${Date.now()}`;
  beforeAll(async () => {
    conn = await transport.connect(targetFor(sshd), { log });
  });
  afterAll(async () => {
    await conn?.exec(`rm -rf ${remote}`);
    await conn?.close();
  });

  it('uploads a file with its mode, or the mode asked for, creating parents', async () => {
    const f = path.join(local, 'script.sh');
    await writeFile(f, '#!/bin/sh\necho hi\n');
    await chmod(f, 0o750);
    await conn.upload(f, `${remote}/a/b/script.sh`);
    expect((await conn.exec(`stat -c %a ${remote}/a/b/script.sh; ${remote}/a/b/script.sh`)).stdout).toBe('750\nhi\n');
    await conn.upload(f, `${remote}/secret`, { mode: 0o600 });
    expect((await conn.exec(`stat -c %a ${remote}/secret`)).stdout).toBe('600\n');
  });

  it('round-trips a nested directory with modes', async () => {
    const src = path.join(local, 'tree');
    await mkdir(path.join(src, 'sub', 'deep'), { recursive: true });
    await writeFile(path.join(src, 'a.txt'), 'alpha');
    await writeFile(path.join(src, 'sub', 'b.sh'), 'beta');
    await writeFile(path.join(src, 'sub', 'deep', 'c.bin'), randomBytes(300_000));
    await chmod(path.join(src, 'a.txt'), 0o644);
    await chmod(path.join(src, 'sub', 'b.sh'), 0o755);
    await chmod(path.join(src, 'sub', 'deep', 'c.bin'), 0o600);
    await chmod(path.join(src, 'sub', 'deep'), 0o750);

    await conn.upload(src, `${remote}/tree`);
    const listing = await conn.exec(`cd ${remote}/tree && find . | sort | xargs stat -c '%a %n'`);
    expect(listing.stdout).toBe(
      ['755 .', '644 ./a.txt', '755 ./sub', '755 ./sub/b.sh', '750 ./sub/deep', '600 ./sub/deep/c.bin', ''].join('\n'),
    );

    const back = path.join(local, 'back', 'tree');
    await conn.download(`${remote}/tree`, back);
    for (const rel of ['a.txt', 'sub/b.sh', 'sub/deep/c.bin']) {
      expect(await readFile(path.join(back, rel))).toEqual(await readFile(path.join(src, rel)));
      expect((await stat(path.join(back, rel))).mode & 0o777).toBe((await stat(path.join(src, rel))).mode & 0o777);
    }
    expect((await stat(path.join(back, 'sub', 'deep'))).mode & 0o777).toBe(0o750);
  });

  it('cancels a transfer when the signal fires', async () => {
    const big = path.join(local, 'big.bin');
    await writeFile(big, randomBytes(48 * 1024 * 1024));
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 30);
    await expect(conn.upload(big, `${remote}/big.bin`, { signal: ac.signal })).rejects.toBeInstanceOf(CancelledError);
    // The transfer stopped part way: the remote file is absent or short, never the whole 48 MiB.
    const size = Number((await conn.exec(`stat -c %s ${remote}/big.bin 2>/dev/null || echo 0`)).stdout.trim());
    expect(size).toBeLessThan(48 * 1024 * 1024);
    expect((await conn.exec('echo still-usable')).stdout).toBe('still-usable\n');
    await rm(big);
  });

  it('downloads a single file and fails clearly on a missing one', async () => {
    await conn.download(`${remote}/secret`, path.join(local, 'dl', 'secret'));
    expect((await stat(path.join(local, 'dl', 'secret'))).mode & 0o777).toBe(0o600);
    await expect(conn.download(`${remote}/nope`, path.join(local, 'x'))).rejects.toThrow(/no such file/);
  });
});

describe('host key pinning', () => {
  it('records the key on first use, then accepts it as expected', async () => {
    const recorded: string[] = [];
    const c1 = await transport.connect(
      targetFor(sshd, { hostKey: { record: async (fp) => void recorded.push(fp) } }),
      { log },
    );
    await c1.close();
    expect(recorded).toEqual([sshd.hostKeyFingerprint]);
    const c2 = await transport.connect(targetFor(sshd, { hostKey: { expected: recorded[0] } }), { log });
    expect((await c2.exec('echo pinned')).stdout).toBe('pinned\n');
    await c2.close();
  });

  it('refuses a changed key at once, without retrying, showing both fingerprints', async () => {
    const wrong = 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
    const rec = recordingLogger();
    const err = await transport
      .connect(targetFor(sshd, { hostKey: { expected: wrong }, maxWaitUntilReadyMs: 60_000 }), { log: rec.log })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HostKeyMismatchError);
    expect((err as HostKeyMismatchError).code).toBe('HOST_KEY_MISMATCH');
    expect((err as Error).message).toContain(wrong);
    expect((err as Error).message).toContain(sshd.hostKeyFingerprint);
    expect((err as Error).message).toMatch(/changed/);
    // No retry: the transport says nothing about waiting or a second attempt.
    expect(rec.lines.filter((l) => /waiting for SSH|SSH attempt/.test(l))).toEqual([]);
  });

  it('skips the check when insecure', async () => {
    const c = await transport.connect(
      targetFor(sshd, { hostKey: { expected: 'SHA256:wrong', insecure: true } }),
      { log },
    );
    await c.close();
  });
});

describe('waiting until ready', () => {
  it('waits for a server that starts listening a few seconds later', async () => {
    const port = await freePort();
    let late: Sshd | undefined;
    const timer = setTimeout(() => {
      void startSshd({ port, clientKeyPath: sshd.privateKeyPath }).then((s) => (late = s));
    }, 2500);
    try {
      const rec = recordingLogger();
      const conn = await transport.connect(
        { hostname: '127.0.0.1', port, username: 'root', privateKeyPath: sshd.privateKeyPath, hostKey: { insecure: true }, maxWaitUntilReadyMs: 20_000 },
        { log: rec.log },
      );
      // It connected after refused attempts, not on the first one.
      expect(rec.lines.find((l) => l.startsWith('waiting for SSH'))).toMatch(/ECONNREFUSED/);
      expect(rec.lines.some((l) => /^SSH to .* is ready after/.test(l))).toBe(true);
      await conn.close();
    } finally {
      clearTimeout(timer);
      // If the connect failed before the server came up, wait for it so it can be stopped.
      for (let i = 0; i < 50 && !late; i++) await new Promise((r) => setTimeout(r, 100));
      await late?.stop();
    }
  });

  it('gives up after maxWaitUntilReadyMs with the last error and the console log tail', async () => {
    const port = await freePort();
    const consoleLog = path.join(local, 'console.log');
    await writeFile(consoleLog, Array.from({ length: 40 }, (_, i) => `boot line ${i + 1}`).join('\n') + '\n');
    const err = await transport
      .connect(targetFor(sshd, { port, maxWaitUntilReadyMs: 2000, consoleLogPath: consoleLog }), { log })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    const msg = (err as Error).message;
    expect(msg).toMatch(/ECONNREFUSED/);
    expect(msg).toContain('boot line 40');
    expect(msg).toContain('boot line 11\n');
    expect(msg).not.toContain('boot line 10\n');
    // It kept trying until the deadline rather than giving up after the first refusal.
    expect(Number(/\((\d+) attempts\)/.exec(msg)?.[1])).toBeGreaterThan(1);
  });

  it('retries refused logins until the deadline and says it was an authentication failure', async () => {
    const err = await transport
      .connect(targetFor(sshd, { username: 'nobody-here', maxWaitUntilReadyMs: 2500 }), { log })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as Error).message).toMatch(/authentication failed/);
    expect(Number(/\((\d+) attempts\)/.exec((err as Error).message)?.[1])).toBeGreaterThan(1);
  });

  it('stops waiting when the signal fires', async () => {
    const port = await freePort();
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 700);
    // The wait would last a minute, beyond the test's timeout: only the abort can end it in time.
    await expect(
      transport.connect(targetFor(sshd, { port, maxWaitUntilReadyMs: 60_000 }), { log, signal: ac.signal }),
    ).rejects.toBeInstanceOf(CancelledError);
  });
});

describe('gateway (bastion)', () => {
  let bastion: Sshd;
  beforeAll(async () => {
    bastion = await startSshd({ extraConfig: ['LogLevel DEBUG1'] });
  });
  afterAll(async () => {
    await bastion?.stop();
  });

  it('tunnels to the target through a second sshd', async () => {
    const gateway = { hostname: bastion.host, port: bastion.port, username: bastion.username, privateKeyPath: bastion.privateKeyPath };
    const conn = await transport.connect(targetFor(sshd, { gateway }), { log });
    try {
      expect((await conn.exec('echo through')).stdout).toBe('through\n');
      // The bastion opened the forwarded channel to the target's port.
      expect(bastion.log()).toContain(`direct_tcpip: originator 127.0.0.1 port 0, target 127.0.0.1 port ${sshd.port}`);
    } finally {
      await conn.close();
    }
  });

  it('says when the gateway cannot reach the target', async () => {
    const port = await freePort();
    const gateway = { hostname: bastion.host, port: bastion.port, username: bastion.username, privateKeyPath: bastion.privateKeyPath };
    const err = await transport
      .connect(targetFor(sshd, { port, gateway, maxWaitUntilReadyMs: 1500 }), { log })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as Error).message).toMatch(/gateway could not reach 127\.0\.0\.1:\d+/);
  });
});

describe('a dropped connection', () => {
  it('fails pending and later operations with ConnectionLostError', async () => {
    // A loopback TCP relay in front of sshd, so the test can cut the wire.
    const pidFile = `/tmp/hallmark-ssh-drop-${process.pid}-${Date.now()}`;
    const sockets = new Set<net.Socket>();
    const relay = net.createServer((inbound) => {
      const outbound = net.connect(sshd.port, '127.0.0.1');
      sockets.add(inbound).add(outbound);
      inbound.pipe(outbound).pipe(inbound);
      inbound.on('error', () => outbound.destroy());
      outbound.on('error', () => inbound.destroy());
    });
    await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
    try {
      const port = (relay.address() as net.AddressInfo).port;
      const conn = await transport.connect(targetFor(sshd, { port }), { log });
      // Without a pty, sshd leaves a command running when the connection drops,
      // so the test records its PID and ends it afterwards.
      const pending = conn.exec(`echo $$ > ${pidFile}; exec sleep 30`);
      await new Promise((r) => setTimeout(r, 500));
      for (const s of sockets) s.destroy();
      // The command sleeps 30 s and its output can no longer arrive: ending with this error means the drop was seen.
      const err = await pending.catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConnectionLostError);
      expect((err as Error).message).toMatch(/dropped/);
      await expect(conn.exec('echo again')).rejects.toBeInstanceOf(ConnectionLostError);
      await expect(conn.upload(path.join(local), '/tmp/x')).rejects.toBeInstanceOf(ConnectionLostError);
      await conn.close();
    } finally {
      await new Promise((r) => relay.close(r));
      const cleaner = await transport.connect(targetFor(sshd), { log });
      await cleaner.exec(`test -f ${pidFile} && kill "$(cat ${pidFile})"; rm -f ${pidFile}`);
      await cleaner.close();
    }
  });
});

describe('plugin registration', () => {
  it('registers ssh with its schema and a lazy loader', async () => {
    const def = getPluginDef('transport', 'ssh');
    expect(def?.schema().safeParse({ name: 'ssh', username: 'x' }).success).toBe(true);
    const t = await def!.load({ name: 'ssh', max_wait_until_ready: 10 });
    expect(t.name).toBe('ssh');
    expect(t).toBeInstanceOf(SshTransport);
  });
});
