#!/usr/bin/env bash
# The journal across real reboots and host-side device changes, in the real guest (issue 11):
# the guest's /var/lib/guest-nettune is an ext4 disk that outlives each boot, and every boot is
# a new kernel boot (its own /proc/sys/kernel/random/boot_id). Three boots:
#   A  4 vCPUs, eth0 with 4 queue pairs: apply from a non-default start (combined 1), left tuned;
#   B  the same hardware: revert before any apply restores nothing of boot A (the kernel's
#      defaults stay), then apply + revert come back to what boot B had before its first apply;
#   C  the host changed the machine: 2 vCPUs, eth0 with 8 queue pairs; B's journal is still
#      full; the first apply of boot C journals boot C's originals, and revert restores them.
# Every state is read from the guest's sysfs/procfs (gn-state), not from the agent's report.
HERE=$(dirname "$(readlink -f "$0")")
. "$HERE/vm.sh"
PASSES=0 FAILS=0
trap vm_cleanup EXIT
fail() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); }
check() { local what=$1; shift; if "$@"; then PASSES=$((PASSES + 1)); else fail "$what"; fi; }
jq_true() { jq -e "$@" >/dev/null; }  # jq_true [ARGS] FILTER, the JSON on stdin

bash "$HERE/build-guest.sh" "$BUILD"
VM_DISK="$VM_DIR/state.img"
truncate -s 32M "$VM_DISK"
mkfs.ext4 -q -F "$VM_DISK"

# The tuning state without packet counters; the journal; this boot's id.
state() { vm_state | grep -v '^txq'; }
journal() { vm_sh 'cat /var/lib/guest-nettune/journal.json'; }
boot_id() { vm_sh 'cat /proc/sys/kernel/random/boot_id'; }
channels() { awk -v n="$2" '$1 == "channels" && $2 == n {print $3}' <<<"$1"; }
# The journalled channel line of eth0 in a journal's text.
eth0_channels_original() { jq -r '[.entries[] | select(.target == "ethtool:eth0:channels") | .original] | join("|")' <<<"$1"; }
boot() {  # boot NAME VCPUS QUEUES
  local t0=$SECONDS
  vm_start "$2" 512 "$3"
  echo "== boot $1: $2 vCPUs, eth0 with $3 queue pairs: up in $((SECONDS - t0)) s, boot id $(boot_id)"
  check "boot $1: the state disk is mounted" vm_sh 'grep -q " /var/lib/guest-nettune ext4 " /proc/mounts'
}

boot A 4 4
BOOT_A=$(boot_id)
vm_sh 'ethtool -L eth0 combined 1'
a_start=$(state)
check "boot A starts at combined 1" [ "$(channels "$a_start" eth0)" = 1 ]
vm_host apply >/dev/null || fail "boot A: apply exited $?"
a_tuned=$(state)
check "boot A: apply tuned eth0 to combined 4" [ "$(channels "$a_tuned" eth0)" = 4 ]
j=$(journal)
check "boot A: the journal carries boot A's id" jq_true --arg b "$BOOT_A" '.format == 2 and .boot_id == $b' <<<"$j"
check "boot A: eth0's original channels are combined 1 ($(eth0_channels_original "$j"))" \
  [ "$(eth0_channels_original "$j")" = "combined 1" ]
vm_stop  # power off, tuned, the journal full of boot A's values

boot B 4 4
BOOT_B=$(boot_id)
check "boot B is another boot ($BOOT_A, $BOOT_B)" [ "$BOOT_B" != "$BOOT_A" ]
b_start=$(state)
check "boot B starts at the driver's default combined 4" [ "$(channels "$b_start" eth0)" = 4 ]
check "boot B: boot A's journal survived the reboot" jq_true --arg b "$BOOT_A" '.boot_id == $b and (.entries | length > 0)' <<<"$(journal)"
out=$(vm_sh 'guest-nettune revert --verbose 2>&1') || fail "boot B: revert exited $?"
head -n 3 <<<"$out" | sed 's/^/  revert: /'
check "boot B: revert says it dropped boot A's values" grep -q "earlier boot" <<<"$out"
check "boot B: revert restored nothing of boot A (eth0 still combined $(channels "$(state)" eth0))" [ "$(state)" = "$b_start" ]
check "boot B: the journal is empty and carries boot B's id" jq_true --arg b "$BOOT_B" '.boot_id == $b and .entries == []' <<<"$(journal)"
# A non-default start for boot B (the 4.18 condition: XPS empty), then apply and revert.
vm_sh 'for f in /sys/class/net/eth0/queues/tx-*/xps_cpus; do echo 0 > $f; done'
b_before=$(state)
vm_host apply >/dev/null || fail "boot B: apply exited $?"
check "boot B: apply changed something" [ "$(state)" != "$b_before" ]
check "boot B: the journal carries boot B's id" jq_true --arg b "$BOOT_B" '.boot_id == $b and (.entries | length > 0)' <<<"$(journal)"
vm_host revert >/dev/null || fail "boot B: revert exited $?"
b_after=$(state)
check "boot B: revert restores what boot B had before its first apply" [ "$b_after" = "$b_before" ]
[ "$b_after" = "$b_before" ] || diff <(echo "$b_before") <(echo "$b_after") >&2 || true
vm_host apply >/dev/null || fail "boot B: second apply exited $?"
check "boot B: left tuned, the journal full of boot B's values" jq_true --arg b "$BOOT_B" '.boot_id == $b and (.entries | length > 0)' <<<"$(journal)"
vm_stop

boot C 2 8  # the host took two vCPUs away and gave eth0 eight queue pairs
BOOT_C=$(boot_id)
check "boot C is another boot" [ "$BOOT_C" != "$BOOT_B" ]
c_default=$(state)
check "boot C starts with 2 CPUs online and eth0 at combined 2 of 8 ($(grep -E '^(cpus|channels eth0)' <<<"$c_default" | tr '\n' ' '))" \
  grep -qx 'channels eth0 2 8' <<<"$c_default"
# The admin's state of this boot: every queue in use.
vm_sh 'ethtool -L eth0 combined 8'
c_before=$(state)
vm_host apply >/dev/null || fail "boot C: apply exited $?"
c_tuned=$(state)
check "boot C: apply tuned eth0 to combined 2" [ "$(channels "$c_tuned" eth0)" = 2 ]
j=$(journal)
check "boot C: the journal carries boot C's id only" jq_true --arg b "$BOOT_C" '.boot_id == $b' <<<"$j"
check "boot C: eth0's original channels are boot C's combined 8, not boot B's ($(eth0_channels_original "$j"))" \
  [ "$(eth0_channels_original "$j")" = "combined 8" ]
vm_host revert >/dev/null || fail "boot C: revert exited $?"
c_after=$(state)
check "boot C: revert restores what boot C had before its first apply" [ "$c_after" = "$c_before" ]
[ "$c_after" = "$c_before" ] || diff <(echo "$c_before") <(echo "$c_after") >&2 || true
vm_stop

echo "$PASSES passed, $FAILS failed"
[ "$FAILS" -eq 0 ]
