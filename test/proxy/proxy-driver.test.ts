/**
 * The proxy driver against a real sshd on loopback: create only checks the
 * machine answers (and records its host key), converge-like commands go
 * through the ssh transport with the driver's target, destroy runs
 * reset_command (or leaves the machine alone), and a changed host key is
 * refused, by the transport and by destroy before it runs the reset.
 */
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import '../../src/drivers/register.js';
import type { Driver, MachineCapability } from '../../src/drivers/driver.js';
import { loadPlugin } from '../../src/plugins.js';
import { HostKeyMismatchError } from '../../src/transports/ssh/errors.js';
import { SshTransport } from '../../src/transports/ssh/transport.js';
import { silentLogger } from '../../src/kernel/events.js';
import { freePort, startSshd, type Sshd } from '../helpers/sshd.js';
import { clientKey, driverContext, projectDir } from './proxy-context.js';

let dir: string;
let key: string;
let sshd: Sshd | undefined;

beforeAll(async () => {
  dir = await projectDir();
  key = clientKey(dir);
  sshd = await startSshd({ clientKeyPath: key });
});

afterAll(async () => {
  await sshd?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** The proxy driver as the registry loads it: machines only, no other capability (so `build` refuses it). */
async function proxy(extra: Record<string, unknown> = {}): Promise<MachineCapability> {
  const driver: Driver = await loadPlugin('driver', { name: 'proxy', host: sshd!.host, port: sshd!.port, username: sshd!.username, ssh_key: 'id_ed25519', ...extra });
  expect(driver.capabilities).toEqual([]);
  expect(driver.images).toBeUndefined();
  return driver.machines;
}

describe('proxy driver', () => {
  test('create records the machine and its host key; converge runs over SSH; destroy runs reset_command once', async () => {
    const work = path.join(dir, 'a');
    const marker = path.join(work, 'converged');
    const resets = path.join(work, 'resets');
    const driver = await proxy({ reset_command: `rm -f ${marker} && echo reset >> ${resets}` });
    const ctx = await driverContext(dir, { name: 'a-existing' });

    await driver.create(ctx);
    expect(ctx.journal.state.driver).toMatchObject({
      host: '127.0.0.1',
      port: sshd!.port,
      username: 'hallmark-test',
      hostKeyFingerprint: sshd!.hostKeyFingerprint,
      hostKeyFor: `127.0.0.1:${sshd!.port}`,
    });
    const onDisk = JSON.parse(await readFile(ctx.journal.file, 'utf8'));
    expect(onDisk.driver.hostKeyFingerprint).toBe(sshd!.hostKeyFingerprint);

    // What converge does: the transport with the driver's target (now pinned).
    const target = await driver.connectionTarget(ctx);
    expect(target.hostKey).toEqual({ expected: sshd!.hostKeyFingerprint });
    const conn = await new SshTransport({ projectDir: dir }).connect(target, { log: silentLogger });
    try {
      const r = await conn.exec(`mkdir -p ${work} && echo ok > ${marker} && id -un`);
      expect(r).toMatchObject({ exitCode: 0, stdout: 'hallmark-test\n' });
    } finally {
      await conn.close();
    }
    expect(existsSync(marker)).toBe(true);

    await driver.destroy(ctx);
    expect(existsSync(marker)).toBe(false);
    expect(await readFile(resets, 'utf8')).toBe('reset\n');
    expect(ctx.journal.state.driver).toEqual({});
    // Idempotent: nothing recorded, so nothing is reset again.
    await driver.destroy(ctx);
    expect(await readFile(resets, 'utf8')).toBe('reset\n');
  });

  test('destroy without reset_command leaves the machine alone', async () => {
    const marker = path.join(dir, 'b-marker');
    await writeFile(marker, 'keep me');
    const driver = await proxy({ reset_command: null });
    const ctx = await driverContext(dir, { name: 'b-existing' });
    await driver.create(ctx);
    await driver.destroy(ctx);
    expect(await readFile(marker, 'utf8')).toBe('keep me');
    expect(ctx.journal.state.driver).toEqual({});
  });

  test('a failing reset_command is an error with its output, and the machine stays recorded for a retry', async () => {
    const driver = await proxy({ reset_command: 'echo cannot reset >&2; exit 7' });
    const ctx = await driverContext(dir, { name: 'c-existing' });
    await driver.create(ctx);
    await expect(driver.destroy(ctx)).rejects.toThrow(/reset_command failed with exit code 7[\s\S]*cannot reset/);
    expect(ctx.journal.state.driver).toMatchObject({ host: '127.0.0.1' });
  });

  test('create fails fast when nothing answers (transport max_wait_until_ready bounds the wait)', async () => {
    const port = await freePort();
    const driver = (await loadPlugin('driver', { name: 'proxy', host: '127.0.0.1', port, ssh_key: key })).machines;
    const ctx = await driverContext(dir, { name: 'd-existing', transport: { max_wait_until_ready: 1 } });
    // max_wait_until_ready: 1 s; the default wait would outlast the test's timeout.
    await expect(driver.create(ctx)).rejects.toThrow(new RegExp(`127\\.0\\.0\\.1:${port}`));
    // Recorded before waiting: destroy knows about it (and, without reset_command, only forgets it).
    expect(ctx.journal.state.driver).toMatchObject({ host: '127.0.0.1', port });
    await driver.destroy(ctx);
    expect(ctx.journal.state.driver).toEqual({});
  });

  test('a changed host key is refused by the transport, and destroy does not run reset_command on it', async () => {
    const marker = path.join(dir, 'e-marker');
    await writeFile(marker, 'still here');
    const driver = await proxy({ reset_command: `rm -f ${marker}` });
    const ctx = await driverContext(dir, { name: 'e-existing' });
    await driver.create(ctx);
    const first = sshd!.hostKeyFingerprint;

    // The "machine" is replaced: same address, new host key.
    const port = sshd!.port;
    await sshd!.stop();
    sshd = undefined;
    sshd = await startSshd({ port, clientKeyPath: key });
    expect(sshd.hostKeyFingerprint).not.toBe(first);

    const target = await driver.connectionTarget(ctx);
    const err = await new SshTransport({ projectDir: dir }).connect(target, { log: silentLogger }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HostKeyMismatchError);
    expect((err as HostKeyMismatchError).actual).toBe(sshd.hostKeyFingerprint);

    const derr = await driver.destroy(ctx).catch((e: unknown) => e);
    expect(derr).toBeInstanceOf(HostKeyMismatchError);
    expect((derr as Error).message).toContain('reset_command not run');
    expect((derr as HostKeyMismatchError).hint).toContain(ctx.journal.file);
    expect(await readFile(marker, 'utf8')).toBe('still here');
    expect(ctx.journal.state.driver).toMatchObject({ hostKeyFingerprint: first });
  });
});
