#!/usr/bin/env bash
# Crash safety: kill -9 the agent itself at chosen moments of apply, then revert. Every trial
# must end with the original state restored byte for byte and a journal that parses.
#
# The killed PID is the agent: `ip netns exec` execs it (no fork), and the test waits until
# /proc/PID/exe is the agent binary before timing the kill, and checks after `wait` that it is gone
# before revert starts. Where the kill landed is read from the evidence it left:
#   before-journal   no journal, state as before
#   journalled       journal, state as before (after the journal, before the first write)
#   mid-writes       journal, state partly changed
#   after-writes     journal, state fully applied (after the last write, before exit)
# A changed state without a journal is a failure in itself. The kill moments are taken from what
# the test can see from outside, nothing is slowed inside the agent: a random time after the
# start, the moment the journal file appears (plus nothing, or a random part of the time the
# writes take), the moment the status file appears. TRIALS kills must land, with kills in every
# phase and at least a fifth of them among the writes.
. "$(dirname "$0")/lib.sh"
TRIALS=${GN_CRASH_TRIALS:-100}
make_pairs 8 64
in_ns sh -c 'echo 1 > /sys/class/net/gA0/queues/tx-7/xps_cpus; echo 3 > /sys/class/net/gB2/queues/rx-9/rps_cpus'
in_ns ethtool -L gA3 rx 20 tx 40
baseline=$(dump_state)
agent_bin=$(readlink -f "$AGENT")
journal=$STATE/journal.json
status_file=$WORK/run/guest-nettune/status.json

now_us() { echo $((${EPOCHREALTIME/./})); }
# spin_until_us T: wait until the wall clock reaches T (sleep for the bulk, spin the last 10 ms).
spin_until_us() {
  local left=$(($1 - $(now_us)))
  [ "$left" -gt 20000 ] && sleep "$(seconds_of_us $((left - 10000)))"
  while [ $((${EPOCHREALTIME/./})) -lt "$1" ]; do :; done
}
is_agent() { [ "/proc/$1/exe" -ef "$agent_bin" ]; }  # builtin test: no fork while timing
# start_agent MODE...: apply in the background; sets pid, once that PID is the agent itself.
start_agent() {
  rm -f "$status_file"
  # shellcheck disable=SC2068
  ip netns exec "$NS" "$AGENT" apply --driver veth --config '' --state-dir "$STATE" --run-dir "$WORK/run" $@ \
    >/dev/null 2>&1 &
  pid=$!
  until is_agent "$pid"; do
    [ -e "/proc/$pid/exe" ] || { wait "$pid" || true; fail "PID $pid exited before it became $agent_bin"; return 1; }
  done
  started_us=$(now_us)
}
# wait_for FILE: spin until FILE exists or the agent is gone.
wait_for() { until [ -e "$1" ]; do is_agent "$pid" || return 1; done; }
phase_of() {  # the phase the evidence shows, given the fully applied state
  local state=$1 applied=$2
  if [ ! -e "$journal" ]; then
    [ "$state" = "$baseline" ] && echo before-journal || echo "unjournalled-write"
  elif [ "$state" = "$baseline" ]; then echo journalled
  elif [ "$state" = "$applied" ]; then echo after-writes
  else echo mid-writes
  fi
}
revert_and_clear() {  # revert, then drop the journal it emptied: the next trial starts afresh
  agent_revert >/dev/null 2>&1 || fail "$1: revert exited $?"
  check "$1: journal parses after revert" journal_parses
  if [ -e "$journal" ] && jq_true '.entries | length == 0' "$journal"; then rm -f "$journal"; fi
}

# Each mode once to the end: its fully applied state, and when (after the start) the journal
# and the status file appear and the run ends.
modes=("--channels off --rps on" "--rps on" "--profile balanced")
declare -A applied journal_us writes_us end_us
for mode in "${modes[@]}"; do
  # shellcheck disable=SC2086
  start_agent $mode || exit 1
  wait_for "$journal" && journal_us[$mode]=$(($(now_us) - started_us))
  wait_for "$status_file" && writes_us[$mode]=$(($(now_us) - started_us - journal_us[$mode]))
  wait "$pid" || fail "calibration apply $mode exited $?"
  end_us[$mode]=$(($(now_us) - started_us))
  applied[$mode]=$(dump_state)
  check "calibration $mode changed something" [ "${applied[$mode]}" != "$baseline" ]
  revert_and_clear "calibration $mode"
  echo "apply $mode: journal after ${journal_us[$mode]} us, writes take ${writes_us[$mode]} us, done after ${end_us[$mode]} us"
done
check "baseline restored before the trials" [ "$(dump_state)" = "$baseline" ]

declare -A phases=([before-journal]=0 [journalled]=0 [mid-writes]=0 [after-writes]=0)
# Four aims of seven at the writes: a random point in them lands among the writes about half the
# time (the rest fall just before the first or after the last), and a fifth of all kills must.
aims=(start journal writes writes writes writes status)
killed=0 finished=0
for ((t = 0; t < 3 * TRIALS && killed < TRIALS; t++)); do
  mode=${modes[t % 3]}
  aim=${aims[t % 7]}
  # shellcheck disable=SC2086
  start_agent $mode || continue
  case $aim in  # when to kill: a point on the clock, or right after something appears
    start) spin_until_us $((started_us + RANDOM * RANDOM % (journal_us[$mode] + 1))) ;;
    journal) wait_for "$journal" || true ;;
    writes) wait_for "$journal" && spin_until_us $(($(now_us) + RANDOM * RANDOM % (writes_us[$mode] + 1))) ;;
    status) wait_for "$status_file" || true ;;
  esac
  if is_agent "$pid"; then kill -9 "$pid"; fi
  wait "$pid" 2>/dev/null && rc=0 || rc=$?
  if is_agent "$pid"; then fail "trial $t: PID $pid is still the agent after kill -9"; kill -9 "$pid"; fi
  what="trial $t ($mode, aimed at $aim)"
  if [ "$rc" -eq 137 ]; then
    killed=$((killed + 1))
    check "$what: journal parses after kill -9" journal_parses
    state=$(dump_state)
    phase=$(phase_of "$state" "${applied[$mode]}")
    if [ "$phase" = unjournalled-write ]; then
      fail "$what: the state changed and there is no journal"
    else
      phases[$phase]=$((phases[$phase] + 1))
    fi
  else
    finished=$((finished + 1))  # it ended before the kill
    check "$what: apply that ran to the end exited 0 (got $rc)" [ "$rc" -eq 0 ]
  fi
  revert_and_clear "$what"
  now=$(dump_state)
  if [ "$now" = "$baseline" ]; then pass; else
    fail "$what: state differs after revert"
    diff <(echo "$baseline") <(echo "$now") | head -10 >&2 || true  # diff exits 1: not the end of the test
  fi
done
echo "kills: $killed in $t trials ($finished ran to the end first); phases: before-journal ${phases[before-journal]}," \
  "journalled ${phases[journalled]}, mid-writes ${phases[mid-writes]}, after-writes ${phases[after-writes]}"
check "$TRIALS kills landed ($killed in $t trials)" [ "$killed" -ge "$TRIALS" ]
for p in before-journal journalled mid-writes after-writes; do
  check "kills landed in phase $p (${phases[$p]})" [ "${phases[$p]}" -ge 1 ]
done
check "at least a fifth of the kills landed among the writes (${phases[mid-writes]} of $killed)" \
  [ $((phases[mid-writes] * 5)) -ge "$killed" ]
finish
