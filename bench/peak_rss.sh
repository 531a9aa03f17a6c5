#!/usr/bin/env bash
# Peak resident memory of `status` and `apply` on a 1024-CPU snapshot (16 virtio NICs of 256
# queue pairs, every mask empty: everything to write), beside `guest-nettune --help` in the same
# run (the static binary's own start-up, the least any command costs). Target: <= 8 MB each.
# With BASELINE_BUILD_DIR, each command is also run by that build's agent (a copy of an older
# build; only agent/guest-nettune is needed there) on its own state, and the ratio printed.
# Usage: bench/peak_rss.sh [BUILD_DIR [BASELINE_BUILD_DIR]]    (GNU time: Debian's `time` package)
set -euo pipefail
BUILD=$(readlink -f "${1:-build}")
AGENT="$BUILD/agent/guest-nettune"
WORK=$(mktemp -d /tmp/gn-rss-XXXXXX)
trap 'rm -rf "$WORK"' EXIT

# peak_kb COMMAND...: the command's maximum resident set size in KiB.
peak_kb() {
  /usr/bin/time -f '%M' -o "$WORK/rss" "$@" >/dev/null 2>"$WORK/err" || {
    local rc=$?
    [ "$rc" -le 3 ] || { cat "$WORK/err" >&2; exit 1; }
  }
  tail -n 1 "$WORK/rss"
}

# measure AGENT NAME: --help; status before any apply (no journal, no last apply); apply; status
# again (it now also reads the journal and the last apply's document, which --json embeds whole).
# Fills the array NAME. Each agent has its own snapshot (apply writes into it), state and run
# directories.
measure() {
  local agent=$1 n=$2 dirs=(--state-dir "$WORK/$2/state" --run-dir "$WORK/$2/run")
  local -n out=$2
  "$BUILD/tests/make-fixture" wide-1024-16-256 "$WORK/$n/snap"
  out[base]=$(peak_kb "$agent" --help)
  out[status]=$(peak_kb "$agent" status --root "$WORK/$n/snap" --config '' "${dirs[@]}")
  out[status_json]=$(peak_kb "$agent" status --json --root "$WORK/$n/snap" --config '' "${dirs[@]}")
  out[apply]=$(peak_kb "$agent" apply --root "$WORK/$n/snap" --config '' "${dirs[@]}")
  [ -s "$WORK/$n/run/guest-nettune/status.json" ] || { echo "$agent apply left no status file" >&2; exit 1; }
  out[status_after]=$(peak_kb "$agent" status --root "$WORK/$n/snap" --config '' "${dirs[@]}")
  out[status_json_after]=$(peak_kb "$agent" status --json --root "$WORK/$n/snap" --config '' "${dirs[@]}")
}
declare -A now old
measure "$AGENT" now
BASELINE=${2:+$(readlink -f "$2")/agent/guest-nettune}
[ -z "$BASELINE" ] || measure "$BASELINE" old
base=${now[base]} status=${now[status]} status_json=${now[status_json]} apply=${now[apply]}
status_after=${now[status_after]} status_json_after=${now[status_json_after]}

echo "== peak RSS, 1024 CPUs x 16 NICs x 256 queue pairs (snapshot), KiB"
printf '%-28s %10s %8s %-10s' command "peak KiB" "x --help" "<= 8192"
[ -z "$BASELINE" ] || printf ' %12s %10s' "baseline KiB" "x baseline"
printf '\n'
for row in "--help:base:$base" "status:status:$status" "status --json:status_json:$status_json" "apply:apply:$apply" \
  "status after apply:status_after:$status_after" "status --json after apply:status_json_after:$status_json_after"; do
  name=${row%%:*} rest=${row#*:} key=${rest%%:*} kb=${row##*:}
  printf '%-28s %10d %8s %-10s' "$name" "$kb" "$(awk -v a="$kb" -v b="$base" 'BEGIN{printf "%.2f", a/b}')" \
    "$([ "$kb" -le 8192 ] && echo met || echo NOT met)"
  [ -z "$BASELINE" ] || printf ' %12d %10s' "${old[$key]}" "$(awk -v a="$kb" -v b="${old[$key]}" 'BEGIN{printf "%.2f", a/b}')"
  printf '\n'
done
