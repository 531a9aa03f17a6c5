#!/usr/bin/env bash
# A NIC deleted while apply runs: the run reports it, other NICs are done, the journal stays
# consistent and revert restores everything that is still there.
. "$(dirname "$0")/lib.sh"
make_pairs 8 64
start=$(date +%s%N)
agent apply --channels off --rps on >/dev/null
duration_us=$((($(date +%s%N) - start) / 1000))
agent_revert >/dev/null

seen_mid=0
for ((t = 0; t < 30 && seen_mid < 3; t++)); do
  in_ns ip link add name gV numtxqueues 64 numrxqueues 64 type veth peer name gW numtxqueues 64 numrxqueues 64
  baseline=$(dump_state | awk '/^== gV|^== gW/{skip=1; next} /^== /{skip=0} !skip')
  agent apply --channels off --rps on --json >"$WORK/out" 2>/dev/null &
  pid=$!
  sleep "$(seconds_of_us $((RANDOM * RANDOM % (duration_us + 1))))"  # when to pull the NIC
  in_ns ip link del gV
  wait "$pid" && rc=0 || rc=$?
  check "trial $t: apply exits 0 or 3 (got $rc)" [ "$rc" -eq 0 -o "$rc" -eq 3 ]
  if [ "$rc" -eq 3 ]; then
    seen_mid=$((seen_mid + 1))
    check "trial $t: the error names the vanished NIC" jq_true '[.errors[].nic] | all(. == "gV" or . == "gW")' "$WORK/out"
    check "trial $t: other NICs were applied" jq_true '.summary.writes > 0' "$WORK/out"
  fi
  check "trial $t: journal parses" journal_parses
  agent_revert >/dev/null 2>&1 || true
  check "trial $t: revert restores the remaining NICs" [ "$(dump_state)" = "$baseline" ]
  check "trial $t: journal empty after revert" jq_true '.entries | length == 0' "$STATE/journal.json"
done
echo "$seen_mid trial(s) pulled the NIC while apply was writing"
check "at least one trial pulled the NIC mid-apply" [ "$seen_mid" -ge 1 ]
finish
