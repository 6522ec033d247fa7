import { RETRY_OPTIONS } from '../retry.js';
import { COMMAND_PRELUDE } from '../script.js';
import { sh } from '../shell.js';
import type { Observation, ResourceDef } from '../types.js';

export const DEFAULT_COMMAND_TIMEOUT_MS = 10_000;
/** A day: longer is a mistake (and would not fit the whole script's timeout). */
const MAX_TIMEOUT_MS = 86_400_000;

function timeoutMs(v: unknown): number {
  return typeof v === 'number' && v > 0 ? v : DEFAULT_COMMAND_TIMEOUT_MS;
}

/**
 * `command`: exit-status (required, as in goss), stdout, stderr (line patterns).
 * `exec` defaults to the key and runs as goss runs it: `sh -c <exec>`, with
 * the target's environment, PATH, locale and umask, no stdin, and nothing of
 * the check script visible (see COMMAND_PRELUDE). Commands run before every
 * other probe, and what they print is captured and only read by length, so
 * a command cannot make another check pass or fail by what it prints.
 * `timeout` is in milliseconds (goss), default 10 s, enforced by a watchdog
 * that kills the command and everything it started; a command that hits it
 * is an `error` for every attribute (goss: "Command execution timed out").
 * Only the watchdog says a command timed out: an exit status of 124 or 137
 * of the command's own is reported as it is.
 */
export const commandDef: ResourceDef = {
  type: 'command',
  attrs: { 'exit-status': 'value', stdout: 'patterns', stderr: 'patterns' },
  options: ['exec', 'timeout', ...RETRY_OPTIONS],
  required: ['exit-status'],
  prelude: COMMAND_PRELUDE,
  runsUserCode: true,
  validate(r) {
    const t = r.options.timeout;
    if (t !== undefined && (typeof t !== 'number' || !(t > 0) || t > MAX_TIMEOUT_MS)) {
      return `timeout must be a number of milliseconds from 1 to ${MAX_TIMEOUT_MS}, found ${JSON.stringify(t)}`;
    }
    const e = r.options.exec;
    if (e !== undefined && typeof e !== 'string') return `exec must be a string, found ${JSON.stringify(e)}`;
    return undefined;
  },
  probe(r, { id, val }) {
    const exec = typeof r.options.exec === 'string' ? r.options.exec : r.key;
    const secs = Math.max(1, Math.round(timeoutMs(r.options.timeout))) / 1000;
    return sh`hm_cmd ${id} ${secs} ${val(exec)}`;
  },
  observe(r, data) {
    const rcs = data.own.get('rc');
    const out = data.own.get('out');
    const err = data.own.get('err');
    if (rcs === undefined || out === undefined || err === undefined) return Object.fromEntries(r.checks.map((c) => [c.name, { error: 'command did not report back' }]));
    if (data.own.get('timedout') === '1') {
      const e: Observation = { error: `timed out after ${timeoutMs(r.options.timeout) / 1000} s (killed, with everything it started)` };
      return { 'exit-status': e, stdout: e, stderr: e };
    }
    return { 'exit-status': { value: Number(rcs) }, stdout: { value: out }, stderr: { value: err } };
  },
};
