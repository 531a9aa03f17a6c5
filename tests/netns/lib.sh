# Shared helpers for the network-namespace tests: each test makes its own namespace with veth
# pairs (real kernel sysfs, real ethtool channels), runs the agent inside it with a temporary
# state directory, and removes everything on exit, pass or fail.
set -euo pipefail

AGENT=${GN_AGENT:?set GN_AGENT to the guest-nettune binary}
NS="gnt-$$-${RANDOM}"
WORK=$(mktemp -d /tmp/gn-netns-XXXXXX)
STATE="$WORK/state"
PASSES=0
FAILS=0

EXTRA_NS=()  # more namespaces a test made, removed with NS
cleanup() {
  local rc=$?
  for extra in "${EXTRA_NS[@]}"; do ip netns del "$extra" 2>/dev/null || true; done
  ip netns del "$NS" 2>/dev/null || true
  rm -rf "$WORK"
  exit $rc
}
trap cleanup EXIT
# A test stopped by a signal (ctest's timeout, ^C) still runs its EXIT trap.
trap 'exit 143' TERM
trap 'exit 130' INT
trap 'exit 129' HUP

fail() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); }
pass() { PASSES=$((PASSES + 1)); }
check() {  # check "what" command...
  local what=$1; shift
  if "$@"; then pass; else fail "$what"; fi
}
finish() {
  echo "$PASSES passed, $FAILS failed"
  [ "$FAILS" -eq 0 ]
}

in_ns() { ip netns exec "$NS" "$@"; }
agent() {  # agent COMMAND [ARGS]: the agent in the namespace, tuning veth, with the test's state
  local cmd=$1; shift
  if [ "$cmd" = revert ]; then agent_revert "$@"; return; fi
  local state=()
  case $cmd in apply|revert|status) state=(--state-dir "$STATE" --run-dir "$WORK/run") ;; esac
  in_ns "$AGENT" "$cmd" --driver veth --config '' "${state[@]}" "$@"
}
# revert takes no tuning options and reads no config file: it restores what the journal holds.
agent_revert() { in_ns "$AGENT" revert --state-dir "$STATE" --run-dir "$WORK/run" "$@"; }

# make_pairs N QUEUES: N veth pairs gA0/gB0 ... with QUEUES tx and rx queues each.
make_pairs() {
  ip netns add "$NS"
  local i
  for ((i = 0; i < $1; i++)); do
    ip -n "$NS" link add name "gA$i" numtxqueues "$2" numrxqueues "$2" type veth \
      peer name "gB$i" numtxqueues "$2" numrxqueues "$2"
  done
}

# The state tests compare: every readable file under each NIC's queues/ and its channel counts.
dump_state() {
  in_ns sh -c '
    for d in /sys/class/net/*/queues; do
      n=${d%/queues}; n=${n##*/}
      echo "== $n $(ethtool -l "$n" 2>/dev/null | awk "/Current/{c=1} c && /^(RX|TX):/{printf \"%s%s \", \$1, \$2}")"
      find "$d" -type f \( -name "*_cpus" -o -name rps_flow_cnt -o -name xps_rxqs \) | sort |
        xargs -r grep -H -s "" | sed "s|^$d/||"
    done'
}

# nic_of STATE NIC: that NIC's lines of a dump_state output.
nic_of() { awk -v n="$2" '/^== /{p = ($2 == n)} p' <<<"$1"; }

# Hex mask text → CPU numbers, one per line (the kernel pads and groups variously).
mask_cpus() {
  local hex=${1//,/} bit=0 d i
  hex=${hex#"${hex%%[!0]*}"}
  for ((i = ${#hex} - 1; i >= 0; i--)); do
    d=$((16#${hex:i:1}))
    for b in 0 1 2 3; do (( (d >> b) & 1 )) && echo $((bit + b)); done
    bit=$((bit + 4))
  done
  return 0
}

# seconds_of_us US: a microsecond count as sleep(1) takes it ("1.250000" for 1250000).
seconds_of_us() { printf '%d.%06d' $(($1 / 1000000)) $(($1 % 1000000)); }

jq_true() { jq -e "$1" "$2" >/dev/null; }  # jq_true FILTER FILE

journal_parses() { [ ! -e "$STATE/journal.json" ] || jq -e '.format == 2 and (.entries | type == "array")' "$STATE/journal.json" >/dev/null; }
