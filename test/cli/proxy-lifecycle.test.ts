/**
 * The lifecycle verbs end to end through the CLI, on a real loopback sshd via
 * the proxy driver (no VM): shell provisioner + shell verifier, exit codes,
 * JSON lines, logs, the instance lock and SIGINT handling.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { startSshd, type Sshd } from '../helpers/sshd.js';
import { assertBuilt, hallmark, project, removeProjects } from './run-cli.js';

// Each CLI run starts node and connects over SSH: seconds each on a loaded 2-core box.
vi.setConfig({ testTimeout: 180_000 });

let sshd: Sshd;
beforeAll(async () => {
  assertBuilt();
  sshd = await startSshd();
});
afterAll(async () => {
  await sshd?.stop();
  await removeProjects();
});

/**
 * Logs in as the non-root user (sudo for the commands): OpenSSH refuses
 * "signal" requests in root sessions ("session signalling requires privilege
 * separation"), so only there does cancelling end the remote command.
 */
function config(opts: { inline: string; verify: string; user?: string }): string {
  return [
    'driver:',
    '  name: proxy',
    `  host: 127.0.0.1`,
    `  port: ${sshd.port}`,
    `  username: ${opts.user ?? sshd.username}`,
    `  ssh_key: ${sshd.privateKeyPath}`,
    'provisioner:',
    '  name: shell',
    `  inline: ${JSON.stringify(opts.inline)}`,
    'verifier:',
    '  name: shell',
    `  command: ${JSON.stringify(opts.verify)}`,
    'platforms:',
    '  - name: box',
    'suites:',
    '  - name: default',
    '',
  ].join('\n');
}

const state = async (dir: string) => JSON.parse(await readFile(path.join(dir, '.hallmark/default-box.json'), 'utf8')) as Record<string, unknown>;

/** PIDs of processes on this host (the sshd is local) whose command line contains `marker`. */
function pids(marker: string): number[] {
  try {
    return execFileSync('pgrep', ['-f', marker], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function describePid(pid: number): string {
  try {
    return execFileSync('ps', ['-o', 'pid,ppid,pgid,sid,user,args', '-p', String(pid)], { encoding: 'utf8' });
  } catch {
    return String(pid);
  }
}

describe('create / converge / verify / destroy with the proxy driver', () => {
  it('passing checks: every verb exits 0; state, logs and JSON lines follow', async () => {
    const marker = `/tmp/hallmark-cli-${process.pid}-${Date.now()}`;
    const dir = await project({ 'hallmark.yml': config({ inline: `echo converge-output-$((6*7)); touch ${marker}`, verify: `test -f ${marker}` }) });
    try {
      const create = await hallmark(['create'], { cwd: dir });
      expect(create.exitCode, create.all).toBe(0);
      expect(await state(dir)).toMatchObject({ lastAction: 'create', created: true, lastError: null });

      const converge = await hallmark(['converge', '--json'], { cwd: dir });
      expect(converge.exitCode, converge.all).toBe(0);
      const events = converge.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; step?: string; text?: string });
      expect(events.some((e) => e.type === 'step-end' && e.step === 'converge')).toBe(true);
      expect(events.some((e) => e.type === 'action-end')).toBe(true);
      expect(await state(dir)).toMatchObject({ lastAction: 'converge', converged: true });

      const log = await readFile(path.join(dir, '.hallmark/logs/default-box.log'), 'utf8');
      expect(log).toContain('converge-output-42');

      const verify = await hallmark(['verify'], { cwd: dir });
      expect(verify.exitCode, verify.all).toBe(0);
      expect(await state(dir)).toMatchObject({ lastAction: 'verify', verified: true, lastError: null });

      const destroy = await hallmark(['destroy'], { cwd: dir });
      expect(destroy.exitCode, destroy.all).toBe(0);
      expect(await state(dir)).toMatchObject({ lastAction: 'destroy', created: false });
      // the proxy driver never destroys the machine itself
      await expect(readFile(marker)).resolves.toBeDefined();
    } finally {
      execFileSync('rm', ['-f', marker]);
    }
  });

  it('a failing check: exit 3 and the failed check named', async () => {
    const dir = await project({ 'hallmark.yml': config({ inline: 'true', verify: 'test -f /nonexistent/hallmark-cli-check' }) });
    const r = await hallmark(['verify'], { cwd: dir });
    expect(r.exitCode, r.all).toBe(3);
    expect(r.all).toContain('test -f /nonexistent/hallmark-cli-check');
    expect(r.all).toMatch(/1 of 1 checks failed/);
    expect((await state(dir)).lastError).toMatch(/checks failed/);
    expect(r.all).not.toMatch(/\n\s+at /);
    const list = await hallmark(['list', '--json'], { cwd: dir });
    expect((JSON.parse(list.stdout) as { lastError: string }[])[0]!.lastError).toMatch(/checks failed/);
    await hallmark(['destroy'], { cwd: dir });
  });
});

describe('interruption and locking', () => {
  it('SIGINT during a long converge: exit 130 before the command ends, cleanup ran, remote command gone; a second hallmark meanwhile gets the PID error', async () => {
    const sleepArg = `59.${String(process.pid).padStart(6, '0')}`;
    // The marker appears only if the sleep ran to its end: its absence shows the SIGINT cut the command short.
    const finished = `/tmp/hallmark-cli-sleep-finished-${process.pid}`;
    const dir = await project({ 'hallmark.yml': config({ inline: `sleep ${sleepArg} && touch ${finished}`, verify: 'true' }) });
    const child = hallmark(['converge'], { cwd: dir, timeoutMs: 90_000 });
    try {
      // wait until the remote sleep runs
      const t0 = Date.now();
      while (pids(`sleep ${sleepArg}`).length === 0) {
        if (Date.now() - t0 > 30_000) throw new Error('the remote sleep never started');
        await new Promise((r) => setTimeout(r, 200));
      }
      const second = await hallmark(['converge'], { cwd: dir });
      expect(second.exitCode).not.toBe(0);
      expect(second.all).toContain(`PID ${child.pid}`);

      child.kill('SIGINT');
      const r = await child;
      expect(r.exitCode, r.all).toBe(130);
      expect(existsSync(finished)).toBe(false);
      expect((await state(dir)).lastError).toMatch(/interrupted/);
      const t1 = Date.now();
      while (pids(`sleep ${sleepArg}`).length > 0 && Date.now() - t1 < 30_000) await new Promise((res) => setTimeout(res, 200));
      expect(pids(`sleep ${sleepArg}`).map(describePid), sshd.log()).toEqual([]);
      expect((await readdir(path.join(dir, '.hallmark'))).filter((f) => f.endsWith('.lock'))).toEqual([]);
    } finally {
      if (child.exitCode === null && child.pid) process.kill(child.pid, 'SIGKILL');
      for (const pid of pids(`sleep ${sleepArg}`)) process.kill(pid, 'SIGKILL');
      rmSync(finished, { force: true });
    }
  }, 120_000);

  it('a second SIGINT exits at once and says what may still exist', async () => {
    const sleepArg = `58.${String(process.pid).padStart(6, '0')}`;
    const dir = await project({ 'hallmark.yml': config({ inline: `trap '' TERM; sleep ${sleepArg}`, verify: 'true' }) });
    const child = hallmark(['converge'], { cwd: dir, timeoutMs: 90_000 });
    try {
      const t0 = Date.now();
      while (pids(`sleep ${sleepArg}`).length === 0) {
        if (Date.now() - t0 > 30_000) throw new Error('the remote sleep never started');
        await new Promise((r) => setTimeout(r, 200));
      }
      // The first SIGINT starts the cleanup, which waits for the remote command
      // (it ignores TERM) for a grace period; the second lands in that window.
      const stopping = new Promise<void>((resolve) => child.stderr!.on('data', (d: Buffer) => d.toString().includes('stopping') && resolve()));
      child.kill('SIGINT');
      await stopping;
      child.kill('SIGINT');
      const r = await child;
      expect(r.exitCode, r.all).toBe(130);
      // Said only on the second interrupt, which leaves without waiting out the cleanup's grace period.
      expect(r.all).toMatch(/may still exist/);
      expect(r.all).toMatch(/default-box: machine .*127\.0\.0\.1/);
      expect(r.all).toContain('hallmark cleanup');
    } finally {
      if (child.exitCode === null && child.pid) process.kill(child.pid, 'SIGKILL');
      for (const pid of pids(`sleep ${sleepArg}`)) process.kill(pid, 'SIGKILL');
    }
  }, 120_000);
});
