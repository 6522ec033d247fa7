import type { Matcher } from './matchers.js';
import type { ProbeContext, Sh } from './shell.js';

/** Where something was written: every load-time error points here. */
export interface Pos {
  file: string;
  line?: number;
  column?: number;
}

/** One checked attribute of a resource, e.g. `mode: "0644"` of a file. */
export interface AttrCheck {
  name: string;
  /** The raw expectation as written (kept for the report's `expected`). */
  value: unknown;
  matcher: Matcher;
  pos: Pos;
}

/** One resource of a gossfile after loading: what to probe and what to compare. */
export interface ResourceSpec {
  type: string;
  /** The map key (`/etc/passwd`, `tcp:22`, `nginx`). */
  key: string;
  /** Probe id inside the generated script (`r0`, `r1`, ...); set by the script builder. */
  probeId: string;
  checks: AttrCheck[];
  /** Attributes that configure the probe rather than being checked (exec, timeout, ...). */
  options: Record<string, unknown>;
  title?: string;
  meta?: Record<string, unknown>;
  skip: boolean;
  pos: Pos;
}

/**
 * What the target told us about one attribute:
 * - `value`: the observed value, to be matched;
 * - `missing`: the resource does not exist, so the attribute has no value (a failure);
 * - `error`: the attribute could not be determined (tool missing, bad output): never a pass.
 */
export type Observation = { value: unknown; shown?: string } | { missing: string } | { error: string };

/** Raw fields the script sent back, per probe id. `_` holds target-wide facts. */
export type Fields = Map<string, Map<string, string>>;

export interface ProbeData {
  /** Fields of this resource's probe. */
  own: Map<string, string>;
  /** Target-wide facts (`_`): package manager, init system, /proc/net tables, ... */
  facts: Map<string, string>;
}

/**
 * One gossfile resource type. `probe` returns a POSIX sh fragment (built with
 * the `sh` tag; every gossfile value through `ctx.val`, see shell.ts) that
 * reports raw data with the script helpers (hm_val/hm_run/hm_read/..., see
 * script.ts); `observe` turns that data into attribute values in TypeScript.
 * Parsing happens here, not in shell, so that odd output can never be
 * mistaken for a pass.
 */
export interface ResourceDef {
  type: string;
  /** Checkable attributes: `value` (gomega-style matcher) or `patterns` (goss line patterns). */
  attrs: Record<string, 'value' | 'patterns'>;
  /** Other spellings goss accepts for an attribute (`resolveable` for `resolvable`): checked and reported under the attribute's name. */
  aliases?: Record<string, string>;
  /** Accepted non-check attributes. */
  options: readonly string[];
  /**
   * goss's first attribute (`exists`, `installed`, `listening`, ...): when it
   * does not pass or observes false, the other attributes are skipped (goss's
   * shouldSkip). goss fails a resource without it ("Missing required
   * attribute"): the loader refuses one (unless it is skipped).
   */
  gate?: string;
  /** Attributes goss requires (missing one is a load error). */
  required?: readonly string[];
  /** Shell helpers this type's probes call, defined once in the script when the suite has this type. */
  prelude?: string;
  /** Target-wide facts this type needs gathered once (see facts in script.ts). */
  facts?: readonly string[];
  /** Its probe runs code from the gossfile (`command`): such probes run first, before anything else is gathered. */
  runsUserCode?: boolean;
  /** Arguments this resource adds to batched queries (see BATCHES in script.ts): one command answers all resources. */
  batch?(r: ResourceSpec): { kind: string; arg: string }[];
  /** Extra load-time validation; return a message to reject. */
  validate?(r: ResourceSpec): string | undefined;
  /** The probe, or NOTHING when the resource is answered from facts, batches or the gossfile alone. */
  probe(r: ResourceSpec, ctx: ProbeContext): Sh;
  observe(r: ResourceSpec, data: ProbeData): Record<string, Observation>;
}
