/**
 * Durations in the config (`image.deprecate_after: 90d`): a whole number of
 * hours, days or weeks. EC2 refuses a deprecation time in the past and one
 * more than 10 years ahead (EnableImageDeprecation), so those bounds are
 * checked here, when the config is read, not when a build commits.
 */
const UNIT_MS = { h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 } as const;
const MAX_MS = 3650 * UNIT_MS.d;
const DURATION_RE = /^(\d+)\s*([hdw])$/;

/** Milliseconds of a valid duration; undefined for anything durationProblem refuses. */
export function parseDuration(text: string): number | undefined {
  const m = DURATION_RE.exec(text.trim());
  if (!m) return undefined;
  const ms = Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
  return ms > 0 && ms <= MAX_MS ? ms : undefined;
}

/** What a valid duration looks like, when `text` is not one; undefined when it is. */
export function durationProblem(text: string): string | undefined {
  if (parseDuration(text) !== undefined) return undefined;
  return DURATION_RE.test(text.trim())
    ? 'a duration above 0 and at most 10 years (3650d), the limit EC2 sets for a deprecation time'
    : 'a duration such as 90d, 12h or 2w (hours, days or weeks)';
}

/**
 * The deprecation time `duration` after `from`, rounded up to the whole
 * minute: EC2 rounds the seconds anyway, and a time we send is the time it keeps.
 */
export function deprecationTime(from: Date, duration: string): Date {
  const ms = parseDuration(duration);
  if (ms === undefined) throw new Error(`not a duration: ${duration}`);
  return new Date(Math.ceil((from.getTime() + ms) / 60_000) * 60_000);
}
