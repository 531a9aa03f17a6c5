#!/usr/bin/env bash
# guest-nettune-host advise against a real libvirtd (qemu:///system): every domain definition
# in tests/advise/domains defined (never started) under a private name, each checked for
# exactly the findings its "expect:" line names, with the host's CPUs and NICs from the guide's
# host snapshot tree (--root); the guide's example against its golden findings; a domain on a
# libvirt network resolved to the network's bridge; --all; the JSON validated against
# docs/advise-schema.json; and one run on this machine's real capabilities.
# libvirtd (and virtlogd) are started here when not running, and stopped again if we started them.
set -euo pipefail
HERE=$(dirname "$(readlink -f "$0")")
SRC=$(readlink -f "$HERE/../..")
BUILD=${GN_BUILD:?set GN_BUILD to the build directory}
HOST="$BUILD/qga-bridge/guest-nettune-host"
URI=qemu:///system
TAG="gnadv$$"
WORK=$(mktemp -d /tmp/gn-advise-XXXXXX)
PASSES=0 FAILS=0 STARTED=() DEFINED=()
fail() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); }
check() { local what=$1; shift; if "$@"; then PASSES=$((PASSES + 1)); else fail "$what"; fi; }

cleanup() {
  local rc=$?
  for d in "${DEFINED[@]}"; do virsh -c "$URI" undefine "$d" >/dev/null 2>&1 || true; done
  virsh -c "$URI" net-undefine "$TAG-net" >/dev/null 2>&1 || true
  for p in "${STARTED[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
  exit $rc
}
trap cleanup EXIT

. "$HERE/../libvirt/daemon.sh"
start_libvirtd
"$BUILD/tests/make-host-tree" guide-2x10-smt "$WORK/host"

# define CASE FILE: the file's domain under the name $TAG-CASE (type qemu: this machine's libvirt
# offers no kvm; the domains are never started, and advise reads no type).
define() {
  sed "s|<name>[^<]*</name>|<name>$TAG-$1</name>|; s|<domain type='kvm'>|<domain type='qemu'>|" "$2" >"$WORK/$1.xml"
  virsh -c "$URI" define "$WORK/$1.xml" >/dev/null
  DEFINED+=("$TAG-$1")
}
advise() { "$HOST" advise --connect "$URI" --root "$WORK/host" --no-guest "$@"; }
schema_ok() {
  python3 - "$SRC/docs/advise-schema.json" "$1" <<'PY'
import json, sys, jsonschema
jsonschema.validate(json.load(open(sys.argv[2])), json.load(open(sys.argv[1])))
PY
}

echo "-- one defined domain per finding"
for f in "$HERE"/domains/*.xml; do
  c=$(basename "$f" .xml)
  [ "$c" = guide-example ] && continue
  define "$c" "$f"
  want=$(sed -n '1s/^<!-- expect: *\(.*[^ ]\)\? *-->$/\1/p' "$f")
  advise --domain "$TAG-$c" --json >"$WORK/$c.json" && rc=0 || rc=$?
  got=$(jq -r '[.findings[].id] | sort | join(" ")' "$WORK/$c.json")
  check "$c: findings '$got', expected '$want'" [ "$got" = "$want" ]
  recommended=$(jq '.summary.recommended' "$WORK/$c.json")
  expect_rc=0; [ "$recommended" -gt 0 ] && expect_rc=6
  check "$c: exit $rc, expected $expect_rc" [ "$rc" -eq "$expect_rc" ]
  check "$c: the JSON follows docs/advise-schema.json" schema_ok "$WORK/$c.json"
done
out=$(advise --domain "$TAG-tuned") && rc=0 || rc=$?
check "the tuned domain's table says it follows the guide ($out)" grep -q "follows the guide (no findings)" <<<"$out"

echo "-- the guide's example domain"
define example "$HERE/domains/guide-example.xml"
advise --domain "$TAG-example" --host --json >"$WORK/example.json" && rc=0 || rc=$?
check "the example exits 6 (its management NIC has one queue; got $rc)" [ "$rc" -eq 6 ]
got=$(jq -r '[.findings[] | .id + "@" + .subject] | join(",")' "$WORK/example.json" | sed "s/$TAG-example/guide-example/g")
want=$(jq -r '[.findings[] | .id + "@" + .subject] | join(",")' "$SRC/tests/golden/advise/guide-example.json")
check "the example's findings through libvirt are the golden ones ($got)" [ "$got" = "$want" ]
check "the example's JSON follows the schema" schema_ok "$WORK/example.json"

echo "-- a libvirt network resolved to its bridge"
cat >"$WORK/net.xml" <<XML
<network><name>$TAG-net</name><bridge name='br0'/><forward mode='bridge'/></network>
XML
if virsh -c "$URI" net-define "$WORK/net.xml" >/dev/null 2>&1; then
  sed "s|<source bridge='br0'/>|<source network='$TAG-net'/>|; s|type='bridge'|type='network'|" \
    "$HERE/domains/vcpu-nic-node.xml" >"$WORK/onnet-src.xml"
  define onnet "$WORK/onnet-src.xml"
  advise --domain "$TAG-onnet" --json >"$WORK/onnet.json" && rc=0 || rc=$?
  check "a recommended finding exits 6 (got $rc)" [ "$rc" -eq 6 ]
  check "the network's bridge br0 leads to eno1 on node 0: vcpu-nic-node" \
    [ "$(jq -r '[.findings[].id] | join(" ")' "$WORK/onnet.json")" = "vcpu-nic-node" ]
else
  fail "could not define a libvirt network"
fi

echo "-- --all, an unknown domain, the real capabilities"
advise --all --json >"$WORK/all.json" && rc=0 || rc=$?
# 6: recommended changes found; 15 only when some other domain on this machine cannot be read.
check "--all exits 6 or 15 (got $rc)" test "$rc" -eq 6 -o "$rc" -eq 15
check "none of our domains is among the unreadable ones" \
  [ "$(jq --arg t "$TAG-" '[.errors[]? | tostring | select(contains($t))] | length' "$WORK/all.json")" = 0 ]
n=$(jq --arg t "$TAG-" '[.domains[] | select(startswith($t))] | length' "$WORK/all.json")
check "--all examined every domain of ours (${#DEFINED[@]}, got $n)" [ "$n" -eq "${#DEFINED[@]}" ]
out=$(advise --domain "$TAG-nosuch" 2>&1) && rc=0 || rc=$?
check "an unknown domain exits 2 (got $rc)" [ "$rc" -eq 2 ]
check "and says where to look ($out)" grep -q "list --all" <<<"$out"
# Without --root: this machine's CPUs from libvirt's capabilities, which have no pCPU 9.
"$HOST" advise --connect "$URI" --no-guest --domain "$TAG-tuned" --json >"$WORK/real.json" || true
check "on this machine's real topology the guide's pins name pCPUs it does not have" \
  grep -q "which this host does not have" <(jq -r '.findings[].seen' "$WORK/real.json")
check "and the capabilities were read (no fallback note)" \
  [ "$(jq '[.notes[] | select(contains("capabilities"))] | length' "$WORK/real.json")" = 0 ]

echo "advise through libvirt: $PASSES passed, $FAILS failed"
[ "$FAILS" -eq 0 ]
