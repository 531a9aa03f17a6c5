#!/bin/sh
# gn-state: the guest's tuning state as the kernel shows it, one fact per line, read straight
# from sysfs, procfs and ethtool (the VM tests compare these, not guest-nettune's reports).
#   channels NIC CURRENT MAX | xps NIC Q MASK | irq NIC ROLE Q IRQ AFFINITY | sysctl NAME VALUE
#   txq NIC Q PACKETS | cpus ONLINE
echo "cpus $(cat /sys/devices/system/cpu/online)"
for d in /sys/class/net/eth*; do
  n=${d##*/}
  ethtool -l "$n" 2>/dev/null | awk -v n="$n" '/^Pre-set/{m=1} /^Current/{m=0} /^Combined:/{if (m) max=$2; else cur=$2} END{print "channels", n, cur, max}'
  for q in "$d"/queues/tx-*; do
    echo "xps $n ${q##*tx-} $(cat "$q/xps_cpus" 2>/dev/null || echo none)"
  done
  v=$(basename "$(readlink "$d/device")")
  grep -E " $v-(input|output)\.[0-9]+$" /proc/interrupts | while read -r irq rest; do
    irq=${irq%:}
    name=${rest##* }
    role=${name#$v-}; q=${role#*.}; role=${role%.*}
    echo "irq $n $role $q $irq $(cat /proc/irq/$irq/smp_affinity)"
  done
  # tx_queue_N_packets up to 6.9, txN_packets from 6.10 on.
  ethtool -S "$n" 2>/dev/null | awk -v n="$n" '/^ *(tx_queue_[0-9]+|tx[0-9]+)_packets:/{q=$1; sub("tx_queue_","",q); sub("tx","",q); sub("_packets:","",q); print "txq", n, q, $2}'
done
for s in netdev_max_backlog netdev_budget netdev_budget_usecs dev_weight busy_poll busy_read rps_sock_flow_entries; do
  echo "sysctl $s $(cat /proc/sys/net/core/$s)"
done
