/**
 * The report's inline style and script. Inline because the report must work
 * as one file opened from file:// or a CI artifact, with no network.
 */
export const CSS = `
:root{--ok:#1a7f37;--bad:#cf222e;--skip:#8c959f;--err:#bc4c00;--fg:#1f2328;--dim:#59636e;--line:#d1d9e0;--bg:#f6f8fa}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);margin:0 auto;padding:24px;max-width:1280px}
h1{font-size:22px;margin:0 0 8px}h2{font-size:18px;margin:28px 0 10px;border-bottom:1px solid var(--line);padding-bottom:4px}h3{font-size:15px;margin:18px 0 6px}
code,.mono{font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,monospace}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;color:#fff;font-weight:600;font-size:12px}
.badge.ok,.st-pass,.st-ok{background:var(--ok)}.badge.bad,.st-fail,.st-failed{background:var(--bad)}.st-error{background:var(--err)}.st-skip,.st-skipped{background:var(--skip)}.st-running{background:#0969da}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;margin:8px 0}dl.facts dt{color:var(--dim)}dl.facts dd{margin:0;word-break:break-all}
table{border-collapse:collapse;width:100%;margin:6px 0}th,td{text-align:left;vertical-align:top;padding:4px 8px;border-bottom:1px solid var(--line)}th{background:var(--bg);font-weight:600}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.status{display:inline-block;min-width:44px;text-align:center;color:#fff;border-radius:4px;font-size:11px;font-weight:700;padding:1px 4px;text-transform:uppercase}
tr.check td.val{white-space:pre-wrap;word-break:break-word;max-width:360px}
tr.check.st-row-fail td:first-child,tr.check.st-row-error td:first-child{box-shadow:inset 3px 0 var(--bad)}
.msg{color:var(--dim);font-size:12px}
.error{color:var(--bad);white-space:pre-wrap}
#filters{position:sticky;top:0;background:#fff;padding:8px 0;border-bottom:1px solid var(--line);display:flex;gap:16px;align-items:center;flex-wrap:wrap;z-index:1}
#filters input[type=search]{padding:4px 8px;min-width:260px;border:1px solid var(--line);border-radius:6px}
.timeline .lane{display:grid;grid-template-columns:220px 1fr;align-items:center;margin:3px 0}
.timeline .label{overflow:hidden;text-overflow:ellipsis;white-space:nowrap;padding-right:8px}
.timeline .track{position:relative;height:24px;background:var(--bg);border-radius:3px}
.timeline .span{position:absolute;top:2px;height:20px;min-width:2px;border-radius:2px;color:#fff;font-size:11px;line-height:20px;padding:0 3px;overflow:hidden;white-space:nowrap}
.timeline .span.cleanup{top:14px;height:8px;opacity:.55;font-size:0}
.timeline .span.st-skipped{background:repeating-linear-gradient(45deg,var(--skip),var(--skip) 3px,#fff 3px,#fff 6px);color:var(--fg);top:8px;height:8px;font-size:0}
.timeline .axis{display:grid;grid-template-columns:220px 1fr}.timeline .ticks{position:relative;height:18px;color:var(--dim);font-size:11px}
.timeline .ticks span{position:absolute;transform:translateX(-50%)}
.timeline .ticks span:first-child{transform:none}
.steps{font-size:12px;color:var(--dim);margin:2px 0 10px 220px}
.group>summary{cursor:pointer;font-weight:600;margin:8px 0 4px}
`;

/** Filters the check rows by status and text; hides groups with nothing left to show. */
export const SCRIPT = `
(function(){
  var boxes=Array.prototype.slice.call(document.querySelectorAll('#filters input[type=checkbox]'));
  var q=document.getElementById('q');
  function apply(){
    var on={};boxes.forEach(function(b){on[b.value]=b.checked;});
    var t=(q.value||'').toLowerCase();var shown=0;
    document.querySelectorAll('tr.check').forEach(function(r){
      var ok=on[r.getAttribute('data-status')]&&(!t||r.textContent.toLowerCase().indexOf(t)>=0);
      r.hidden=!ok;if(ok)shown++;
    });
    document.querySelectorAll('.group').forEach(function(g){g.hidden=!g.querySelector('tr.check:not([hidden])');});
    document.getElementById('shown').textContent=String(shown);
  }
  boxes.forEach(function(b){b.addEventListener('change',apply);});
  q.addEventListener('input',apply);
  apply();
})();
`;
