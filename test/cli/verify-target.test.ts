/**
 * `hallmark verify --target`: any reachable machine, no config file. Against
 * a real sshd on loopback and the local machine; exit 0 when all pass, 3 when
 * any fails; reports written when asked; a changed host key refused.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { assertBuilt, hallmark, project, removeProjects } from './run-cli.js';
import { startSshd, type Sshd } from '../helpers/sshd.js';

vi.setConfig({ testTimeout: 90_000 });

const passing = `file:\n  /etc/passwd:\n    exists: true\n    owner: root\ncommand:\n  "echo hallmark":\n    exit-status: 0\n    stdout: [hallmark]\n`;
const failing = `file:\n  /etc/passwd:\n    exists: true\n  /no/such/file:\n    exists: true\n`;

let sshd: Sshd;
let dir: string;
let env: Record<string, string>;
beforeAll(async () => {
  assertBuilt();
  sshd = await startSshd();
  dir = await project({ 'pass.yml': passing, 'fail.yml': failing });
  // known_hosts.json lives under XDG_CACHE_HOME: keep it inside the temp project.
  env = { XDG_CACHE_HOME: path.join(dir, 'cache') };
});
afterAll(async () => {
  await sshd?.stop();
  await removeProjects();
});

const target = () => `ssh://${sshd.username}@127.0.0.1:${sshd.port}`;

describe('verify --target', () => {
  it('passes over SSH: exit 0, JUnit and JSON written, host key recorded', async () => {
    const r = await hallmark(['verify', '--target', target(), '--key', sshd.privateKeyPath, '--spec', 'pass.yml', '--junit', 'out/junit.xml', '--json', 'out/results.json'], { cwd: dir, env });
    expect(r.exitCode, r.all).toBe(0);
    expect(r.stdout).toMatch(/4\s+0\s+0\s+0/);
    const results = JSON.parse(await readFile(path.join(dir, 'out/results.json'), 'utf8'));
    expect(results.passed).toBe(true);
    expect(results.summary).toMatchObject({ total: 4, passed: 4, failed: 0 });
    expect(await readFile(path.join(dir, 'out/junit.xml'), 'utf8')).toMatch(/<testsuites[^>]*tests="4"[^>]*failures="0"/);
    const known = JSON.parse(await readFile(path.join(dir, 'cache/hallmark/known_hosts.json'), 'utf8'));
    expect(JSON.stringify(known)).toContain(sshd.hostKeyFingerprint);
  });

  it('fails with exit 3 and names the failed check', async () => {
    const r = await hallmark(['verify', '--target', target(), '--key', sshd.privateKeyPath, '--spec', 'fail.yml'], { cwd: dir, env });
    expect(r.exitCode, r.all).toBe(3);
    expect(r.stderr).toContain('/no/such/file');
  });

  it('refuses a host key that differs from --host-key, before running anything', async () => {
    const r = await hallmark(['verify', '--target', target(), '--key', sshd.privateKeyPath, '--spec', 'pass.yml', '--host-key', 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'], { cwd: dir, env });
    expect(r.exitCode).not.toBe(0);
    expect(r.exitCode).not.toBe(3);
    expect(r.stderr).toMatch(/host key/i);
    expect(r.stderr).toContain(sshd.hostKeyFingerprint);
  });

  it('verifies the local machine with --target local', async () => {
    const ok = await hallmark(['verify', '--target', 'local', '--spec', 'pass.yml'], { cwd: dir, env });
    expect(ok.exitCode, ok.all).toBe(0);
    const bad = await hallmark(['verify', '--target', 'local', '--spec', 'fail.yml'], { cwd: dir, env });
    expect(bad.exitCode).toBe(3);
  });

  it('reports a spec error with file and line (exit 2)', async () => {
    const d = await project({ 'bad.yml': 'file:\n  /etc/passwd:\n    exist: true\n' });
    const r = await hallmark(['verify', '--target', 'local', '--spec', 'bad.yml'], { cwd: d, env });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/bad\.yml:3/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
