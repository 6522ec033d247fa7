import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { UsageError } from '../kernel/errors.js';
import { silentLogger } from '../kernel/events.js';
import { defaultKnownHostsFile, knownHostsKey, parseTarget, readKnownHosts, verifyTarget } from './target.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('parseTarget', () => {
  test('local and ssh URLs with and without a port, IPv6 in brackets', () => {
    expect(parseTarget('local')).toEqual({ kind: 'local' });
    expect(parseTarget('ssh://admin@10.0.0.5')).toEqual({ kind: 'ssh', username: 'admin', hostname: '10.0.0.5', port: 22 });
    expect(parseTarget('ssh://ec2-user@build.example.com:2222/')).toEqual({
      kind: 'ssh',
      username: 'ec2-user',
      hostname: 'build.example.com',
      port: 2222,
    });
    expect(parseTarget('ssh://root@[::1]:2200')).toEqual({ kind: 'ssh', username: 'root', hostname: '::1', port: 2200 });
  });

  test.each([
    ['10.0.0.5', /no ssh:\/\/ scheme/],
    ['winrm://admin@host', /unsupported scheme "winrm"/],
    ['ssh://host', /no user name/],
    ['ssh://u:secret@host', /password .* --key/],
    ['ssh://u@host:99999', /not a valid URL|port out of range/],
    ['ssh://u@host/var', /unexpected path/],
  ])('%s is a usage error that says why', (s, why) => {
    let err: unknown;
    try {
      parseTarget(s);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toMatch(why);
    expect((err as UsageError).hint).toContain('ssh://USER@HOST[:PORT]');
  });
});

describe('known hosts', () => {
  test('keys host:port, IPv6 in brackets; default path under XDG_CACHE_HOME', () => {
    expect(knownHostsKey('10.0.0.5', 22)).toBe('10.0.0.5:22');
    expect(knownHostsKey('::1', 2200)).toBe('[::1]:2200');
    expect(defaultKnownHostsFile({ XDG_CACHE_HOME: '/c' })).toBe('/c/hallmark/known_hosts.json');
    expect(defaultKnownHostsFile({})).toBe(path.join(os.homedir(), '.cache', 'hallmark', 'known_hosts.json'));
  });

  test('a missing file is empty; a damaged one is an error, not a fresh start', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'hallmark-kh-'));
    dirs.push(dir);
    expect(await readKnownHosts(path.join(dir, 'none.json'))).toEqual({});
    const f = path.join(dir, 'kh.json');
    await writeFile(f, '{"h:22": 5}');
    await expect(readKnownHosts(f)).rejects.toThrow(/not a JSON object/);
    await writeFile(f, 'not json');
    await expect(readKnownHosts(f)).rejects.toThrow(/not a JSON object/);
    expect(await readFile(f, 'utf8')).toBe('not json');
  });
});

describe('verifyTarget argument checks (before connecting)', () => {
  test('no checks, no key, a bad gossfile: each fails without touching the network', async () => {
    const base = { target: 'ssh://u@127.0.0.1:1', log: silentLogger, knownHostsFile: '/nonexistent/kh.json' };
    await expect(verifyTarget({ ...base, specFiles: [], profiles: [] })).rejects.toThrow(/nothing to verify/);
    const dir = await mkdtemp(path.join(os.tmpdir(), 'hallmark-vt-'));
    dirs.push(dir);
    const good = path.join(dir, 'good.yml');
    await writeFile(good, 'command:\n  "true": {exit-status: 0}\n');
    await expect(verifyTarget({ ...base, specFiles: [good], profiles: [] })).rejects.toThrow(/no private key/);
    const bad = path.join(dir, 'bad.yml');
    await writeFile(bad, 'packagee:\n  nginx: {installed: true}\n');
    await expect(verifyTarget({ ...base, key: '/k', specFiles: [bad], profiles: [] })).rejects.toThrow(/bad\.yml/);
  });
});
