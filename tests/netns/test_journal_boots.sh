#!/usr/bin/env bash
# The journal across boots and device changes, on real veth NICs: entries carry the boot id and
# the NIC's ifindex; a journal from an earlier boot restores nothing; a NIC replaced under the
# same name (more queues) gets its new originals journalled and restored; a hostile journal is
# refused whole with nothing written.
. "$(dirname "$0")/lib.sh"
make_pairs 2 8
in_ns ethtool -L gA1 rx 4 tx 4
baseline=$(dump_state)
BOOT=$(cat /proc/sys/kernel/random/boot_id)
OTHER_BOOT=00000000-1111-2222-3333-444444444444
OPTS=(--profile balanced --sysctls off)
ifindex() { in_ns cat "/sys/class/net/$1/ifindex"; }

echo "-- entries carry this boot and their NIC's ifindex"
agent apply "${OPTS[@]}" >/dev/null
tuned=$(dump_state)
check "apply changed something" [ "$tuned" != "$baseline" ]
check "journal boot_id is this boot's" jq_true ".boot_id == \"$BOOT\" and .format == 2" "$STATE/journal.json"
check "gA0 entries carry gA0's ifindex" jq_true "[.entries[] | select(.nic == \"gA0\") | .ifindex] | unique == [$(ifindex gA0)]" "$STATE/journal.json"

echo "-- a journal from an earlier boot restores nothing"
jq ".boot_id = \"$OTHER_BOOT\"" "$STATE/journal.json" >"$WORK/j" && mv "$WORK/j" "$STATE/journal.json"
out=$(agent revert 2>&1) || fail "revert exited $?"
check "revert says why it restored nothing ($out)" grep -q "earlier boot" <<<"$out"
check "nothing written: still as tuned" [ "$(dump_state)" = "$tuned" ]
check "the stale entries are gone, this boot's id recorded" jq_true ".entries == [] and .boot_id == \"$BOOT\"" "$STATE/journal.json"
# What this "boot" had before its first apply is the tuned state: a new apply journals that.
now=$(in_ns ethtool -l gA0 | awk '/Current/{c=1} c && /^RX:/{rx=$2} c && /^TX:/{tx=$2} END{print "rx " rx " tx " tx}')
agent apply "${OPTS[@]}" --channels 1 >/dev/null
check "the first apply of this boot journals this boot's values ($now)" \
  jq_true "[.entries[] | select(.target == \"ethtool:gA0:channels\") | .original] == [\"$now\"]" "$STATE/journal.json"
agent revert >/dev/null
check "revert goes back to the state this boot had before its first apply" [ "$(dump_state)" = "$tuned" ]

echo "-- a NIC replaced under the same name (more queues)"
agent revert >/dev/null
in_ns ethtool -L gA0 rx 8 tx 8
in_ns ethtool -L gA1 rx 4 tx 4
in_ns sh -c 'for f in /sys/class/net/*/queues/*/xps_cpus /sys/class/net/*/queues/*/rps_cpus; do echo 0 >$f; done; echo 1 > /sys/class/net/gA0/queues/tx-1/xps_cpus' 2>/dev/null || true
rm -f "$STATE/journal.json"
baseline=$(dump_state)
agent apply "${OPTS[@]}" >/dev/null
old_ix=$(ifindex gA1)
ip -n "$NS" link del gA1
ip -n "$NS" link add name gA1 numtxqueues 16 numrxqueues 16 type veth peer name gB1 numtxqueues 16 numrxqueues 16
in_ns ethtool -L gA1 rx 3 tx 3
new_ix=$(ifindex gA1)
check "the new gA1 has another ifindex ($old_ix, $new_ix)" [ "$old_ix" != "$new_ix" ]
replaced=$(dump_state)
out=$(agent revert --verbose 2>&1) || fail "revert exited $?"
check "revert drops the old device's values ($out)" grep -q "gA1 is another device now" <<<"$out"
check "and leaves the new gA1 as it started" [ "$(nic_of "$(dump_state)" gA1)" = "$(nic_of "$replaced" gA1)" ]
started=$(dump_state)
agent apply "${OPTS[@]}" >/dev/null
check "apply journals the new device's channels" \
  jq_true "[.entries[] | select(.target == \"ethtool:gA1:channels\") | .original] == [\"rx 3 tx 3\"]" "$STATE/journal.json"
agent revert >/dev/null
check "revert restores the new device as it started" [ "$(dump_state)" = "$started" ]

echo "-- a hostile or corrupt journal: exit 1, the file named, nothing written"
pre=$(dump_state)
agent apply "${OPTS[@]}" >/dev/null
tuned=$(dump_state)
good=$(cat "$STATE/journal.json")
hostile() {  # hostile WHAT JQ-FILTER
  local what=$1 rc
  jq "$2" <<<"$good" >"$STATE/journal.json"
  local before; before=$(cat "$STATE/journal.json")
  for cmd in revert apply; do
    local opts=(); [ "$cmd" = apply ] && opts=("${OPTS[@]}")
    agent "$cmd" "${opts[@]}" >/dev/null 2>"$WORK/err" && rc=0 || rc=$?
    check "$what: $cmd exits 1 (got $rc)" [ "$rc" -eq 1 ]
    check "$what: $cmd names the journal ($(head -c 300 "$WORK/err"))" grep -q "journal.json" "$WORK/err"
    check "$what: $cmd wrote nothing" [ "$(dump_state)" = "$tuned" ]
    check "$what: $cmd left the journal as it was" [ "$(cat "$STATE/journal.json")" = "$before" ]
  done
}
hostile "a target outside the NIC's queues" '.entries[0].target = "sys/class/net/gA0/queues/../../../../../tmp/gn-pwned"'
hostile "a sysctl the agent never writes" '.entries += [{"target":"proc/sys/kernel/core_pattern","kind":"sysctl","nic":"","ifindex":0,"original":"|/tmp/x"}]'
hostile "an original that is not a mask" '(.entries[] | select(.kind == "xps_cpus") | .original) |= "ff;rm -rf /"'
hostile "a target journalled twice" '.entries += [.entries[0]]'
hostile "a NIC name with a slash" '.entries[0].nic = "a/b"'
hostile "an unknown key" '.extra = 1'
hostile "a boot id that is not one" '.boot_id = "../../x"'
hostile "a format from the future" '.format = 3'
printf '{"format": 2, "boot_id": "", "entries": [' >"$STATE/journal.json"
head -c 17000000 /dev/zero | tr '\0' ' ' >>"$STATE/journal.json"
agent revert >/dev/null 2>"$WORK/err" && rc=0 || rc=$?
check "a 17 MB journal is refused (exit $rc: $(head -c 200 "$WORK/err"))" [ "$rc" -eq 1 ]
echo "$good" >"$STATE/journal.json"
agent revert >/dev/null
check "the good journal restores" [ "$(dump_state)" = "$pre" ]
finish
