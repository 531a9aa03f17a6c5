#!/bin/sh
# gn-state: the guest's tuning state as the kernel shows it, one fact per line, read straight from
# sysfs and procfs (and ethtool for channels). Installed in the test image as
# /usr/local/sbin/gn-state; gn-prestate.service saves it to /run/gn-prestate at every boot before
# guest-nettune.service runs, which is the state revert must bring back.
#   cpus online|isolated LIST | channels NIC CURRENT MAX | xps NIC Q MASK | rps NIC Q MASK FLOWS
#   irq NIC ROLE Q IRQ MASK | sysctl NAME VALUE
echo "cpus online $(cat /sys/devices/system/cpu/online)"
echo "cpus isolated $(cat /sys/devices/system/cpu/isolated)"
for d in /sys/class/net/eth*; do
  [ -e "$d" ] || continue
  n=${d##*/}
  ethtool -l "$n" 2>/dev/null | awk -v n="$n" '/^Pre-set/{m=1} /^Current/{m=0} /^Combined:/{if (m) max=$2; else cur=$2} END{print "channels", n, cur, max}'
  for q in "$d"/queues/tx-*; do echo "xps $n ${q##*tx-} $(cat "$q/xps_cpus" 2>/dev/null || echo none)"; done
  for q in "$d"/queues/rx-*; do echo "rps $n ${q##*rx-} $(cat "$q/rps_cpus") $(cat "$q/rps_flow_cnt")"; done
  v=$(basename "$(readlink "$d/device")")
  grep -E " $v-(input|output)\.[0-9]+\$" /proc/interrupts | while read -r irq rest; do
    irq=${irq%:}; name=${rest##* }; role=${name#"$v"-}; q=${role#*.}; role=${role%.*}
    echo "irq $n $role $q $irq $(cat /proc/irq/"$irq"/smp_affinity)"
  done
done
for s in netdev_max_backlog netdev_budget netdev_budget_usecs dev_weight busy_poll busy_read rps_sock_flow_entries; do
  echo "sysctl $s $(cat /proc/sys/net/core/$s)"
done
