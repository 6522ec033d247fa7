/**
 * Builds the one POSIX sh script that probes every resource of a suite.
 *
 * Contract with framing.ts: the script writes nothing to stdout but framed
 * records, one per line, so arbitrary command output can never be confused
 * with the framing:
 *   @@V <id> <field> <value>        a value the script itself produced (integers, words)
 *   @@F <id> <field> <b64|hex>      followed by the raw data encoded with base64(1)
 *   ...                             (or `od -An -tx1` when base64 is missing),
 *   @@E                             then this end line
 *   @@B <id> <uptime> / @@D <id> <uptime>   start and end of a probe (centisecond clock)
 *   @@DONE                          the script ran to its end
 * An empty temporary file is sent without running base64 (a fork saved per
 * empty stderr); /proc files report size 0 and are always encoded.
 * Every probed command gets stdin from /dev/null: the script itself arrives on
 * stdin (`sh -s`), and a command reading stdin would otherwise eat it.
 * Runs under dash, busybox sh and bash; needs only a shell and coreutils, plus
 * the tool a resource needs (detected here, on the target).
 */
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
if hm_has base64; then HM_ENC=b64; else HM_ENC=hex; fi
hm_enc() { if [ "$HM_ENC" = b64 ]; then base64 <"$1"; else od -An -v -tx1 <"$1"; fi; }
hm_file() { printf '@@F %s %s %s\n' "$1" "$2" "$HM_ENC"; case "$3" in "$HM_T"/*) if [ -s "$3" ]; then hm_enc "$3"; fi ;; *) hm_enc "$3" ;; esac; printf '@@E\n'; }
hm_str() { printf '%s' "$3" >"$HM_T/s"; hm_file "$1" "$2" "$HM_T/s"; }
hm_val() { printf '@@V %s %s %s\n' "$1" "$2" "$3"; }
hm_now() { HM_NOW=0; if [ -r /proc/uptime ]; then read -r HM_NOW _r </proc/uptime; fi; }
hm_begin() { hm_now; printf '@@B %s %s\n' "$1" "$HM_NOW"; }
hm_end() { hm_now; printf '@@D %s %s\n' "$1" "$HM_NOW"; }
hm_cap() { (eval "$3") >"$HM_T/o" 2>"$HM_T/e" </dev/null; hm_val "$1" "$2.rc" $?; hm_file "$1" "$2.out" "$HM_T/o"; hm_file "$1" "$2.err" "$HM_T/e"; }
if hm_has timeout; then if timeout --version 2>/dev/null | grep -q GNU; then HM_TO=gnu; else HM_TO=busybox; fi; else HM_TO=none; fi
hm_cmd() {
  hm_now; _s=$HM_NOW
  if [ "$HM_TO" = gnu ]; then timeout -k 2 "$2" sh -c "$3" >"$HM_T/o" 2>"$HM_T/e" </dev/null; _rc=$?
  elif [ "$HM_TO" = busybox ]; then timeout -s KILL "$2" sh -c "$3" >"$HM_T/o" 2>"$HM_T/e" </dev/null; _rc=$?
  else
    sh -c "$3" >"$HM_T/o" 2>"$HM_T/e" </dev/null & _p=$!
    ( sleep "$2"; kill -9 "$_p" ) >/dev/null 2>&1 </dev/null & _w=$!
    wait "$_p"; _rc=$?; kill "$_w" 2>/dev/null; wait "$_w" 2>/dev/null
  fi
  hm_now; hm_val "$1" start "$_s"; hm_val "$1" end "$HM_NOW"; hm_val "$1" rc "$_rc"
  hm_file "$1" out "$HM_T/o"; hm_file "$1" err "$HM_T/e"
}
if hm_has dpkg-query; then HM_PKG=dpkg; elif hm_has rpm; then HM_PKG=rpm; elif hm_has apk; then HM_PKG=apk; elif hm_has pacman; then HM_PKG=pacman; else HM_PKG=none; fi
if [ -d /run/systemd/system ]; then HM_INIT=systemd; elif hm_has rc-service; then HM_INIT=openrc; elif [ -d /etc/init.d ]; then HM_INIT=sysv; else HM_INIT=none; fi
hm_val _ pkg "$HM_PKG"; hm_val _ init "$HM_INIT"; hm_val _ timeout "$HM_TO"; hm_val _ uid "$(id -u 2>/dev/null)"
`;

/** Target-wide facts gathered once, before the probes, when a resource type asks for them. */
export const FACTS: Record<string, string> = {
  net: String.raw`for _f in tcp tcp6 udp udp6; do if [ -r /proc/net/$_f ]; then hm_file _ net.$_f /proc/net/$_f; fi; done`,
  procs: String.raw`if [ -d /proc/1 ]; then for _f in /proc/[0-9]*/comm; do read -r _c <"$_f" && printf '%s\n' "$_c"; done >"$HM_T/p" 2>/dev/null; hm_file _ procs "$HM_T/p"; elif hm_has ps; then ps -e -o comm= >"$HM_T/p" 2>/dev/null && hm_file _ procs "$HM_T/p"; fi`,
  mounts: String.raw`if [ -r /proc/mounts ]; then hm_file _ mounts /proc/mounts; fi`,
  // One query of the whole package database is far cheaper than one per package (dpkg-query: ~10 ms each).
  pkgs: `case "$HM_PKG" in dpkg) hm_cap _ pkgs ${shq("dpkg-query -W -f='${Package}\\t${Status}\\t${Version}\\n'")} ;; rpm) hm_cap _ pkgs ${shq("rpm -qa --qf '%{NAME}\\t%{VERSION}\\n'")} ;; esac`,
};

export interface BuiltScript {
  script: string;
  /** Resources in probe order, with their probe ids set. */
  resources: ResourceSpec[];
}

export function buildScript(resources: ResourceSpec[], defs: Map<string, ResourceDef>): BuiltScript {
  const facts = new Set<string>();
  const body: string[] = [];
  resources.forEach((r, i) => {
    r.probeId = `r${i}`;
    if (r.skip || r.checks.length === 0) return;
    const def = defs.get(r.type)!;
    for (const f of def.facts ?? []) facts.add(f);
    const probe = def.probe(r);
    if (!probe) return;
    body.push(`# ${r.type}: ${r.key.replace(/\n/g, ' ')}`, `hm_begin ${r.probeId}`, probe, `hm_end ${r.probeId}`);
  });
  const parts = ['# generated by hallmark (spec verifier): probes only, all checks are evaluated by hallmark', PRELUDE];
  for (const f of [...facts].sort()) parts.push(FACTS[f]!);
  parts.push(...body, `printf '@@DONE\\n'`, '');
  return { script: parts.join('\n'), resources };
}
