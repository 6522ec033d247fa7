import { RETRY_OPTIONS } from '../retry.js';
import { sh } from '../shell.js';
import type { ResourceDef } from '../types.js';
import { absentFor, derived, err, every, out, rc, target } from './common.js';

/**
 * The names a package of the whole-database list answers to, as the query
 * goss runs for one name would find it: `dpkg-query -W NAME` takes the
 * package name or NAME:ARCH; `rpm -q NAME` the name, NAME.ARCH, NAME-VERSION,
 * NAME-VERSION-RELEASE, NAME-VERSION-RELEASE.ARCH and NAME-EPOCH:VERSION-RELEASE
 * (checked with rpm 4.18).
 */
function namesOf(pm: 'dpkg' | 'rpm', f: string[]): string[] {
  const [name, arch, version, release, full] = f;
  if (pm === 'dpkg') return [name!, `${name}:${arch}`];
  return [name!, `${name}.${arch}`, `${name}-${version}`, `${name}-${version}-${release}`, `${name}-${version}-${release}.${arch}`, `${name}-${full}`];
}

/**
 * The dpkg/rpm package list (tab-separated fields, see FACTS.pkgs in
 * script.ts): every name a package answers to -> the fields of each of its
 * lines. Built once per round trip (see `derived`).
 */
function packageIndex(pm: 'dpkg' | 'rpm', list: string): Map<string, string[][]> {
  const index = new Map<string, string[][]>();
  for (const l of list.split('\n')) {
    const f = l.split('\t');
    if (f.length !== (pm === 'dpkg' ? 4 : 5)) continue;
    for (const n of new Set(namesOf(pm, f))) {
      const seen = index.get(n);
      if (seen) seen.push(f);
      else index.set(n, [f]);
    }
  }
  return index;
}

/** dpkg states goss counts as installed (system/package_deb.go): a held package is installed too. */
const DPKG_INSTALLED = ['install ok installed', 'hold ok installed'];

/**
 * `package`: installed, versions, as goss reports them. The package manager
 * is detected on the target (dpkg, rpm, apk, pacman). dpkg: installed when
 * its status is `install ok installed` or `hold ok installed` (not
 * half-installed, unpacked or config-files), versions `${Version}`; rpm:
 * every installed instance, versions `[EPOCH:]VERSION-RELEASE` (goss's
 * `rpm -q --qf`), so `versions: [2.4.62]` does not match 2.4.62-13.el9.
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
    const text = out(data, 'q');
    let versions: string[] = [];
    if (pm === 'dpkg' || pm === 'rpm') {
      const all = data.facts.get('pkgs.rc');
      if (all !== '0') return every(r, { error: `listing packages with ${pm} failed (exit ${all ?? 'none'}): ${(data.facts.get('pkgs.err') ?? '').trim()}` });
      const mine = derived(data.facts, 'pkgs', () => packageIndex(pm, data.facts.get('pkgs.out') ?? '')).get(name) ?? [];
      versions = pm === 'dpkg' ? mine.filter((f) => DPKG_INSTALLED.includes(f[2]!)).map((f) => f[3]!) : mine.map((f) => f[4]!);
      code = 0;
    } else if (pm === 'none' || pm === undefined) {
      return every(r, { error: 'no package manager (dpkg, rpm, apk, pacman) found on the target' });
    } else if (code === undefined) {
      return every(r, { error: `${pm} query did not report back` });
    } else if (code === 0) {
      const lines = text.split('\n').filter((l) => l.trim() !== '');
      if (pm === 'apk') versions = lines.map((l) => l.trim().slice(name.length + 1));
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
