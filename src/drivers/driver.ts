import type { InstanceConfig, LaunchTemplateTarget } from '../config/types.js';
import type { Logger } from '../kernel/events.js';
import type { ImageRecord, Journal, ParameterRecord, TemplateVersionRecord } from '../kernel/journal.js';
import type { ConnectionTarget } from '../transports/transport.js';
import { PluginError } from '../kernel/errors.js';

export interface DriverContext {
  instance: InstanceConfig;
  /** Record every resource id here the moment it exists, before waiting. */
  journal: Journal;
  log: Logger;
  signal: AbortSignal;
  buildId: string;
  /** The project's `.hallmark/` directory. */
  stateDir: string;
  /**
   * For `create`: whether the machine is a build's (destroyed when the build
   * ends, so the orphan reaper may remove it once its build is dead) or kept
   * (create/converge/test: it outlives the command on purpose). Drivers tag
   * it (`hallmark:machine`, see kernel/tags.ts). Default: kept.
   */
  machine?: 'build' | 'kept';
}

/**
 * Something hallmark made that no journal and no commit claims: found by tag
 * (ec2) or by path and process (qemu) for `hallmark cleanup --orphans`, and
 * for `hallmark cleanup` of a killed build whose last id never reached the
 * journal.
 */
export interface Leftover {
  kind: 'instance' | 'key-pair' | 'security-group' | 'image' | 'snapshot' | 'parameter' | 'process' | 'machine-files' | 'store-entry';
  /** The resource's id (AMI id, key name, PID, path, store id...). */
  id: string;
  /** Region, or `local`. */
  where: string;
  buildId?: string;
  instance?: string;
  /** When it (or its build) was made, as far as known. */
  createdAt?: Date;
  /** What removing it means, or why it is kept. */
  detail?: string;
  /** Found, but kept (in use, or too young); the reason is in `detail`. */
  kept?: boolean;
}

/** What to look for. */
export interface LeftoverQuery {
  /** The driver's own region and every distribute.regions of the instances using it. */
  regions: string[];
  /** Only what this build made (hallmark cleanup with a journal); else every build's. */
  buildId?: string;
  /** With buildId: only what this instance made. */
  instance?: string;
  /** Only what is older than this (a build in progress is never touched). */
  olderThanMs: number;
  now: Date;
  /** publish.ssm_parameter names (rendered) per region: versions pointing at a leftover image are put back. */
  parameterNames: string[];
  /** Ids (and paths) some journal holds: those are `hallmark cleanup`'s, never the reaper's. */
  claimed: Set<string>;
  /** The project's `.hallmark/` directory (machine files of local drivers live there). */
  stateDir: string;
  signal: AbortSignal;
  log: Logger;
}

export interface LeftoverRemoval {
  leftover: Leftover;
  /** Undefined when removed (or already gone). */
  error?: Error;
}

export interface CaptureRequest {
  /** The rendered image name. */
  name: string;
  description?: string;
  tags: Record<string, string>;
  /**
   * Shuts the machine down cleanly from inside, over its connection (the
   * pipeline provides it: `sudo fstrim -av; sudo rm -f /etc/ssh/ssh_host_*;
   * empty /etc/machine-id; sync; sudo systemctl poweroff`). Drivers that capture a stopped disk
   * (qemu) call it, then wait for the machine to stop; without it they fall
   * back to an ACPI power-off. It may reject when the connection drops as the
   * machine powers off; the driver judges success by the machine stopping.
   */
  shutdown?: (signal: AbortSignal) => Promise<void>;
}

/**
 * Where a driver's ImageCapability.distribute puts copies, declared at
 * registration beside its capabilities (DriverDef.copies): `regions`, copies
 * in other regions of its cloud (distribute.regions, encrypted, kms_key_ids);
 * `targets`, exports to directories and buckets (distribute.targets, format).
 * The config rules report a distribute key whose kind the instance's driver
 * does not declare (it would be ignored, and the image would look copied
 * when it is not); the request still carries every field.
 */
export type CopyKind = 'regions' | 'targets';

/** Copies of a proven image: made, tagged and journaled, but usable by no one else yet. */
export interface DistributeRequest {
  regions: string[];
  concurrency: number;
  encrypted?: boolean;
  kmsKeyIds: Record<string, string>;
  tags: Record<string, string>;
  /** Local drivers: export targets and format. */
  targets: string[];
  format: 'qcow2' | 'raw';
}

/** Who may launch the images once the build commits (distribute.accounts etc.). */
export interface ShareRequest {
  accounts: string[];
  organizationArns: string[];
  ouArns: string[];
  /** Also grant createVolumePermission on the snapshots (accounts only). */
  shareSnapshots: boolean;
  concurrency: number;
}

/** image.keep: what to prune, and what never to. */
export interface PruneRequest {
  /** The image family (tag `hallmark:family`). */
  family: string;
  /** How many of the newest images to keep (per region, where the driver has regions). */
  keep: number;
  /** Regions to prune in (ec2); local drivers ignore it. */
  regions: string[];
  /** Images that stay whatever their age: the ones this commit just published. */
  spare: string[];
  /** SSM parameters hallmark writes (publish.ssm_parameter, rendered): an image one of them holds stays. */
  parameterNames: string[];
  dryRun: boolean;
}

/** One image prune looked at. */
export interface PrunedImage {
  id: string;
  name?: string;
  created?: string;
  /** Snapshots (ec2) removed with it. */
  snapshots: string[];
}

/** What prune did (or, with dryRun, would do), per region ("local" for a local store). */
export interface PruneResult {
  region: string;
  /** The newest `keep` images, newest first. */
  kept: PrunedImage[];
  removed: PrunedImage[];
  /** Older images that stay because something uses them. */
  inUse: (PrunedImage & { reason: string })[];
}

/**
 * The driver contract: a driver always makes and removes machines
 * (MachineCapability); everything else is a capability it either has or not.
 * A driver module implements the machine methods and those of each capability
 * it declares at registration (drivers/register.ts, `capabilities`), as one
 * object; the registry checks the declaration against the implementation
 * (the compiler for built-in drivers, resolveDriver at load for any other)
 * and hands the pipeline a Driver with exactly those capabilities. Config
 * validation reads the same declaration without loading the driver.
 *
 * All methods observe ctx.signal. `destroy`, `deleteImage` and every undo
 * (`unshare`, `unpublish`, `undeprecateImages`, `revertLaunchTemplates`) must
 * be idempotent and work from the journal alone (after a crash).
 */
export interface MachineCapability {
  /** Checks what can be checked before spending money (names free, source image resolves). */
  prepare?(ctx: DriverContext, req: { imageName?: string; regions: string[]; parameterName?: string }): Promise<void>;
  create(ctx: DriverContext): Promise<void>;
  /** How to reach the machine created by `create` (from the journal). */
  connectionTarget(ctx: DriverContext): Promise<ConnectionTarget>;
  destroy(ctx: DriverContext): Promise<void>;
}

/** `images`: the driver owns its machines and turns them into images (qemu, ec2; not proxy). What `build` needs. */
export interface ImageCapability {
  /** Turns the machine into an image; journals the image id as soon as it exists. */
  capture(ctx: DriverContext, req: CaptureRequest): Promise<ImageRecord>;
  /**
   * Copies/exports the image; journals every copy as soon as it exists. Shares
   * nothing: that is the build's commit (`share`), once every instance is proven.
   * Returns no copies when the request names no region or target.
   */
  distribute(ctx: DriverContext, image: ImageRecord, req: DistributeRequest): Promise<ImageRecord[]>;
  /**
   * Sets tags on the images (and their snapshots) — the commit marks them
   * `hallmark:state=published` — or, with `null` as a value, removes that tag.
   * Idempotent; what is already gone counts as done.
   */
  tagImages(ctx: DriverContext, images: ImageRecord[], tags: Record<string, string | null>): Promise<void>;
  /** Removes an image (and its snapshots) this build made. Idempotent. */
  deleteImage(ctx: DriverContext, image: ImageRecord): Promise<void>;
  /**
   * Driver options that launch a machine from `image` instead of the
   * configured source, for the boot test (image.boot_test).
   */
  bootFrom(image: ImageRecord): Record<string, unknown>;
  /**
   * image.keep / `hallmark images prune`: removes the family's images beyond
   * the newest `keep` (with their snapshots), never one in use (see the
   * driver for what counts) nor one in `spare`. Idempotent.
   */
  pruneImages(ctx: DriverContext, req: PruneRequest): Promise<PruneResult[]>;
  /** Where the image and copies are (and their checksums), for the manifest. */
  describeImages(ctx: DriverContext, images: ImageRecord[]): Promise<Record<string, unknown>>;
}

/** `sharing` (distribute.accounts, organization_arns, ou_arns): launch permissions for others, granted by the commit. */
export interface SharingCapability {
  /** Lets others launch the images, and checks the grants took. Idempotent. */
  share(ctx: DriverContext, images: ImageRecord[], req: ShareRequest): Promise<void>;
  /** Undoes `share` (also a partial one); what is already gone counts as undone. Idempotent. */
  unshare(ctx: DriverContext, images: ImageRecord[], req: ShareRequest): Promise<void>;
}

/** `parameters` (publish.ssm_parameter): each region's image id written where readers look it up. */
export interface ParameterCapability {
  /**
   * Writes each image's id to the parameter `name` in the image's region,
   * the last thing a build does. Each write is journaled (recordParameter)
   * before it is made, with the value it replaces, and read back before it
   * counts. Waits for every started write to answer, then throws the first
   * failure; the pipeline then calls `unpublish`.
   */
  publish(ctx: DriverContext, images: ImageRecord[], req: { name: string }): Promise<ParameterRecord[]>;
  /**
   * Undoes the journaled parameter writes of a build that did not pass: puts
   * the previous value back (or deletes a parameter the build created) where
   * the parameter still holds this build's value, and forgets each record.
   * Leaves a parameter someone else wrote since alone. Idempotent; works
   * from the journal alone (after a crash).
   */
  unpublish(ctx: DriverContext, records: ParameterRecord[]): Promise<void>;
}

/** `launchTemplates` (distribute.launch_templates). */
export interface LaunchTemplateCapability {
  /**
   * A new version of each template, naming the image of the template's
   * region, made the default when asked. Journals each version
   * (Journal.recordTemplateVersion) before the call that makes it, so that
   * revertLaunchTemplates can undo it after a crash.
   */
  updateLaunchTemplates(ctx: DriverContext, images: ImageRecord[], targets: LaunchTemplateTarget[]): Promise<TemplateVersionRecord[]>;
  /**
   * Undoes the journaled versions: puts the previous default back where the
   * build's version is still the default, deletes the version, forgets the
   * record. Works from the journal alone. Idempotent.
   */
  revertLaunchTemplates(ctx: DriverContext, records: TemplateVersionRecord[]): Promise<void>;
}

/** `deprecation` (image.deprecate_after). */
export interface DeprecationCapability {
  /** Makes every image deprecated from `at`. Idempotent; waits for every call, then throws the first failure. */
  deprecateImages(ctx: DriverContext, images: ImageRecord[], at: Date): Promise<void>;
  /** Undoes deprecateImages (rollback); an image already gone counts as done. Idempotent. */
  undeprecateImages(ctx: DriverContext, images: ImageRecord[]): Promise<void>;
}

/** `leftovers`: what hallmark made and did not commit, found without a journal (`hallmark cleanup --orphans`). */
export interface LeftoverCapability {
  /**
   * Finds what hallmark made and did not commit (see Leftover). Read-only.
   * Each driver decides what proves "made by hallmark and not committed";
   * the README says what is and is not touched.
   */
  findLeftovers(q: LeftoverQuery): Promise<Leftover[]>;
  /**
   * Removes the leftovers `findLeftovers` returned (those not `kept`), in the
   * order that lets each go (parameters put back before images, machines
   * before their groups). Idempotent; never stops half way: each gets its
   * own result.
   */
  removeLeftovers(q: LeftoverQuery, found: Leftover[]): Promise<LeftoverRemoval[]>;
  /**
   * The scope findLeftovers looks at (an endpoint and account, or `local`):
   * instances whose drivers have the same scope are searched once.
   */
  leftoverScope(): string;
}

/** Every optional capability, by the name a driver declares it with. */
export interface CapabilityMap {
  images: ImageCapability;
  sharing: SharingCapability;
  parameters: ParameterCapability;
  launchTemplates: LaunchTemplateCapability;
  deprecation: DeprecationCapability;
  leftovers: LeftoverCapability;
}
export type Capability = keyof CapabilityMap;

/** The methods each capability requires (what resolveDriver checks a loaded implementation for). */
const METHODS: { [C in Capability]: readonly (keyof CapabilityMap[C])[] } = {
  images: ['capture', 'distribute', 'tagImages', 'deleteImage', 'bootFrom', 'pruneImages', 'describeImages'],
  sharing: ['share', 'unshare'],
  parameters: ['publish', 'unpublish'],
  launchTemplates: ['updateLaunchTemplates', 'revertLaunchTemplates'],
  deprecation: ['deprecateImages', 'undeprecateImages'],
  leftovers: ['findLeftovers', 'removeLeftovers', 'leftoverScope'],
};

type Intersect<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void ? I : never;

/**
 * What a driver module implements: its machines, and the methods of exactly
 * the capabilities `C` it declares, as one object (a class, usually).
 * `dispose` releases clients (sockets) when the driver is no longer used.
 */
export type DriverImplementation<C extends Capability = never> = MachineCapability & { readonly name: string; dispose?(): void } & ([C] extends [never] ? unknown : Intersect<CapabilityMap[C]>);

/**
 * A driver as the pipeline sees it: its machines and exactly the capabilities
 * it has, resolved once when it is loaded. A capability is either there (all
 * of its methods) or undefined; no method is optional.
 */
export interface Driver extends Partial<CapabilityMap> {
  readonly name: string;
  readonly machines: MachineCapability;
  /** The capabilities it has, in declaration order (for messages). */
  readonly capabilities: readonly Capability[];
  /** Releases the implementation's clients; idempotent. */
  dispose(): void;
}

/**
 * The Driver of an implementation with the declared capabilities. Throws when
 * the implementation lacks a method of a declared capability (a plugin whose
 * declaration and code disagree), naming both.
 */
export function resolveDriver<C extends Capability>(impl: DriverImplementation<C>, capabilities: readonly C[]): Driver {
  const driver: { -readonly [K in keyof Driver]: Driver[K] } = {
    name: impl.name,
    machines: impl,
    capabilities: [...capabilities],
    dispose: () => impl.dispose?.(),
  };
  for (const c of capabilities) {
    const missing = METHODS[c].filter((m) => typeof (impl as unknown as Record<string, unknown>)[m as string] !== 'function');
    if (missing.length > 0) throw new PluginError(`driver "${impl.name}" declares the ${c} capability but has no ${missing.join(', ')}`, { hint: 'the plugin\'s registration (capabilities) and its code disagree' });
    (driver as Record<string, unknown>)[c] = impl;
  }
  return driver;
}
