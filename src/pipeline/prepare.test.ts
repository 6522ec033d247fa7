/**
 * A build's prepare stops before anything is launched when the controller
 * lacks a tool the build will run here (ansible-playbook, inspec, pytest with
 * testinfra): the real provisioner and verifier plugins, a driver that counts
 * the machines it makes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import '../builtin-plugins.js';
import { registerPlugin } from '../plugins.js';
import type { Project } from '../config/index.js';
import type { InstanceConfig, PluginBlock } from '../config/types.js';
import type { DriverContext, ImageCapability, MachineCapability } from '../drivers/driver.js';
import type { Transport } from '../transports/transport.js';
import type { Provisioner } from '../provisioners/provisioner.js';
import type { Verifier } from '../verifiers/verifier.js';
import { runAction } from './actions.js';
import { EventBus, type HallmarkEvent } from '../kernel/events.js';

const launched: string[] = [];

/** Images are declared so that a build gets past prepare's checks; none is reached here. */
class CountingDriver implements MachineCapability, ImageCapability {
  readonly name = 'prep-vm';
  async create(ctx: DriverContext) {
    launched.push(ctx.instance.name);
    await ctx.journal.recordDriver({ vm: ctx.instance.name });
  }
  async connectionTarget() {
    return { hostname: 'prep', port: 1, username: 'u' };
  }
  async destroy() {}
  capture = notReached;
  distribute = notReached;
  tagImages = notReached;
  deleteImage = notReached;
  bootFrom = notReached;
  pruneImages = notReached;
  describeImages = notReached;
}

function notReached(): never {
  throw new Error('not reached in these tests');
}

const noop = { async close() {}, async exec() { return { stdout: '', stderr: '', exitCode: 0, durationMs: 0 }; }, async upload() {}, async download() {} };

let dir: string;
beforeAll(async () => {
  const schema = (name: string) => () => z.looseObject({ name: z.literal(name) });
  registerPlugin({ kind: 'driver', name: 'prep-vm', description: 'test', schema: schema('prep-vm'), capabilities: ['images'], load: async () => new CountingDriver() });
  registerPlugin({ kind: 'transport', name: 'prep-conn', description: 'test', schema: schema('prep-conn'), load: async () => ({ name: 'prep-conn', connect: async () => noop }) as Transport });
  registerPlugin({ kind: 'provisioner', name: 'prep-prov', description: 'test', schema: schema('prep-prov'), load: async () => ({ name: 'prep-prov', provision: async () => {} }) as Provisioner });
  registerPlugin({ kind: 'verifier', name: 'prep-check', description: 'test', schema: schema('prep-check'), load: async () => ({ name: 'prep-check', verify: async () => { throw new Error('not reached'); } }) as Verifier });
  dir = await mkdtemp(path.join(tmpdir(), 'hallmark-prepare-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function project(name: string, provisioner: PluginBlock, verifier: PluginBlock): Project {
  const config: InstanceConfig = {
    name,
    suite: 'default',
    platform: name,
    driver: { name: 'prep-vm' },
    transport: { name: 'prep-conn' },
    provisioner,
    verifier,
    image: { name: '{{instance}}-{{build_id}}', tags: {}, boot_test: false },
    distribute: { regions: [], accounts: [], organization_arns: [], ou_arns: [], share_snapshots: false, atomic: true, concurrency: 1, kms_key_ids: {}, targets: [], format: 'qcow2' },
    publish: { env_properties: false, manifest: false, junit: false, ci_outputs: false },
    file: path.join(dir, 'hallmark.yml'),
    projectDir: dir,
  };
  return { file: config.file, projectDir: dir, stateDir: path.join(dir, '.hallmark'), instances: [{ config, problems: [] }] };
}

async function build(p: Project) {
  const events = new EventBus();
  const seen: HallmarkEvent[] = [];
  events.on((e) => seen.push(e));
  const r = await runAction({ project: p, entries: p.instances, action: 'build', events, signal: new AbortController().signal });
  const failedStep = seen.find((e) => e.type === 'step-end' && !e.ok) as { step?: string } | undefined;
  return { result: r.results[0]!, failedStep: failedStep?.step, steps: seen.filter((e) => e.type === 'step-start').map((e) => (e as { step: string }).step) };
}

describe('build prepare: the controller has the tools the build runs', () => {
  it('ansible-playbook missing: the build stops in prepare, nothing launched', async () => {
    const empty = path.join(dir, 'no-ansible');
    await mkdir(empty, { recursive: true });
    await writeFile(path.join(dir, 'site.yml'), '- hosts: all\n  tasks: []\n');
    const r = await build(project('ansible-missing', { name: 'ansible_playbook', playbook: 'site.yml', ansible_binary_path: empty }, { name: 'prep-check' }));
    expect(r.result.ok).toBe(false);
    expect(r.failedStep).toBe('prepare');
    expect(r.steps).not.toContain('create');
    expect(r.result.error?.message).toContain('ansible-playbook is not in ansible_binary_path');
    expect(launched).not.toContain('ansible-missing');
  });

  it('ansible-playbook present but no playbook: also refused in prepare', async () => {
    const bin = path.join(dir, 'ansible-bin');
    await mkdir(bin, { recursive: true });
    await writeFile(path.join(bin, 'ansible-playbook'), '#!/bin/sh\nexit 0\n');
    await chmod(path.join(bin, 'ansible-playbook'), 0o755);
    const r = await build(project('no-playbook', { name: 'ansible_playbook', playbook: 'missing.yml', ansible_binary_path: bin }, { name: 'prep-check' }));
    expect(r.failedStep).toBe('prepare');
    expect(r.result.error?.message).toMatch(/provisioner\.playbook/);
    expect(launched).not.toContain('no-playbook');
  });

  it('inspec missing: refused in prepare with the install hint', async () => {
    const r = await build(project('inspec-missing', { name: 'prep-prov' }, { name: 'inspec', binary: path.join(dir, 'nowhere', 'inspec') }));
    expect(r.failedStep).toBe('prepare');
    expect(r.result.error?.message).toContain('is not an executable file');
    expect(r.result.error?.hint).toContain('cinc-auditor');
    expect(launched).not.toContain('inspec-missing');
  });

  it('testinfra unavailable: refused in prepare', async () => {
    const r = await build(project('testinfra-missing', { name: 'prep-prov' }, { name: 'testinfra', python: path.join(dir, 'nowhere', 'python3') }));
    expect(r.failedStep).toBe('prepare');
    expect(r.result.error?.message).toContain('testinfra is not available');
    expect(launched).not.toContain('testinfra-missing');
  });

  it('with every tool present the build goes on to create', async () => {
    const bin = path.join(dir, 'ansible-bin');
    const r = await build(project('tools-present', { name: 'ansible_playbook', playbook: 'site.yml', ansible_binary_path: bin }, { name: 'prep-check' }));
    expect(r.steps).toContain('create');
    expect(launched).toContain('tools-present');
  });
});
