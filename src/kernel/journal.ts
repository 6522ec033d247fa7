import { mkdir, readFile, rename, writeFile, open, readdir } from 'node:fs/promises';
import path from 'node:path';
import type { z } from 'zod';
import { LockedError, StateFileError } from './errors.js';
import { tryLockFile, type FileLock } from './lock.js';

/** An image (or a copy of one) this build made; recorded the moment it exists. */
export interface ImageRecord {
  /** Driver-specific id: an AMI id, or a local store id. */
  id: string;
  region?: string;
  name?: string;
  /** Snapshots backing the image, where the driver has them. */
  snapshots?: string[];
  /** `source` is the captured image; `copy` a copy in another region. */
  role: 'source' | 'copy';
  published?: boolean;
}

/**
 * A value this build wrote to a named parameter (publish.ssm_parameter), in
 * one region. Recorded before the write, with what was there before, so that
 * a failed or killed build can put the parameter back (see Driver.unpublish).
 */
export interface ParameterRecord {
  name: string;
  region: string;
  /** What the build writes: the id of its image in that region. */
  value: string;
  /** The version the write made; absent until the write returned. */
  version?: number;
  /** What readers saw before the write; null when the parameter did not exist. */
  previous: { value: string; version: number; dataType?: string } | null;
}

/**
 * A launch template version a build's commit made (distribute.launch_templates),
 * in one region. Recorded before the call that makes it (version unknown
 * then) and again once it exists, so that a rollback, even after a crash
 * (`hallmark cleanup`), can put the default back and delete it.
 */
export interface TemplateVersionRecord {
  region: string;
  /** The template as configured: `name` or `id`. */
  template: { name?: string; id?: string };
  templateId?: string;
  imageId: string;
  /** The version this build made; absent until the create call answered. */
  version?: number;
  /** The default version before this build; the rollback restores it. */
  previousDefault?: number;
  setDefault: boolean;
}

/**
 * What hallmark knows about one instance, persisted in `.hallmark/<name>.json`.
 * Drivers keep their resource ids under `driver`, validated by their own schema
 * when read back (see Journal.driverState).
 */
export interface InstanceState {
  instance: string;
  driverName?: string;
  buildId?: string;
  lastAction?: string;
  lastError?: string | null;
  /** Lifecycle position: what has completed on the current machine. */
  created?: boolean;
  converged?: boolean;
  setUp?: boolean;
  verified?: boolean;
  driver: Record<string, unknown>;
  images: ImageRecord[];
  /** Parameter writes of an unfinished build; cleared with `images` once the build passed. */
  parameters?: ParameterRecord[];
  /** Launch template versions of an unfinished build's commit; cleared with `images` once the build passed. */
  templateVersions?: TemplateVersionRecord[];
  timings: Record<string, number>;
  updatedAt?: string;
}

export function emptyState(instance: string): InstanceState {
  return { instance, driver: {}, images: [], timings: {} };
}

/**
 * The state journal of one instance. Every mutation is written to disk
 * atomically (temp file + rename) before it returns, so that ids survive a
 * crash or SIGKILL the moment they are recorded.
 */
export class Journal {
  private writing: Promise<void> = Promise.resolve();

  private constructor(
    readonly file: string,
    private current: InstanceState,
  ) {}

  static async open(stateDir: string, instance: string): Promise<Journal> {
    await mkdir(stateDir, { recursive: true });
    const file = path.join(stateDir, `${instance}.json`);
    return new Journal(file, await readState(file, instance));
  }

  get state(): Readonly<InstanceState> {
    return this.current;
  }

  /** Applies `mutate` to the state and persists it before resolving. */
  async update(mutate: (s: InstanceState) => void): Promise<void> {
    mutate(this.current);
    this.current.updatedAt = new Date().toISOString();
    const snapshot = JSON.stringify(this.current, null, 2) + '\n';
    // Serialise writes so an older snapshot never lands after a newer one.
    this.writing = this.writing.then(() => atomicWrite(this.file, snapshot));
    await this.writing;
  }

  /**
   * The driver's resource record, read with the driver's own schema; undefined
   * when the journal holds no machine. A record that fails the schema, or one
   * another driver wrote, is a StateFileError: reading it as "no machine"
   * would let destroy say ok and forget a machine that still runs.
   */
  driverRecord<T>(schema: z.ZodType<T>, driverName: string): T | undefined {
    const record = this.current.driver;
    if (Object.keys(record).length === 0) return undefined;
    const owner = this.current.driverName;
    if (owner !== undefined && owner !== driverName) {
      throw new StateFileError(this.file, `records a machine made by the ${owner} driver, but this instance now uses ${driverName}`, {
        hint: `remove that machine with the configuration that made it ("hallmark destroy ${this.current.instance}" with driver ${owner}), or remove it by hand and delete the file`,
      });
    }
    const parsed = schema.safeParse(record);
    if (parsed.success) return parsed.data;
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(record)'}: ${i.message}`).join('; ');
    throw new StateFileError(this.file, `the ${driverName} driver's record of the machine is damaged (${issues})`);
  }

  /** Merges `patch` into the driver's resource record and persists it. */
  async recordDriver(patch: Record<string, unknown>): Promise<void> {
    await this.update((s) => {
      s.driver = { ...s.driver, ...patch };
    });
  }

  async recordImage(image: ImageRecord): Promise<void> {
    await this.update((s) => {
      const i = s.images.findIndex((x) => x.id === image.id && x.region === image.region);
      if (i >= 0) s.images[i] = { ...s.images[i], ...image };
      else s.images.push(image);
    });
  }

  async forgetImage(id: string, region?: string): Promise<void> {
    await this.update((s) => {
      s.images = s.images.filter((x) => !(x.id === id && x.region === region));
    });
  }

  async recordParameter(p: ParameterRecord): Promise<void> {
    await this.update((s) => {
      const list = s.parameters ?? [];
      const i = list.findIndex((x) => x.name === p.name && x.region === p.region);
      if (i >= 0) list[i] = { ...list[i], ...p };
      else list.push(p);
      s.parameters = list;
    });
  }

  async forgetParameter(name: string, region: string): Promise<void> {
    await this.update((s) => {
      s.parameters = (s.parameters ?? []).filter((x) => !(x.name === name && x.region === region));
      if (s.parameters.length === 0) delete s.parameters;
    });
  }

  async recordTemplateVersion(r: TemplateVersionRecord): Promise<void> {
    await this.update((s) => {
      const list = s.templateVersions ?? [];
      const i = list.findIndex((x) => sameTemplateVersion(x, r));
      if (i >= 0) list[i] = { ...list[i], ...r };
      else list.push({ ...r });
      s.templateVersions = list;
    });
  }

  async forgetTemplateVersion(r: TemplateVersionRecord): Promise<void> {
    await this.update((s) => {
      s.templateVersions = (s.templateVersions ?? []).filter((x) => !sameTemplateVersion(x, r));
      if (s.templateVersions.length === 0) delete s.templateVersions;
    });
  }

  /** Forgets the machine: called after a successful destroy. */
  async resetMachine(): Promise<void> {
    await this.update((s) => {
      s.driver = {};
      s.created = s.converged = s.setUp = s.verified = false;
    });
  }
}

/** One build makes at most one version per template, region and image. */
function sameTemplateVersion(a: TemplateVersionRecord, b: TemplateVersionRecord): boolean {
  return a.region === b.region && a.imageId === b.imageId && a.template.name === b.template.name && a.template.id === b.template.id;
}

async function readState(file: string, instance: string): Promise<InstanceState> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return emptyState(instance);
    throw new StateFileError(file, `cannot be read: ${(err as Error).message}`, { cause: err });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new StateFileError(file, `is not valid JSON (${(err as Error).message})`, { cause: err });
  }
  const problem = shapeProblem(raw);
  if (problem) throw new StateFileError(file, `is not a hallmark state file: ${problem}`);
  return { ...emptyState(instance), ...(raw as Partial<InstanceState>), instance };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** What makes `raw` unusable as an InstanceState, checked on the fields hallmark acts on. */
function shapeProblem(raw: unknown): string | undefined {
  if (!isObject(raw)) return 'expected a JSON object';
  if (raw.driver !== undefined && !isObject(raw.driver)) return '"driver" is not an object';
  for (const key of ['images', 'parameters'] as const) {
    const list = raw[key];
    if (list === undefined) continue;
    if (!Array.isArray(list)) return `"${key}" is not a list`;
    const bad = list.findIndex((x) => !isObject(x) || typeof (x.id ?? x.name) !== 'string');
    if (bad >= 0) return `${key}[${bad}] has no ${key === 'images' ? 'id' : 'name'}`;
  }
  return undefined;
}

export async function readInstanceState(stateDir: string, instance: string): Promise<InstanceState> {
  return readState(path.join(stateDir, `${instance}.json`), instance);
}

export async function listStateFiles(stateDir: string): Promise<string[]> {
  try {
    return (await readdir(stateDir)).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5));
  } catch {
    return [];
  }
}

/** Writes `data` to `file` so that readers see the old or the new content, never a part. */
export async function atomicWrite(file: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  const fh = await open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, file);
}

/**
 * An exclusive lock on one instance, held by one hallmark process (a PID
 * lock file, see lock.ts). Another live holder is a LockedError at once; a
 * lock whose holder is gone is taken over.
 */
export class InstanceLock {
  private constructor(private readonly lock: FileLock) {}

  get file(): string {
    return this.lock.file;
  }

  static async acquire(stateDir: string, instance: string): Promise<InstanceLock> {
    await mkdir(stateDir, { recursive: true });
    const file = path.join(stateDir, `${instance}.lock`);
    for (let tries = 0; tries < 3; tries++) {
      const r = await tryLockFile(file);
      if ('lock' in r) return new InstanceLock(r.lock);
      if ('stale' in r) continue;
      const who = r.holder === undefined ? 'another hallmark process (starting)' : `another hallmark process (PID ${r.holder})`;
      throw new LockedError(`instance ${instance} is locked by ${who}`, {
        hint: r.holder === undefined ? `wait for it, or remove ${file} if no hallmark runs` : `wait for it to finish, or stop it with: kill ${r.holder}`,
      });
    }
    throw new LockedError(`could not lock instance ${instance}: ${file}`);
  }

  async release(): Promise<void> {
    await this.lock.release();
  }
}

export async function writeFileAtomic(file: string, data: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await atomicWrite(file, data);
}

export { writeFile };
