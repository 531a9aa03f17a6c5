#!/usr/bin/env bash
# In a 4-vCPU TCG guest (tests/vm) with a 4-queue virtio NIC: `guest-nettune apply` after XPS
# and IRQ affinity were reset (every tx queue's xps_cpus emptied, every virtio IRQ on all CPUs),
# beside starting `busybox true` in the same guest, the floor of any program start there.
# Each is timed inside the guest over ROUNDS runs (the resets before each apply timed apart and
# taken off). Target: <= 1.5x.
# Usage (root): GN_BUILD=build bench/guest_apply_vs_true.sh [ROUNDS]
set -euo pipefail
ROUNDS=${1:-30}
export GN_BUILD=$(readlink -f "${GN_BUILD:-build}")
# shellcheck source=../tests/vm/vm.sh
. "$(dirname "$0")/../tests/vm/vm.sh"
trap vm_cleanup EXIT
[ -e "$GN_BUILD/vm/initramfs.gz" ] || bash "$(dirname "$0")/../tests/vm/build-guest.sh" "$GN_BUILD" >/dev/null
vm_start 4 512 4

# In the guest: busybox's date has no nanoseconds, so each loop of ROUNDS runs is timed as a
# whole from /proc/uptime (centiseconds); the resets are timed alone and taken off the apply loop.
guest_script=$(cat <<EOS
set -e
now() { read -r up _ < /proc/uptime; echo "\${up%.*}\${up#*.}"; }
reset() {
  for q in /sys/class/net/eth0/queues/tx-*/xps_cpus; do echo 0 > "\$q"; done
  for i in \$(awk -F: '/virtio0-(input|output)/ {print \$1+0}' /proc/interrupts); do echo f > /proc/irq/\$i/smp_affinity; done
}
guest-nettune apply --config '' >/dev/null   # first apply: channels, sysctls (not measured)
a=\$(now); for r in \$(seq $ROUNDS); do /bin/busybox true; done; b=\$(now)
for r in \$(seq $ROUNDS); do reset; done; c=\$(now)
for r in \$(seq $ROUNDS); do reset; guest-nettune apply --config '' >/dev/null; done; d=\$(now)
for r in \$(seq $ROUNDS); do guest-nettune --version >/dev/null; done; e=\$(now)
for r in \$(seq $ROUNDS); do guest-nettune plan --config '' >/dev/null; done; f=\$(now)
# Centiseconds to microseconds.
echo "\$(( (b - a) * 10000 )) \$(( ((d - c) - (c - b)) * 10000 )) \$(( (e - d) * 10000 )) \$(( (f - e) * 10000 ))"
EOS
)
read -r t_true t_apply t_version t_plan < <(vm_sh "$guest_script")
vm_stop
echo "== 4-vCPU TCG guest, 4-queue virtio NIC, $ROUNDS rounds (microseconds, means)"
printf '%-40s %10s\n' "busybox true" "$((t_true / ROUNDS))"
printf '%-40s %10s\n' "guest-nettune apply after reset" "$((t_apply / ROUNDS))"
# Where the apply's time goes: the agent's own start-up (--version parses no options beyond it,
# reads nothing), and a plan (probe and plan, no writes, no journal).
printf '%-40s %10s\n' "guest-nettune --version" "$((t_version / ROUNDS))"
printf '%-40s %10s\n' "guest-nettune plan" "$((t_plan / ROUNDS))"
awk -v a="$t_apply" -v b="$t_true" 'BEGIN{r=a/b; printf "ratio apply / busybox true: %.2f (target <= 1.5: %s)\n", r, r <= 1.5 ? "met" : "NOT met"}'
