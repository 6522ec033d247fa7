/**
 * goss conformance: gossfiles built from goss's own documentation and
 * matcher fixtures (testdata/matching_*.yaml), each check with the result
 * goss gives it, run on this machine through `runSpecChecks` with a local
 * connection (what `hallmark verify --target local` does) and through the
 * CLI itself. Every check must pass, fail or skip exactly as in goss.
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { chmod, chown, copyFile, mkdir, mkdtemp, readFile, symlink, writeFile } from 'node:fs/promises';
import { existsSync, statSync } from 'node:fs';
import os, { userInfo } from 'node:os';
import dgram from 'node:dgram';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import dnsPacket from 'dns-packet';
import { describe, expect, test } from 'vitest';
import { LocalConnection } from '../../src/transports/local/connection.js';
import type { Connection } from '../../src/transports/transport.js';
import { runSpecChecks } from '../../src/verifiers/spec/run.js';
import { parseSpecText } from '../../src/verifiers/spec/load.js';

const dir = path.join(import.meta.dirname, 'goss-conformance');
const run = (file: string) => runSpecChecks(new LocalConnection(), [path.join(dir, file)], { sudo: false });

describe('goss conformance', () => {
  test('matching: every check goss passes passes (one skipped)', async () => {
    const { results } = await run('matching-pass.yml');
    const wrong = results.filter((r) => r.status !== (r.resource === 'skipped' ? 'skip' : 'pass')).map((r) => `${r.resource}: ${r.status} ${r.message}`);
    expect(wrong).toEqual([]);
    expect(results).toHaveLength(27);
  });

  test('matching: every check goss fails fails', async () => {
    const { results } = await run('matching-fail.yml');
    const wrong = results.filter((r) => r.status !== 'fail').map((r) => `${r.resource}: ${r.status}`);
    expect(wrong).toEqual([]);
    expect(results).toHaveLength(24);
  });

  test('resources: pass, fail and the absent-resource skip rule per attribute', async () => {
    const { results } = await run('resources.yml');
    const got = results.map((r) => `${r.resourceType} ${r.resource} ${r.property}: ${r.status}`);
    const want = results.map((r) => `${r.resourceType} ${r.resource} ${r.property}: ${(r.meta!.expect as Record<string, string>)[r.property!]}`);
    expect(got).toEqual(want);
    // an empty list on a streamed attribute gives no result at all, as in goss
    expect(results.some((r) => r.resource === '/hallmark-conformance/no-such-file' && r.property === 'contents')).toBe(false);
    const expected = Object.values(results.reduce<Record<string, number>>((n, r) => ({ ...n, [`${r.resourceType}:${r.resource}`]: Object.keys(r.meta!.expect as object).length }), {}));
    expect(results).toHaveLength(expected.reduce((a, b) => a + b, 0));
  });

  test('a .json gossfile: every number a float64 (encoding/json), so equal never matches the int exit-status; a plain number does', async () => {
    const { results } = await run('numbers.json');
    const got = results.map((r) => `${r.resourceType} ${r.resource} ${r.property}: ${r.status}`);
    const want = results.map((r) => `${r.resourceType} ${r.resource} ${r.property}: ${(r.meta!.expect as Record<string, string>)[r.property!]}`);
    expect(got).toEqual(want);
    expect(results).toHaveLength(4);
    expect(results.find((r) => r.resource === 'json-equal')!.message).toContain('found the int 0, expected the float64 0.0');
  });

  test('keys that talk to servers (dns server and typed records, udp and local-address, http headers): as goss gives them', async () => {
    const udp = dgram.createSocket('udp4');
    const zone: Record<string, dnsPacket.Answer[]> = {
      'A hm.test': [{ type: 'A', name: 'hm.test', data: '192.0.2.1' }],
      'MX hm.test': [{ type: 'MX', name: 'hm.test', data: { preference: 10, exchange: 'mx.hm.test' } }],
      'TXT hm.test': [{ type: 'TXT', name: 'hm.test', data: ['v=spf1 -all'] }],
    };
    udp.on('message', (msg, from) => {
      const q = dnsPacket.decode(msg);
      const answers = zone[`${q.questions![0]!.type} ${q.questions![0]!.name}`] ?? [];
      udp.send(dnsPacket.encode({ type: 'response', id: q.id, flags: dnsPacket.RECURSION_DESIRED | (answers.length ? 0 : 3), questions: q.questions, answers }), from.port, from.address);
    });
    await new Promise<void>((r) => udp.bind(0, '127.0.0.1', r));
    const web = http.createServer((_req, res) => {
      res.sendDate = false;
      res.setHeader('x-test', 'yes');
      res.write('o');
      res.end('k');
    });
    await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
    try {
      const vars = { dns: `127.0.0.1:${udp.address().port}`, http: `127.0.0.1:${(web.address() as AddressInfo).port}` };
      const { results } = await runSpecChecks(new LocalConnection(), [path.join(dir, 'keys.yml')], { sudo: false, vars });
      const got = results.map((r) => `${r.resourceType} ${r.resource} ${r.property}: ${r.status}`);
      const want = results.map((r) => `${r.resourceType} ${r.resource} ${r.property}: ${(r.meta!.expect as Record<string, string>)[r.property!]}`);
      expect(got).toEqual(want);
      const expected = Object.values(results.reduce<Record<string, number>>((n, r) => ({ ...n, [`${r.resourceType}:${r.resource}`]: Object.keys(r.meta!.expect as object).length }), {}));
      expect(results).toHaveLength(expected.reduce((a, b) => a + b, 0));
      expect(results).toHaveLength(21);
    } finally {
      udp.close();
      await new Promise<void>((r) => web.close(() => r()));
    }
  });

  test("the system as goss's system/*.go sees it: a symlink lstat'ed, paths cleaned, comm names of 15 bytes, dpkg's installed states", async () => {
    const work = await mkdtemp(path.join(os.tmpdir(), 'hm-sys-'));
    await symlink('/etc/passwd', path.join(work, 'link'));
    await writeFile(path.join(work, 'orphan'), '');
    await chown(path.join(work, 'orphan'), 54321, 54321);
    // A process whose name is longer than the kernel's comm keeps.
    const long = 'hallmark-conformance-sleeper';
    await copyFile(execFileSync('sh', ['-c', 'command -v sleep'], { encoding: 'utf8' }).trim(), path.join(work, long));
    await chmod(path.join(work, long), 0o755);
    const sleeper = spawn(path.join(work, long), ['300'], { stdio: 'ignore' });
    // A dpkg database with a held, a half-installed, a removed and a multi-arch package, read by the real dpkg-query.
    const pkg = (name: string, status: string, arch: string, version: string) =>
      `Package: ${name}\nStatus: ${status}\nPriority: optional\nMaintainer: x <x@example.org>\nArchitecture: ${arch}\n${name === 'libmulti' ? 'Multi-Arch: same\n' : ''}Version: ${version}\nDescription: x\n`;
    await mkdir(path.join(work, 'dpkg', 'updates'), { recursive: true });
    await writeFile(path.join(work, 'dpkg', 'available'), '');
    await writeFile(
      path.join(work, 'dpkg', 'status'),
      [pkg('held-pkg', 'hold ok installed', 'amd64', '1.2-3'), pkg('half-pkg', 'install reinstreq half-installed', 'amd64', '2.0-1'), pkg('conf-pkg', 'deinstall ok config-files', 'amd64', '3.0-1'), pkg('libmulti', 'install ok installed', 'i386', '4.0-1'), pkg('libmulti', 'install ok installed', 'amd64', '4.0-1')].join('\n'),
    );
    await mkdir(path.join(work, 'bin'));
    await writeFile(path.join(work, 'bin', 'dpkg-query'), `#!/bin/sh\nexec ${execFileSync('sh', ['-c', 'command -v dpkg-query'], { encoding: 'utf8' }).trim()} --admindir=${work}/dpkg "$@"\n`, { mode: 0o755 });
    const local = new LocalConnection();
    const connection: Connection = {
      exec: (cmd, o = {}) => local.exec(cmd, { ...o, env: { ...o.env, PATH: `${work}/bin:${process.env.PATH}` } }),
      upload: (a, b, o) => local.upload(a, b, o),
      download: (a, b) => local.download(a, b),
      close: () => local.close(),
    };
    try {
      await expect.poll(() => readFile(`/proc/${sleeper.pid}/comm`, 'utf8').catch(() => '')).toBe(`${long.slice(0, 15)}\n`);
      const { results } = await runSpecChecks(connection, [path.join(dir, 'system.yml')], { sudo: false, vars: { dir: work, long, comm: long.slice(0, 15) } });
      const got = results.map((r) => `${r.resourceType} ${r.resource} ${r.property}: ${r.status}`);
      const want = results.map((r) => `${r.resourceType} ${r.resource} ${r.property}: ${(r.meta!.expect as Record<string, string>)[r.property!]}`);
      expect(got).toEqual(want);
      expect(results).toHaveLength(Object.values(results.reduce<Record<string, number>>((n, r) => ({ ...n, [`${r.resourceType}:${r.resource}`]: Object.keys(r.meta!.expect as object).length }), {})).reduce((a, b) => a + b, 0));
      expect(results).toHaveLength(29);
    } finally {
      sleeper.kill('SIGKILL');
    }
  });

  test('through the CLI: hallmark verify --target local exits 3 on a failure, 0 when all pass or skip', async () => {
    const bin = path.join(import.meta.dirname, '..', '..', 'bin', 'hallmark');
    const cli = (file: string) =>
      promisify(execFile)(bin, ['verify', '--target', 'local', '--spec', path.join(dir, file)]).then(
        () => 0,
        (e: { code: number }) => e.code,
      );
    expect(await cli('matching-pass.yml')).toBe(0);
    expect(await cli('matching-fail.yml')).toBe(3);
  });

  test("templates: goss's examples rendered with --vars (twice, merged), --vars-inline and the environment, through the CLI", async () => {
    const bin = path.join(import.meta.dirname, '..', '..', 'bin', 'hallmark');
    const resultsFile = path.join(await mkdtemp(path.join(os.tmpdir(), 'hm-conf-')), 'results.json');
    const args = ['verify', '--target', 'local', '--spec', path.join(dir, 'templates.yml'), '--results', resultsFile, '--vars', path.join(dir, 'templates-vars.yml'), '--vars', path.join(dir, 'templates-data.json'), '--vars-inline', '{inline: bar, overwrite: bar}'];
    await promisify(execFile)(bin, args, { env: { ...process.env, OS: 'hallmark-os' } });
    const results = (JSON.parse(await readFile(resultsFile, 'utf8')) as { instances: { results: { resource: string; property?: string; status: string }[] }[] }).instances[0]!.results;
    expect(results.filter((r) => r.status !== 'pass').map((r) => `${r.resource} ${r.property}: ${r.status}`)).toEqual([]);
    expect([...new Set(results.map((r) => r.resource))].sort()).toEqual(
      [
        '/etc/passwd',
        '/etc/group',
        'root',
        'hallmark-no-such-package-a',
        'hallmark-no-such-package-b',
        'vars_inline_simple',
        'vars_inline_overwrite',
        'sping_basic',
        'check_instance_count',
        'check_failure_count_from_all_instance',
        'check_status',
        'runlevels_as_json',
        'only_on_this_os',
        'getenv_default',
      ].sort(),
    );
    expect(results).toHaveLength(20);
    // Without --vars-inline, .Vars.inline is undefined: a template error (missingkey=error), exit 2.
    const noInline = await promisify(execFile)(bin, args.slice(0, -2), { env: { ...process.env, OS: 'hallmark-os' } }).then(
      () => 0,
      (e: { code: number }) => e.code,
    );
    expect(noInline).toBe(2);
  });

  test('templates: an error is exit 2 naming the file and line, and nothing runs', async () => {
    const bin = path.join(import.meta.dirname, '..', '..', 'bin', 'hallmark');
    const e = await promisify(execFile)(bin, ['verify', '--target', 'local', '--spec', path.join(dir, 'templates-error.yml')]).then(
      () => ({ code: 0, stderr: '' }),
      (x: { code: number; stderr: string }) => x,
    );
    expect(e.code).toBe(2);
    expect(e.stderr).toContain('templates-error.yml:4');
    expect(e.stderr).toContain('map has no entry for key "no_such_var"');
  });

  test('~ paths expand as goss expands them: ~ is the home of the user the checks run as, ~name that of name; an unknown user is an error, a hostile name only data', async () => {
    const work = await mkdtemp(path.join(os.tmpdir(), 'hm-tilde-'));
    const canary = path.join(work, 'canary');
    const me = userInfo();
    const file = path.join(work, 'tilde.yml');
    await writeFile(
      file,
      [
        'file:',
        `  "~": {exists: true, filetype: directory, mode: "${(statSync(me.homedir).mode & 0o7777).toString(8).padStart(4, '0')}"}`,
        `  "~${me.username}": {exists: true, filetype: directory}`,
        `  "~${me.username}/./": {exists: true, filetype: directory}`,
        `  "~${me.username}/hallmark-no-such-file": {exists: false}`,
        `  "~hallmark-no-such-user-x/a": {exists: false}`,
        `  "~$(touch ${canary})": {exists: false}`,
        `  "~;touch ${canary};/x": {exists: true}`,
        '',
      ].join('\n'),
    );
    const { results } = await runSpecChecks(new LocalConnection(), [file], { sudo: false });
    expect(results.map((r) => `${r.resource} ${r.property}: ${r.status}`)).toEqual([
      '~ exists: pass',
      '~ filetype: pass',
      '~ mode: pass',
      `~${me.username} exists: pass`,
      `~${me.username} filetype: pass`,
      `~${me.username}/./ exists: pass`,
      `~${me.username}/./ filetype: pass`,
      `~${me.username}/hallmark-no-such-file exists: pass`,
      '~hallmark-no-such-user-x/a exists: error',
      `~$(touch ${canary}) exists: error`,
      `~;touch ${canary};/x exists: error`,
    ]);
    expect(results.find((r) => r.resource === '~hallmark-no-such-user-x/a')!.message).toContain('unknown user hallmark-no-such-user-x');
    expect(existsSync(canary)).toBe(false);
    await expect(parseSpecText('file:\n  "~root/../etc": {exists: true}\n', file)).rejects.toThrow(/a ~ path with \.\. is not supported/);
  });
});
