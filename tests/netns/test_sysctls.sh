#!/usr/bin/env bash
# The profiles' net.core sysctls on the real kernel. They are global (not per namespace), so
# this test runs the agent in the machine's own namespace with every NIC excluded, and puts
# the values it found back on exit whatever happens.
. "$(dirname "$0")/lib.sh"
NAMES="netdev_max_backlog netdev_budget netdev_budget_usecs dev_weight busy_poll busy_read rps_sock_flow_entries"
declare -A saved
for n in $NAMES; do saved[$n]=$(cat "/proc/sys/net/core/$n"); done
restore_sysctls() {
  local rc=$?
  for n in $NAMES; do echo "${saved[$n]}" >"/proc/sys/net/core/$n" 2>/dev/null || true; done
  ip netns del "$NS" 2>/dev/null || true
  rm -rf "$WORK"
  exit $rc
}
trap restore_sysctls EXIT

# Every NIC of this machine excluded: the plan may hold sysctls only.
excludes=()
for d in /sys/class/net/*; do excludes+=(--exclude "${d##*/}"); done
host_agent() { "$AGENT" "$@" --config '' --state-dir "$STATE" --run-dir "$WORK/run" "${excludes[@]}"; }
plan=$("$AGENT" plan --json --config '' "${excludes[@]}")
if [ "$(jq '[.settings[] | select(.nic != "")] | length' <<<"$plan")" -ne 0 ]; then
  echo "refusing to run: the plan would touch a NIC of this machine" >&2
  exit 1
fi
before=$(for n in $NAMES; do echo "$n=$(cat /proc/sys/net/core/$n)"; done)

host_agent apply --profile throughput >/dev/null
check "netdev_max_backlog = 100000" [ "$(cat /proc/sys/net/core/netdev_max_backlog)" = 100000 ]
check "netdev_budget = 50000" [ "$(cat /proc/sys/net/core/netdev_budget)" = 50000 ]
# A floor: kept when the kernel's value is already higher (6.x refuses less than two jiffies).
usecs_before=$(grep netdev_budget_usecs <<<"$before" | cut -d= -f2)
check "netdev_budget_usecs = max(5000, $usecs_before)" \
  [ "$(cat /proc/sys/net/core/netdev_budget_usecs)" = "$((usecs_before > 5000 ? usecs_before : 5000))" ]
check "dev_weight = 6000" [ "$(cat /proc/sys/net/core/dev_weight)" = 6000 ]
check "second apply writes 0" [ "$(host_agent apply --profile throughput --json | jq '.summary.writes')" -eq 0 ]
host_agent apply --profile latency --netdev-budget 600 >/dev/null
check "busy_poll = 50" [ "$(cat /proc/sys/net/core/busy_poll)" = 50 ]
check "override: netdev_budget = 600" [ "$(cat /proc/sys/net/core/netdev_budget)" = 600 ]
"$AGENT" revert --state-dir "$STATE" --run-dir "$WORK/run" >/dev/null
after=$(for n in $NAMES; do echo "$n=$(cat /proc/sys/net/core/$n)"; done)
check "revert restores every sysctl" [ "$after" = "$before" ]
finish
