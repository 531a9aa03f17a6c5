#!/usr/bin/env bash
# 20 applies at once end in the planned state with an intact journal: the lock serialises them.
. "$(dirname "$0")/lib.sh"
make_pairs 4 16
baseline=$(dump_state)
pids=()
for ((i = 0; i < 20; i++)); do
  agent apply --wait 120 --json >"$WORK/out.$i" 2>"$WORK/err.$i" &
  pids+=($!)
done
for i in "${!pids[@]}"; do
  wait "${pids[$i]}" && rc=0 || rc=$?
  check "concurrent apply $i exited 0 (got $rc: $(cat "$WORK/err.$i"))" [ "$rc" -eq 0 ]
done
total=0
for ((i = 0; i < 20; i++)); do total=$((total + $(jq '.summary.writes' "$WORK/out.$i"))); done
check "one run did the writes, the others found nothing to do ($total writes in all)" \
  [ "$(for i in $(seq 0 19); do jq '.summary.writes' "$WORK/out.$i"; done | grep -vc '^0$')" -eq 1 ]
check "journal parses" journal_parses
check "a fresh apply finds the planned state" [ "$(agent apply --json | jq '.summary.writes')" -eq 0 ]
agent_revert >/dev/null
check "revert restores the state from before the 20 runs" [ "$(dump_state)" = "$baseline" ]

# A run that cannot get the lock in time says so with its own exit code.
exec 9>"$WORK/run/guest-nettune.lock"
flock 9
agent apply --wait 0.2 >/dev/null 2>"$WORK/lockerr" && rc=0 || rc=$?
check "lock timeout exits 4 (got $rc)" [ "$rc" -eq 4 ]
check "lock timeout says what to do" grep -q "wait" "$WORK/lockerr"
exec 9>&-
finish
