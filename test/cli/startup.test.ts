/**
 * What the CLI loads to start: `--version`, `--help` and `list` must load no
 * plugin implementation (only the plugins' registrations and config schemas),
 * no ssh2 and no AWS SDK. Asserted on the modules the process actually loads,
 * never on time (bench/cli times it): bin/hallmark runs under
 * test/helpers/module-recorder.mjs, and each bundle chunk it loads is mapped
 * back to its source modules with the bundle's metafile
 * (dist/cli-bundle/meta.json, written by scripts/bundle-cli.mjs).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BIN, ROOT, assertBuilt } from './run-cli.js';
import { startSshd, type Sshd } from '../helpers/sshd.js';

const RECORDER = path.join(ROOT, 'test/helpers/module-recorder.mjs');
let tmp: string;
beforeAll(async () => {
  assertBuilt();
  tmp = await mkdtemp(path.join(tmpdir(), 'hallmark-startup-'));
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

interface Meta {
  outputs: Record<string, { inputs: Record<string, unknown> }>;
}

/** `node_modules/@scope/pkg/...` -> `@scope/pkg`; `dist/x.js` stays; anything else is kept whole. */
function moduleName(p: string): string {
  const i = p.lastIndexOf('node_modules/');
  if (i < 0) return p;
  const parts = p.slice(i + 'node_modules/'.length).split('/');
  return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
}

/** Every module (source file under dist/, or package name) that `node [node args] ...args` loads. */
async function loaded(args: string[], cwd = ROOT, nodeArgs: string[] = [BIN], env: Record<string, string> = {}): Promise<Set<string>> {
  const log = path.join(tmp, `modules-${Math.random().toString(36).slice(2)}.txt`);
  const r = await execa(process.execPath, ['--import', RECORDER, ...nodeArgs, ...args], { cwd, env: { CI: '1', ...env, HALLMARK_MODULE_LOG: log }, reject: false, timeout: 60_000 });
  expect(r.exitCode, `${args.join(' ')}: ${r.stderr}`).toBe(0);
  const meta = JSON.parse(readFileSync(path.join(ROOT, 'dist/cli-bundle/meta.json'), 'utf8')) as Meta;
  const chunks = new Map(Object.entries(meta.outputs).map(([out, o]) => [path.join(ROOT, out), Object.keys(o.inputs)]));
  const found = new Set<string>();
  for (const line of (await readFile(log, 'utf8')).split('\n').filter(Boolean)) {
    if (line.startsWith('node:')) continue;
    if (line.startsWith('builtin:')) {
      found.add(line);
      continue;
    }
    const file = line.startsWith('cjs:') ? line.slice(4) : line.startsWith('file:') ? fileURLToPath(line) : line;
    const inputs = chunks.get(file);
    if (inputs) inputs.forEach((i) => found.add(moduleName(i)));
    else found.add(moduleName(path.relative(ROOT, file)));
  }
  return found;
}

/**
 * Modules that only running an instance needs: a plugin's implementation (a
 * plugin folder's files other than its `register.js` and `schema.js`), the
 * SSH client and the AWS SDK.
 */
function heavy(modules: Set<string>): string[] {
  return [...modules].filter(
    (m) =>
      /^dist\/(drivers|transports|provisioners|verifiers)\/.+\.js$/.test(m) && !/\/(register|schema)\.js$/.test(m) ||
      /^(ssh2|cpu-features|@aws-sdk\/.*|@smithy\/.*|@aws\/.*)$/.test(m),
  );
}

describe('the CLI loads no plugin implementation, ssh2 or AWS SDK to start', () => {
  it('--version loads the command tree and nothing else (no config code, no zod)', async () => {
    const m = await loaded(['--version']);
    expect(m).toContain('dist/cli/main.js');
    expect(m).toContain('commander');
    expect(heavy(m)).toEqual([]);
    expect([...m].filter((x) => x.startsWith('dist/config/') || x === 'zod' || x === 'yaml')).toEqual([]);
    // commander's child_process (for executable subcommands) is required only when it would spawn one (scripts/bundle-cli.mjs).
    expect(m).not.toContain('builtin:child_process');
  });

  it('--help loads the command tree and nothing else', async () => {
    const m = await loaded(['--help']);
    expect(heavy(m)).toEqual([]);
    expect([...m].filter((x) => x.startsWith('dist/config/') || x === 'zod')).toEqual([]);
  });

  it('list of a qemu project and of an ec2 project loads the config schemas, not the drivers', async () => {
    for (const example of ['quickstart', 'kitchen-ec2']) {
      // kitchen-ec2's kitchen.yml takes its key from the environment, as CI would give it.
      const m = await loaded(['list'], path.join(ROOT, 'examples', example), [BIN], { HALLMARK_SSH_KEY: '/nonexistent/key' });
      expect(m, example).toContain('dist/config/load.js');
      expect(m, example).toContain('dist/drivers/ec2/schema.js');
      expect(heavy(m), example).toEqual([]);
      expect(m, example).not.toContain('builtin:child_process');
    }
  });

  it('verify --target ssh://... loads the ssh transport and the spec verifier, and no zod, config code, execa, terminal view or AWS SDK', async () => {
    let sshd: Sshd | undefined;
    try {
      sshd = await startSshd();
      const spec = path.join(tmp, 'goss-ssh.yaml');
      await writeFile(spec, 'file:\n  /:\n    exists: true\n');
      const m = await loaded(
        ['verify', '--target', `ssh://${sshd.rootUsername}@${sshd.host}:${sshd.port}`, '--key', sshd.privateKeyPath, '--host-key', sshd.hostKeyFingerprint, '--spec', spec],
        ROOT,
        [BIN],
        { XDG_CACHE_HOME: tmp },
      );
      expect([...m]).toEqual(expect.arrayContaining(['ssh2', 'dist/transports/ssh/transport.js', 'dist/verifiers/spec/run.js', 'yaml']));
      expect([...m].filter((x) => x === 'zod' || x.startsWith('dist/config/') || x === 'execa' || x === 'log-update' || x === 'dist/cli/live-view.js' || /^@(aws-sdk|smithy)\//.test(x))).toEqual([]);
    } finally {
      await sshd?.stop();
    }
  });

  // The recorder must see what the assertions above look for, or they could never fail.
  it('sees a plugin implementation that a command does load (verify --target local runs the spec verifier)', async () => {
    const spec = path.join(tmp, 'goss.yaml');
    await writeFile(spec, 'file:\n  /:\n    exists: true\n');
    const m = await loaded(['verify', '--target', 'local', '--spec', spec]);
    expect(heavy(m)).toEqual(expect.arrayContaining(['dist/verifiers/spec/run.js', 'dist/verifiers/target.js']));
    expect(m).toContain('builtin:child_process'); // it runs the check script with sh
  });

  it('sees ssh2 and the AWS SDK when they are loaded the way the bundle loads them (external packages, by require)', async () => {
    const m = await loaded([], ROOT, ['-e', "require('ssh2'); require('@aws-sdk/client-ec2');"]);
    expect(heavy(m)).toEqual(expect.arrayContaining(['ssh2', '@aws-sdk/client-ec2', '@aws-sdk/core', '@smithy/core']));
  });
});
