#!/usr/bin/env bash
# The whole system on a real guest: Debian's cloud kernel under qemu (TCG) with multiqueue
# virtio-net, qemu-guest-agent on its virtio port, driven from the host with guest-nettune-host.
# Every result is read back from the guest's sysfs/procfs (gn-state), not from the agent's report.
HERE=$(dirname "$(readlink -f "$0")")
. "$HERE/vm.sh"
PASSES=0 FAILS=0
trap vm_cleanup EXIT
fail() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); }
check() { local what=$1; shift; if "$@"; then PASSES=$((PASSES + 1)); else fail "$what"; fi; }

# Always from the binaries just built (the kernel download is cached).
bash "$HERE/build-guest.sh" "$BUILD"

# Helpers over gn-state's lines.
field() { awk -v k="$1" -v n="$2" '$1 == k && $2 == n' <<<"$STATE"; }
channels_of() { field channels "$1" | awk '{print $3}'; }
xps_mask() { field xps "$1" | awk -v q="$2" '$3 == q {print $4}'; }
cpus_of_mask() {  # hex mask → sorted CPU list, space separated
  local hex=${1//,/} bit=0 i d out=()
  for ((i = ${#hex} - 1; i >= 0; i--)); do
    d=$((16#${hex:i:1}))
    for b in 0 1 2 3; do (( (d >> b) & 1 )) && out+=($((bit + b))); done
    bit=$((bit + 4))
  done
  echo "${out[*]:-}"
}
sysctl_of() { awk -v s="$1" '$1 == "sysctl" && $2 == s {print $3}' <<<"$STATE"; }
refresh() { STATE=$(vm_state); }
jq_true() { jq -e "$1" >/dev/null; }

# Each CPU in exactly one tx queue of NIC, and each queue's IRQs on its XPS block.
check_layout() {
  local nic=$1 want_cpus=$2 all=() q mask
  for q in $(field xps "$nic" | awk '{print $3}'); do
    mask=$(xps_mask "$nic" "$q")
    all+=($(cpus_of_mask "$mask"))
    while read -r _ _ role iq irq aff; do
      [ "$iq" = "$q" ] || continue
      check "$nic $role.$q IRQ $irq affinity $(cpus_of_mask "$aff") == XPS block $(cpus_of_mask "$mask")" \
        [ "$(cpus_of_mask "$aff")" = "$(cpus_of_mask "$mask")" ]
    done < <(field irq "$nic")
  done
  check "$nic: every CPU in exactly one tx queue (got ${all[*]:-none})" \
    [ "$(printf '%s\n' "${all[@]:-}" | sort -n | tr '\n' ' ')" = "$want_cpus " ]
}

echo "== guest A: 4 vCPUs, eth0 and eth1 with 4 queue pairs each"
t0=$SECONDS
vm_start 4 512 4 4
echo "booted in $((SECONDS - t0)) s"
# The RHEL 7.3 condition on eth0 (one queue pair in use), the 4.18 one on eth1 (XPS empty).
vm_sh 'ethtool -L eth0 combined 1 && for f in /sys/class/net/eth1/queues/tx-*/xps_cpus; do echo 0 > $f; done'
refresh
before=$(grep -v '^txq' <<<"$STATE")
check "eth0 starts at combined 1" [ "$(channels_of eth0)" = 1 ]
check "eth1 starts with XPS empty" [ "$(xps_mask eth1 0 | tr -d '0,')" = "" ]
orig_usecs=$(sysctl_of netdev_budget_usecs)

echo "-- 1. apply"
vm_host apply || fail "apply exited $?"
refresh
check "eth0 channels now 4" [ "$(channels_of eth0)" = 4 ]
check_layout eth0 "0 1 2 3"
check_layout eth1 "0 1 2 3"
check "netdev_max_backlog 100000" [ "$(sysctl_of netdev_max_backlog)" = 100000 ]
check "netdev_budget 50000" [ "$(sysctl_of netdev_budget)" = 50000 ]
check "dev_weight 6000" [ "$(sysctl_of dev_weight)" = 6000 ]
check "netdev_budget_usecs at least 5000" [ "$(sysctl_of netdev_budget_usecs)" -ge 5000 ]

echo "-- 2. a second apply writes nothing"
writes=$(vm_host --json apply | jq '.summary.writes')
check "second apply wrote $writes" [ "$writes" = 0 ]

echo "-- 3. revert"
vm_host revert || fail "revert exited $?"
refresh
after=$(grep -v '^txq' <<<"$STATE")
check "revert restores channels, XPS, IRQs and sysctls" [ "$after" = "$before" ]
[ "$after" = "$before" ] || diff <(echo "$before") <(echo "$after") >&2 || true

echo "-- 4. the driver's overwrite: channel and CPU changes after apply"
vm_host apply >/dev/null
vm_sh 'ethtool -L eth0 combined 2'
drift=$(vm_host --json status | jq '[.settings[] | select(.nic == "eth0" and .state == "drift")] | length')
check "status shows drift on eth0 after ethtool -L combined 2 ($drift settings)" [ "$drift" -gt 0 ]
vm_host apply --interface eth0 >/dev/null  # what the udev rule runs for this NIC
refresh
check "re-apply restores combined 4" [ "$(channels_of eth0)" = 4 ]
check_layout eth0 "0 1 2 3"
vm_sh 'ethtool -L eth0 combined 2 && ethtool -L eth0 combined 4'
refresh
check_layout eth0 "0 1 2 3"
vm_sh 'echo 0 > /sys/devices/system/cpu/cpu3/online'
refresh
check "with CPU 3 offline the driver put CPU 0 on tx-3 too ($(xps_mask eth0 3))" [ "$(cpus_of_mask "$(xps_mask eth0 3)")" = 0 ]
drift=$(vm_host --json status | jq '.summary.drift')
check "status shows drift with CPU 3 offline ($drift settings)" [ "$drift" -gt 0 ]
vm_host apply >/dev/null
refresh
check "re-apply with 3 CPUs: combined 3 on eth0" [ "$(channels_of eth0)" = 3 ]
check_layout eth0 "0 1 2"
vm_sh 'echo 1 > /sys/devices/system/cpu/cpu3/online'
vm_host apply >/dev/null
refresh
check "CPU 3 back: combined 4" [ "$(channels_of eth0)" = 4 ]
check_layout eth0 "0 1 2 3"
check_layout eth1 "0 1 2 3"

echo "-- 6. transmit locality on eth0"
# Per CPU: the tx queue counters before and after 2000 datagrams sent from that CPU, from the mq
# qdisc's per-queue children (parent :N is tx-(N-1); Debian's tc: busybox's has no -s). Not from ethtool -S: virtio_net dropped its
# per-queue packet counters there in 6.10 (they moved to netlink qstats), and this runs on 5.10 to 6.12.
measure() {
  vm_sh 'txq() { /usr/sbin/tc -s qdisc show dev eth0 | awk "/^qdisc/ {q=\"\"; for (i = 1; i <= NF; i++) if (\$i == \"parent\") q = \$(i + 1)}
                                             /^ Sent/ && q ~ /^:/ {print substr(q, 2), \$4}" | sort -n | awk "{printf \"%s \", \$2}"; }
         for c in 0 1 2 3; do
           b=$(txq)
           udp-burst $c 2000 >/dev/null
           a=$(txq)
           echo "cpu $c $b| $a"
         done'
}
# Share of each CPU's packets that left by the queue whose XPS block (in the planned layout,
# $STATE) holds that CPU.
locality() {
  local line cpu q d total=0 local_sum=0
  while read -r line; do
    cpu=$(awk '{print $2}' <<<"$line")
    read -ra b <<<"$(sed 's/^cpu [0-9]* //; s/|.*//' <<<"$line")"
    read -ra a <<<"$(sed 's/.*| //' <<<"$line")"
    for q in "${!a[@]}"; do
      d=$((a[q] - b[q]))
      total=$((total + d))
      if [[ " $(cpus_of_mask "$(xps_mask eth0 "$q")") " == *" $cpu "* ]]; then local_sum=$((local_sum + d)); fi
    done
  done <<<"$1"
  awk -v l="$local_sum" -v t="$total" 'BEGIN{printf "%.2f", t ? 100 * l / t : 0}'
}
vm_host apply >/dev/null
refresh
layout=$STATE
vm_sh 'for f in /sys/class/net/eth0/queues/tx-*/xps_cpus; do echo 0 > $f; done'
cleared=$(measure)
vm_host apply >/dev/null
applied=$(measure)
STATE=$layout
before_pct=$(locality "$cleared")
after_pct=$(locality "$applied")
echo "transmit locality (share of each CPU's packets on the queue holding that CPU): XPS cleared ${before_pct}%, after apply ${after_pct}%"
echo "per CPU, tx queue counters before | after 2000 datagrams, XPS cleared:"; echo "$cleared"
echo "after apply:"; echo "$applied"
check "after apply at least 99% of packets leave by their CPU's queue (${after_pct}%)" \
  awk -v p="$after_pct" 'BEGIN{exit !(p >= 99)}'
# The agent's own sample, while CPU 1 sends: per-queue rates from the driver's tx_queue_N_packets.
sample=$(vm_sh 'udp-burst 1 100000000 >/dev/null 2>&1 & pid=$!; guest-nettune status --sample 1 --json; kill $pid')
q1=""
for q in 0 1 2 3; do
  if [[ " $(cpus_of_mask "$(xps_mask eth0 $q)") " == *" 1 "* ]]; then q1=$q; fi
done
if vm_sh 'ethtool -S eth0' | grep -qE '^ *(tx_queue_0|tx0)_packets:'; then
  share=$(jq -r --arg q "$q1" '.load.nics[] | select(.nic == "eth0") | .tx_queue_pps as $t |
    ([$t[]] | add) as $sum | if $sum > 0 then ($t[$q] / $sum * 100) else 0 end' <<<"$sample")
  rate=$(jq -r --arg q "$q1" '.load.nics[] | select(.nic == "eth0") | .tx_queue_pps[$q] | floor' <<<"$sample")
  echo "status --sample while CPU 1 sends: tx-$q1 at $rate pps, ${share}% of eth0's transmit"
  check "the sample sees CPU 1's packets on tx-$q1 ($rate pps, ${share}%)" \
    awk -v r="$rate" -v s="$share" 'BEGIN{exit !(r > 1000 && s >= 99)}'
else
  # virtio_net from 6.10 on has no per-queue packet counters in ethtool -S (netlink qstats only):
  # the sample must then give the NIC's rate and no invented per-queue figures.
  rate=$(jq -r '.load.nics[] | select(.nic == "eth0") | .tx_pps | floor' <<<"$sample")
  nq=$(jq -r '.load.nics[] | select(.nic == "eth0") | .tx_queue_pps | length' <<<"$sample")
  echo "status --sample while CPU 1 sends: eth0 at $rate pps; this kernel's ethtool -S has no per-queue packets"
  check "the sample gives eth0's rate ($rate pps) and no per-queue rates ($nq) on this kernel" \
    awk -v r="$rate" -v n="$nq" 'BEGIN{exit !(r > 1000 && n == 0)}'
fi
vm_host revert >/dev/null
vm_stop

echo "== guest B: 6 vCPUs; eth0 with 4 queue pairs, eth1 with 2, eth2 with one"
t0=$SECONDS
vm_start 6 512 4 2 1
echo "booted in $((SECONDS - t0)) s"
rps=$(vm_sh 'cat /sys/class/net/eth2/queues/rx-0/rps_cpus /sys/class/net/eth2/queues/rx-0/rps_flow_cnt' | tr '\n' ' ')
check "eth2 starts without RPS ($rps)" [ "$rps" = "00 0 " ]
vm_host apply || fail "apply exited $?"
refresh
check "eth0 combined 4" [ "$(channels_of eth0)" = 4 ]
check "eth1 combined 2" [ "$(channels_of eth1)" = 2 ]
check_layout eth0 "0 1 2 3 4 5"
check_layout eth1 "0 1 2 3 4 5"
check "eth0 uneven blocks 2,2,1,1" [ "$(for q in 0 1 2 3; do cpus_of_mask "$(xps_mask eth0 $q)" | wc -w; done | tr '\n' ' ')" = "2 2 1 1 " ]
rps=$(vm_sh 'cat /sys/class/net/eth1/queues/rx-0/rps_cpus /sys/class/net/eth1/queues/rx-1/rps_flow_cnt' | tr '\n' ' ')
check "eth1 RPS over all 6 CPUs with 16384 flows ($rps)" [ "$rps" = "3f 16384 " ]
# The single-queue NIC: its receive work spread by RPS over all 6 CPUs, with RFS flow entries.
rps=$(vm_sh 'cat /sys/class/net/eth2/queues/rx-0/rps_cpus /sys/class/net/eth2/queues/rx-0/rps_flow_cnt /proc/sys/net/core/rps_sock_flow_entries' | tr '\n' ' ')
check "eth2 (one queue pair) RPS over all 6 CPUs with 32768 flows, RFS table 32768 ($rps)" [ "$rps" = "3f 32768 32768 " ]
check "eth2 channels still 1" [ "$(channels_of eth2)" = 1 ]
status=$(vm_host --json status)
check "eth2 reported as single queue" jq_true '[.settings[] | select(.nic == "eth2" and (.reason | test("single")))] | length > 0' <<<"$status"
check "eth2 XPS not applicable" jq_true '[.settings[] | select(.nic == "eth2" and .kind == "xps_cpus")] | length > 0 and all(.state == "not_applicable")' <<<"$status"
check "eth2 in its planned state after apply" jq_true '[.settings[] | select(.nic == "eth2" and .state == "drift")] | length == 0' <<<"$status"
findings=$(vm_sh 'guest-nettune check --json; true')
check "check still tells the operator to give eth2 queues on the host" \
  jq_true '[.findings[] | select(.id == "host-queues" and .nic == "eth2" and (.what_to_do | test("queues=6")))] | length == 1' <<<"$findings"
vm_host revert >/dev/null
vm_stop

echo "$PASSES passed, $FAILS failed"
[ "$FAILS" -eq 0 ]
