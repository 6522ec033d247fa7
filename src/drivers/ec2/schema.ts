import { z } from 'zod';
import { lazy } from '../../kernel/lazy.js';

/**
 * Options of the `ec2` driver block, with kitchen-ec2's names so that an
 * existing kitchen.yml works unchanged. Durations are in seconds, as in
 * kitchen-ec2. This module is cheap to import (no AWS SDK).
 */

export const ec2Schema = lazy(() => {
  const tagFilter = z.strictObject({ tag: z.string().min(1), value: z.string() });

  /**
   * Types as kitchen-ec2 reads them: `Array(config[:security_group_ids])`
   * makes one string a list of one; `Array(value).map(&:to_s)` makes image
   * search values strings (a number in YAML is its digits).
   */
  const stringOrList = z.union([z.string().min(1).transform((s) => [s]), z.array(z.string())]);
  const searchValue = z.union([z.string(), z.number().transform(String)]);
  /** Tag values: `v.to_s`, so a number or boolean is its text and an empty value is "". */
  const tagValue = z.union([z.string(), z.number(), z.boolean(), z.null().transform(() => '')]).transform(String);

  const ebs = z.strictObject({
    volume_size: z.number().int().positive().optional(),
    volume_type: z.string().optional(),
    delete_on_termination: z.boolean().optional(),
    encrypted: z.boolean().optional(),
    kms_key_id: z.string().optional(),
    snapshot_id: z.string().optional(),
    iops: z.number().int().positive().optional(),
    throughput: z.number().int().positive().optional(),
  });

  const blockDeviceMapping = z.strictObject({
    device_name: z.string().min(1),
    ebs: ebs.optional(),
    virtual_name: z.string().optional(),
    no_device: z.string().optional(),
  });

  const metadataOptions = z.strictObject({
    /** IMDSv2 only by default: a build host should not serve IMDSv1 credentials. */
    http_tokens: z.enum(['required', 'optional']).default('required'),
    http_endpoint: z.enum(['enabled', 'disabled']).optional(),
    http_put_response_hop_limit: z.number().int().min(1).max(64).optional(),
    instance_metadata_tags: z.enum(['enabled', 'disabled']).optional(),
  });

  return z
    .strictObject({
      name: z.literal('ec2'),
      region: z.string().regex(/^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/, 'an AWS region such as us-east-1').optional(),
      image_id: z.string().regex(/^ami-[0-9a-f]+$/, 'an AMI id such as ami-0123456789abcdef0').optional(),
      /** DescribeImages filters, e.g. { owner-id: '137112412989', name: 'al2023-ami-*', architecture: x86_64 }. */
      image_search: z.record(z.string(), z.union([searchValue, z.array(searchValue)])).optional(),
      instance_type: z.string().default('t3.micro'),
      subnet_id: z.string().optional(),
      subnet_filter: z.union([tagFilter, z.array(tagFilter)]).optional(),
      security_group_ids: stringOrList.optional(),
      security_group_filter: z.union([tagFilter, z.array(tagFilter)]).optional(),
      /** Source of SSH for the temporary security group; see controller-address.ts for the default. */
      security_group_cidr_ip: z.union([z.string(), z.array(z.string())]).optional(),
      associate_public_ip: z.boolean().optional(),
      /** An existing key pair; without it a temporary ed25519 key pair is made. */
      aws_ssh_key_id: z.string().optional(),
      iam_profile_name: z.string().optional(),
      /** Inline user data, or a path (relative to the project) of a file holding it. */
      user_data: z.string().optional(),
      tags: z.record(z.string(), tagValue).default({}),
      block_device_mappings: z.array(blockDeviceMapping).optional(),
      ebs_optimized: z.boolean().optional(),
      instance_initiated_shutdown_behavior: z.enum(['stop', 'terminate']).optional(),
      metadata_options: metadataOptions.default({ http_tokens: 'required' }),
      spot_price: z.union([z.string(), z.number()]).transform(String).optional(),
      /** Which address connectionTarget returns. Default: public IP, else private IP. */
      interface: z.enum(['public', 'private', 'dns', 'id']).optional(),
      /** Instance waits (running, terminated) and dependency retries: tries x sleep seconds. */
      retryable_tries: z.number().int().positive().default(60),
      retryable_sleep: z.number().positive().default(5),
      /** Attempts per API call, including the first (SDK retry strategy). */
      max_attempts: z.number().int().positive().default(10),
      retry_mode: z.enum(['standard', 'adaptive']).default('standard'),
      /** Image waits (CreateImage, CopyImage): poll every `delay` s, give up after `max_wait` s. */
      delay: z.number().positive().default(15),
      max_wait: z.number().positive().default(3600),
      /** Custom endpoint for every AWS call of the driver: EC2, and SSM for publish.ssm_parameter (moto_server, a compatible cloud). */
      endpoint: z.url().optional(),
      /** CreateImage without stopping the machine first (faster, not crash-consistent). */
      no_reboot: z.boolean().default(false),
      /** Login user; default guessed from the platform name (see username.ts), else ec2-user. */
      username: z.string().optional(),
      shared_credentials_profile: z.string().optional(),
    })
    .refine((o) => !(o.image_id && o.image_search), {
      message: 'give either image_id or image_search, not both',
      path: ['image_search'],
    })
    .refine((o) => !(o.subnet_id && o.subnet_filter), {
      message: 'give either subnet_id or subnet_filter, not both',
      path: ['subnet_filter'],
    })
    .refine((o) => !(o.security_group_ids && o.security_group_filter), {
      message: 'give either security_group_ids or security_group_filter, not both',
      path: ['security_group_filter'],
    });
});

export type Ec2Options = z.output<ReturnType<typeof ec2Schema>>;
export type Ec2TagFilter = Exclude<NonNullable<Ec2Options['subnet_filter']>, unknown[]>;

/**
 * What an AMI name must be when `name` is not one, else undefined. AWS's
 * CreateImage/CopyImage constraint: 3-128 characters, each a letter, digit,
 * space or one of ( ) [ ] . / - ' @ _. AWS refuses any other name only at
 * CreateImage, after the whole build, so the loader and prepare check it.
 */
export function amiNameProblem(name: string): string | undefined {
  if (name.length < 3 || name.length > 128) return `an AMI name of 3 to 128 characters (this one has ${name.length})`;
  const bad = [...new Set(name.replace(/[A-Za-z0-9()[\] ./'@_-]/g, ''))];
  if (bad.length > 0) return `an AMI name of letters, digits, spaces and ( ) [ ] . / - ' @ _ only (not ${bad.map((c) => JSON.stringify(c)).join(' ')})`;
  return undefined;
}
