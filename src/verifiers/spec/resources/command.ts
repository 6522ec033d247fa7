import { COMMAND_PRELUDE } from '../script.js';
import { shq } from '../shell.js';
import type { Observation, ResourceDef } from '../types.js';

export const DEFAULT_COMMAND_TIMEOUT_MS = 10_000;

function timeoutMs(v: unknown): number {
  return typeof v === 'number' && v > 0 ? v : DEFAULT_COMMAND_TIMEOUT_MS;
}

/**
 * `command`: exit-status (required, as in goss), stdout, stderr (line patterns).
 * `exec` defaults to the key and runs in a subshell of the check script (so it
 * can see the script's `HM_`/`_`-prefixed shell variables, nothing else of
 * it); `timeout` is in milliseconds (goss), default 10 s, enforced by a
 * watchdog that kills the command and its children (see COMMAND_PRELUDE).
 * A command that hits its timeout is an `error` for every attribute.
 */
export const commandDef: ResourceDef = {
  type: 'command',
  attrs: { 'exit-status': 'value', stdout: 'patterns', stderr: 'patterns' },
  options: ['exec', 'timeout'],
  required: ['exit-status'],
  prelude: COMMAND_PRELUDE,
  validate(r) {
    const t = r.options.timeout;
    if (t !== undefined && (typeof t !== 'number' || t <= 0)) return `timeout must be a positive number of milliseconds, found ${JSON.stringify(t)}`;
    const e = r.options.exec;
    if (e !== undefined && typeof e !== 'string') return `exec must be a string, found ${JSON.stringify(e)}`;
    return undefined;
  },
  probe(r) {
    const exec = typeof r.options.exec === 'string' ? r.options.exec : r.key;
    const secs = (timeoutMs(r.options.timeout) / 1000).toFixed(3).replace(/\.?0+$/, '');
    return `hm_cmd ${r.probeId} ${secs} ${shq(exec)}`;
  },
  observe(r, data) {
    const rcs = data.own.get('rc');
    if (rcs === undefined) return Object.fromEntries(r.checks.map((c) => [c.name, { error: 'command did not report back' }]));
    const code = Number(rcs);
    const ms = timeoutMs(r.options.timeout);
    const elapsedCs = Number(data.own.get('end') ?? 0) * 100 - Number(data.own.get('start') ?? 0) * 100;
    const killed = code === 124 || code === 137 || code === 143;
    const hasClock = Number(data.own.get('end') ?? 0) > 0;
    if (killed && (code === 124 || !hasClock || elapsedCs >= ms / 10 - 2)) {
      const e: Observation = { error: `timed out after ${ms / 1000} s (exit ${code})` };
      return { 'exit-status': e, stdout: e, stderr: e };
    }
    return {
      'exit-status': { value: code },
      stdout: { value: data.own.get('out') ?? '' },
      stderr: { value: data.own.get('err') ?? '' },
    };
  },
};
