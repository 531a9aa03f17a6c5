#!/usr/bin/env bash
# Apply on 16 veth NICs x 64 queues in a network namespace: first apply, no-op re-apply and
# revert, in wall time and system calls (strace -c -f), beside a baseline in the same run that
# makes the same changes the manual way (a shell loop of `echo > file` and `ethtool -L`; the
# namespace has no global sysctls, so `sysctl -w` has nothing to do here). Prints ratios.
# Each step runs ROUNDS times (default 5), the agent's and the manual run of a step one after the
# other in each round so that the machine's load falls on both; the figure is the median.
# Beside them, the floor (bench/sysfs_floor, built next to the agent): the same files opened once
# each and read, written and read back on that descriptor, or only read for the no-op: what any
# program must pay the kernel for this plan. Printed for plans without channel changes.
# Usage (root): bench/apply_vs_manual.sh [build/agent/guest-nettune] [ROUNDS]
set -euo pipefail
AGENT=$(readlink -f "${1:-build/agent/guest-nettune}")
FLOOR=$(readlink -f "$(dirname "$AGENT")/../bench/sysfs_floor")
ROUNDS=${2:-5}
NS="gnb-$$"
WORK=$(mktemp -d /tmp/gn-bench-XXXXXX)
trap 'ip netns del "$NS" 2>/dev/null || true; rm -rf "$WORK"' EXIT
ip netns add "$NS"
for i in $(seq 0 7); do
  ip -n "$NS" link add name "bA$i" numtxqueues 64 numrxqueues 64 type veth peer name "bB$i" numtxqueues 64 numrxqueues 64
done
# The agent in the namespace, as a script so that strace can run it.
cat >"$WORK/agent" <<EOS
#!/bin/sh
cmd=\$1; shift
# revert takes no tuning options: it restores what the journal holds.
[ "\$cmd" = revert ] && exec ip netns exec "$NS" "$AGENT" revert "\$@" --state-dir "$WORK/state" --run-dir "$WORK/run"
exec ip netns exec "$NS" "$AGENT" "\$cmd" "\$@" --driver veth --config '' --state-dir "$WORK/state" --run-dir "$WORK/run"
EOS
chmod +x "$WORK/agent"
agent() { "$WORK/agent" "$@"; }

now_us() { echo $(($(date +%s%N) / 1000)); }
median() { sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
# time NAME PREPARE COMMAND...: brings the namespace to the step's starting state with PREPARE,
# then adds COMMAND's wall time to NAME's samples.
time_step() {
  local name=$1 prepare=$2; shift 2
  local t0 t1
  eval "$prepare" >/dev/null 2>&1
  t0=$(now_us); "$@" >/dev/null; t1=$(now_us)
  samples[$name]+="$((t1 - t0)) "
}
# count NAME PREPARE COMMAND...: prepares again and counts COMMAND's system calls (all, and
# openat) under strace -f.
count_step() {
  local name=$1 prepare=$2; shift 2
  eval "$prepare" >/dev/null 2>&1
  strace -f -c -o "$WORK/strace.$name" "$@" >/dev/null 2>&1 || true
  calls[$name]=$(awk '$NF == "total" {print $(NF-2)}' "$WORK/strace.$name")
  # "% time, seconds, usecs/call, calls, [errors,] syscall": calls is the fourth column.
  opens[$name]=$(awk '$NF == "openat" || $NF == "open" {n += $4} END {print n + 0}' "$WORK/strace.$name")
}
declare -A samples calls opens

for mode in "--channels off --rps on" "--profile balanced"; do
  # The manual procedure for exactly this plan, and its undo, generated from the plan itself.
  # shellcheck disable=SC2086
  plan=$(ip netns exec "$NS" "$AGENT" plan --json --driver veth --config '' $mode)
  {
    echo 'set -e'
    jq -r '.settings[] | select(.action == "write") |
      if .kind == "channels" then "ethtool -L \(.target | split(" ")[0]) \(.desired | sub("combined"; "combined"))"
      else "echo \(.desired) > \(.target)" end' <<<"$plan"
  } >"$WORK/manual.sh"
  {
    echo 'set -e'
    jq -r '.settings[] | select(.action == "write" and .kind == "channels") |
      "ethtool -L \(.target | split(" ")[0]) \(.current)"' <<<"$plan"
    jq -r '.settings[] | select(.action == "write" and .kind != "channels" and (.current != "")) |
      "echo \(.current) > \(.target)"' <<<"$plan"
  } >"$WORK/manual_undo.sh"
  writes=$(jq '[.settings[] | select(.action == "write")] | length' <<<"$plan")
  # The floor's lists: PATH VALUE per file write, and the undo.
  jq -r '.settings[] | select(.action == "write" and .kind != "channels") | "\(.target) \(.desired)"' <<<"$plan" >"$WORK/floor.list"
  jq -r '.settings[] | select(.action == "write" and .kind != "channels" and (.current != "")) | "\(.target) \(.current)"' \
    <<<"$plan" >"$WORK/floor_undo.list"
  floor=no
  if [ -x "$FLOOR" ] && [ "$(jq '[.settings[] | select(.action == "write" and .kind == "channels")] | length' <<<"$plan")" = 0 ]; then
    floor=yes
  fi
  samples=(); calls=(); opens=()
  # shellcheck disable=SC2016  # expanded where it is eval-ed
  original='agent revert; ip netns exec "$NS" bash "$WORK/manual_undo.sh"'
  applied="$original; agent apply $mode"
  manual_applied="$original; ip netns exec \"$NS\" bash \"$WORK/manual.sh\""
  # shellcheck disable=SC2086
  steps() {  # STEP-FUNCTION: each step of the agent and the manual procedure, pairwise
    "$1" agent_apply "$original" "$WORK/agent" apply $mode
    "$1" manual_apply "$original" ip netns exec "$NS" bash "$WORK/manual.sh"
    "$1" agent_noop "$applied" "$WORK/agent" apply $mode
    "$1" manual_noop "$manual_applied" ip netns exec "$NS" bash "$WORK/manual.sh"
    "$1" agent_revert "$applied" "$WORK/agent" revert
    "$1" manual_revert "$manual_applied" ip netns exec "$NS" bash "$WORK/manual_undo.sh"
    if [ "$floor" = yes ]; then
      "$1" floor_apply "$original" ip netns exec "$NS" "$FLOOR" write "$WORK/floor.list"
      "$1" floor_noop "$applied" ip netns exec "$NS" "$FLOOR" read "$WORK/floor.list"
      "$1" floor_revert "$applied" ip netns exec "$NS" "$FLOOR" write "$WORK/floor_undo.list"
    fi
  }
  for _ in $(seq "$ROUNDS"); do steps time_step; done
  steps count_step
  eval "$original" >/dev/null 2>&1

  echo "== 16 veth NICs x 64 queues, guest-nettune apply $mode ($writes writes planned; median of $ROUNDS rounds)"
  printf '%-8s %11s %11s %7s %11s %11s %7s %9s %9s\n' step "agent us" "manual us" ratio "agent calls" "manual calls" ratio \
    "agent open" "manual open"
  for step in apply noop revert; do
    a=$(tr ' ' '\n' <<<"${samples[agent_$step]}" | grep . | median)
    m=$(tr ' ' '\n' <<<"${samples[manual_$step]}" | grep . | median)
    ac=${calls[agent_$step]} mc=${calls[manual_$step]}
    printf '%-8s %11d %11d %7s %11d %11d %7s %9d %9d\n' "$step" "$a" "$m" "$(awk -v a="$a" -v m="$m" 'BEGIN{printf "%.3f", a/m}')" \
      "$ac" "$mc" "$(awk -v a="$ac" -v m="$mc" 'BEGIN{printf "%.3f", a/m}')" "${opens[agent_$step]}" "${opens[manual_$step]}"
    echo "  $step samples (us): agent ${samples[agent_$step]}| manual ${samples[manual_$step]}"
    if [ "$floor" = yes ]; then
      f=$(tr ' ' '\n' <<<"${samples[floor_$step]}" | grep . | median)
      printf '  floor %d us: floor / manual %s, agent / floor %s (samples: %s)\n' "$f" \
        "$(awk -v f="$f" -v m="$m" 'BEGIN{printf "%.3f", f/m}')" "$(awk -v a="$a" -v f="$f" 'BEGIN{printf "%.3f", a/f}')" \
        "${samples[floor_$step]}"
    fi
  done
  echo "(ratio = agent / manual; the manual no-op rewrites everything, the agent reads and writes nothing;"
  echo " the floor opens each file once: read, write, read back (no-op: read only))"
done
