/**
 * Reads the report of InSpec's `json` reporter (schema `Inspec::Schema::ExecJson`:
 * `{ platform, profiles: [{ name, status, status_message, controls: [{ id,
 * title, impact, results: [{ status, code_desc, message, skip_message,
 * exception, run_time, resource }] }] }], statistics, version }`) into
 * CheckResults: one per control result, as InSpec counts them.
 *
 * Ids are `<profile>/<control id>`, with `#<n>` (1-based) added when a control
 * has more than one result, so they stay stable between runs. A profile InSpec
 * skipped (unsupported platform) or failed to load becomes one `skip` or
 * `error` result so that it is never silently absent.
 */
import { HallmarkError } from '../../kernel/errors.js';
import type { CheckResult, CheckStatus } from '../verifier.js';

interface InspecResult {
  status?: string;
  code_desc?: string;
  message?: string;
  skip_message?: string;
  exception?: string;
  resource?: string;
  resource_class?: string;
  run_time?: number;
}

interface InspecControl {
  id?: string;
  title?: string | null;
  impact?: number;
  results?: InspecResult[];
}

interface InspecProfile {
  name?: string;
  title?: string;
  status?: string;
  status_message?: string;
  skip_message?: string;
  controls?: InspecControl[];
}

export interface InspecReport {
  version?: string;
  platform?: { name?: string; release?: string; target_id?: string };
  profiles?: InspecProfile[];
}

export class InspecReportError extends HallmarkError {
  override readonly code = 'INSPEC_REPORT';
}

function statusOf(s: string | undefined): CheckStatus {
  if (s === 'passed') return 'pass';
  if (s === 'skipped') return 'skip';
  // InSpec 4 wrote `error` for a result whose resource raised; later ones say `failed` with `exception`.
  if (s === 'error') return 'error';
  return 'fail';
}

/** Parses the reporter file's text; a file that is not the json reporter's output is an error. */
export function parseInspecJson(text: string, file = 'inspec json report'): InspecReport {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new InspecReportError(`${file} is not JSON: ${(err as Error).message}`, {
      hint: 'InSpec may have crashed before writing its report; see its output above',
    });
  }
  if (typeof data !== 'object' || data === null || !Array.isArray((data as InspecReport).profiles)) {
    throw new InspecReportError(`${file} has no "profiles" array: not the output of InSpec's json reporter`);
  }
  return data as InspecReport;
}

export function inspecResults(report: InspecReport): CheckResult[] {
  const results: CheckResult[] = [];
  for (const profile of report.profiles ?? []) {
    const pname = profile.name ?? 'profile';
    if (profile.status === 'skipped' || profile.status === 'failed') {
      const why = profile.status_message || profile.skip_message || `profile ${profile.status}`;
      results.push({
        id: `${pname}`,
        resourceType: 'inspec-profile',
        resource: pname,
        property: 'status',
        title: `profile ${profile.title ?? pname}`,
        expected: 'loaded',
        found: profile.status,
        status: profile.status === 'skipped' ? 'skip' : 'error',
        message: why,
        durationMs: 0,
      });
      continue;
    }
    for (const control of profile.controls ?? []) {
      const cid = control.id ?? 'control';
      const list = control.results ?? [];
      list.forEach((r, i) => {
        const status = statusOf(r.status);
        const codeDesc = r.code_desc ?? '';
        const detail = status === 'skip' ? r.skip_message : r.message?.trim() || r.exception;
        const message = [codeDesc, detail].filter((s) => s && s.trim()).join(': ').trim();
        results.push({
          id: `${pname}/${cid}${list.length > 1 ? `#${i + 1}` : ''}`,
          resourceType: r.resource_class ?? r.resource?.split(/\s/)[0] ?? 'inspec',
          resource: r.resource ?? cid,
          property: 'result',
          title: control.title ? `${control.title}${list.length > 1 ? `: ${codeDesc}` : ''}` : codeDesc || cid,
          expected: codeDesc,
          found: r.status ?? 'unknown',
          status,
          ...(status === 'pass' ? {} : { message: message || `${r.status ?? 'unknown'}` }),
          durationMs: Math.round((r.run_time ?? 0) * 1000),
          ...(control.impact !== undefined ? { impact: control.impact } : {}),
          meta: { profile: pname, control: cid, ...(r.exception ? { exception: r.exception } : {}) },
        });
      });
    }
  }
  return results;
}
