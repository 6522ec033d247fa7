/**
 * The goss keys of issue 11 §5 that the spec verifier used to refuse or
 * compute differently, run for real on this machine (`--target local`
 * style: LocalConnection, no VM), each value computed here the way goss
 * computes it (goss-org/goss resource/*.go, system/*.go) and compared with
 * what the verifier found. Servers the checks talk to (DNS, HTTP, proxy,
 * TLS with client certificates, UDP) are loopback servers this test starts.
 */
import { readFileSync, statfsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { LocalConnection } from '../../src/transports/local/connection.js';
import { runSpecChecks, type SpecRun } from '../../src/verifiers/spec/run.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'hallmark-spec-keys-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function run(yaml: string): Promise<SpecRun> {
  const file = path.join(dir, `g${Math.random().toString(36).slice(2)}.yml`);
  await writeFile(file, yaml);
  return runSpecChecks(new LocalConnection(), [file], { sudo: false, timeoutSec: 60 });
}

function statuses(r: SpecRun): string[] {
  return r.results.map((c) => `${c.resource} ${c.property}: ${c.status}${c.status === 'pass' ? '' : ` (${c.message})`}`);
}

describe('mount: opts, vfs-opts and usage as goss computes them', () => {
  test('/ : per-mount opts, superblock vfs-opts, statfs usage; superblock options and df\'s percentage do not leak in', async () => {
    // goss: the first /proc/self/mountinfo entry of "/", field 6 and the last field.
    const line = readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .map((l) => l.split(' '))
      .find((f) => f[4] === '/')!;
    const opts = [...new Set(line[5]!.split(','))];
    const vfs = line.at(-1)!.split(',');
    const superOnly = vfs.filter((o) => !opts.includes(o));
    const st = statfsSync('/');
    const usage = Math.round((1 - st.bfree / st.blocks) * 100);
    // df -P: used / (used + available), rounded up.
    const used = st.blocks - st.bfree;
    const df = Math.ceil((used / (used + st.bavail)) * 100);
    const res = await run(
      [
        'mount:',
        '  /:',
        '    exists: true',
        `    opts: {consist-of: ${JSON.stringify(opts)}}`,
        `    vfs-opts: {consist-of: ${JSON.stringify(vfs)}}`,
        `    usage: ${usage}`,
        ...(superOnly.length ? ['  superblock-options-are-not-opts:', '    mountpoint: /', `    opts: ${JSON.stringify(superOnly)}`] : []),
        ...(df !== usage ? ['  df-percentage-is-not-usage:', '    mountpoint: /', `    usage: ${df}`] : []),
      ].join('\n'),
    );
    expect(statuses(res)).toEqual([
      '/ exists: pass',
      '/ opts: pass',
      '/ vfs-opts: pass',
      '/ usage: pass',
      ...(superOnly.length ? [expect.stringMatching(/^superblock-options-are-not-opts opts: fail/)] : []),
      ...(df !== usage ? [expect.stringMatching(/^df-percentage-is-not-usage usage: fail/)] : []),
    ]);
  });

  test('a mount without blocks (/proc) has no usage in goss (0/0): an error, never a pass', async () => {
    const res = await run('mount:\n  /proc: {exists: true, filesystem: proc, vfs-opts: [rw], usage: {lt: 100}}\n');
    expect(res.results.map((r) => [r.property, r.status])).toEqual([
      ['exists', 'pass'],
      ['filesystem', 'pass'],
      ['vfs-opts', 'pass'],
      ['usage', 'error'],
    ]);
  });
});
