/**
 * The normalized configuration that the rest of hallmark consumes. The loader
 * (load -> erb -> merge -> schema -> rules) produces these; plugins parse their
 * own block with their own zod schema (see src/plugins.ts) to get typed options.
 */

/** A plugin block as in kitchen.yml: `{ name: qemu, memory: 2048, ... }`. */
export interface PluginBlock {
  name: string;
  [option: string]: unknown;
}

export interface ImageConfig {
  /** Template with {{suite}}, {{platform}}, {{instance}}, {{timestamp}}, {{build_id}}. */
  name: string;
  description?: string;
  tags: Record<string, string>;
  /** Boot an instance from the captured image and verify it again before publishing. */
  boot_test: boolean;
  encrypted?: boolean;
  kms_key_id?: string;
  /** A duration such as `90d`, `12h`, `2w` (see duration.ts): deprecate each image that long after the commit. */
  deprecate_after?: string;
  /** Keep this many newest images of the family after a successful commit. */
  keep?: number;
  /** The image family `keep` counts (tag `hallmark:family`); default from the name template. */
  family?: string;
}

export interface LaunchTemplateTarget {
  name?: string;
  id?: string;
  /** Default: the region the image was captured in. */
  region?: string;
  set_default: boolean;
}

export interface DistributeConfig {
  /** Cloud regions to copy the image to (ec2). */
  regions: string[];
  /** Account ids to share with. */
  accounts: string[];
  organization_arns: string[];
  ou_arns: string[];
  /** Also grant createVolumePermission on the snapshots. */
  share_snapshots: boolean;
  /** All-or-nothing publication (default true). */
  atomic: boolean;
  /** Parallel copies at most. */
  concurrency: number;
  /** Per-region encryption of copies. */
  encrypted?: boolean;
  kms_key_ids: Record<string, string>;
  /** Export targets for local images (qemu): directories or s3://bucket/prefix. */
  targets: string[];
  format: 'qcow2' | 'raw';
  /** ec2: launch templates that get a version naming the region's image, in the commit. */
  launch_templates?: LaunchTemplateTarget[];
}

export interface PublishConfig {
  /** Paths relative to the project directory; false disables an output. */
  env_properties: string | false;
  manifest: string | false;
  junit: string | false;
  /**
   * The HTML report of a build, verify or test (default report.html), written
   * whether it passed or not. Absent (configs made by hand): no report.
   */
  html?: string | false;
  /** Write IMAGE_ID etc. to $GITHUB_OUTPUT when set. */
  ci_outputs: boolean;
  /**
   * ec2: the SSM parameter (String, `aws:ec2:image`) that each region's image
   * id is written to, once everything else passed. May use {{suite}},
   * {{platform}}, {{instance}}.
   */
  ssm_parameter?: string;
}

export interface InstanceConfig {
  /** `<suite>-<platform>`, with Kitchen's character rules. */
  name: string;
  suite: string;
  platform: string;
  driver: PluginBlock;
  transport: PluginBlock;
  provisioner: PluginBlock;
  verifier: PluginBlock;
  image: ImageConfig;
  distribute: DistributeConfig;
  publish: PublishConfig;
  /** Suite-level `attributes`/`verifier` extras pass through in their blocks. */
  /** Kitchen's lifecycle hooks (top < platform < suite, maps merged), passed through as written. */
  lifecycle?: Record<string, unknown>;
  /** Kitchen's `attributes` (platform < suite, deep-merged), passed through for provisioners that use them. */
  attributes?: Record<string, unknown>;
  /** Kitchen's `run_list`: the platform's entries, then the suite's (Kitchen concatenates them). */
  run_list?: string[];
  data_bags_path?: string;
  /** `unix` or `windows` in Kitchen; suite over platform. */
  os_type?: string;
  shell_type?: string;
  /** Absolute path of the config file this instance came from. */
  file: string;
  /** Absolute directory of the project (the config file's directory). */
  projectDir: string;
}
