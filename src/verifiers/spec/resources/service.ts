import { code, joinSh, NOTHING, sh } from '../shell.js';
import type { Observation, ProbeData, ResourceDef } from '../types.js';
import { firstLine, out, rc, target, wants } from './common.js';

/**
 * `hm_levels ID FIELD PATH...`: for each of the (globbed) paths that exists,
 * the name of its directory (`rc3.d`, `default`), one a line, and FIELD.rc 0
 * when there was one. Only our directory names are printed, never the
 * service's name, so no name can forge a line.
 */
const LEVELS_PRELUDE = code`hm_levels() { _i=$1; _f=$2; shift 2; hm_capture "$_i" "$_f"; _x=1; for _p in "$@"; do if [ -e "$_p" ] || [ -L "$_p" ]; then _x=0; _p=$\{_p%/*}; printf '%s\n' "$\{_p##*/}"; fi; done >"$HM_F"; hm_val "$_i" "$_f.rc" "$_x"; }`;

/**
 * goss's runlevels of a service (system/service_init.go): SysV, the N of each
 * /etc/rcN.d holding an S??name link (rcS.d is not a runlevel); OpenRC, the
 * /etc/runlevels directories holding name. Glob order, duplicates kept.
 * systemd has none (goss: nil).
 */
function runlevels(init: string, data: ProbeData): string[] {
  if (init !== 'sysv' && init !== 'openrc') return [];
  const dirs = (data.own.get('lv') ?? '').split('\n').filter(Boolean);
  if (init === 'openrc') return dirs;
  return dirs.flatMap((d) => /^rc([0-9]+)\.d$/.exec(d)?.[1] ?? []);
}

/** The init script's name: the service name without `.service`. */
function scriptName(name: string): string {
  return name.replace(/\.service$/, '');
}

/**
 * Why `name` cannot be a service name (goss calls a name with "/" invalid, and
 * answers false for it). The init script's name is checked too: "...service"
 * would be "..", and /etc/runlevels/LEVEL/.. exists.
 */
export function serviceNameProblem(name: string): string | undefined {
  if (name.includes('/')) return `${JSON.stringify(name)} is not a service name: it contains "/" (goss treats such a name as invalid)`;
  if (['', '.', '..'].includes(name) || ['', '.', '..'].includes(scriptName(name))) return `${JSON.stringify(name)} is not a service name`;
  return undefined;
}

/**
 * `service`: enabled, running, as the init system reports them (goss does not
 * look for the process either). systemd: `systemctl is-enabled` / `is-active`
 * exit 0 (as goss). OpenRC: a link in /etc/runlevels/* and
 * `/etc/init.d/<name> status`. SysV (no systemd running, e.g. a container):
 * an S link in /etc/rc*.d (goss's glob) and `/etc/init.d/<name> status`. No
 * init system at all is an error, not a pass.
 */
export const serviceDef: ResourceDef = {
  type: 'service',
  attrs: { enabled: 'value', running: 'value', runlevels: 'value' },
  options: ['name'],
  prelude: LEVELS_PRELUDE,
  validate: (r) => serviceNameProblem(target(r, 'name')),
  probe(r, { id, val }) {
    const raw = target(r, 'name');
    const n = val(raw);
    const script = val(scriptName(raw));
    // goss: a SysV service is enabled when it has a runlevel; OpenRC when it is in one.
    const en = wants(r, 'enabled');
    const lv = en || wants(r, 'runlevels');
    const run = wants(r, 'running');
    const initStatus = sh`if [ -x /etc/init.d/${script} ]; then hm_run ${id} run /etc/init.d/${script} status; else hm_val ${id} run.rc 3; hm_val ${id} run.none 1; fi`;
    return joinSh([
      sh`case "$HM_INIT" in`,
      sh`systemd) ${en ? sh`hm_run ${id} en systemctl is-enabled -- ${n};` : NOTHING} ${run ? sh`hm_run ${id} run systemctl is-active -- ${n};` : NOTHING} ;;`,
      sh`openrc) ${lv ? sh`hm_levels ${id} lv /etc/runlevels/*/${script};` : NOTHING} ${run ? sh`${initStatus};` : NOTHING} ;;`,
      sh`sysv) ${lv ? sh`hm_levels ${id} lv /etc/rc*.d/S[0-9][0-9]${script};` : NOTHING} ${run ? sh`${initStatus};` : NOTHING} ;;`,
      sh`esac`,
    ]);
  },
  observe(r, data) {
    const init = data.facts.get('init') ?? 'none';
    const res: Record<string, Observation> = {};
    if (wants(r, 'runlevels')) {
      if (init === 'none') res.runlevels = { error: 'no init system found on the target (no systemd running, no OpenRC, no /etc/init.d)' };
      else if (init !== 'systemd' && rc(data, 'lv') === undefined) res.runlevels = { error: `${init} query did not report back` };
      else res.runlevels = { value: runlevels(init, data) };
    }
    const how: Record<string, string> = {
      'systemd.en': 'systemctl is-enabled',
      'systemd.run': 'systemctl is-active',
      'openrc.en': '/etc/runlevels links',
      'openrc.run': 'init script status',
      'sysv.en': '/etc/rc*.d links',
      'sysv.run': 'init script status',
    };
    for (const [attr, prefix] of [
      ['enabled', 'en'],
      ['running', 'run'],
    ] as const) {
      if (!wants(r, attr)) continue;
      if (init === 'none') {
        res[attr] = { error: 'no init system found on the target (no systemd running, no OpenRC, no /etc/init.d)' };
        continue;
      }
      const code = prefix === 'en' && init !== 'systemd' ? (rc(data, 'lv') === undefined ? undefined : runlevels(init, data).length > 0 ? 0 : 1) : rc(data, prefix);
      if (code === undefined) {
        res[attr] = { error: `${init} query did not report back` };
        continue;
      }
      const value = code === 0;
      const script = `/etc/init.d/${scriptName(target(r, 'name'))}`;
      const said =
        prefix === 'en' && init !== 'systemd'
          ? value
            ? 'found'
            : 'none'
          : data.own.get(`${prefix}.none`) === '1'
            ? `no ${script} script`
            : firstLine(out(data, prefix)) || `exit ${code}`;
      res[attr] = { value, shown: `${value} (${how[`${init}.${prefix}`]}: ${said})` };
    }
    return res;
  },
};
