#!/usr/bin/env bash
# guest-nettune-host --all --prometheus through the real thing: scripted guest agents on sockets,
# the shipped service's own command line writing the textfile, a real prometheus-node-exporter
# reading it and a real Prometheus scraping that (both by hand on free localhost ports, stopped on
# exit); the series and the rules' pending alerts are queried back through Prometheus' HTTP API.
# Also: promtool check metrics on the exposition, promtool check rules and test rules on the rules.
set -euo pipefail
SRC=$(readlink -f "$(dirname "$0")/../..")
BUILD=${GN_BUILD:?set GN_BUILD to the build directory}
HOST="$BUILD/qga-bridge/guest-nettune-host"
FLEET="$BUILD/tests/fake-fleet"
UNIT="$SRC/guest-scripts/host/guest-nettune-host-prometheus.service"
RULES="$SRC/guest-scripts/host/guest-nettune-host.rules.yml"
for t in prometheus prometheus-node-exporter promtool curl jq; do
  command -v "$t" >/dev/null || { echo "missing $t (bash .ci/setup installs it)" >&2; exit 1; }
done
WORK=$(mktemp -d /tmp/gn-prom-XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
PASSES=0 FAILS=0
fail() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); }
check() { local what=$1; shift; if "$@"; then PASSES=$((PASSES + 1)); else fail "$what"; fi; }
wait_for() {  # wait_for SECONDS WHAT COMMAND...: polls COMMAND until it succeeds
  local secs=$1 what=$2; shift 2
  local end=$((SECONDS + secs))
  until "$@"; do
    [ $SECONDS -lt $end ] || { fail "$what (not within ${secs}s)"; return 1; }
    sleep 0.2
  done
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

echo "-- the rules file"
check "promtool check rules" promtool check rules "$RULES"
check "promtool test rules (cases that fire and cases that do not)" \
  promtool test rules "$SRC/guest-scripts/host/guest-nettune-host.rules.test.yml"

echo "-- guests: 3 tuned, 1 drifted, 1 mute, 1 garbage, 1 with quotes and a backslash in its name"
mkdir -p "$WORK/guests" "$WORK/textfile"
WEIRD='we"ird\vm'
"$FLEET" "$WORK/guests" ok:3 drift:1 mute:1 garbage:1 "named:$WEIRD" &
PIDS+=($!)
wait_for 30 "fake guests listening" test -e "$WORK/guests/ready"

echo "-- the service's own ExecStart, with the guests' sockets as the source"
exec_start=$(sed -n 's/^ExecStart=//p' "$UNIT")
check "the unit runs guest-nettune-host with --prometheus --output" grep -q -- "--prometheus --output \${GN_TEXTFILE} status" <<<"$exec_start"
GN_HOST_SOURCE="--sockets $WORK/guests/*.sock"
GN_TEXTFILE="$WORK/textfile/guest-nettune.prom"
cmd=${exec_start//\/usr\/bin\/guest-nettune-host/$HOST}
cmd=${cmd//\$\{GN_TEXTFILE\}/$GN_TEXTFILE}
cmd=${cmd//--timeout 10/--timeout 2}
read -r -a argv <<<"${cmd//\$GN_HOST_SOURCE/$GN_HOST_SOURCE}"
rc=0
"${argv[@]}" 2>"$WORK/host.err" || rc=$?
check "exit 15: some guests did not report (rc $rc)" [ "$rc" -eq 15 ]
check "the textfile is there" test -s "$GN_TEXTFILE"
check "no temp file left beside it" sh -c "[ \$(ls -A '$WORK/textfile' | wc -l) -eq 1 ]"
check "promtool check metrics accepts the exposition" sh -c "promtool check metrics <'$GN_TEXTFILE'"
check "7 guests in the file" grep -qx 'guest_nettune_host_guests{source="sockets"} 7' "$GN_TEXTFILE"

echo "-- node_exporter reads it, Prometheus scrapes node_exporter"
NE_PORT=$(free_port)
prometheus-node-exporter --web.listen-address="127.0.0.1:$NE_PORT" --collector.disable-defaults \
  --collector.textfile --collector.textfile.directory="$WORK/textfile" >"$WORK/ne.log" 2>&1 &
PIDS+=($!)
wait_for 30 "node_exporter serving the textfile" \
  sh -c "curl -sf 'http://127.0.0.1:$NE_PORT/metrics' | grep -q '^guest_nettune_guest_up'"
check "node_exporter saw no textfile error" \
  sh -c "curl -sf 'http://127.0.0.1:$NE_PORT/metrics' | grep -qx 'node_textfile_scrape_error 0'"
P_PORT=$(free_port)
cat >"$WORK/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - $RULES
scrape_configs:
  - job_name: node
    static_configs:
      - targets: ['127.0.0.1:$NE_PORT']
YML
prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/tsdb" \
  --web.listen-address="127.0.0.1:$P_PORT" >"$WORK/prom.log" 2>&1 &
PIDS+=($!)
api() { curl -sf --get "http://127.0.0.1:$P_PORT/api/v1/$1" --data-urlencode "query=${2:-}"; }
holds() { api query "$1" | jq -e "$2" >/dev/null; }          # holds PROMQL JQ
alerts() { curl -sf "http://127.0.0.1:$P_PORT/api/v1/alerts" | jq -e "$1" >/dev/null; }
wait_for 60 "Prometheus has every guest's guest_nettune_guest_up" \
  holds 'count(guest_nettune_guest_up)' '.data.result[0].value[1] == "7"'

up=$(api query 'guest_nettune_guest_up' | jq -r '.data.result[] | "\(.metric.domain) \(.value[1])"' | sort)
check "up is 1 for the five answering guests" [ "$(awk '$NF==1' <<<"$up" | wc -l)" -eq 5 ]
check "the mute guest is down" grep -q "/mute-000.sock 0$" <<<"$up"
check "the garbage guest is down" grep -q "/garbage-000.sock 0$" <<<"$up"
check "the mute guest's class is no_agent" \
  holds 'guest_nettune_guest_answer{class="no_agent"}' '.data.result | length == 1 and (.[0].metric.domain | endswith("/mute-000.sock"))'
check "the garbage guest's class is bad_reply, exit code 14" \
  holds 'guest_nettune_guest_exit_code == 14 and on(domain) guest_nettune_guest_answer{class="bad_reply"}' \
  '.data.result | length == 1 and (.[0].metric.domain | endswith("/garbage-000.sock"))'
check "a domain label with a quote and a backslash comes back as it was" \
  holds 'guest_nettune_guest_up == 1' "[.data.result[].metric.domain] | index(\"$WORK/guests/we\\\"ird\\\\vm.sock\") != null"
check "drift per NIC: the drifted guest has 2 on eth0" \
  holds 'guest_nettune_guest_drift{nic="eth0"} == 2' '.data.result | length == 1'
check "queues current/planned/max and vCPUs for every answering guest" \
  holds 'count(guest_nettune_guest_queues) + count(guest_nettune_guest_vcpus == 4)' '.data.result[0].value[1] == "20"'
check "last apply time and success, softnet drops" \
  holds 'count(guest_nettune_guest_last_apply_success == 1) + count(guest_nettune_guest_last_apply_timestamp_seconds) + count(guest_nettune_guest_softnet_dropped_total == 7)' \
  '.data.result[0].value[1] == "15"'
check "the rules are loaded" \
  sh -c "curl -sf 'http://127.0.0.1:$P_PORT/api/v1/rules' | jq -e '[.data.groups[].rules[].name] | index(\"GuestNettuneGuestNotAnswering\") != null' >/dev/null"
wait_for 30 "GuestNettuneGuestNotAnswering pending for the two silent guests" \
  alerts '[.data.alerts[] | select(.labels.alertname == "GuestNettuneGuestNotAnswering")] | length == 2'
check "GuestNettuneDrifting pending for the drifted guest only" \
  alerts '[.data.alerts[] | select(.labels.alertname == "GuestNettuneDrifting")] | length == 1'

echo "$PASSES passed, $FAILS failed"
[ "$FAILS" -eq 0 ]
