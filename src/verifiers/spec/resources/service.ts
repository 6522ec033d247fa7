import { joinSh, NOTHING, sh } from '../shell.js';
import type { ResourceDef } from '../types.js';
import { firstLine, out, rc, target, wants } from './common.js';

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
  attrs: { enabled: 'value', running: 'value' },
  options: ['name'],
  validate: (r) => serviceNameProblem(target(r, 'name')),
  probe(r, { id, val }) {
    const raw = target(r, 'name');
    const n = val(raw);
    const script = val(scriptName(raw));
    const en = wants(r, 'enabled');
    const run = wants(r, 'running');
    const initStatus = sh`if [ -x /etc/init.d/${script} ]; then hm_run ${id} run /etc/init.d/${script} status; else hm_val ${id} run.rc 3; hm_val ${id} run.none 1; fi`;
    return joinSh([
      sh`case "$HM_INIT" in`,
      sh`systemd) ${en ? sh`hm_run ${id} en systemctl is-enabled -- ${n};` : NOTHING} ${run ? sh`hm_run ${id} run systemctl is-active -- ${n};` : NOTHING} ;;`,
      sh`openrc) ${en ? sh`hm_found ${id} en /etc/runlevels/*/${script};` : NOTHING} ${run ? sh`${initStatus};` : NOTHING} ;;`,
      sh`sysv) ${en ? sh`hm_found ${id} en /etc/rc*.d/S[0-9][0-9]${script};` : NOTHING} ${run ? sh`${initStatus};` : NOTHING} ;;`,
      sh`esac`,
    ]);
  },
  observe(r, data) {
    const init = data.facts.get('init') ?? 'none';
    const res: Record<string, import('../types.js').Observation> = {};
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
      const code = rc(data, prefix);
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
