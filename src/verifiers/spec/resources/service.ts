import { shq } from '../shell.js';
import type { ResourceDef } from '../types.js';
import { firstLine, out, rc, target, wants } from './common.js';

/**
 * `service`: enabled, running, as the init system reports them (goss does not
 * look for the process either). systemd: `systemctl -q is-enabled` / `is-active`
 * exit 0 (as goss). OpenRC: a link in /etc/runlevels/* and `rc-service status`.
 * SysV (no systemd running, e.g. a container): an S link in /etc/rc[2-5].d and
 * `/etc/init.d/<name> status`. No init system at all is an error, not a pass.
 */
export const serviceDef: ResourceDef = {
  type: 'service',
  attrs: { enabled: 'value', running: 'value' },
  options: ['name'],
  probe(r) {
    const raw = target(r, 'name');
    const n = shq(raw);
    const id = r.probeId;
    const sysvName = shq(raw.replace(/\.service$/, ''));
    const lines = [`case "$HM_INIT" in`];
    lines.push(
      `systemd) ${wants(r, 'enabled') ? `hm_cap ${id} en ${shq(`systemctl is-enabled ${n}`)};` : ''} ${wants(r, 'running') ? `hm_cap ${id} run ${shq(`systemctl is-active ${n}`)};` : ''} ;;`,
      `openrc) ${wants(r, 'enabled') ? `hm_cap ${id} en ${shq(`ls /etc/runlevels/*/${n}`)};` : ''} ${wants(r, 'running') ? `hm_cap ${id} run ${shq(`rc-service ${n} status`)};` : ''} ;;`,
      `sysv) ${wants(r, 'enabled') ? `hm_cap ${id} en ${shq(`ls /etc/rc[2345].d/S[0-9][0-9]${sysvName}`)};` : ''} ${wants(r, 'running') ? `hm_cap ${id} run ${shq(`if [ -x /etc/init.d/${sysvName} ]; then /etc/init.d/${sysvName} status; else echo "no /etc/init.d/${raw.replace(/'/g, '')} script"; exit 3; fi`)};` : ''} ;;`,
      `esac`,
    );
    return lines.join('\n');
  },
  observe(r, data) {
    const init = data.facts.get('init') ?? 'none';
    const res: Record<string, import('../types.js').Observation> = {};
    const how: Record<string, string> = {
      'systemd.en': 'systemctl is-enabled',
      'systemd.run': 'systemctl is-active',
      'openrc.en': 'rc-update',
      'openrc.run': 'rc-service status',
      'sysv.en': '/etc/rc?.d links',
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
      const said = firstLine(out(data, prefix)) || `exit ${code}`;
      const value = code === 0;
      res[attr] = { value, shown: `${value} (${how[`${init}.${prefix}`]}: ${init === 'sysv' && prefix === 'en' ? (value ? 'found' : 'none') : said})` };
    }
    return res;
  },
};
