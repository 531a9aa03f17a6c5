#!/bin/sh
# /init of the test guest: mount, load the virtio drivers, bring the NICs up with documentation
# addresses, start qemu-guest-agent on its virtio port, and idle.
/bin/busybox --install -s /bin
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /run /var/lib /tmp /etc
# No depmod here: the builder wrote the modules in dependency order.
while read -r m; do
  [ -e "/lib/modules/$m" ] || continue
  insmod "/lib/modules/$m" || echo "init: insmod $m failed"
done </lib/modules/load-order
# A state disk (tests/vm/test_reboot.sh): the agent's state directory, kept across reboots.
if grep -qx 0x0002 /sys/bus/virtio/devices/*/device 2>/dev/null; then
  for i in 1 2 3 4 5 6 7 8 9 10; do [ -b /dev/vda ] && break; sleep 0.2; done
  mkdir -p /var/lib/guest-nettune
  mount -t ext4 /dev/vda /var/lib/guest-nettune || echo "init: mounting the state disk /dev/vda failed"
fi
# /dev/virtio-ports/NAME links (udev's job elsewhere).
mkdir -p /dev/virtio-ports
for i in 1 2 3 4 5 6 7 8 9 10; do
  for p in /sys/class/virtio-ports/vport*; do
    [ -e "$p/name" ] && ln -sf "/dev/${p##*/}" "/dev/virtio-ports/$(cat "$p/name")"
  done
  [ -e /dev/virtio-ports/org.qemu.guest_agent.0 ] && break
  sleep 0.2
done
# eth0 gets a documentation address; its neighbour 192.0.2.1 (the test's side of the tap, where
# nothing listens) is static, so test packets leave without ARP. Other NICs are only up.
for d in /sys/class/net/eth*; do ip link set "${d##*/}" up; done
ip addr add 192.0.2.2/24 dev eth0
arp -s 192.0.2.1 02:00:00:00:00:01
ip link set lo up
echo "init: guest ready: $(ls /sys/class/net | tr '\n' ' ')"
qemu-ga -m virtio-serial -p /dev/virtio-ports/org.qemu.guest_agent.0 -t /run &
while true; do sleep 3600; done
