#!/usr/bin/env bash
# Crash safety: kill -9 the agent at random moments during apply, then revert. Every trial must
# end with the original state restored exactly and a journal that parses. Trials go on until
# TRIALS kills have landed while the agent ran (at most 3 x TRIALS tries); a kill that came too
# late shortens that mode's delays, so the kills keep landing mid-way on a loaded machine.
. "$(dirname "$0")/lib.sh"
TRIALS=${GN_CRASH_TRIALS:-100}
make_pairs 8 64
in_ns sh -c 'echo 1 > /sys/class/net/gA0/queues/tx-7/xps_cpus; echo 3 > /sys/class/net/gB2/queues/rx-9/rps_cpus'
in_ns ethtool -L gA3 rx 20 tx 40
baseline=$(dump_state)

# How long one apply of each mode takes here, to spread the kills over it.
modes=("--channels off --rps on" "--rps on" "--profile balanced")
declare -A duration_us
for mode in "${modes[@]}"; do
  start=$(date +%s%N)
  # shellcheck disable=SC2086
  agent apply $mode >/dev/null
  duration_us[$mode]=$((($(date +%s%N) - start) / 1000))
  agent_revert >/dev/null
  echo "one apply $mode takes ${duration_us[$mode]} us; kills land at random moments within it"
done
check "baseline restored before the trials" [ "$(dump_state)" = "$baseline" ]

killed_mid=0
for ((t = 0; t < 3 * TRIALS && killed_mid < TRIALS; t++)); do
  mode=${modes[t % 3]}
  delay_us=$((RANDOM * RANDOM % (duration_us[$mode] + 1)))
  # shellcheck disable=SC2086
  agent apply $mode >/dev/null 2>&1 &
  pid=$!
  sleep "$(printf '0.%06d' "$delay_us")"   # the random kill moment, not a synchronisation
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null && rc=0 || rc=$?
  if [ "$rc" -eq 137 ]; then
    killed_mid=$((killed_mid + 1))
  else
    duration_us[$mode]=$((duration_us[$mode] * 3 / 4 + 1))  # it finished first: aim earlier
  fi
  check "trial $t: journal parses after kill -9 (delay ${delay_us} us, rc $rc)" journal_parses
  agent_revert >/dev/null 2>&1 || fail "trial $t: revert exited $?"
  now=$(dump_state)
  if [ "$now" = "$baseline" ]; then pass; else
    fail "trial $t ($mode, kill after ${delay_us} us): state differs after revert"
    diff <(echo "$baseline") <(echo "$now") | head -10 >&2
  fi
  check "trial $t: journal parses after revert" journal_parses
done
echo "$killed_mid of $t trials killed the agent while it ran"
check "$TRIALS kills landed while the agent ran ($killed_mid in $t trials)" [ "$killed_mid" -ge "$TRIALS" ]
finish
