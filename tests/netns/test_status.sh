#!/usr/bin/env bash
# status and check on the real kernel: a sampled packet rate checked against traffic this test
# sends itself (veth to a second namespace, documentation addresses), the JSON against its
# schema, Prometheus text after an apply, and check's offload finding.
. "$(dirname "$0")/lib.sh"
UDP_BURST=${GN_UDP_BURST:?set GN_UDP_BURST to the udp-burst binary}
PEER="$NS-peer"
EXTRA_NS+=("$PEER")
ip netns add "$PEER"
ip netns add "$NS"
ip -n "$NS" link add name gA0 numtxqueues 4 numrxqueues 4 type veth peer name gB0 numtxqueues 4 numrxqueues 4
ip -n "$NS" link set gB0 netns "$PEER"
ip -n "$NS" addr add 192.0.2.1/24 dev gA0
ip -n "$PEER" addr add 192.0.2.2/24 dev gB0
ip -n "$NS" link set gA0 up
ip -n "$PEER" link set gB0 up
ip -n "$PEER" link set gB0 address 02:00:00:00:00:02
ip -n "$NS" neigh replace 192.0.2.2 lladdr 02:00:00:00:00:02 dev gA0 nud permanent  # no ARP in the count

echo "-- a sampled rate against traffic we send"
mkfifo "$WORK/log"
# Started without a shell function between, so that $! is the agent itself (ip netns exec execs
# it): it can be stopped if it hangs.
ip netns exec "$NS" "$AGENT" status --driver veth --config '' --state-dir "$STATE" --run-dir "$WORK/run" \
  --sample 3 --json -v >"$WORK/sample.json" 2>"$WORK/log" &
pid=$!
# Wait for the first reading of the counters, then send. If the agent ends without saying so,
# the read ends at its EOF; if it says nothing for STATUS_QUIET seconds, it is stopped: either
# way the test fails here instead of leaving a reader waiting on the fifo.
STATUS_QUIET=${GN_STATUS_QUIET:-60}
said=""
while read -r -t "$STATUS_QUIET" line; do
  [[ $line == *"sampling counters"* ]] && { said=yes; break; }
  echo "status: $line" >&2
done <"$WORK/log"
if [ -z "$said" ]; then
  if [ "$(readlink -f "/proc/$pid/exe" 2>/dev/null || true)" = "$(readlink -f "$AGENT")" ]; then
    kill "$pid"
    fail "status --sample -v said nothing for ${STATUS_QUIET}s: stopped it (pid $pid)"
  else
    fail "status --sample -v never said it was sampling"
  fi
  wait "$pid" || true
  finish
  exit 1
fi
cat "$WORK/log" >/dev/null &
in_ns "$UDP_BURST" 0 20000 192.0.2.2 >/dev/null
wait "$pid"
sent=$(jq '[.load.nics[] | select(.nic == "gA0") | .tx_pps * $sec] | .[0] | round' --argjson sec "$(jq .load.seconds "$WORK/sample.json")" "$WORK/sample.json")
check "sampled tx packets on gA0 ($sent) within 20000..20050" sh -c "[ $sent -ge 20000 ] && [ $sent -le 20050 ]"
check "a few kpps is the idle tier" jq_true '.load.tier == "idle" and .load.profile_fits' "$WORK/sample.json"
check "the sample has per-CPU softnet deltas" jq_true '(.load.cpus | length) >= 1' "$WORK/sample.json"
check "status --json with a sample matches docs/status-schema.json" /usr/bin/python3 -c \
  'import json,sys,jsonschema; jsonschema.validate(json.load(open(sys.argv[1])), json.load(open(sys.argv[2])))' \
  "$WORK/sample.json" "$(dirname "$0")/../../docs/status-schema.json"

echo "-- after apply: JSON and Prometheus say no drift"
agent apply >/dev/null
agent status --json >"$WORK/after.json"
check "no drift after apply" jq_true '.summary.drift == 0 and .last_apply.result == "ok"' "$WORK/after.json"
check "status --json after apply matches the schema" /usr/bin/python3 -c \
  'import json,sys,jsonschema; jsonschema.validate(json.load(open(sys.argv[1])), json.load(open(sys.argv[2])))' \
  "$WORK/after.json" "$(dirname "$0")/../../docs/status-schema.json"
prom=$(agent status --prometheus)
check "prometheus: no drift on gA0" grep -qx 'guest_nettune_drift{nic="gA0"} 0' <<<"$prom"
check "prometheus: last apply succeeded" grep -qx 'guest_nettune_last_apply_success 1' <<<"$prom"
in_ns sh -c 'echo 0 > /sys/class/net/gA0/queues/tx-0/xps_cpus'
causes=$(agent status --json | jq -c '[.settings[] | select(.state == "drift") | .drift_cause]')
check "a changed mask shows as drift by someone else ($causes)" \
  [ "$causes" = '["changed by something else since the last apply"]' ]
agent_revert >/dev/null

echo "-- check: transmit offloads turned off"
in_ns ethtool -K gA0 tx off >/dev/null 2>&1
agent check --json >"$WORK/check.json" && rc=0 || rc=$?
check "check exits 6 on a warning (got $rc)" [ "$rc" -eq 6 ]
check "check names the offloads of gA0" jq_true '[.findings[] | select(.id == "tx-offloads" and .nic == "gA0" and .severity == "warning")] | length == 1' "$WORK/check.json"
in_ns ethtool -K gA0 tx on >/dev/null 2>&1
agent check --json >"$WORK/check2.json" && rc=0 || rc=$?
check "with offloads on, no offload finding" jq_true '[.findings[] | select(.id == "tx-offloads")] | length == 0' "$WORK/check2.json"
echo "-- check: a large rule set (iptables-nft, counted through nftables' netlink)"
in_ns sh -c 'for i in $(seq 1 1200); do echo "-A INPUT -s 192.0.2.$((i % 250 + 1))/32 -p udp --dport $i -j DROP"; done |
             (echo "*filter"; cat; echo COMMIT) | iptables-restore'
agent check --json >"$WORK/rules.json" || true
check "check counts the 1200 rules of this namespace" \
  jq_true '[.findings[] | select(.id == "filter-rules" and (.evidence | startswith("1200 packet filter rules")))] | length == 1' "$WORK/rules.json"
finish
