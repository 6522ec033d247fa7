import { z } from 'zod';
import { distributeSchema, imageSchema, publishSchema } from './sections.js';

/**
 * The shape of a kitchen.yml / hallmark.yml document as written, before
 * merging. Plugin blocks are only checked for their form here (a name
 * string, a map, or empty); their options are checked per instance against
 * the plugin's own schema, because a problem there concerns one instance.
 */
export const pluginBlockForm = z.union([
  z.string().min(1),
  z.looseObject({ name: z.string().min(1).optional() }),
  z.null(),
]);

const stringList = z.union([z.string().min(1), z.array(z.string().min(1))]);
/** Kitchen's lifecycle hooks: `pre_converge: [{ local: ... }, "remote cmd"]`; run by the core, not checked here. */
const lifecycle = z.record(z.string(), z.unknown()).nullish();

/** Keys common to the top level, platforms and suites (Kitchen's, then hallmark's). */
const common = {
  driver: pluginBlockForm.optional(),
  /** Legacy Kitchen alias of `driver`; merged under it. */
  driver_config: z.record(z.string(), z.unknown()).nullish(),
  transport: pluginBlockForm.optional(),
  provisioner: pluginBlockForm.optional(),
  verifier: pluginBlockForm.optional(),
  lifecycle,
  image: imageSchema.nullish(),
  distribute: distributeSchema.nullish(),
  publish: publishSchema.nullish(),
};

/** Keys allowed on both platforms and suites. */
const entry = {
  ...common,
  name: z.union([z.string().min(1), z.number().transform(String)]),
  attributes: z.record(z.string(), z.unknown()).nullish(),
  run_list: stringList.nullish(),
  data_bags_path: z.string().nullish(),
  includes: stringList.nullish(),
  excludes: stringList.nullish(),
  os_type: z.string().nullish(),
  shell_type: z.string().nullish(),
};

export const platformSchema = z.strictObject(entry);
export const suiteSchema = z.strictObject(entry);

/** Top level only: how a build publishes. */
export const buildSchema = z.strictObject({
  /** One commit for the whole build (true) or one per passing instance (false, as --keep-passing). */
  atomic: z.boolean().default(true),
});

export const documentSchema = z.strictObject({
  ...common,
  build: buildSchema.nullish(),
  /** Absent or empty: no instances (as in Kitchen); `list` shows none and exits 0. */
  platforms: z.array(platformSchema).nullish(),
  suites: z.array(suiteSchema).nullish(),
});

export type PlatformEntry = z.output<typeof platformSchema>;
export type SuiteEntry = z.output<typeof suiteSchema>;
