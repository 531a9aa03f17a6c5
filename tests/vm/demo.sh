#!/usr/bin/env bash
# The README's main job: boot a real guest (Debian's cloud kernel under qemu, 4 vCPUs, two
# virtio NICs with 4 queue pairs) left the way old guest kernels leave it (eth0 on one queue pair
# like RHEL 7.3, eth1 with XPS empty like 4.18), then from the host: status, apply, status.
# Usage: demo.sh BUILD_DIR
set -euo pipefail
export GN_BUILD=$(readlink -f "$1")
HERE=$(dirname "$(readlink -f "$0")")
. "$HERE/vm.sh"
trap vm_cleanup EXIT
bash "$HERE/build-guest.sh" "$GN_BUILD"
echo "== booting the guest (4 vCPUs, eth0 and eth1 with 4 queue pairs each, under TCG)"
vm_start 4 512 4 4
vm_sh 'ethtool -L eth0 combined 1 && for f in /sys/class/net/eth1/queues/tx-*/xps_cpus; do echo 0 > $f; done'
echo
echo "== guest-nettune-host --socket SOCK status     (before)"
vm_host status || true
echo
echo "== guest-nettune-host --socket SOCK apply"
vm_host apply
echo
echo "== guest-nettune-host --socket SOCK status     (after)"
vm_host status
echo
echo "== the guest's own view, read with guest-exec (ethtool -l eth0; xps_cpus of eth0 and eth1)"
vm_sh 'ethtool -l eth0 | sed -n "/Current/,\$p" | grep Combined; grep . /sys/class/net/eth*/queues/tx-*/xps_cpus'
