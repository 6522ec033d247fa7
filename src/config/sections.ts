import { z } from 'zod';
import { durationProblem } from './duration.js';
import { parameterNameProblem } from './parameter-name.js';

/**
 * hallmark's own sections: `image:`, `distribute:`, `publish:`. Each can be
 * written at the top level, per platform and per suite; the loader
 * validates every occurrence (so problems point at the line), merges them
 * (suite over platform over top level) and parses the result with these
 * schemas to apply the defaults. Output shapes are those of ./types.ts.
 */

/** Tag values written as numbers or booleans in YAML (`version: 2`) become strings. */
const tagValue = z.union([z.string(), z.number(), z.boolean()]).transform(String);

export const IMAGE_NAME_VARS = ['suite', 'platform', 'instance', 'build_id', 'timestamp'] as const;

export const imageSchema = z.strictObject({
  name: z
    .string()
    .min(1)
    .refine((s) => [...s.matchAll(/\{\{\s*([^}]*?)\s*\}\}/g)].every((m) => (IMAGE_NAME_VARS as readonly string[]).includes(m[1]!)), {
      message: `a template using only ${IMAGE_NAME_VARS.map((v) => `{{${v}}}`).join(', ')}`,
    })
    .default('{{suite}}-{{platform}}-{{timestamp}}'),
  description: z.string().optional(),
  tags: z.record(z.string(), tagValue).default({}),
  boot_test: z.boolean().default(false),
  encrypted: z.boolean().optional(),
  kms_key_id: z.string().min(1).optional(),
  /** ec2: each image and copy is deprecated this long after the commit (EnableImageDeprecation). */
  deprecate_after: z
    .string()
    .superRefine((text, ctx) => {
      const expected = durationProblem(text);
      if (expected) ctx.addIssue({ code: 'invalid_format', format: 'regex', message: expected, input: text });
    })
    .optional(),
  /** Keep the newest N images of the family (in every region) after a successful commit; older ones are removed. */
  keep: z.number().int().min(1).optional(),
  /** The images `keep` counts; default: the name template without its time parts (see image-family.ts). */
  family: z.string().min(1).max(255).optional(),
});

export const REGION_RE = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/;
const region = z.string().regex(REGION_RE, 'an AWS region such as us-east-1');

/**
 * Account ids are strings of 12 digits. YAML reads an unquoted id as a number;
 * the loader hands the scalar's source text instead (so a leading zero is
 * kept) and a number that still arrives here is turned into a string.
 */
const accountId = z
  .union([z.string(), z.number().int().transform((n) => String(n))])
  .pipe(z.string().regex(/^\d{12}$/, 'a 12-digit AWS account id (quote it in YAML to keep leading zeros)'));

/**
 * One launch template: by name or by id (exactly one), in `region` (default:
 * the build's source region). `set_default` makes the new version the default.
 */
export const launchTemplateSchema = z
  .strictObject({
    name: z.string().regex(/^[a-zA-Z0-9().\-/_]{3,128}$/, 'a launch template name: 3-128 of a-z A-Z 0-9 ( ) . - / _').optional(),
    id: z.string().regex(/^lt-[0-9a-f]{8,17}$/, 'a launch template id such as lt-0123456789abcdef0').optional(),
    region: region.optional(),
    set_default: z.boolean().default(true),
  })
  .refine((t) => (t.name === undefined) !== (t.id === undefined), { message: 'exactly one of name or id' });

export const distributeSchema = z.strictObject({
  regions: z.array(region).default([]),
  accounts: z.array(accountId).default([]),
  organization_arns: z
    .array(z.string().regex(/^arn:aws[\w-]*:organizations::\d{12}:organization\/o-[a-z0-9]{10,32}$/, 'an organization ARN such as arn:aws:organizations::123456789012:organization/o-abcdefghij'))
    .default([]),
  ou_arns: z
    .array(z.string().regex(/^arn:aws[\w-]*:organizations::\d{12}:ou\/o-[a-z0-9]{10,32}\/ou-[a-z0-9]{4,32}-[a-z0-9]{8,32}$/, 'an OU ARN such as arn:aws:organizations::123456789012:ou/o-abcdefghij/ou-ab12-cdefgh34'))
    .default([]),
  share_snapshots: z.boolean().default(false),
  atomic: z.boolean().default(true),
  concurrency: z.number().int().min(1).max(64).default(4),
  encrypted: z.boolean().optional(),
  kms_key_ids: z.record(region, z.string().min(1)).default({}),
  targets: z.array(z.string().min(1)).default([]),
  format: z.enum(['qcow2', 'raw']).default('qcow2'),
  /** ec2: launch templates that get a new version naming the region's image, as part of the commit. */
  launch_templates: z.array(launchTemplateSchema).default([]),
});

/** A relative output path, or false to turn that output off. */
const output = (def: string) => z.union([z.string().min(1), z.literal(false)]).default(def);

export const publishSchema = z.strictObject({
  env_properties: output('env.properties'),
  manifest: output('manifest.json'),
  junit: output('junit.xml'),
  /** The self-contained HTML report of every build, verify and test, written also when they fail. */
  html: output('report.html'),
  ci_outputs: z.boolean().default(true),
  /** ec2 only (see the instance rules in instances.ts): the SSM parameter each region's image id is written to. */
  ssm_parameter: z
    .string()
    .min(1)
    .superRefine((name, ctx) => {
      const expected = parameterNameProblem(name);
      if (expected) ctx.addIssue({ code: 'invalid_format', format: 'regex', message: expected, input: name });
    })
    .optional(),
});

export const SECTION_SCHEMAS = { image: imageSchema, distribute: distributeSchema, publish: publishSchema } as const;
export type SectionName = keyof typeof SECTION_SCHEMAS;
export const SECTION_NAMES = Object.keys(SECTION_SCHEMAS) as SectionName[];
