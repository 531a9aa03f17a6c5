#!/bin/sh
# gn-state: the guest's tuning state as the kernel shows it, one fact per line, read straight from
# sysfs and procfs (and ethtool for channels). Installed in the test image as
# /usr/local/sbin/gn-state; gn-prestate.service saves it to /run/gn-prestate at every boot before
# guest-nettune.service runs, which is the state revert must bring back.
#   cpus online|isolated LIST | channels NIC CURRENT MAX | xps NIC Q MASK | rps NIC Q MASK FLOWS
#   irq NIC ROLE Q IRQ MASK | sysctl NAME VALUE
# Files are read with the shell's own `read` (one ethtool per NIC is the only program started):
# under TCG every exec costs tens of milliseconds, and the test samples this many times a second
# to time re-applies on the guest's clock.
# (sysfs and /proc/irq answer the byte-at-a-time reads of `read`; /proc/sys does not: cat below.)
rd() { read -r v 2>/dev/null <"$1" || v=none; }
rd /sys/devices/system/cpu/online; echo "cpus online $v"
rd /sys/devices/system/cpu/isolated; echo "cpus isolated $v"
for d in /sys/class/net/eth*; do
  [ -e "$d" ] || continue
  n=${d##*/}
  ethtool -l "$n" 2>/dev/null | {
    m=pre max="" cur=""
    while IFS=: read -r k val; do
      case $k in
        Current*) m=cur ;;
        Combined) if [ $m = pre ]; then max=${val##*[	 ]}; else cur=${val##*[	 ]}; fi ;;
      esac
    done
    echo "channels $n $cur $max"
  }
  for q in "$d"/queues/tx-*; do rd "$q/xps_cpus"; echo "xps $n ${q##*tx-} $v"; done
  for q in "$d"/queues/rx-*; do
    rd "$q/rps_cpus"; m=$v; rd "$q/rps_flow_cnt"; echo "rps $n ${q##*rx-} $m $v"
  done
  dev=$(readlink "$d/device"); dev=${dev##*/}
  while read -r irq rest; do
    name=${rest##* }
    case $name in
      "$dev"-input.*|"$dev"-output.*) ;;
      *) continue ;;
    esac
    irq=${irq%:}; role=${name#"$dev"-}; q=${role#*.}; role=${role%.*}
    case $q in *[!0-9]*|"") continue ;; esac
    rd "/proc/irq/$irq/smp_affinity"; echo "irq $n $role $q $irq $v"
  done </proc/interrupts
done
names="netdev_max_backlog netdev_budget netdev_budget_usecs dev_weight busy_poll busy_read rps_sock_flow_entries"
files=""
for s in $names; do files="$files /proc/sys/net/core/$s"; done
# shellcheck disable=SC2086
cat $files | { for s in $names; do read -r v; echo "sysctl $s $v"; done; }
