/**
 * Turns what the script reported into CheckResults, matching each attribute
 * locally. The rules that make results trustworthy:
 * - a probe that never reported (script cut off, tool missing) is `error`;
 * - an attribute of a resource that does not exist is `fail` with the reason;
 * - `skip: true` gives `skip` results and runs nothing on the target;
 * - goss's absent-resource rule (resource/resource.go `shouldSkip`): when a
 *   type's first attribute (`ResourceDef.gate`: a file's `exists`, a
 *   package's `installed`, a port's `listening`, ...) fails, errors, or
 *   observes `false`, every other attribute of that resource is `skip`;
 * - a matcher that cannot apply to the value (goss returns an error) is a
 *   `fail` with goss's reason.
 */
import type { CheckResult } from '../verifier.js';
import { goTyped } from './go-values.js';
import { MatchError, show, type Matcher } from './matchers.js';
import type { Parsed } from './framing.js';
import { hasProbe } from './script.js';
import type { AttrCheck, Observation, ResourceDef, ResourceSpec } from './types.js';

type Verdict = { status: 'pass' } | { status: 'fail'; message: string } | { status: 'error'; message: string };

function judge(c: AttrCheck, o: Observation, found: string): Verdict {
  if ('error' in o) return { status: 'error', message: o.error };
  const expected = c.matcher.describe();
  if ('missing' in o) return { status: 'fail', message: `expected ${c.name} to ${expected}, but ${o.missing}` };
  let ok: boolean;
  try {
    ok = (c.matcher as Matcher).match(o.value);
  } catch (err) {
    if (!(err instanceof MatchError)) throw err;
    return { status: 'fail', message: `expected ${c.name} to ${expected}, found ${short(found)}: ${err.message}` };
  }
  if (ok) return { status: 'pass' };
  let detail: string | undefined;
  try {
    detail = c.matcher.explain?.(o.value);
  } catch {
    detail = undefined;
  }
  return { status: 'fail', message: `expected ${c.name} to ${expected}, found ${short(found)}${detail ? ` (${detail})` : ''}` };
}

function short(found: string): string {
  return found.length > 200 ? `${found.slice(0, 200)}…` : found;
}

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
        // Lists from the target are Go's []string in goss (see goTypedLists); a matching's content is the gossfile's own.
        if (r.type !== 'matching') for (const o of Object.values(obs)) if ('value' in o) goTyped(o.value);
      } catch (err) {
        obs = {};
        for (const c of r.checks) obs[c.name] = { error: `could not interpret the target's answer: ${(err as Error).message}` };
      }
    }
    // goss's shouldSkip: the gate attribute decides whether the others are looked at.
    let gateSkip: string | undefined;
    const gate = def.gate ? r.checks.find((c) => c.name === def.gate) : undefined;
    if (gate && !r.skip && reported) {
      const o = obs[gate.name] ?? { error: `${gate.name} was not observed` };
      const v = judge(gate, o, foundText(o));
      if (v.status !== 'pass') gateSkip = `skipped: ${gate.name} did not pass`;
      else if ('value' in o && o.value === false) gateSkip = `skipped: ${gate.name} is false`;
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
        source: r.pos.file,
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
      if (gateSkip && c !== gate) {
        results.push({ ...base, found: '', status: 'skip', message: `${gateSkip} (as goss does, the other attributes of ${r.type} ${r.key} are not checked)` });
        continue;
      }
      const o = obs[c.name] ?? { error: `${c.name} was not observed` };
      const found = foundText(o);
      const v = judge(c, o, found);
      results.push(v.status === 'pass' ? { ...base, found, status: 'pass' } : { ...base, found, status: v.status, message: v.message });
    }
  }
  return results;
}
