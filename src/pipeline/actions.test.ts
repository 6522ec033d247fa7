/**
 * runAction through the real pipeline (steps, runner, journal, outputs) with
 * small in-test plugins that model the contracts: the driver records its
 * machine and images in the journal the moment they exist and forgets them
 * when removed; the "world" records what really exists.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { registerPlugin } from '../plugins.js';
import type { InstanceEntry, Project } from '../config/index.js';
import type { InstanceConfig } from '../config/types.js';
import type { DriverContext, ImageCapability, MachineCapability, SharingCapability } from '../drivers/driver.js';
import type { Connection, Transport } from '../transports/transport.js';
import type { Provisioner } from '../provisioners/provisioner.js';
import type { Verifier } from '../verifiers/verifier.js';
import { runAction, type Action, type RunActionOptions } from './actions.js';
import { commitActions, type CommitAction, type CommitContext } from './commit.js';
import { sleep } from '../kernel/abort.js';
import { EventBus, type HallmarkEvent } from '../kernel/events.js';
import { readInstanceState } from '../kernel/journal.js';
import { ApiCallLedger } from '../drivers/api-calls.js';

/** What exists "in the cloud", and what happened, across all fakes. */
const world = {
  machines: new Set<string>(),
  images: new Set<string>(),
  /** Images others may launch (Driver.share), and tags per image (Driver.tagImages). */
  shared: new Set<string>(),
  tags: new Map<string, Record<string, string>>(),
  booted: [] as string[],
  running: 0,
  maxRunning: 0,
  next: 0,
  targets: [] as string[][],
  /** Driver calls in order, across instances: `distribute a`, `share a`. */
  calls: [] as string[],
};

interface FakeOpts {
  fail_capture?: boolean;
  fail_distribute?: boolean;
  fail_share?: boolean;
  fail_provision?: boolean;
  provision_ms?: number;
  pass?: boolean;
  /** Verifier: fail on a machine booted from an image (a file the provisioner left in /run). */
  volatile?: boolean;
  /** Driver: boot from this image (set by bootFrom, as a real driver's option is). */
  boot_image?: string;
}

class FakeDriver implements MachineCapability, ImageCapability, SharingCapability {
  readonly name = 'fake-vm';
  /** As the ec2 driver's: every call counted (one per create here). */
  readonly apiCalls = new ApiCallLedger();
  constructor(private o: FakeOpts) {}
  async create(ctx: DriverContext) {
    this.apiCalls.call('fake', 'r1', 'Create');
    if (this.o.boot_image !== undefined) {
      if (!world.images.has(this.o.boot_image)) throw new Error(`no image ${this.o.boot_image}`);
      world.booted.push(this.o.boot_image);
    }
    const id = `vm-${++world.next}`;
    world.machines.add(id);
    await ctx.journal.recordDriver({ vmId: id });
  }
  async connectionTarget() {
    return { hostname: 'fake', port: 1, username: 'u' };
  }
  async destroy(ctx: DriverContext) {
    const id = ctx.journal.state.driver.vmId;
    if (typeof id === 'string') world.machines.delete(id);
  }
  async capture(ctx: DriverContext) {
    if (this.o.fail_capture) throw new Error('capture broke');
    const image = { id: `img-${++world.next}`, region: 'r1', role: 'source' as const };
    world.images.add(image.id);
    await ctx.journal.recordImage(image);
    return image;
  }
  async distribute(ctx: DriverContext, _image: unknown, req: { regions: string[]; targets: string[] }) {
    world.calls.push(`distribute ${ctx.instance.name}`);
    world.targets.push(req.targets);
    const copies = [];
    for (const region of req.regions) {
      const c = { id: `img-${++world.next}`, region, role: 'copy' as const };
      world.images.add(c.id);
      await ctx.journal.recordImage(c);
      copies.push(c);
    }
    if (this.o.fail_distribute) throw new Error('copy to r3 broke');
    return copies;
  }
  async deleteImage(_ctx: DriverContext, image: { id: string }) {
    if (world.shared.has(image.id)) throw new Error(`deleting ${image.id}, which is still shared`);
    world.images.delete(image.id);
    world.tags.delete(image.id);
  }
  async share(ctx: DriverContext, images: { id: string }[]) {
    world.calls.push(`share ${ctx.instance.name}`);
    for (const i of images) world.shared.add(i.id);
    if (this.o.fail_share) throw new Error('share broke');
  }
  async unshare(_ctx: DriverContext, images: { id: string }[]) {
    for (const i of images) world.shared.delete(i.id);
  }
  async tagImages(_ctx: DriverContext, images: { id: string }[], tags: Record<string, string | null>) {
    for (const i of images) {
      const t = { ...world.tags.get(i.id) };
      for (const [k, v] of Object.entries(tags)) {
        if (v === null) delete t[k];
        else t[k] = v;
      }
      world.tags.set(i.id, t);
    }
  }
  bootFrom(image: { id: string }) {
    return { boot_image: image.id };
  }
  async pruneImages() {
    return [];
  }
  async describeImages(_ctx: DriverContext, images: { id: string; region?: string }[]) {
    return { images: images.map((i) => ({ id: i.id, region: i.region })) };
  }
}

const connection: Connection = {
  async exec() {
    return { stdout: '', stderr: '', exitCode: 0, durationMs: 0 };
  },
  async upload() {},
  async download() {},
  async close() {},
};

const fakeTransport: Transport = { name: 'fake-conn', connect: async () => connection };

const provisioner = (o: FakeOpts): Provisioner => ({
  name: 'fake-prov',
  async provision(ctx) {
    world.running++;
    world.maxRunning = Math.max(world.maxRunning, world.running);
    try {
      await sleep(o.provision_ms ?? 0, ctx.signal);
      if (o.fail_provision) throw new Error('provision broke');
    } finally {
      world.running--;
    }
  },
} as Provisioner);

const verifier = (o: FakeOpts): Verifier => ({
  name: 'fake-check',
  async verify(ctx) {
    const pass = (o.pass ?? true) && !(o.volatile && ctx.instance.driver.boot_image !== undefined);
    return {
      instance: ctx.instance.name,
      verifier: 'fake-check',
      durationMs: 1,
      results: [{ id: 'c1', resourceType: 'command', resource: 'x', property: 'exit', title: 'the check', expected: '0', found: pass ? '0' : '1', status: pass ? 'pass' : 'fail', message: pass ? undefined : 'exit 1', durationMs: 1 }],
    };
  },
} as Verifier);

beforeAll(() => {
  const schema = (name: string) => () => z.looseObject({ name: z.literal(name) });
  registerPlugin({ kind: 'driver', name: 'fake-vm', description: 'test', schema: schema('fake-vm'), capabilities: ['images', 'sharing'], load: async (o) => new FakeDriver(o as FakeOpts) });
  // The same implementation declaring no capability: the pipeline gets its machines and nothing else.
  registerPlugin({ kind: 'driver', name: 'fake-machines', description: 'test', schema: schema('fake-machines'), capabilities: [], load: async (o) => new FakeDriver(o as FakeOpts) });
  registerPlugin({ kind: 'transport', name: 'fake-conn', description: 'test', schema: schema('fake-conn'), load: async () => fakeTransport });
  registerPlugin({ kind: 'provisioner', name: 'fake-prov', description: 'test', schema: schema('fake-prov'), load: async (o) => provisioner(o as FakeOpts) });
  registerPlugin({ kind: 'verifier', name: 'fake-check', description: 'test', schema: schema('fake-check'), load: async (o) => verifier(o as FakeOpts) });
});

const dirs: string[] = [];
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.pid && c.exitCode === null && c.signalCode === null) process.kill(c.pid, 'SIGKILL');
});
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function makeProject(
  instances: { name: string; driver?: FakeOpts; provisioner?: FakeOpts; verifier?: FakeOpts; regions?: string[]; bootTest?: boolean; targets?: string[] }[],
  build?: Project['build'],
): Promise<Project> {
  const dir = await mkdtemp(path.join(tmpdir(), 'hallmark-actions-'));
  dirs.push(dir);
  const entries: InstanceEntry[] = instances.map((i) => {
    const config: InstanceConfig = {
      name: i.name,
      suite: 'default',
      platform: i.name,
      driver: { name: 'fake-vm', ...i.driver },
      transport: { name: 'fake-conn' },
      provisioner: { name: 'fake-prov', ...i.provisioner },
      verifier: { name: 'fake-check', ...i.verifier },
      image: { name: '{{instance}}-{{build_id}}', tags: {}, boot_test: i.bootTest ?? false },
      distribute: { regions: i.regions ?? [], accounts: ['111122223333'], organization_arns: [], ou_arns: [], share_snapshots: false, atomic: true, concurrency: 1, kms_key_ids: {}, targets: i.targets ?? [], format: 'qcow2' },
      publish: { env_properties: 'env.properties', manifest: 'manifest.json', junit: 'junit.xml', ci_outputs: false },
      file: path.join(dir, 'hallmark.yml'),
      projectDir: dir,
    };
    return { config, problems: [] };
  });
  return { file: path.join(dir, 'hallmark.yml'), projectDir: dir, stateDir: path.join(dir, '.hallmark'), instances: entries, ...(build ? { build } : {}) };
}

async function act(project: Project, action: Action, extra: Partial<RunActionOptions> = {}) {
  const events = new EventBus();
  const seen: HallmarkEvent[] = [];
  events.on((e) => seen.push(e));
  const r = await runAction({ project, entries: project.instances, action, events, signal: new AbortController().signal, ...extra });
  const steps = (instance: string) => seen.filter((e) => e.type === 'step-start' && e.instance === instance).map((e) => (e as { step: string }).step);
  const cleanups = (instance: string) => seen.filter((e) => e.type === 'cleanup-end' && e.instance === instance).map((e) => (e as { step: string }).step);
  return { ...r, seen, steps, cleanups };
}

const outputsIn = async (dir: string) => (await readdir(dir)).filter((f) => ['env.properties', 'manifest.json', 'junit.xml'].includes(f)).sort();

describe('runAction build', () => {
  it('a driver without the images capability: the build fails as a config problem of that instance before it starts; converge still runs', async () => {
    const p = await makeProject([{ name: 'a', driver: { name: 'fake-machines' } as FakeOpts }]);
    const machines = world.machines.size;
    const r = await act(p, 'build');
    const error = r.results[0]?.error;
    expect(error?.exitCode).toBe(2);
    expect(error?.message).toContain('driver.name: driver "fake-machines" works on machines it did not make, so it cannot capture images');
    expect(r.steps('a')).toEqual([]);
    expect(world.machines.size).toBe(machines);
    const c = await act(p, 'converge');
    expect(c.results[0]?.ok, c.results[0]?.error?.message).toBe(true);
    expect(c.steps('a')).toEqual(['load', 'create', 'converge']);
    await act(p, 'destroy');
  });

  it('runs the steps in order, keeps the image, destroys the machine and writes the outputs', async () => {
    const p = await makeProject([{ name: 'a', regions: ['r2'] }]);
    const machines = world.machines.size;
    const r = await act(p, 'build');
    expect(r.results[0]?.ok, r.results[0]?.error?.message).toBe(true);
    // boot-test (a no-op unless image.boot_test) sits between capture and distribute
    expect(r.steps('a').filter((s) => s !== 'boot-test')).toEqual(['load', 'prepare', 'create', 'converge', 'setup', 'verify', 'capture', 'distribute']);
    expect(r.cleanups('a')).toContain('create');
    expect(world.machines.size).toBe(machines);
    const out = r.results[0]!.outcome!;
    expect(world.images.has(out.image!.id)).toBe(true);
    expect(out.copies.map((c) => c.region)).toEqual(['r2']);
    expect(world.images.has(out.copies[0]!.id)).toBe(true);
    expect(await outputsIn(p.projectDir)).toEqual(['env.properties', 'junit.xml', 'manifest.json']);
    expect(r.outputs).toHaveLength(3);
    const s = await readInstanceState(p.stateDir, 'a');
    expect(s).toMatchObject({ lastAction: 'build', lastError: null, created: false, driver: {} });
    // The driver implementation's ledger reaches the outcome through the capabilities it was resolved into.
    expect(out.apiCalls?.map((l) => l.summary().total.calls)).toEqual([1]);
  });

  it('directory targets are relative to the project, wherever hallmark runs; URLs stay as written', async () => {
    const p = await makeProject([{ name: 'a', targets: ['exports', '/abs/dir', 's3://bucket/prefix'] }]);
    const r = await act(p, 'build');
    expect(r.results[0]?.ok, r.results[0]?.error?.message).toBe(true);
    expect(world.targets.at(-1)).toEqual([path.join(p.projectDir, 'exports'), '/abs/dir', 's3://bucket/prefix']);
  });

  it('verification failure: exit 3, machine destroyed, no image, no outputs', async () => {
    const p = await makeProject([{ name: 'a', verifier: { pass: false } }]);
    const [machines, images] = [world.machines.size, world.images.size];
    const r = await act(p, 'build');
    expect(r.results[0]?.ok).toBe(false);
    expect(r.results[0]?.error?.exitCode).toBe(3);
    expect(r.results[0]?.error?.message).toContain('the check');
    expect(r.steps('a')).not.toContain('capture');
    expect(world.machines.size).toBe(machines);
    expect(world.images.size).toBe(images);
    expect(r.outputs).toEqual([]);
    expect(await outputsIn(p.projectDir)).toEqual([]);
    expect((await readInstanceState(p.stateDir, 'a')).lastError).toMatch(/checks failed/);
  });

  it('a failure after capture deletes the image and its copies (capture cleanup), and publishes nothing', async () => {
    const p = await makeProject([{ name: 'a', regions: ['r2', 'r3'], driver: { fail_distribute: true } }]);
    const [machines, images] = [world.machines.size, world.images.size];
    const r = await act(p, 'build');
    expect(r.results[0]?.ok).toBe(false);
    expect(r.results[0]?.error?.message).toContain('copy to r3 broke');
    expect(r.cleanups('a')).toEqual(expect.arrayContaining(['capture', 'create']));
    expect(world.images.size).toBe(images);
    expect(world.machines.size).toBe(machines);
    expect((await readInstanceState(p.stateDir, 'a')).images).toEqual([]);
    expect(await outputsIn(p.projectDir)).toEqual([]);
  });

  it('one failing instance of two: the passing one is rolled back too (images removed, never shared), no outputs, its journal clean', async () => {
    const p = await makeProject([{ name: 'a', regions: ['r2'] }, { name: 'b', provisioner: { fail_provision: true } }]);
    const images = world.images.size;
    const r = await act(p, 'build', { concurrency: 2 });
    expect(r.results.map((x) => [x.ok, x.published ?? false])).toEqual([
      [true, false],
      [false, false],
    ]);
    expect(r.published).toEqual([]);
    expect(r.commitError).toBeUndefined();
    expect(world.images.size).toBe(images);
    expect(r.results[0]!.outcome!.image).toBeDefined();
    expect(world.shared.has(r.results[0]!.outcome!.image!.id)).toBe(false);
    expect(r.cleanups('a')).toContain('capture');
    expect(await outputsIn(p.projectDir)).toEqual([]);
    expect((await readInstanceState(p.stateDir, 'a')).images).toEqual([]);
  });

  it('shares and tags only at the commit, after every instance is proven; the published images leave the journals', async () => {
    const p = await makeProject([{ name: 'a', regions: ['r2'] }, { name: 'b', regions: ['r3'] }]);
    const from = world.calls.length;
    const r = await act(p, 'build', { concurrency: 2 });
    expect(r.results.map((x) => x.published)).toEqual([true, true]);
    expect(r.published).toEqual(['a', 'b']);
    const calls = world.calls.slice(from);
    expect(calls.slice(2).sort()).toEqual(['share a', 'share b']);
    expect(calls.slice(0, 2).sort()).toEqual(['distribute a', 'distribute b']);
    expect(r.steps('build')).toEqual(['share', 'ssm-parameter', 'launch-templates', 'deprecate', 'tag-published', 'outputs']);
    // What this build configures nothing for says so, instead of "ok (0.0s)"; sharing (accounts given) ran.
    const ends = new Map(r.seen.filter((e) => e.type === 'step-end' && e.instance === 'build').map((e) => [(e as { step: string }).step, (e as { skipped?: string }).skipped]));
    expect(Object.fromEntries(ends)).toEqual({
      share: undefined,
      'ssm-parameter': 'no publish.ssm_parameter',
      'launch-templates': 'no distribute.launch_templates',
      deprecate: 'no image.deprecate_after',
      'tag-published': undefined,
      outputs: undefined,
    });
    for (const x of r.results) {
      for (const img of [x.outcome!.image!, ...x.outcome!.copies]) {
        expect(world.shared.has(img.id)).toBe(true);
        expect(world.tags.get(img.id)).toEqual({ 'hallmark:state': 'published' });
      }
      expect((await readInstanceState(p.stateDir, x.instance)).images).toEqual([]);
    }
    const m = JSON.parse(await readFile(path.join(p.projectDir, 'manifest.json'), 'utf8'));
    expect(m.builds.map((b: { instance: string }) => b.instance)).toEqual(['a', 'b']);
  });

  it('a commit action failing rolls back every action and every instance: unshared, untagged, outputs put back, images removed', async () => {
    const p = await makeProject([{ name: 'a', regions: ['r2'] }, { name: 'b' }]);
    await writeFile(path.join(p.projectDir, 'env.properties'), 'IMAGE_ID=ami-older\n');
    const order: string[] = [];
    const failing: CommitAction = {
      name: 'launch-template',
      async do() {
        order.push('do launch-template');
        throw new Error('launch template refused');
      },
      async undo() {
        order.push('undo launch-template');
      },
      async finish(_ctx, outcome) {
        order.push(`finish committed=${outcome.committed}`);
      },
    };
    const traced = commitActions().map((a) => ({ ...a, undo: async (c: CommitContext, s: AbortSignal) => (order.push(`undo ${a.name}`), a.undo?.(c, s)) }));
    const images = world.images.size;
    const r = await act(p, 'build', { commitActions: [...traced, failing] });
    expect(r.results.map((x) => [x.ok, x.published ?? false])).toEqual([
      [true, false],
      [true, false],
    ]);
    expect(r.commitError?.message).toContain('launch template refused');
    expect(order).toEqual(['do launch-template', 'undo launch-template', 'undo outputs', 'undo tag-published', 'undo deprecate', 'undo launch-templates', 'undo ssm-parameter', 'undo share', 'finish committed=false']);
    expect(world.images.size).toBe(images);
    expect(await readFile(path.join(p.projectDir, 'env.properties'), 'utf8')).toBe('IMAGE_ID=ami-older\n');
    expect(await outputsIn(p.projectDir)).toEqual(['env.properties']);
    for (const n of ['a', 'b']) expect((await readInstanceState(p.stateDir, n)).images).toEqual([]);
  });

  it('--keep-passing (and build.atomic: false): the passing instance is published alone and is all the outputs list', async () => {
    for (const opts of [{ keepPassing: true }, {}]) {
      const p = await makeProject([{ name: 'a', regions: ['r2'] }, { name: 'b', provisioner: { fail_provision: true } }], opts.keepPassing ? undefined : { atomic: false });
      const r = await act(p, 'build', opts);
      expect(r.results.map((x) => [x.ok, x.published ?? false])).toEqual([
        [true, true],
        [false, false],
      ]);
      expect(r.published).toEqual(['a']);
      const a = r.results[0]!.outcome!;
      for (const img of [a.image!, ...a.copies]) {
        expect(world.images.has(img.id)).toBe(true);
        expect(world.shared.has(img.id)).toBe(true);
      }
      expect(await outputsIn(p.projectDir)).toEqual(['env.properties', 'junit.xml', 'manifest.json']);
      const env = await readFile(path.join(p.projectDir, 'env.properties'), 'utf8');
      expect(env).toContain(`IMAGE_ID=${a.image!.id}\n`);
      expect(env).not.toMatch(/_B=/);
      const m = JSON.parse(await readFile(path.join(p.projectDir, 'manifest.json'), 'utf8'));
      expect(m.builds.map((b: { instance: string }) => b.instance)).toEqual(['a']);
    }
  });

  it('--keep-passing: an instance whose own commit fails is rolled back alone; the outputs list the others', async () => {
    const p = await makeProject([{ name: 'a' }, { name: 'b', driver: { fail_share: true } }, { name: 'c' }]);
    const r = await act(p, 'build', { keepPassing: true });
    expect(r.results.map((x) => [x.ok, x.published ?? false])).toEqual([
      [true, true],
      [false, false],
      [true, true],
    ]);
    expect(r.results[1]!.error?.message).toContain('share broke');
    const b = r.results[1]!.outcome!.image!;
    expect(world.images.has(b.id)).toBe(false);
    expect(world.shared.has(b.id)).toBe(false);
    const m = JSON.parse(await readFile(path.join(p.projectDir, 'manifest.json'), 'utf8'));
    expect(m.builds.map((x: { instance: string }) => x.instance)).toEqual(['a', 'c']);
  });

  it('refuses to build on an instance that already has a machine', async () => {
    const p = await makeProject([{ name: 'a' }]);
    expect((await act(p, 'create')).results[0]?.ok).toBe(true);
    const machines = world.machines.size;
    const r = await act(p, 'build');
    expect(r.results[0]?.ok).toBe(false);
    expect(r.results[0]?.error?.exitCode).toBe(2);
    expect(r.results[0]?.error?.hint).toContain('hallmark destroy a');
    expect(world.machines.size).toBe(machines);
    expect((await act(p, 'destroy')).results[0]?.ok).toBe(true);
    expect(world.machines.size).toBe(machines - 1);
  });
});

describe('runAction build with image.boot_test', () => {
  it('verifies a second machine booted from the image before distributing; that machine has its own events, journal and manifest entry', async () => {
    const p = await makeProject([{ name: 'a', regions: ['r2'], bootTest: true }]);
    const [machines, booted] = [world.machines.size, world.booted.length];
    const r = await act(p, 'build');
    expect(r.results[0]?.ok, r.results[0]?.error?.message).toBe(true);
    const out = r.results[0]!.outcome!;
    expect(world.booted.slice(booted)).toEqual([out.image!.id]);
    expect(world.machines.size).toBe(machines);
    // The build machine's steps are not repeated (or their timings replaced) by the boot machine's.
    expect(r.steps('a')).toEqual(['load', 'prepare', 'create', 'converge', 'setup', 'verify', 'capture', 'boot-test', 'distribute']);
    expect(r.steps('a-boot-test')).toEqual(['create', 'verify']);
    expect(r.cleanups('a-boot-test')).toEqual(['create']);
    const at = (pred: (e: HallmarkEvent) => boolean) => r.seen.findIndex(pred);
    const bootEnd = at((e) => e.type === 'action-end' && e.instance === 'a-boot-test');
    expect(r.seen[bootEnd]).toMatchObject({ action: 'boot-test', ok: true });
    expect(at((e) => e.type === 'check' && e.instance === 'a-boot-test')).toBeLessThan(bootEnd);
    expect(bootEnd).toBeLessThan(at((e) => e.type === 'step-start' && e.instance === 'a' && e.step === 'distribute'));

    const m = JSON.parse(await readFile(path.join(p.projectDir, 'manifest.json'), 'utf8'));
    expect(m.builds[0].bootTest).toMatchObject({ instance: 'a-boot-test', image: out.image!.id, verification: { summary: { total: 1, passed: 1 } } });
    expect(Object.keys(m.builds[0].timings)).toEqual(r.steps('a'));
    expect(await readFile(path.join(p.projectDir, 'junit.xml'), 'utf8')).toContain('a-boot-test');
    expect(await readInstanceState(p.stateDir, 'a-boot-test')).toMatchObject({ lastAction: 'boot-test', lastError: null, created: false, driver: {} });
  });

  it('a check failing only on the booted machine: exit 3, image and both machines removed, nothing published', async () => {
    const p = await makeProject([{ name: 'a', regions: ['r2'], bootTest: true, verifier: { volatile: true } }]);
    const [machines, images, booted] = [world.machines.size, world.images.size, world.booted.length];
    const r = await act(p, 'build');
    expect(r.results[0]?.ok).toBe(false);
    expect(r.results[0]?.error?.exitCode).toBe(3);
    expect(r.results[0]?.error?.message).toMatch(/^a-boot-test: 1 of 1 checks failed/);
    expect(world.booted.length).toBe(booted + 1);
    expect(r.steps('a')).not.toContain('distribute');
    expect(r.cleanups('a')).toEqual(expect.arrayContaining(['capture', 'create']));
    expect(world.images.size).toBe(images);
    expect(world.machines.size).toBe(machines);
    expect(await outputsIn(p.projectDir)).toEqual([]);
    expect((await readInstanceState(p.stateDir, 'a-boot-test')).lastError).toMatch(/checks failed/);
  });

  it('never reuses a boot machine a killed build left behind: it is destroyed first', async () => {
    const p = await makeProject([{ name: 'a', bootTest: true }]);
    await mkdir(p.stateDir, { recursive: true });
    world.machines.add('vm-stale');
    await writeFile(path.join(p.stateDir, 'a-boot-test.json'), JSON.stringify({ instance: 'a-boot-test', driverName: 'fake-vm', created: true, driver: { vmId: 'vm-stale' }, images: [], timings: {} }));
    const booted = world.booted.length;
    const r = await act(p, 'build');
    expect(r.results[0]?.ok, r.results[0]?.error?.message).toBe(true);
    expect(world.machines.has('vm-stale')).toBe(false);
    expect(world.booted.length).toBe(booted + 1);
  });
});

describe('runAction lifecycle, concurrency, fail-fast, locks', () => {
  it('create, converge, verify, destroy keep the machine between verbs', async () => {
    const p = await makeProject([{ name: 'a' }]);
    const machines = world.machines.size;
    expect((await act(p, 'create')).results[0]?.ok).toBe(true);
    expect(world.machines.size).toBe(machines + 1);
    const c = await act(p, 'converge');
    expect(c.steps('a')).toEqual(['load', 'create', 'converge']);
    const v = await act(p, 'verify');
    expect(v.results[0]?.ok).toBe(true);
    expect(v.steps('a')).toEqual(['load', 'create', 'setup', 'verify']);
    expect(world.machines.size).toBe(machines + 1);
    expect(await readInstanceState(p.stateDir, 'a')).toMatchObject({ created: true, converged: true, verified: true });
    await act(p, 'destroy');
    expect(world.machines.size).toBe(machines);
    expect(await readInstanceState(p.stateDir, 'a')).toMatchObject({ created: false, driver: {} });
  });

  it('runs instances `concurrency` at a time', async () => {
    const names = ['a', 'b', 'c'].map((name) => ({ name, provisioner: { provision_ms: 150 } }));
    world.maxRunning = 0;
    await act(await makeProject(names), 'converge', { concurrency: 3 });
    expect(world.maxRunning).toBe(3);
    world.maxRunning = 0;
    await act(await makeProject(names), 'converge', { concurrency: 1 });
    expect(world.maxRunning).toBe(1);
  });

  it('--fail-fast stops starting instances after the first failure', async () => {
    const spec = [{ name: 'a', provisioner: { fail_provision: true } }, { name: 'b' }];
    const ff = await act(await makeProject(spec), 'converge', { failFast: true });
    expect(ff.results.map((x) => x.ok)).toEqual([false, false]);
    expect(ff.results[1]?.error?.message).toContain('fail-fast');
    expect(ff.steps('b')).toEqual([]);
    const all = await act(await makeProject(spec), 'converge');
    expect(all.results.map((x) => x.ok)).toEqual([false, true]);
  });

  it('an instance locked by another process is not touched, and the error names its PID', async () => {
    const p = await makeProject([{ name: 'a' }]);
    const holder = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    children.push(holder);
    await mkdir(p.stateDir, { recursive: true });
    await writeFile(path.join(p.stateDir, 'a.lock'), `${holder.pid}\n`);
    const machines = world.machines.size;
    const r = await act(p, 'create');
    expect(r.results[0]?.ok).toBe(false);
    expect(r.results[0]?.error?.message).toContain(`PID ${holder.pid}`);
    expect(world.machines.size).toBe(machines);
    expect(r.steps('a')).toEqual([]);
  });
});

describe('runAction reports (publish.html, $GITHUB_STEP_SUMMARY)', () => {
  const checkRows = (html: string) => [...html.matchAll(/<tr class="check [^"]*" data-status="(\w+)" data-id="([^"]+)"/g)].map((m) => `${m[2]}:${m[1]}`);

  it('a failed build still writes its report: the failed check, the commit that never happened, no image published', async () => {
    const p = await makeProject([{ name: 'a', regions: ['r2'] }, { name: 'b', verifier: { pass: false } }]);
    for (const e of p.instances) Object.assign(e.config.publish, { html: 'out/report.html', ci_outputs: true });
    const summary = path.join(p.projectDir, 'step-summary.md');
    await writeFile(summary, '# earlier step\n');
    process.env.GITHUB_STEP_SUMMARY = summary;
    try {
      const r = await act(p, 'build');
      expect(r.results.map((x) => x.ok)).toEqual([true, false]);
      expect(r.reports).toEqual({ html: path.join(p.projectDir, 'out/report.html'), stepSummary: summary });
    } finally {
      delete process.env.GITHUB_STEP_SUMMARY;
    }
    const html = await readFile(path.join(p.projectDir, 'out/report.html'), 'utf8');
    expect(html).toContain('id="result">FAILED');
    expect(checkRows(html)).toEqual(['c1:fail', 'c1:pass']);
    // a's images were rolled back: the report says they are not published
    expect(html).toMatch(/data-instance="a"[^]*Not published: this instance passed, but the build did not commit/);
    // the commit lane is on the timeline, b's verify failed on it
    expect(html).toMatch(/data-lane="b"[^]*data-step="verify" data-kind="step" data-status="failed"/);
    const md = await readFile(summary, 'utf8');
    expect(md.startsWith('# earlier step\n### ❌ hallmark build ')).toBe(true);
    expect(md).toMatch(/\| a \| ⚠️ passed, not published \| 1 \| 0 \| 0 \| 0 \| — \|/);
    expect(md).toMatch(/\| b \| ❌ failed \| 0 \| 1 \| 0 \| 0 \| — \|/);
    expect(md).toContain('HTML report: `');
  });

  it('a published build lists every image id per region; verify writes one too; publish.html: false writes none', async () => {
    const p = await makeProject([{ name: 'a', regions: ['r2', 'r3'] }]);
    p.instances[0]!.config.publish.html = 'report.html';
    const r = await act(p, 'build');
    expect(r.results[0]?.ok, r.results[0]?.error?.message).toBe(true);
    const html = await readFile(r.reports.html!, 'utf8');
    const ids = [...html.matchAll(/<td class="mono image-id">([^<]+)<\/td>/g)].map((m) => m[1]);
    const o = r.results[0]!.outcome!;
    expect(ids).toEqual([o.image!.id, ...o.copies.map((c) => c.id)]);
    expect(o.copies.map((c) => c.region)).toEqual(['r2', 'r3']);
    expect(html).toContain(`<dt>build id</dt><dd>${r.buildId}</dd>`);
    expect(html).toMatch(/data-lane="commit \(whole build\)"[^]*data-step="share"/);

    const v = await act(p, 'verify');
    expect(v.reports.html).toBe(path.join(p.projectDir, 'report.html'));
    expect(await readFile(v.reports.html!, 'utf8')).toContain('<title>hallmark verify</title>');
    p.instances[0]!.config.publish.html = false;
    expect((await act(p, 'verify')).reports).toEqual({});
    expect((await act(p, 'destroy')).reports).toEqual({});
  });
});
