/**
 * The CLI's offline surface: version, help, validate, list, diagnose, usage
 * errors. Child processes of bin/hallmark; no machines.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ANSI, FIXTURES, ROOT, assertBuilt, hallmark, project, removeProjects } from './run-cli.js';

const version = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

vi.setConfig({ testTimeout: 90_000 });
beforeAll(assertBuilt);
afterAll(removeProjects);

describe('version and help', () => {
  it('--version prints the package version', async () => {
    const r = await hallmark(['--version'], { cwd: ROOT });
    expect(r.exitCode).toBe(0);
    expect(r.stdout.trim()).toBe(version);
  });

  it('--help of every command exits 0 and describes it', async () => {
    const commands = ['validate', 'list', 'diagnose', 'create', 'converge', 'setup', 'verify', 'destroy', 'test', 'build', 'login', 'exec', 'cleanup', 'distribute', 'base', 'base build', 'base list', 'images', 'images rm'];
    // a few at a time: the box has 2 cores shared with other test files
    const argvs = [['--help'], ...commands.map((c) => [...c.split(' '), '--help'])];
    const results: Awaited<ReturnType<typeof hallmark>>[] = [];
    for (let i = 0; i < argvs.length; i += 4) results.push(...(await Promise.all(argvs.slice(i, i + 4).map((a) => hallmark(a, { cwd: ROOT })))));
    results.forEach((r, i) => {
      const what = i === 0 ? 'hallmark' : commands[i - 1]!;
      expect(r.exitCode, what).toBe(0);
      expect(r.stdout, what).toMatch(/^Usage: hallmark/m);
    });
    expect(results[0]!.stdout).toContain('build');
    expect(results[commands.indexOf('test') + 1]!.stdout).toContain('--destroy');
  }, 180_000);
});

describe('usage errors exit 2', () => {
  it('unknown command', async () => {
    const r = await hallmark(['frobnicate'], { cwd: ROOT });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("unknown command 'frobnicate'");
  });
  it('unknown option', async () => {
    const r = await hallmark(['list', '--bogus'], { cwd: ROOT });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("unknown option '--bogus'");
  });
  it('bad choice for test --destroy', async () => {
    const r = await hallmark(['test', '--destroy', 'sometimes'], { cwd: ROOT });
    expect(r.exitCode).toBe(2);
  });
  it('no config file in the directory', async () => {
    const dir = await project();
    const r = await hallmark(['list'], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.all).not.toMatch(/\n\s+at /);
  });
});

describe('validate', () => {
  it('accepts a good project', async () => {
    const dir = await project({}, 'good.yml');
    const r = await hallmark(['validate'], { cwd: dir });
    expect(r.exitCode, r.all).toBe(0);
    expect(r.stdout).toContain('default-box');
    expect(r.stdout).toContain('default-other');
  });

  it('reports unknown keys with file:line and did-you-mean, without a stack trace (warnings; errors under --strict)', async () => {
    const file = path.join(FIXTURES, 'broken/typos.yml');
    // Kitchen ignores keys it does not read: plain validate warns and passes
    const plain = await hallmark(['-c', file, 'validate'], { cwd: ROOT });
    expect(plain.exitCode, plain.all).toBe(0);
    expect(plain.stderr).toMatch(/warning: .*platfroms.*did you mean: platforms/);
    const r = await hallmark(['-c', file, 'validate', '--strict'], { cwd: ROOT });
    expect(r.exitCode).toBe(2);
    expect(r.all).toContain(`${file}:4:1`);
    expect(r.all).toMatch(/platfroms.*did you mean: platforms/);
    expect(r.all).toMatch(new RegExp(`${file}:10:\\d+.*provisoner.*did you mean: provisioner`));
    expect(r.all).not.toMatch(/\n\s+at /);
  });

  it('reports YAML syntax errors with file:line', async () => {
    const file = path.join(FIXTURES, 'broken/yaml-syntax.yml');
    const r = await hallmark(['-c', file, 'validate'], { cwd: ROOT });
    expect(r.exitCode).toBe(2);
    expect(r.all).toMatch(new RegExp(`${file}:\\d+:\\d+: YAML syntax error`));
    expect(r.all).not.toMatch(/\n\s+at /);
  });

  it('reports publish.ssm_parameter on a qemu platform with file:line, key, expected and found, for that instance only', async () => {
    const file = path.join(FIXTURES, 'broken/ssm-on-qemu.yml');
    const r = await hallmark(['-c', file, 'validate'], { cwd: ROOT, env: { NO_COLOR: '1' } });
    expect(r.exitCode, r.all).toBe(2);
    expect(r.stderr).toContain(
      `${file}:6:3: publish.ssm_parameter: instance default-debian-12 uses the qemu driver, which cannot write an SSM parameter (its images are local files, not AMIs); ` +
        'expected publish.ssm_parameter only on instances with the ec2 driver; found driver "qemu"',
    );
    expect(r.all).not.toContain('default-al2023 uses');
    expect(r.all).not.toMatch(/\n\s+at /);
    // The ec2 instance validates, and a build of the qemu one stops before touching anything.
    const ec2 = await hallmark(['-c', file, 'validate', 'al2023'], { cwd: ROOT });
    expect(ec2.exitCode, ec2.all).toBe(0);
    const dir = await project({}, 'broken/ssm-on-qemu.yml');
    const build = await hallmark(['build', 'debian-12'], { cwd: dir });
    expect(build.exitCode, build.all).toBe(2);
    expect(build.all).toContain('hallmark.yml:6:3: publish.ssm_parameter');
    // Only its log: no state, so no machine was made.
    expect(existsSync(path.join(dir, '.hallmark/default-debian-12.json'))).toBe(false);
  });

  it('reports distribute.accounts and regions on a qemu platform with file:line and key, for that instance only, and says how to scope them', async () => {
    const file = path.join(FIXTURES, 'broken/distribute-on-qemu.yml');
    const r = await hallmark(['-c', file, 'validate'], { cwd: ROOT, env: { NO_COLOR: '1' } });
    expect(r.exitCode, r.all).toBe(2);
    expect(r.stderr).toContain(
      `${file}:8:3: distribute.accounts: instance default-debian-12 uses the qemu driver, which cannot share images with other accounts: distribute.accounts would be ignored; ` +
        'expected distribute.accounts only on instances with the ec2 driver; found driver "qemu"',
    );
    expect(r.stderr).toContain(`${file}:7:3: distribute.regions: instance default-debian-12 uses the qemu driver, which cannot copy images to other regions`);
    expect(r.stderr).toContain('move distribute.accounts into the distribute block of each platform that uses the ec2 driver');
    expect(r.all).not.toContain('default-al2023 uses');
    // The ec2 instance validates; a build of the qemu one stops before making anything.
    const ec2 = await hallmark(['-c', file, 'validate', 'al2023'], { cwd: ROOT });
    expect(ec2.exitCode, ec2.all).toBe(0);
    const dir = await project({}, 'broken/distribute-on-qemu.yml');
    const build = await hallmark(['build', 'debian-12'], { cwd: dir });
    expect(build.exitCode, build.all).toBe(2);
    expect(build.all).toContain('hallmark.yml:8:3: distribute.accounts');
    expect(existsSync(path.join(dir, '.hallmark/default-debian-12.json'))).toBe(false);
  });

  it('reports AMI names AWS would refuse, and two instances naming their image alike; build refuses before anything starts', async () => {
    const yml = (image: string) =>
      `driver:\n  name: ec2\n  region: us-east-1\n  image_id: ami-0123456789abcdef0\n${image}platforms:\n  - name: al2023\n  - name: rhel-9\nsuites:\n  - name: web\n`;
    const shared = await project({ 'hallmark.yml': yml('image:\n  name: golden-{{timestamp}}\n') });
    const v = await hallmark(['validate'], { cwd: shared, env: { NO_COLOR: '1' } });
    expect(v.exitCode, v.all).toBe(2);
    expect(v.all).toContain('image.name: instances web-al2023 and web-rhel-9 would both name their image "golden-20260101T000000Z" in us-east-1');
    // Each alone is fine: the selection is the build.
    expect((await hallmark(['validate', 'rhel'], { cwd: shared })).exitCode).toBe(0);
    const b = await hallmark(['build'], { cwd: shared });
    expect(b.exitCode, b.all).toBe(2);
    expect(b.all).toContain('nothing was started');
    expect(existsSync(path.join(shared, '.hallmark/web-al2023.json'))).toBe(false);

    const colon = await project({ 'hallmark.yml': yml('image:\n  name: "{{suite}}:{{platform}}"\n') });
    const c = await hallmark(['validate'], { cwd: colon, env: { NO_COLOR: '1' } });
    expect(c.exitCode, c.all).toBe(2);
    expect(c.all).toContain('hallmark.yml:6:9: image.name: instance web-al2023 would name its image "web:al2023", which ec2 refuses');
  });

  it('names an unknown driver with the ones there are', async () => {
    const file = path.join(FIXTURES, 'broken/unknown-driver.yml');
    const r = await hallmark(['-c', file, 'validate'], { cwd: ROOT });
    expect(r.exitCode).toBe(2);
    expect(r.all).toContain(`${file}:2:9`);
    expect(r.all).toMatch(/unknown driver "proxyy".*proxy/);
  });
});

describe('a lifecycle verb with an unknown driver', () => {
  it('fails with a clear configuration error and exit 2, before touching anything', async () => {
    const dir = await project({}, 'broken/unknown-driver.yml');
    const r = await hallmark(['create'], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.all).toMatch(/unknown driver "proxyy"/);
    expect(r.all).toContain('hallmark.yml:2:9');
    expect(r.all).not.toMatch(/\n\s+at /);
  });
});

describe('list', () => {
  it('shows plugins, last action and last error per instance, as a table and as JSON', async () => {
    const dir = await project({}, 'good.yml');
    await mkdir(path.join(dir, '.hallmark'));
    await writeFile(
      path.join(dir, '.hallmark/default-box.json'),
      JSON.stringify({ instance: 'default-box', lastAction: 'converge', lastError: 'inline command failed (exit 7)', driver: {}, images: [], timings: {} }),
    );
    const table = await hallmark(['list'], { cwd: dir });
    expect(table.exitCode, table.all).toBe(0);
    const lines = table.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/Instance\s+Driver\s+Provisioner\s+Verifier\s+Transport\s+Last Action\s+Last Error/);
    expect(lines.find((l) => l.startsWith('default-box'))).toMatch(/proxy\s+shell\s+shell\s+ssh\s+converge\s+inline command failed \(exit 7\)/);
    expect(lines.find((l) => l.startsWith('default-other'))).toMatch(/<Not Created>\s+<None>/);

    const json = await hallmark(['list', '--json'], { cwd: dir });
    expect(json.exitCode).toBe(0);
    const rows = JSON.parse(json.stdout) as Record<string, string>[];
    expect(rows).toHaveLength(2);
    expect(rows.find((r) => r.instance === 'default-box')).toMatchObject({
      driver: 'proxy',
      provisioner: 'shell',
      verifier: 'shell',
      transport: 'ssh',
      lastAction: 'converge',
      lastError: 'inline command failed (exit 7)',
    });

    const filtered = await hallmark(['list', 'other', '--json'], { cwd: dir });
    expect((JSON.parse(filtered.stdout) as unknown[]).length).toBe(1);
  });

  it('NO_COLOR gives no escape codes', async () => {
    const dir = await project({}, 'good.yml');
    const r = await hallmark(['create', 'nomatch-xyz'], { cwd: dir, env: { NO_COLOR: '1' } });
    const v = await hallmark(['-c', path.join(FIXTURES, 'broken/typos.yml'), 'validate', '--strict'], { cwd: ROOT, env: { NO_COLOR: '1' } });
    expect(v.exitCode).toBe(2);
    expect(v.all).not.toMatch(ANSI);
    expect(r.all).not.toMatch(ANSI);
  });
});

describe('diagnose', () => {
  it('shows the merged configuration with secrets redacted', async () => {
    const dir = await project({}, 'good.yml');
    const r = await hallmark(['diagnose'], { cwd: dir });
    expect(r.exitCode, r.all).toBe(0);
    expect(r.stdout).toContain('default-box');
    expect(r.stdout).toContain('host: 127.0.0.1');
    for (const secret of ['hunter2-driver-secret', 'wJalr-provisioner-secret', 'tok-provisioner-secret']) expect(r.all).not.toContain(secret);
    expect(r.stdout).toMatch(/password: "\*\*\*"/);
    expect(r.stdout).toMatch(/AWS_SECRET_ACCESS_KEY: "\*\*\*"/);
  });
});
