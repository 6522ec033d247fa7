/**
 * Builds the one POSIX sh script that probes every resource of a suite.
 *
 * Layout: the target's environment is saved (for commands) and LC_ALL=C set;
 * then the data section (`HM_V<n>='...'`, every gossfile value, see shell.ts);
 * then the helpers; then the user's commands; then the shared facts and
 * batched queries; then the other probes; then the captured output.
 *
 * Output contract with framing.ts. The script's stdout carries only lines
 * the script writes itself, made of words it chose:
 *   @@V <id> <field> <word>     a value of the script's own (exit status, clock, tool name)
 *   @@F <id> <field> <n>        the field's raw bytes are capture file <n> (1, 2, 3, ... in order)
 *   @@B <id> <t> / @@D <id> <t> start and end of a probe (/proc/uptime)
 * Everything that came from the target (tool output, file contents, command
 * output) goes to capture files, and is sent once at the end, after every
 * command has ended, by length: `@@S`, then `wc -c` of the captures, then
 * `@@X b64` (or `hex`) and the captures concatenated and encoded, then
 * `@@DONE <n>`. There is no boundary or other secret a command could learn,
 * and nothing a command prints is ever read as framing.
 *
 * Speed: on a target every fork+exec costs (about 25 ms each on an emulated
 * VM), so the script forks as little as it can: data many resources share is
 * read in one batch (one `stat` for every file, one `getent` for every user,
 * one `grep` for every kernel parameter, one package list), /proc and /sys
 * files are read with shell builtins, and all captured output leaves in three
 * processes (wc, cat, base64). Every tool gets stdin from /dev/null: the
 * script itself arrives on stdin (`sh -s`), and a tool reading stdin would
 * otherwise eat it. Runs under dash, busybox sh and bash.
 */
import { code, joinSh, NOTHING, sh, ValueTable, word, type Sh } from './shell.js';
import type { ResourceDef, ResourceSpec } from './types.js';

/** Saves what commands must get back (PATH, LC_ALL), then sets the script's own. */
export const SETUP = code`HM_PATH0=$PATH; HM_LCSET=$\{LC_ALL+1}; HM_LC0=$\{LC_ALL-}
PATH="$PATH:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
LC_ALL=C; export LC_ALL PATH`;

export const PRELUDE = code`HM_T=$(mktemp -d 2>/dev/null) || HM_T=
if [ -z "$HM_T" ]; then HM_T=/tmp/hallmark-spec.$$; mkdir -m 700 "$HM_T" || exit 97; fi
trap 'cd /; rm -rf "$HM_T"' EXIT
trap 'exit 130' INT TERM HUP
HM_N=0
hm_has() { command -v "$1" >/dev/null 2>&1; }
hm_val() { printf '@@V %s %s %s\n' "$1" "$2" "$3"; }
hm_capture() { HM_N=$((HM_N + 1)); HM_F=$HM_T/$HM_N; : >"$HM_F"; printf '@@F %s %s %s\n' "$1" "$2" "$HM_N"; }
hm_str() { hm_capture "$1" "$2"; printf '%s' "$3" >"$HM_F"; }
hm_read() { hm_capture "$1" "$2"; { while IFS= read -r _l || [ -n "$_l" ]; do printf '%s\n' "$_l"; done <"$3"; } >"$HM_F" 2>/dev/null; }
hm_run() { _i=$1; _f=$2; shift 2; hm_capture "$_i" "$_f.out"; _o=$HM_F; hm_capture "$_i" "$_f.err"; "$@" >"$_o" 2>"$HM_F" </dev/null; HM_RC=$?; hm_val "$_i" "$_f.rc" "$HM_RC"; }
hm_runin() { _i=$1; _f=$2; _in=$3; shift 3; hm_capture "$_i" "$_f.out"; _o=$HM_F; hm_capture "$_i" "$_f.err"; "$@" >"$_o" 2>"$HM_F" <"$_in"; HM_RC=$?; hm_val "$_i" "$_f.rc" "$HM_RC"; }
hm_found() { _i=$1; _f=$2; shift 2; hm_capture "$_i" "$_f"; _x=1; for _p in "$@"; do if [ -e "$_p" ] || [ -L "$_p" ]; then _x=0; printf '%s\n' "$_p"; fi; done >"$HM_F"; hm_val "$_i" "$_f.rc" "$_x"; }
hm_now() { HM_NOW=0; if [ -r /proc/uptime ]; then read -r HM_NOW _r </proc/uptime; fi; }
hm_begin() { hm_now; printf '@@B %s %s\n' "$1" "$HM_NOW"; }
hm_end() { hm_now; printf '@@D %s %s\n' "$1" "$HM_NOW"; }
hm_finish() {
  printf '@@S\n'; cd "$HM_T" || exit 97
  if [ "$HM_N" -gt 0 ]; then wc -c -- [0-9]* </dev/null; fi
  if hm_has base64; then printf '@@X b64\n'; if [ "$HM_N" -gt 0 ]; then cat -- [0-9]* </dev/null | base64; fi
  else printf '@@X hex\n'; if [ "$HM_N" -gt 0 ]; then od -An -v -tx1 -- [0-9]* </dev/null; fi; fi
  printf '@@DONE %s\n' "$HM_N"
}`;

/** Package manager and init system of the target (facts `_ pkg`, `_ init`). */
export const DETECT = code`if hm_has dpkg-query; then HM_PKG=dpkg; elif hm_has rpm; then HM_PKG=rpm; elif hm_has apk; then HM_PKG=apk; elif hm_has pacman; then HM_PKG=pacman; else HM_PKG=none; fi
if [ -d /run/systemd/system ]; then HM_INIT=systemd; elif hm_has rc-service; then HM_INIT=openrc; elif [ -d /etc/init.d ]; then HM_INIT=sysv; else HM_INIT=none; fi
hm_val _ pkg "$HM_PKG"; hm_val _ init "$HM_INIT"`;

/**
 * Only for suites with commands. `hm_cmd ID SECONDS COMMAND` runs COMMAND as
 * goss does, `sh -c COMMAND`, with the target's PATH, locale and umask, no
 * stdin, and none of the script's variables or functions (a fresh sh). Its
 * stdout and stderr go to capture files, read only after the last command.
 *
 * The timeout: a watchdog subshell sleeps for it, then marks the command
 * timed out (file k<n>) and kills, with SIGKILL, every descendant of the
 * script but itself (found in /proc with builtins, each process's children
 * listed before it dies). The command runs in the foreground, so it gets
 * the signal dispositions goss gives (a background job would ignore SIGINT
 * and SIGQUIT). As soon as the command returns, the watchdog's sleep is
 * killed (its pid is in file w, which the script waits for, so no sleep
 * outlives its command); the sleep gets KILL, not TERM: between fork and exec
 * the child still has the script's TERM trap, which swallows TERM.
 */
export const COMMAND_PRELUDE = code`hm_env() { PATH=$HM_PATH0; if [ -n "$HM_LCSET" ]; then LC_ALL=$HM_LC0; else unset LC_ALL; fi; }
hm_kill() {
  _k=
  for _s in /proc/[0-9]*/stat; do
    { IFS= read -r _l <"$_s"; } 2>/dev/null || continue
    _l=$\{_l##*) }; _l=$\{_l#* }
    if [ "$\{_l%% *}" = "$1" ]; then _l=$\{_s#/proc/}; _k="$_k $\{_l%/stat}"; fi
  done
  if [ "$1" != "$$" ]; then kill -9 "$1" 2>/dev/null; fi
  for _c in $_k; do if [ "$_c" != "$2" ]; then hm_kill "$_c" "$2"; fi; done
}
hm_cmd() {
  hm_capture "$1" out; _o=$HM_F; hm_capture "$1" err; _e=$HM_F; _km=$HM_T/k$HM_N
  : >"$HM_T/w"; hm_now; _s=$HM_NOW
  ( { read -r _me _r </proc/self/stat; } 2>/dev/null; sleep "$2" & echo "$!" >"$HM_T/w"; wait "$!" && { : >"$_km"; hm_kill "$$" "$_me"; } ) >/dev/null 2>&1 </dev/null &
  _w=$!
  ( hm_env; exec sh -c "$3" ) >"$_o" 2>"$_e" </dev/null
  _rc=$?
  _n=0; until read -r _sl <"$HM_T/w"; do _n=$((_n + 1)); if [ "$_n" -gt 100000 ]; then break; fi; done 2>/dev/null
  kill -9 "$_sl" 2>/dev/null; wait "$_w" 2>/dev/null
  hm_now; hm_val "$1" start "$_s"; hm_val "$1" end "$HM_NOW"; hm_val "$1" rc "$_rc"
  if [ -e "$_km" ]; then hm_val "$1" timedout 1; fi
}`;

/** `stat` output per file: %n last, so a `|` in a name cannot shift the fields. */
export const STAT_FORMAT = '%F|%a|%U|%G|%s|%u|%g|%n';

/** Target-wide facts gathered once, before the probes that need them. Results land in `_`. */
export const FACTS: Record<string, Sh> = {
  net: sh`for _f in tcp tcp6 udp udp6; do if [ -r /proc/net/$_f ]; then hm_read _ net.$_f /proc/net/$_f; fi; done`,
  procs: sh`if [ -d /proc/1 ]; then hm_capture _ procs; for _f in /proc/[0-9]*/comm; do { IFS= read -r _c <"$_f"; } 2>/dev/null && printf '%s\n' "$_c"; done >"$HM_F"; elif hm_has ps; then hm_capture _ procs; ps -e -o comm= >"$HM_F" 2>/dev/null </dev/null; fi`,
  mountinfo: sh`if [ -r /proc/self/mountinfo ]; then hm_read _ mountinfo /proc/self/mountinfo; fi`,
  // One query of the whole package database is far cheaper than one per package.
  // dpkg: name, architecture, status, version; rpm: name, arch, version, release, and the version as goss reports it ([EPOCH:]VERSION-RELEASE).
  pkgs: sh`case "$HM_PKG" in dpkg) hm_run _ pkgs dpkg-query -W -f='$\{Package}\t$\{Architecture}\t$\{Status}\t$\{Version}\n' ;; rpm) hm_run _ pkgs rpm -qa --qf '%{NAME}\t%{ARCH}\t%{VERSION}\t%{RELEASE}\t%|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE}\n' ;; esac`,
};

/**
 * Queries that answer many resources at once: each resource names its
 * arguments (`ResourceDef.batch`), every argument is a value (bound like any
 * other), and the script runs one command with all of them, after `--`.
 * Results land in the facts (`_`) under the batch's name.
 */
export const BATCHES: Record<string, (args: readonly Sh[], val: (v: string) => Sh) => Sh> = {
  // lstat of every file path; the missing ones only add a line to stderr.
  stat: (a, val) => sh`hm_run _ stat stat -c ${val(STAT_FORMAT)} -- ${a}`,
  // The targets of the paths that are symlinks (decided on the target, with builtins).
  statL: (a, val) => sh`set --; for _p in ${a}; do if [ -L "$_p" ]; then set -- "$@" "$_p"; fi; done; if [ $# -gt 0 ]; then hm_run _ statL stat -L -c ${val(STAT_FORMAT)} -- "$@"; fi`,
  // Every kernel parameter's file, each line prefixed with its file name.
  sysctl: (a) => sh`hm_run _ sysctl grep -H '' -- ${a}`,
  passwd: (a) => sh`if hm_has getent; then hm_run _ passwd getent passwd -- ${a}; else hm_run _ passwd cat /etc/passwd; fi`,
  group: (a) => sh`if hm_has getent; then hm_run _ group getent group -- ${a}; else hm_run _ group cat /etc/group; fi`,
};

export interface BuiltScript {
  script: string;
  /** Resources in gossfile order, with their probe ids set. */
  resources: ResourceSpec[];
}

/** Whether the resource's type has a probe for it (a resource without one is evaluated from facts or locally). */
export function hasProbe(def: ResourceDef, r: ResourceSpec): boolean {
  const values = new ValueTable();
  return def.probe(r, { id: word('r'), val: (v) => values.bind(v) }).text !== '';
}

export function buildScript(resources: ResourceSpec[], defs: Map<string, ResourceDef>): BuiltScript {
  const values = new ValueTable();
  const val = (v: string) => values.bind(v);
  const facts = new Set<string>();
  const batches = new Map<string, Set<string>>();
  const first: Sh[] = [];
  const rest: Sh[] = [];
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
    const id = word(r.probeId);
    const probe = def.probe(r, { id, val });
    if (probe === NOTHING || probe.text === '') return;
    // No value in comments either: the type is ours, the key is not.
    (def.runsUserCode ? first : rest).push(sh`# ${id}: ${word(r.type.replace(/-/g, '_'))}`, sh`hm_begin ${id}`, probe, sh`hm_end ${id}`);
  });
  const gather: Sh[] = [...[...facts].sort().map((f) => FACTS[f]!)];
  for (const [kind, set] of [...batches].sort(([a], [b]) => a.localeCompare(b))) gather.push(BATCHES[kind]!([...set].map(val), val));
  const body = joinSh([...first, ...gather, ...rest]).text;
  const parts = ['# generated by hallmark (spec verifier): probes only, every check is evaluated by hallmark', SETUP, values.section(), PRELUDE, ...preludes, DETECT, body, 'hm_finish', ''];
  return { script: parts.filter((p, i) => p !== '' || i === parts.length - 1).join('\n'), resources };
}
