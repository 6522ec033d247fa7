/**
 * The HTML report: one self-contained file (inline style and script, no
 * network) rendered from a BuildReport. A pure function: the same report
 * gives the same page.
 */
import type { ApiCallSummary } from '../../drivers/api-calls.js';
import type { CheckStatus } from '../../verifiers/verifier.js';
import { CSS, SCRIPT } from './assets.js';
import type { BuildReport, InstanceReport, ReportCheck, ReportVerification } from './model.js';
import type { Lane, Span } from './timeline.js';

const esc = (s: unknown): string =>
  String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** Failures first: what someone opens a report for. */
const STATUS_ORDER: Record<CheckStatus, number> = { fail: 0, error: 1, skip: 2, pass: 3 };

export function secsText(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const m = Math.floor(ms / 60_000);
  return `${m}m${String(Math.round((ms % 60_000) / 1000)).padStart(2, '0')}s`;
}

function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(1)} ${units[u]}`;
}

function facts(rows: [string, string | undefined][]): string {
  const items = rows.filter(([, v]) => v !== undefined && v !== '');
  return `<dl class="facts">${items.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')}</dl>`;
}

function summaryTable(r: BuildReport): string {
  const rows = r.instances.map((i) => {
    const all = i.verifications.flatMap((v) => v.results);
    const n = (s: CheckStatus) => all.filter((c) => c.status === s).length;
    return `<tr data-instance="${esc(i.name)}"><td>${esc(i.name)}</td><td><span class="status st-${i.ok ? 'pass' : 'fail'}">${i.ok ? 'ok' : 'failed'}</span></td>
<td class="num">${n('pass')}</td><td class="num">${n('fail')}</td><td class="num">${n('error')}</td><td class="num">${n('skip')}</td>
<td class="mono">${i.images.map((im) => esc(im.region ? `${im.region}: ${im.id}` : im.id)).join('<br>')}</td></tr>`;
  });
  return `<table id="summary"><thead><tr><th>Instance</th><th>Result</th><th>Passed</th><th>Failed</th><th>Errors</th><th>Skipped</th><th>Images</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

/** Every lane on one time scale (the whole run), so parallel instances line up. */
function timeline(r: BuildReport, now: number): string {
  // The build's commit runs after every instance: its lane comes last.
  const lanes = [...r.instances.flatMap((i) => i.lanes), ...(r.commit ? [{ ...r.commit, instance: 'commit (whole build)' }] : [])];
  if (lanes.length === 0) return '<p class="msg">No steps were recorded.</p>';
  const endOf = (s: { end?: number }) => s.end ?? now;
  const t0 = Math.min(...lanes.map((l) => l.start), ...lanes.flatMap((l) => l.spans.map((s) => s.start)));
  const t1 = Math.max(...lanes.map(endOf), ...lanes.flatMap((l) => l.spans.map(endOf)));
  const total = Math.max(1, t1 - t0);
  const pct = (t: number) => ((100 * (t - t0)) / total).toFixed(3);
  const ticks = Array.from({ length: 6 }, (_, k) => `<span style="left:${(k * 20).toFixed(0)}%">${secsText((total * k) / 5)}</span>`).join('');
  const span = (s: Span) => {
    const label = `${s.kind === 'cleanup' ? 'cleanup ' : ''}${s.name}: ${s.status}${s.status === 'skipped' ? '' : ` (${secsText(endOf(s) - s.start)})`}${s.note ? ` — ${s.note}` : ''}`;
    return `<div class="span ${s.kind} st-${s.status}" data-step="${esc(s.name)}" data-kind="${s.kind}" data-status="${s.status}" style="left:${pct(s.start)}%;width:${(Number(pct(endOf(s))) - Number(pct(s.start))).toFixed(3)}%" title="${esc(label)}">${esc(s.name)}</div>`;
  };
  const lane = (l: Lane) => {
    const steps = l.spans
      .filter((s) => s.kind === 'step')
      .map((s) => `${esc(s.name)} ${s.status === 'skipped' ? `skipped${s.note ? ` (${esc(s.note)})` : ''}` : `${s.status === 'ok' ? '' : `${s.status} `}${secsText(endOf(s) - s.start)}`}`);
    return `<div class="lane" data-lane="${esc(l.instance)}"><div class="label" title="${esc(l.instance)}">${esc(l.instance)}</div><div class="track">${l.spans.map(span).join('')}</div></div>
<div class="steps">${steps.join(' · ')}</div>`;
  };
  return `<div class="timeline"><div class="axis"><div></div><div class="ticks">${ticks}</div></div>${lanes.map(lane).join('')}</div>`;
}

function imagesSection(i: InstanceReport, action: string): string {
  if (i.images.length === 0) return '<p class="msg">No image was made.</p>';
  const hasFiles = i.images.some((im) => im.sha256 || im.path);
  const head = `<tr><th>Role</th><th>Region / target</th><th>Image id</th><th>Name</th>${hasFiles ? '<th>File</th><th>sha256</th><th>Size</th>' : ''}</tr>`;
  const rows = i.images.map(
    (im) =>
      `<tr class="image"><td>${im.role}</td><td>${esc(im.region ?? '')}</td><td class="mono image-id">${esc(im.id)}</td><td>${esc(im.name ?? i.imageName ?? '')}</td>${
        hasFiles ? `<td class="mono">${esc(im.path ?? '')}</td><td class="mono">${esc(im.sha256 ?? '')}</td><td class="num">${im.sizeBytes !== undefined ? esc(bytes(im.sizeBytes)) : ''}</td>` : ''
      }</tr>`,
  );
  const why = action !== 'build' ? 'this action publishes nothing' : i.ok ? 'this instance passed, but the build did not commit, so its images were removed' : 'the build failed, so these images were removed';
  const state = i.published ? '' : `<p class="error">Not published: ${why}.</p>`;
  const tags = Object.entries(i.tags);
  const share = i.sharing;
  const shared = [...share.accounts.map((a) => `account ${a}`), ...share.organizations.map((o) => `organization ${o}`), ...share.ous.map((o) => `OU ${o}`)];
  const params = i.parameters.map((p) => `<tr><td class="mono">${esc(p.name)}</td><td>${esc(p.region)}</td><td class="mono">${esc(p.value)}</td><td class="num">${esc(p.version ?? '')}</td></tr>`);
  return `${state}<table class="images">${head}${rows.join('')}</table>
${tags.length ? `<h4>Tags</h4><table class="tags">${tags.map(([k, v]) => `<tr><td class="mono">${esc(k)}</td><td class="mono">${esc(v)}</td></tr>`).join('')}</table>` : ''}
<h4>Sharing</h4><p class="sharing">${shared.length ? shared.map(esc).join(', ') : 'not shared'}</p>
${params.length ? `<h4>SSM parameters</h4><table class="parameters"><tr><th>Name</th><th>Region</th><th>Value</th><th>Version</th></tr>${params.join('')}</table>` : ''}`;
}

/** "57 calls (60 requests: 3 retries, 3 throttled; 2 failed)": `failed` counts NotFound answers the driver expects too. */
export function apiCallsText(t: ApiCallSummary['total']): string {
  const extra = [t.retries ? `${t.retries} ${t.retries === 1 ? 'retry' : 'retries'}` : '', t.throttled ? `${t.throttled} throttled` : ''].filter(Boolean).join(', ');
  return `${t.calls} calls (${t.requests} requests${extra ? `: ${extra}` : ''}${t.failed ? `; ${t.failed} failed` : ''})`;
}

/** Every action in every region the instance's drivers called, with retries and throttling. */
function apiCallsSection(s: ApiCallSummary | undefined): string {
  if (!s || s.byAction.length === 0) return '';
  const num = (n: number) => `<td class="num">${n}</td>`;
  const rows = s.byAction.map(
    (c) =>
      `<tr class="api-call" data-action="${esc(c.action)}" data-region="${esc(c.region)}"><td>${esc(c.service)}</td><td>${esc(c.region)}</td><td class="mono">${esc(c.action)}</td>${num(c.calls)}${num(c.requests)}${num(c.retries)}${num(c.throttled)}${num(c.failed)}</tr>`,
  );
  return `<h4>API calls</h4><p class="msg">${esc(apiCallsText(s.total))}</p>
<table class="api-calls"><tr><th>Service</th><th>Region</th><th>Action</th><th>Calls</th><th>Requests</th><th>Retries</th><th>Throttled</th><th>Failed</th></tr>${rows.join('')}</table>`;
}

function checkRow(c: ReportCheck): string {
  return `<tr class="check st-row-${c.status}" data-status="${c.status}" data-id="${esc(c.id)}"><td><span class="status st-${c.status}">${c.status}</span></td>
<td class="mono">${esc(c.resourceType)}: ${esc(c.resource)}</td><td>${esc(c.property)}</td><td>${esc(c.title)}${c.message && c.status !== 'pass' ? `<div class="msg">${esc(c.message)}</div>` : ''}</td>
<td class="val mono">${esc(c.expected)}</td><td class="val mono">${esc(c.found)}</td></tr>`;
}

/** Checks grouped by gossfile (or profile); groups with failures first, failures first within a group. */
function checksOf(v: ReportVerification, instance: string): string {
  const groups = new Map<string, ReportCheck[]>();
  for (const c of v.results) groups.set(c.group, [...(groups.get(c.group) ?? []), c]);
  const worst = (cs: ReportCheck[]) => Math.min(...cs.map((c) => STATUS_ORDER[c.status]));
  const ordered = [...groups.entries()].sort((a, b) => worst(a[1]) - worst(b[1]) || a[0].localeCompare(b[0]));
  const body = ordered
    .map(([name, cs]) => {
      const sorted = [...cs].sort((a, b) => STATUS_ORDER[a.status] - STATUS_ORDER[b.status]);
      const bad = cs.filter((c) => c.status === 'fail' || c.status === 'error').length;
      return `<details class="group" open data-group="${esc(name)}"><summary>${esc(name)} <span class="msg">${cs.length} checks${bad ? `, ${bad} failed` : ''}</span></summary>
<table class="checks"><thead><tr><th>Status</th><th>Resource</th><th>Property</th><th>Title</th><th>Expected</th><th>Found</th></tr></thead><tbody>${sorted.map(checkRow).join('')}</tbody></table></details>`;
    })
    .join('');
  const s = v.summary;
  return `<section class="verification" data-instance="${esc(instance)}" data-label="${esc(v.label)}"><h3>${esc(instance)} — ${esc(v.label)} (${esc(v.verifier)})</h3>
<p class="msg">${s.passed} passed, ${s.failed} failed, ${s.errors} errors, ${s.skipped} skipped · digest <code>${esc(v.digest)}</code></p>${body || '<p class="error">No checks ran.</p>'}</section>`;
}

function instanceSection(i: InstanceReport, action: string): string {
  return `<section class="instance" id="instance-${esc(i.name)}" data-instance="${esc(i.name)}"><h3>${esc(i.name)} <span class="status st-${i.ok ? 'pass' : 'fail'}">${i.ok ? 'ok' : 'failed'}</span></h3>
${i.error ? `<p class="error">${esc(i.error)}</p>` : ''}
${facts([
  ['suite', i.suite],
  ['platform', i.platform],
  ['driver', i.driver],
  ['base image', i.baseImage],
  ['image name', i.imageName],
  ['config digest', i.configDigest],
  ...i.verifications.map((v): [string, string] => [`verification digest (${v.label})`, v.digest]),
])}
${imagesSection(i, action)}${apiCallsSection(i.apiCalls)}</section>`;
}

export function renderHtml(r: BuildReport): string {
  const now = Date.parse(r.generatedAt);
  const all = r.instances.flatMap((i) => i.verifications.flatMap((v) => v.results));
  const n = (s: CheckStatus) => all.filter((c) => c.status === s).length;
  const box = (s: CheckStatus, label: string) => `<label><input type="checkbox" value="${s}" checked> ${label} (${n(s)})</label>`;
  // Verifications with failures first (across instances), then in run order.
  const bad = (v: ReportVerification) => v.summary.failed + v.summary.errors > 0;
  const verifications = r.instances
    .flatMap((i) => i.verifications.map((v) => ({ v, instance: i.name })))
    .sort((a, b) => Number(bad(b.v)) - Number(bad(a.v)))
    .map(({ v, instance }) => checksOf(v, instance));
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(r.title)}</title><style>${CSS}</style></head>
<body>
<header><h1>${esc(r.title)} <span class="badge ${r.ok ? 'ok' : 'bad'}" id="result">${r.ok ? 'PASSED' : 'FAILED'}</span></h1>
${facts([
  ['action', r.action],
  ['build id', r.buildId],
  ['hallmark', r.hallmarkVersion],
  ['generated', r.generatedAt],
  ['outputs', r.outputs.join(', ') || (r.action === 'build' ? 'none (nothing was published)' : undefined)],
  ['API calls', r.apiCalls ? apiCallsText(r.apiCalls.total) : undefined],
])}${r.commitError ? `<p class="error" id="commit-error">${esc(r.commitError)}</p>` : ''}</header>
<h2>Instances</h2>${summaryTable(r)}
<h2>Timeline</h2>${timeline(r, now)}
<h2>Images</h2>${r.instances.map((i) => instanceSection(i, r.action)).join('')}
<h2>Checks</h2>
<div id="filters">${box('fail', 'failed')}${box('error', 'errors')}${box('skip', 'skipped')}${box('pass', 'passed')}
<input type="search" id="q" placeholder="filter checks by text" aria-label="filter checks"> <span class="msg"><span id="shown">${all.length}</span> of ${all.length} shown</span></div>
${verifications.join('') || '<p class="msg">No verification ran.</p>'}
<script>${SCRIPT}</script>
</body></html>
`;
}
