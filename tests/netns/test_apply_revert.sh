#!/usr/bin/env bash
# Apply on real veth NICs in a namespace lands the plan in sysfs, a second apply writes nothing,
# and revert restores every queue file and channel count byte for byte.
. "$(dirname "$0")/lib.sh"
NCPU=$(nproc)
make_pairs 4 64

# A non-default starting point, so that "restored" means something.
in_ns sh -c 'echo 1 > /sys/class/net/gA0/queues/tx-5/xps_cpus; echo 2 > /sys/class/net/gA0/queues/rx-3/rps_cpus;
             echo 128 > /sys/class/net/gA0/queues/rx-3/rps_flow_cnt; echo 1 > /sys/class/net/gB1/queues/tx-0/xps_cpus'
in_ns ethtool -L gA1 rx 32 tx 48
baseline=$(dump_state)

for mode in "--profile balanced" "--profile balanced --channels off --rps on"; do
  # shellcheck disable=SC2086
  plan=$(agent plan --json $mode)
  # shellcheck disable=SC2086
  out=$(agent apply --json $mode) || { fail "apply $mode exited $?"; continue; }
  writes=$(jq '.summary.writes' <<<"$out")
  check "apply $mode wrote something ($writes)" [ "$writes" -gt 0 ]
  check "apply $mode reported no errors" [ "$(jq '.errors | length' <<<"$out")" -eq 0 ]

  # Every planned value is in sysfs now (masks compared as CPU sets).
  while IFS=$'\t' read -r kind target desired; do
    case $kind in
      channels)
        nic=${target%% *}; want=${desired##* }
        got=$(in_ns ethtool -l "$nic" | awk '/Current/{c=1} c && /^TX:/{print $2}')
        check "$nic channels $got == $want" [ "$got" = "$want" ] ;;
      xps_cpus|rps_cpus)
        got=$(in_ns cat "$target")
        check "$target: $(mask_cpus "$got" | tr '\n' ' ')== $(mask_cpus "$desired" | tr '\n' ' ')" \
          [ "$(mask_cpus "$got")" = "$(mask_cpus "$desired")" ] ;;
      rps_flow_cnt)
        check "$target == $desired" [ "$(in_ns cat "$target")" = "$desired" ] ;;
    esac
  done < <(jq -r '.settings[] | select(.action != "skip") | [.kind, .target, .desired] | @tsv' <<<"$plan")

  # With channels as planned, every CPU sends through exactly one tx queue of each NIC.
  if [ "$mode" = "--profile balanced" ]; then
    for nic in gA0 gB0 gA3; do
      all=$(in_ns sh -c "cat /sys/class/net/$nic/queues/tx-*/xps_cpus" | while read -r m; do mask_cpus "$m"; done | sort -n)
      check "$nic: each of $NCPU CPUs in one tx queue (got: $(echo $all))" [ "$all" = "$(seq 0 $((NCPU - 1)))" ]
    done
  fi

  # shellcheck disable=SC2086
  again=$(agent apply --json $mode)
  check "second apply $mode writes 0" [ "$(jq '.summary.writes' <<<"$again")" -eq 0 ]
  check "silent when nothing changes" [ -z "$(agent apply $mode)" ]

  agent_revert >/dev/null
  after=$(dump_state)
  check "revert after $mode restores every queue file and channel count" [ "$after" = "$baseline" ]
  [ "$after" = "$baseline" ] || diff <(echo "$baseline") <(echo "$after") | head -20 >&2
  check "journal empty after revert" [ "$(jq '.entries | length' "$STATE/journal.json")" -eq 0 ]
done

# Several applies with different profiles: revert restores what was there before the first.
agent apply --profile balanced --channels off --rps on >/dev/null
agent apply --profile latency --channels 1 >/dev/null
agent apply --profile throughput >/dev/null
agent_revert >/dev/null
check "revert after three different applies restores the first originals" [ "$(dump_state)" = "$baseline" ]

# --interface limits both apply and revert to that NIC.
agent apply --interface gA2 >/dev/null
check "apply --interface touched only gA2" [ "$(jq -r '[.entries[].nic] | unique | join(",")' "$STATE/journal.json")" = "gA2" ]
agent_revert --interface gA2 >/dev/null
check "revert --interface gA2 restores" [ "$(dump_state)" = "$baseline" ]

# Not root: nothing is written, and the exit code says writes were needed.
in_ns setpriv --reuid=65534 --regid=65534 --clear-groups "$AGENT" apply --driver veth --config '' \
  >/dev/null 2>"$WORK/nobody.err" && rc=0 || rc=$?
check "apply as nobody exits 5 (got $rc)" [ "$rc" -eq 5 ]
check "and says to run as root" grep -q "run as root" "$WORK/nobody.err"
check "and wrote nothing" [ "$(dump_state)" = "$baseline" ]

# Status file after apply.
agent apply >/dev/null
check "status.json holds the last apply" jq_true '.command == "apply" and .result == "ok"' "$WORK/run/guest-nettune/status.json"
agent_revert >/dev/null

finish
