#!/usr/bin/env bash
# status --all over 200 scripted guest agents on unix sockets (180 answering, 10 mute, 5 garbage,
# 5 slow whose program runs 0.5 s) with --sockets: the wall time at --parallel 16 beside the bound
# ceil(200/16) x one fast answer + one deadline, and beside a baseline in the same run that asks
# the guests one at a time (--parallel 1, what --all did before). Also the peak RSS of each run.
# Usage: bench/fleet_all.sh [BUILD_DIR] [DEADLINE_SECONDS]
set -euo pipefail
BUILD=$(readlink -f "${1:-build}")
DEADLINE=${2:-2}
HOST="$BUILD/qga-bridge/guest-nettune-host"
WORK=$(mktemp -d /tmp/gn-fleet-bench-XXXXXX)
FLEET_PID=
trap '[ -n "$FLEET_PID" ] && kill "$FLEET_PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"' EXIT
mkdir -p "$WORK/g"
"$BUILD/tests/fake-fleet" "$WORK/g" ok:180 mute:10 garbage:5 slow:5 &
FLEET_PID=$!
for _ in $(seq 1 300); do [ -e "$WORK/g/ready" ] && break; sleep 0.1; done
[ -e "$WORK/g/ready" ] || { echo "fake guests did not start" >&2; exit 1; }

# time_run OUT ARGS...: wall seconds and peak RSS (kB) of one guest-nettune-host run.
time_run() {
  local out=$1; shift
  /usr/bin/time -f "%e %M" -o "$WORK/time" "$HOST" "$@" >"$out" 2>/dev/null || true
  tail -n 1 "$WORK/time"
}

# One fast answer: the median of 21 single-guest runs against an answering agent.
fast=$(for _ in $(seq 1 21); do time_run /dev/null --socket "$WORK/g/ok-000.sock" --json status; done | awk '{print $1}' | sort -n | sed -n 11p)
read -r par par_rss < <(time_run "$WORK/par.json" --sockets "$WORK/g/*.sock" --parallel 16 --timeout "$DEADLINE" --json status)
read -r seq seq_rss < <(time_run "$WORK/seq.json" --sockets "$WORK/g/*.sock" --parallel 1 --timeout "$DEADLINE" --json status)
rows_par=$(jq length "$WORK/par.json")
rows_seq=$(jq length "$WORK/seq.json")
classes=$(jq -r 'group_by(.answer) | map("\(.[0].answer)=\(length)") | join(" ")' "$WORK/par.json")
bound=$(awk -v f="$fast" -v d="$DEADLINE" 'BEGIN { printf "%.2f", 13 * f + d }')

printf 'guests: 200 (180 ok, 10 mute, 5 garbage, 5 slow 0.5 s); per-guest deadline %s s\n' "$DEADLINE"
printf 'one fast answer (median of 21 single runs):  %6.3f s\n' "$fast"
printf -- '--all --parallel 16:                         %6.2f s  %s rows (%s)  peak RSS %d kB\n' "$par" "$rows_par" "$classes" "$par_rss"
printf 'bound ceil(200/16) x fast + deadline:        %6.2f s  (run / bound = %s)\n' "$bound" \
  "$(awk -v a="$par" -v b="$bound" 'BEGIN { printf "%.2f", a / b }')"
printf -- '--all --parallel 1 (baseline, one at a time): %6.2f s  %s rows  peak RSS %d kB\n' "$seq" "$rows_seq" "$seq_rss"
printf 'speed-up over one at a time:                 %6.1fx\n' "$(awk -v a="$seq" -v b="$par" 'BEGIN { printf "%.1f", a / b }')"

# Figures from runs that did the job only: both runs answered every guest with its own class.
want="bad_reply=5 no_agent=10 ok=185"
classes_seq=$(jq -r 'group_by(.answer) | map("\(.[0].answer)=\(length)") | join(" ")' "$WORK/seq.json")
if [ "$rows_par" != 200 ] || [ "$rows_seq" != 200 ] || [ "$classes" != "$want" ] || [ "$classes_seq" != "$want" ]; then
  echo "fleet_all: the runs did not give 200 rows of $want (parallel: $classes; one at a time: $classes_seq)" >&2
  exit 1
fi
