/**
 * The tags hallmark puts on what it makes, and what they prove. The orphan
 * reaper (`hallmark cleanup --orphans`) keys on these, so their meaning is a
 * contract with every earlier build's resources:
 *
 * - `hallmark:build-id` + `hallmark:instance`: made by hallmark, for this
 *   build and instance (machines, key pairs, groups, images, copies, snapshots).
 * - `hallmark:machine`: on machines, key pairs and security groups. `build`
 *   for the machines a build destroys when it ends (the build machine, the
 *   boot-test machine): the only ones the reaper removes. `kept` for the
 *   machines of create/converge/test, which outlive the command on purpose.
 * - `hallmark:state`: on images, copies and their snapshots, from the moment
 *   they exist. `pending` until the build's commit makes it `published`.
 *   Only `pending` images are the reaper's: an image without the tag (made by
 *   a hallmark from before the commit step, or by anyone else) is never
 *   touched, nor is a published one.
 */
export const TAG_BUILD_ID = 'hallmark:build-id';
export const TAG_INSTANCE = 'hallmark:instance';
export const TAG_VERIFICATION = 'hallmark:verification';
export const TAG_MACHINE = 'hallmark:machine';
export const MACHINE_BUILD = 'build';
export const MACHINE_KEPT = 'kept';
export const TAG_STATE = 'hallmark:state';
export const STATE_PENDING = 'pending';
export const STATE_PUBLISHED = 'published';

/**
 * When a build started, from its id (`newBuildId()`: `YYYYMMDDHHMMSS-xxxxxx`,
 * UTC); undefined for ids of another form (a library caller's own).
 */
export function buildStartedAt(buildId: string | undefined): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})-/.exec(buildId ?? '');
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as number[];
  const t = Date.UTC(y!, mo! - 1, d!, h!, mi!, s!);
  return Number.isNaN(t) ? undefined : new Date(t);
}

/**
 * `--older-than`: `0s`, `90m`, `6h`, `2d`, or a sum such as `1h30m`. Strict:
 * anything else is undefined (the caller says what it expected).
 */
export function parseDuration(text: string): number | undefined {
  const t = text.trim();
  if (!/^(\d+(\.\d+)?(ms|s|m|h|d|w))+$/.test(t)) return undefined;
  const unit: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };
  let total = 0;
  for (const m of t.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/g)) total += Number(m[1]) * unit[m[2]!]!;
  return Math.round(total);
}
