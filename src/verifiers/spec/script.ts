/**
 * Builds the one POSIX sh script that probes every resource of a suite.
 *
 * Contract with framing.ts: the script writes nothing to stdout but framed
 * records, so arbitrary command output can never be confused with the framing:
 *   @@V <id> <field> <value>        a value the script itself produced (integers, words)
 *   @@R <id> <field>                followed by raw bytes as they are, then a newline
 *   @@E<boundary>                   and this end line; the boundary is random per
 *                                   run, so no probed content can contain it
 *   @@B <id> <uptime> / @@D <id> <uptime>   start and end of a probe (centisecond clock)
 *   @@DONE                          the script ran to its end
 *
 * Speed: on a target every fork+exec costs (about 25 ms each on an emulated
 * VM), so the script forks as little as it can: raw framing needs no encoder
 * (no base64 per field), data many resources share is read in one batch
 * (one `stat` for every file, one `getent` for every user, one `grep` for every
 * kernel parameter, one package list), /proc tables and process names are read
 * with shell builtins, and helpers run commands without an extra subshell when
 * the command is ours. What stays is one process per user command, per file
 * whose contents are read, and per tool a resource needs.
 * Every probed command gets stdin from /dev/null: the script itself arrives on
 * stdin (`sh -s`), and a command reading stdin would otherwise eat it.
 * Runs under dash, busybox sh and bash; needs only a shell and coreutils, plus
 * the tool a resource needs (detected here, on the target).
 */
import { randomBytes } from 'node:crypto';
import { shq } from './shell.js';
import type { ResourceDef, ResourceSpec } from './types.js';

export const PRELUDE = String.raw`umask 077
PATH="$PATH:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
LC_ALL=C; export LC_ALL PATH
HM_T=$(mktemp -d 2>/dev/null) || HM_T=
if [ -z "$HM_T" ]; then HM_T=/tmp/hallmark-spec.$$; mkdir -m 700 "$HM_T" || exit 97; fi
trap 'rm -rf "$HM_T"' EXIT
trap 'exit 130' INT TERM HUP
hm_has() { command -v "$1" >/dev/null 2>&1; }
hm_val() { printf '@@V %s %s %s\n' "$1" "$2" "$3"; }
hm_open() { printf '@@R %s %s\n' "$1" "$2"; }
hm_close() { printf '\n@@E%s\n' "$HM_B"; }
hm_file() { hm_open "$1" "$2"; case "$3" in "$HM_T"/*) if [ -s "$3" ]; then cat "$3"; fi ;; *) cat "$3" ;; esac; hm_close; }
hm_lines() { hm_open "$1" "$2"; while IFS= read -r _l || [ -n "$_l" ]; do printf '%s\n' "$_l"; done <"$3"; hm_close; }
hm_str() { hm_open "$1" "$2"; printf '%s' "$3"; hm_close; }
hm_now() { HM_NOW=0; if [ -r /proc/uptime ]; then read -r HM_NOW _r </proc/uptime; fi; }
hm_begin() { hm_now; printf '@@B %s %s\n' "$1" "$HM_NOW"; }
hm_end() { hm_now; printf '@@D %s %s\n' "$1" "$HM_NOW"; }
hm_cap() { hm_open "$1" "$2.out"; (eval "$3") 2>"$HM_T/e" </dev/null; _rc=$?; hm_close; hm_val "$1" "$2.rc" "$_rc"; hm_file "$1" "$2.err" "$HM_T/e"; }
hm_run() { _i=$1; _f=$2; shift 2; hm_open "$_i" "$_f.out"; "$@" 2>"$HM_T/e" </dev/null; _rc=$?; hm_close; hm_val "$_i" "$_f.rc" "$_rc"; hm_file "$_i" "$_f.err" "$HM_T/e"; }
if hm_has dpkg-query; then HM_PKG=dpkg; elif hm_has rpm; then HM_PKG=rpm; elif hm_has apk; then HM_PKG=apk; elif hm_has pacman; then HM_PKG=pacman; else HM_PKG=none; fi
if [ -d /run/systemd/system ]; then HM_INIT=systemd; elif hm_has rc-service; then HM_INIT=openrc; elif [ -d /etc/init.d ]; then HM_INIT=sysv; else HM_INIT=none; fi
hm_val _ pkg "$HM_PKG"; hm_val _ init "$HM_INIT"
`;

/**
 * Only for suites with commands. Each command runs in a subshell of the script
 * (a fork, no exec: the biggest saving, since timeout(1) + sh -c cost two
 * execs per command), with a watchdog subshell that sleeps for the command's
 * timeout and then kills the command and everything it started (children
 * found with pgrep when the target has it). As soon as the command returns,
 * its sleep is killed (the watchdog leaves the sleep's pid in a file, which the
 * script waits for, so no sleep outlives its command), and the watchdog,
 * whose wait then fails, ends without killing anything. The sleep gets KILL,
 * not TERM: between fork and exec the child still has the script's TERM trap,
 * which swallows the signal (bash, about one run in five), and the script
 * then waited out the whole timeout. Commands see no stdin.
 */
export const COMMAND_PRELUDE = String.raw`hm_killtree() { _k=; if hm_has pgrep; then _k=$(pgrep -P "$1" 2>/dev/null); fi; kill -9 "$1" 2>/dev/null; for _c in $_k; do hm_killtree "$_c"; done; }
hm_cmd() {
  hm_now; _s=$HM_NOW; : >"$HM_T/w"
  ( _c=$3; set --; eval "$_c" ) >"$HM_T/o" 2>"$HM_T/e" </dev/null & _p=$!
  ( sleep "$2" & echo "$!" >"$HM_T/w"; wait "$!" && hm_killtree "$_p" ) >/dev/null 2>&1 </dev/null & _w=$!
  wait "$_p"; _rc=$?
  _n=0; until read -r _sl <"$HM_T/w"; do _n=$((_n + 1)); if [ "$_n" -gt 100000 ]; then break; fi; done 2>/dev/null
  kill -9 "$_sl" 2>/dev/null; wait "$_w" 2>/dev/null
  hm_now; hm_val "$1" start "$_s"; hm_val "$1" end "$HM_NOW"; hm_val "$1" rc "$_rc"
  hm_file "$1" out "$HM_T/o"; hm_file "$1" err "$HM_T/e"
}
`;

/** `stat` output per file: %n last, so a `|` in a name cannot shift the fields. */
export const STAT_FORMAT = '%F|%a|%U|%G|%s|%u|%g|%n';

const args = (a: string[]) => a.map(shq).join(' ');

/** Target-wide facts gathered once, before the probes, when a resource type asks for them. */
export const FACTS: Record<string, string> = {
  net: String.raw`for _f in tcp tcp6 udp udp6; do if [ -r /proc/net/$_f ]; then hm_lines _ net.$_f /proc/net/$_f; fi; done`,
  procs: String.raw`if [ -d /proc/1 ]; then hm_open _ procs; for _f in /proc/[0-9]*/comm; do read -r _c <"$_f" 2>/dev/null && printf '%s\n' "$_c"; done; hm_close; elif hm_has ps; then hm_open _ procs; ps -e -o comm= 2>/dev/null </dev/null; hm_close; fi`,
  mounts: String.raw`if [ -r /proc/mounts ]; then hm_lines _ mounts /proc/mounts; fi`,
  // One query of the whole package database is far cheaper than one per package.
  pkgs: `case "$HM_PKG" in dpkg) hm_run _ pkgs dpkg-query -W -f='\${Package}\\t\${Status}\\t\${Version}\\n' ;; rpm) hm_run _ pkgs rpm -qa --qf '%{NAME}\\t%{VERSION}\\n' ;; esac`,
};

/**
 * Queries that answer many resources at once: each resource names its
 * arguments (`ResourceDef.batch`), and the script runs one command with all of
 * them. Results land in the facts (`_`) under the batch's name.
 */
export const BATCHES: Record<string, (a: string[]) => string> = {
  // lstat of every file path; the missing ones only add a line to stderr.
  stat: (a) => `hm_run _ stat stat -c ${shq(STAT_FORMAT)} ${args(a)}`,
  // The targets of the paths that are symlinks (decided on the target, with builtins).
  statL: (a) => `set --; for _p in ${args(a)}; do if [ -L "$_p" ]; then set -- "$@" "$_p"; fi; done; if [ $# -gt 0 ]; then hm_run _ statL stat -L -c ${shq(STAT_FORMAT)} "$@"; fi`,
  // Every kernel parameter's file, each line prefixed with its file name.
  sysctl: (a) => `hm_run _ sysctl grep -H '' ${args(a)}`,
  passwd: (a) => `if hm_has getent; then hm_run _ passwd getent passwd ${args(a)}; else hm_run _ passwd cat /etc/passwd; fi`,
  group: (a) => `if hm_has getent; then hm_run _ group getent group ${args(a)}; else hm_run _ group cat /etc/group; fi`,
};

export interface BuiltScript {
  script: string;
  /** Resources in probe order, with their probe ids set. */
  resources: ResourceSpec[];
  /** The end-of-data marker of this script's raw records (see framing.ts). */
  boundary: string;
}

export function buildScript(resources: ResourceSpec[], defs: Map<string, ResourceDef>, boundary = randomBytes(12).toString('hex')): BuiltScript {
  const facts = new Set<string>();
  const batches = new Map<string, Set<string>>();
  const body: string[] = [];
  const preludes = new Set<string>();
  resources.forEach((r, i) => {
    r.probeId = `r${i}`;
    if (r.skip || r.checks.length === 0) return;
    const def = defs.get(r.type)!;
    if (def.prelude) preludes.add(def.prelude);
    for (const f of def.facts ?? []) facts.add(f);
    for (const { kind, arg } of def.batch?.(r) ?? []) {
      let set = batches.get(kind);
      if (!set) batches.set(kind, (set = new Set()));
      set.add(arg);
    }
    const probe = def.probe(r);
    if (!probe) return;
    body.push(`# ${r.type}: ${r.key.replace(/\n/g, ' ')}`, `hm_begin ${r.probeId}`, probe, `hm_end ${r.probeId}`);
  });
  const parts = ['# generated by hallmark (spec verifier): probes only, all checks are evaluated by hallmark', `HM_B=${boundary}`, PRELUDE];
  parts.push(...preludes);
  for (const f of [...facts].sort()) parts.push(FACTS[f]!);
  for (const [kind, set] of [...batches].sort(([a], [b]) => a.localeCompare(b))) parts.push(BATCHES[kind]!([...set]));
  parts.push(...body, `printf '@@DONE\\n'`, '');
  return { script: parts.join('\n'), resources, boundary };
}
