/**
 * Turns what the script reported into CheckResults, matching each attribute
 * locally. The rules that make results trustworthy:
 * - a probe that never reported (script cut off, tool missing) is `error`;
 * - an attribute of a resource that does not exist is `fail` with the reason;
 * - `skip: true` gives `skip` results and runs nothing on the target.
 */
import type { CheckResult } from '../verifier.js';
import { show } from './matchers.js';
import type { Parsed } from './framing.js';
import { hasProbe } from './script.js';
import type { Observation, ResourceDef, ResourceSpec } from './types.js';

const LIMIT = 2000;

function clip(s: string): string {
  return s.length > LIMIT ? `${s.slice(0, LIMIT)}… (${s.length} characters)` : s;
}

function foundText(o: Observation): string {
  if ('error' in o) return `(error: ${o.error})`;
  if ('missing' in o) return `(${o.missing})`;
  return clip(o.shown ?? (typeof o.value === 'string' ? o.value : show(o.value)));
}

function titleOf(r: ResourceSpec, attr: string, multi: boolean): string {
  if (r.title) return multi ? `${r.title} (${attr})` : r.title;
  const Type = r.type.replace(/(^|-)(\w)/g, (_, d: string, c: string) => (d ? '-' : '') + c.toUpperCase());
  return `${Type}: ${r.key}: ${attr}`;
}

function idOf(r: ResourceSpec, attr: string, multi: boolean): string {
  const metaId = r.meta?.id;
  if (typeof metaId === 'string' || typeof metaId === 'number') return multi ? `${metaId}:${attr}` : String(metaId);
  return `${r.type}:${r.key}:${attr}`;
}

export function evaluate(resources: ResourceSpec[], parsed: Parsed, defs: Map<string, ResourceDef>, exitNote?: string): CheckResult[] {
  const results: CheckResult[] = [];
  const facts = parsed.fields.get('_') ?? new Map<string, string>();
  for (const r of resources) {
    const def = defs.get(r.type)!;
    const multi = r.checks.length > 1;
    const b = parsed.begin.get(r.probeId);
    const e = parsed.end.get(r.probeId);
    const durationMs = b !== undefined && e !== undefined ? Math.max(0, (e - b) * 10) : 0;
    const reported = !hasProbe(def, r) || e !== undefined;
    let obs: Record<string, Observation> = {};
    if (!r.skip && reported) {
      try {
        obs = def.observe(r, { own: parsed.fields.get(r.probeId) ?? new Map(), facts });
      } catch (err) {
        obs = {};
        for (const c of r.checks) obs[c.name] = { error: `could not interpret the target's answer: ${(err as Error).message}` };
      }
    }
    for (const c of r.checks) {
      const base = {
        id: idOf(r, c.name, multi),
        resourceType: r.type,
        resource: r.key,
        property: c.name,
        title: titleOf(r, c.name, multi),
        expected: c.matcher.describe(),
        durationMs,
        ...(typeof r.meta?.impact === 'number' ? { impact: r.meta.impact } : {}),
        ...(r.meta ? { meta: r.meta } : {}),
      };
      if (r.skip) {
        results.push({ ...base, found: '', status: 'skip', message: 'skipped (skip: true)' });
        continue;
      }
      if (!reported) {
        const why = exitNote ?? 'the probe did not report back';
        results.push({ ...base, found: '', status: 'error', message: `not evaluated: ${why}` });
        continue;
      }
      const o = obs[c.name] ?? { error: `${c.name} was not observed` };
      const found = foundText(o);
      if ('error' in o) {
        results.push({ ...base, found, status: 'error', message: o.error });
      } else if ('missing' in o) {
        results.push({ ...base, found, status: 'fail', message: `expected ${c.name} to ${base.expected}, but ${o.missing}` });
      } else if (c.matcher.match(o.value)) {
        results.push({ ...base, found, status: 'pass' });
      } else {
        const detail = c.matcher.explain?.(o.value);
        const shortFound = found.length > 200 ? `${found.slice(0, 200)}…` : found;
        results.push({ ...base, found, status: 'fail', message: `expected ${c.name} to ${base.expected}, found ${shortFound}${detail ? ` (${detail})` : ''}` });
      }
    }
  }
  return results;
}
