#!/usr/bin/env bash
# Revert sticks: after `guest-nettune revert` the runs that the boot unit and the udev rules
# start (`apply --automatic`) write nothing, until an explicit apply; `revert --interface` holds
# that NIC only; the package's removal scripts (deb prerm, rpm %preun) restore every NIC whatever
# the config file says and leave the automatic runs nothing to do. On real veth NICs.
. "$(dirname "$0")/lib.sh"
SRC=$(readlink -f "$(dirname "$0")/../..")
make_pairs 2 8
in_ns ethtool -L gA0 rx 8 tx 8
in_ns ethtool -L gA1 rx 8 tx 8
# A non-default start, so that "restored" means something.
in_ns sh -c 'echo 1 > /sys/class/net/gA0/queues/tx-1/xps_cpus'
baseline=$(dump_state)
nic_state() { nic_of "$(dump_state)" "$1"; }
OPTS=(--profile balanced --sysctls off --channels 2)  # sysctls are global: left alone here
writes() { jq '.summary.writes' <<<"$1"; }
# What the udev rule's unit runs after the kernel announces a queue change (ethtool -L).
udev_reapply() { agent apply --automatic --json "${OPTS[@]}" "$@"; }

echo "-- a full revert holds every automatic run"
agent apply "${OPTS[@]}" >/dev/null
tuned=$(dump_state)
check "apply tuned something" [ "$tuned" != "$baseline" ]
agent revert >/dev/null
check "revert restored every NIC" [ "$(dump_state)" = "$baseline" ]
check "reapply.json holds everything" jq_true '.all == false and .nics == [] and .sysctls == false' "$STATE/reapply.json"
out=$(udev_reapply) || fail "automatic apply exited $?"
check "the udev re-apply after a revert writes nothing ($(writes "$out"))" [ "$(writes "$out")" = 0 ]
check "and the NICs are as before the apply" [ "$(dump_state)" = "$baseline" ]
agent apply --automatic "${OPTS[@]}" --interface gA0 >/dev/null || fail "per-NIC automatic apply exited $?"
check "the hot-plug unit's run (--automatic --interface gA0) writes nothing" [ "$(dump_state)" = "$baseline" ]
check "the journal holds nothing" jq_true '.entries | length == 0' "$STATE/journal.json"
err=$(agent apply --automatic "${OPTS[@]}" 2>&1 >/dev/null)
check "an automatic run says it is held and how to resume ($err)" grep -q "guest-nettune apply" <<<"$err"

echo "-- an explicit apply resumes; a queue change is re-tuned again"
agent apply "${OPTS[@]}" >/dev/null
check "explicit apply tunes again" [ "$(dump_state)" = "$tuned" ]
check "reapply.json allows everything" jq_true '.all == true and .nics == [] and .sysctls == true' "$STATE/reapply.json"
in_ns ethtool -L gA0 rx 8 tx 8
out=$(udev_reapply)
check "the udev re-apply tunes again after the explicit apply ($(writes "$out") writes)" [ "$(writes "$out")" -gt 0 ]
check "to the same state" [ "$(dump_state)" = "$tuned" ]

echo "-- revert --interface holds that NIC only"
gA1_tuned=$(nic_state gA1)
agent revert --interface gA0 >/dev/null
check "gA0 restored" [ "$(nic_state gA0)" = "$(nic_of "$baseline" gA0)" ]
in_ns ethtool -L gA1 rx 8 tx 8
udev_reapply >/dev/null
check "the udev re-apply re-tunes gA1" [ "$(nic_state gA1)" = "$gA1_tuned" ]
check "and leaves gA0 as reverted" [ "$(nic_state gA0)" = "$(nic_of "$baseline" gA0)" ]
agent apply --interface gA0 "${OPTS[@]}" >/dev/null
check "an explicit apply --interface gA0 resumes it" [ "$(dump_state)" = "$tuned" ]
check "reapply.json allows everything again" jq_true '.all == true and .nics == []' "$STATE/reapply.json"
agent revert >/dev/null

echo "-- a hostile reapply.json stops automatic runs, nothing written"
agent apply "${OPTS[@]}" >/dev/null
agent revert >/dev/null
echo '{"format": 1, "all": true, "nics": ["../../etc"], "sysctls": true}' >"$STATE/reapply.json"
agent apply --automatic "${OPTS[@]}" >/dev/null 2>"$WORK/bad.err" && rc=0 || rc=$?
check "exit 1 (got $rc)" [ "$rc" -eq 1 ]
check "naming the file" grep -q "reapply.json" "$WORK/bad.err"
check "nothing written" [ "$(dump_state)" = "$baseline" ]

echo "-- package removal: deb prerm and rpm %preun restore every NIC, whatever the config says"
# The scripts use the default paths: give them private /etc and /var/lib (overlays in a private
# mount namespace) and a PATH with the agent and a deb-systemd-helper that only records.
removal() {  # removal SCRIPT ARG; its overlay's upper directories stay in $up
  up="$WORK/ov-$RANDOM"
  mkdir -p "$up"/{etc,etc.w,var,var.w,run,bin} "$up/etc/guest-nettune"
  printf 'interface = gA0\nprofile = latency\n' >"$up/etc/guest-nettune/guest-nettune.conf"
  ln -s "$AGENT" "$up/bin/guest-nettune"
  for stub in deb-systemd-helper systemctl udevadm; do
    printf '#!/bin/sh\necho "$0 $*" >>%s/stubs.log\n' "$up" >"$up/bin/$stub"
    chmod +x "$up/bin/$stub"
  done
  in_ns unshare -m sh -euc '
    up=$1; script=$2; arg=$3; shift 3
    mount -t overlay overlay -o "lowerdir=/etc,upperdir=$up/etc,workdir=$up/etc.w" /etc
    mount -t overlay overlay -o "lowerdir=/var/lib,upperdir=$up/var,workdir=$up/var.w" /var/lib
    mount -t tmpfs tmpfs /run
    export PATH="$up/bin:$PATH"
    guest-nettune apply --config "" --driver veth "$@" >/dev/null
    [ -s /var/lib/guest-nettune/journal.json ] || { echo "apply journalled nothing" >&2; exit 1; }
    sh -e "$script" "$arg"
    echo "after removal:" >&2
    guest-nettune apply --automatic --config "" --driver veth "$@" --json | jq -e ".summary.writes == 0" >/dev/null
  ' sh "$up" "$1" "$2" "${OPTS[@]}"
}
sed -n '/^%preun/,/^%postun/p' "$SRC/rpm/guest-nettune.spec" | sed '1d;$d' >"$WORK/preun.sh"
check "the rpm %preun was found" grep -q "guest-nettune revert" "$WORK/preun.sh"
for script in "$SRC/deb/guest-nettune.prerm remove" "$WORK/preun.sh 0"; do
  # shellcheck disable=SC2086
  removal $script 2>"$WORK/removal.err" && rc=0 || rc=$?
  check "${script##*/}: apply, removal script, automatic run all succeeded (rc $rc: $(tr '\n' ' ' <"$WORK/removal.err"))" [ "$rc" -eq 0 ]
  check "${script##*/} restored both NICs although the config names gA0 only" [ "$(dump_state)" = "$baseline" ]
  # Whatever that script left, the next one starts from the baseline: revert with the journal
  # its apply wrote (in the overlay's upper /var/lib).
  [ ! -e "$up/var/guest-nettune/journal.json" ] || in_ns "$AGENT" revert --state-dir "$up/var/guest-nettune" --run-dir "$WORK/run" >/dev/null 2>&1 || true
done
finish
