import { RETRY_OPTIONS } from '../retry.js';
import { sh } from '../shell.js';
import type { ResourceDef } from '../types.js';
import { absentFor, derived, err, every, out, rc, target } from './common.js';

/** The dpkg/rpm package list (`name<TAB>rest` lines): name -> the rest of each of its lines. */
function packageIndex(list: string): Map<string, string[]> {
  const index = new Map<string, string[]>();
  for (const l of list.split('\n')) {
    const tab = l.indexOf('\t');
    const name = tab < 0 ? l : l.slice(0, tab);
    const rest = tab < 0 ? '' : l.slice(tab + 1);
    const seen = index.get(name);
    if (seen) seen.push(rest);
    else index.set(name, [rest]);
  }
  return index;
}

/**
 * `package`: installed, versions. The package manager is detected on the
 * target (dpkg, rpm, apk, pacman); versions are the manager's full version
 * strings (dpkg `${Version}`, rpm `%{VERSION}`, as goss reports them).
 */
export const packageDef: ResourceDef = {
  type: 'package',
  gate: 'installed',
  attrs: { installed: 'value', versions: 'value' },
  options: ['name', ...RETRY_OPTIONS],
  facts: ['pkgs'],
  validate(r) {
    // No package manager allows it, and apk or pacman would read it as an option.
    if (target(r, 'name') === '' || target(r, 'name').startsWith('-')) return `${JSON.stringify(target(r, 'name'))} is not a package name (package names cannot start with "-")`;
    return undefined;
  },
  probe(r, { id, val }) {
    const n = val(target(r, 'name'));
    // dpkg and rpm: answered from the package list gathered once (FACTS.pkgs).
    return sh`case "$HM_PKG" in apk) hm_run ${id} q apk info -e -v -- ${n} ;; pacman) hm_run ${id} q pacman -Q -- ${n} ;; esac`;
  },
  observe(r, data) {
    const pm = data.facts.get('pkg');
    const name = target(r, 'name');
    let code = rc(data, 'q');
    let text = out(data, 'q');
    if (pm === 'dpkg' || pm === 'rpm') {
      const all = data.facts.get('pkgs.rc');
      if (all !== '0') return every(r, { error: `listing packages with ${pm} failed (exit ${all ?? 'none'}): ${(data.facts.get('pkgs.err') ?? '').trim()}` });
      const mine = derived(data.facts, 'pkgs', () => packageIndex(data.facts.get('pkgs.out') ?? '')).get(name) ?? [];
      text = mine.join('\n');
      code = pm === 'rpm' && mine.length === 0 ? 1 : 0;
    }
    if (pm === 'none' || pm === undefined) return every(r, { error: 'no package manager (dpkg, rpm, apk, pacman) found on the target' });
    if (code === undefined) return every(r, { error: `${pm} query did not report back` });
    const lines = text.split('\n').filter((l) => l.trim() !== '');
    let versions: string[] = [];
    if (pm === 'dpkg') {
      versions = lines.filter((l) => /\binstalled\t/.test(l) && l.startsWith('install ')).map((l) => l.split('\t')[1]!.trim());
    } else if (code === 0) {
      if (pm === 'rpm') versions = lines.map((l) => l.trim());
      else if (pm === 'apk') versions = lines.map((l) => l.trim().slice(name.length + 1));
      else versions = lines.map((l) => l.trim().split(/\s+/)[1] ?? '');
    }
    const installed = versions.length > 0;
    if (!installed && code !== 0 && code !== 1) {
      return every(r, { error: `${pm} failed (exit ${code}): ${err(data, 'q')}` });
    }
    const base = { installed: { value: installed } };
    return installed ? { ...base, versions: { value: versions } } : absentFor(r, base, `package ${name} is not installed`);
  },
};
