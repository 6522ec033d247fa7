/**
 * hallmark as a library, the way a user gets it: `npm pack`, install the
 * tarball into a fresh project, and use the API there (no CLI), in
 * JavaScript and type-checked TypeScript.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ROOT, assertBuilt } from '../cli/run-cli.js';

let dir: string;
const app = () => path.join(dir, 'app');

const CONFIG = `driver:
  name: proxy
  host: 127.0.0.1
  port: 1
provisioner:
  name: shell
  inline: "true"
verifier:
  name: shell
  command: "true"
platforms:
  - name: debian-12
  - name: ubuntu_24.04
suites:
  - name: web
  - name: db
    excludes: [debian-12]
`;

const GOSS = `file:
  /etc/passwd:
    exists: true
    mode: "0644"
  /nonexistent-hallmark-file:
    exists: true
user:
  root:
    exists: true
    uid: 0
`;

const USE = `import { loadProject, verify, runAction, ConfigError, HallmarkError } from 'hallmark';

const project = await loadProject({ cwd: 'project' });
const instances = project.instances.map((i) => [i.name, i.suite, i.platform]);

const events = [];
const destroyed = await runAction('destroy', { project, instances: 'web', onEvent: (e) => events.push(e.type) });

const report = await verify({ target: 'local', spec: ['project/goss.yaml'] });

let configError;
try {
  await loadProject({ cwd: 'broken' });
} catch (err) {
  configError = { isConfigError: err instanceof ConfigError, isHallmarkError: err instanceof HallmarkError, exitCode: err.exitCode, problems: err.problems.length };
}
console.log(JSON.stringify({
  instances,
  destroyed: { ok: destroyed.ok, instances: destroyed.results.map((r) => r.instance) },
  events: [...new Set(events)],
  verify: { summary: report.summary, passed: report.passed, failed: report.results.filter((r) => r.status === 'fail').map((r) => r.id) },
  configError,
}));
`;

const TYPED = `import { loadProject, verify, type Project, type VerifyResult } from 'hallmark';
const project: Project = await loadProject({ cwd: 'project' });
const names: string[] = project.instances.map((i) => i.name);
const result: VerifyResult = await verify({ target: 'local', spec: ['project/goss.yaml'] });
const failed: number = result.summary.failed;
console.log(names, failed);
`;

const tsc = (file: string) =>
  execa(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '--noEmit', '--strict', '--skipLibCheck', '--target', 'es2022', '--module', 'nodenext', '--moduleResolution', 'nodenext', file], {
    cwd: app(),
    reject: false,
    all: true,
  });

beforeAll(async () => {
  assertBuilt();
  dir = await mkdtemp(path.join(tmpdir(), 'hallmark-pack-'));
  await execa('npm', ['pack', '--pack-destination', dir], { cwd: ROOT });
  const tarball = (await readdir(dir)).find((f) => f.endsWith('.tgz'))!;
  await mkdir(path.join(app(), 'project'), { recursive: true });
  await mkdir(path.join(app(), 'broken'), { recursive: true });
  await writeFile(path.join(app(), 'package.json'), JSON.stringify({ name: 'uses-hallmark', private: true, type: 'module' }));
  await writeFile(path.join(app(), 'project', 'hallmark.yml'), CONFIG);
  await writeFile(path.join(app(), 'project', 'goss.yaml'), GOSS);
  await writeFile(path.join(app(), 'broken', 'hallmark.yml'), 'platforms: 7\nsuites: [{name: a}]\n');
  await writeFile(path.join(app(), 'use.mjs'), USE);
  await writeFile(path.join(app(), 'typed.mts'), TYPED);
  await writeFile(path.join(app(), 'wrong.mts'), "import { loadProject } from 'hallmark';\nconst p = await loadProject();\nconst n: number = p.instances[0]!.name;\nconsole.log(n);\n");
  // The dependencies come from the registry (or npm's cache); @types/node for the type check.
  await execa('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', path.join(dir, tarball), '@types/node@20'], { cwd: app(), timeout: 600_000 });
}, 900_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('import from a packed install', () => {
  it('loads a project, runs an action with events, verifies a machine, and throws typed errors', async () => {
    const r = await execa(process.execPath, ['use.mjs'], { cwd: app(), reject: false, all: true });
    expect(r.exitCode, r.all).toBe(0);
    const got = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    // Kitchen's names and order: suites outer, platforms inner; '.' is dropped, '_' becomes '-'.
    expect(got.instances).toEqual([
      ['web-debian-12', 'web', 'debian-12'],
      ['web-ubuntu-2404', 'web', 'ubuntu_24.04'],
      ['db-ubuntu-2404', 'db', 'ubuntu_24.04'],
    ]);
    expect(got.destroyed).toEqual({ ok: true, instances: ['web-debian-12', 'web-ubuntu-2404'] });
    expect(got.events).toEqual(expect.arrayContaining(['action-start', 'step-start', 'step-end', 'action-end']));
    expect(got.verify.summary).toEqual({ total: 5, passed: 4, failed: 1, errors: 0, skipped: 0 });
    expect(got.verify.passed).toBe(false);
    expect(got.verify.failed).toEqual(['file:/nonexistent-hallmark-file:exists']);
    expect(got.configError).toEqual({ isConfigError: true, isHallmarkError: true, exitCode: 2, problems: expect.any(Number) });
    expect(got.configError.problems).toBeGreaterThan(0);
  }, 120_000);

  it('ships its types: a typed use compiles, a wrong one does not', async () => {
    const good = await tsc('typed.mts');
    expect(good.exitCode, good.all).toBe(0);
    const wrong = await tsc('wrong.mts');
    expect(wrong.exitCode).not.toBe(0);
    expect(wrong.all).toMatch(/wrong\.mts\(3,7\): error TS2322: Type 'string' is not assignable to type 'number'/);
  }, 120_000);
});
