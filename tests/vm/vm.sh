# The test guest under qemu (TCG): booted in a network namespace that the test makes, with
# multiqueue taps, an agent socket, and documentation addresses. Sourced by the VM tests and the
# demo. Every exit path stops qemu and removes the namespace; a guest that does not answer by the
# deadline fails with the tail of its console.
set -euo pipefail
BUILD=${GN_BUILD:?set GN_BUILD to the build directory}
VM_DIR=$(mktemp -d /tmp/gn-vm-XXXXXX)
VM_NS="gnvm-$$"
VM_SOCK="$VM_DIR/qga.sock"
QGA_EXEC="$BUILD/tests/qga-exec"
HOST="$BUILD/qga-bridge/guest-nettune-host"
# VM_DISK (optional): a raw ext4 image the guest mounts as /var/lib/guest-nettune, so that the
# agent's journal survives a reboot (stop, then vm_start again with the same VM_DISK).
VM_DISK=${VM_DISK:-}
# The guest build-guest.sh made for GN_KERNEL_SUITE (unset: the machine's own kernel generation).
VM_OUT="$BUILD/vm${GN_KERNEL_SUITE:+-$GN_KERNEL_SUITE}"

vm_cleanup() {
  if [ -e "$VM_DIR/qemu.pid" ]; then kill "$(cat "$VM_DIR/qemu.pid")" 2>/dev/null || true; fi
  ip netns del "$VM_NS" 2>/dev/null || true
  rm -rf "$VM_DIR"
}

vm_require() {
  local missing=()
  command -v qemu-system-x86_64 >/dev/null || missing+=(qemu-system-x86)
  [ -c /dev/net/tun ] || missing+=("/dev/net/tun (the tun module)")
  [ -e "$VM_OUT/initramfs.gz" ] || missing+=("the guest image: bash tests/vm/build-guest.sh $BUILD")
  if [ ${#missing[@]} -gt 0 ]; then
    echo "vm: missing: ${missing[*]} (run .ci/setup)" >&2
    exit 1
  fi
}

# vm_start VCPUS MEM_MB QUEUES...: one virtio NIC per QUEUES value (1 = single queue).
# A guest kernel that oopses while it boots, before any of the test's programs runs in it, is
# booted once more: multi-threaded TCG now and then breaks the kernel's own code patching
# (an int3 oops in an early kthread, seen with Debian 13's 6.12 kernel). Said on stderr; a
# second failure fails the test.
vm_start() {
  vm_require
  if _vm_boot "$@"; then return 0; fi
  grep -qE "Oops:|BUG:|Kernel panic" "$VM_DIR/console.log" 2>/dev/null || return 1
  echo "vm: the guest kernel failed while booting (above), before the test ran anything in it: booting it again" >&2
  vm_stop
  mv "$VM_DIR/console.log" "$VM_DIR/console-first-boot.log"
  _vm_boot "$@"
}

_vm_boot() {
  local vcpus=$1 mem=$2; shift 2
  ip netns add "$VM_NS"
  local args=() i=0 q
  for q in "$@"; do
    if [ "$q" -gt 1 ]; then ip -n "$VM_NS" tuntap add dev "gtap$i" mode tap multi_queue
    else ip -n "$VM_NS" tuntap add dev "gtap$i" mode tap; fi
    ip -n "$VM_NS" link set "gtap$i" up
    if [ "$q" -gt 1 ]; then
      args+=(-netdev "tap,id=n$i,ifname=gtap$i,script=no,downscript=no,queues=$q"
             -device "virtio-net-pci,netdev=n$i,mq=on,vectors=$((2 * q + 2)),mac=52:54:00:00:00:0$i")
    else
      args+=(-netdev "tap,id=n$i,ifname=gtap$i,script=no,downscript=no"
             -device "virtio-net-pci,netdev=n$i,mac=52:54:00:00:00:0$i")
    fi
    i=$((i + 1))
  done
  if [ -n "$VM_DISK" ]; then args+=(-drive "file=$VM_DISK,if=virtio,format=raw"); fi
  ip netns exec "$VM_NS" qemu-system-x86_64 -accel tcg -m "$mem" -smp "$vcpus" -nodefaults -display none \
    -no-reboot -serial "file:$VM_DIR/console.log" -kernel "$VM_OUT/vmlinuz" -initrd "$VM_OUT/initramfs.gz" \
    -append "console=ttyS0 panic=-1 ipv6.disable=1 quiet" "${args[@]}" \
    -chardev "socket,path=$VM_SOCK,server=on,wait=off,id=qga0" -device virtio-serial \
    -device virtserialport,chardev=qga0,name=org.qemu.guest_agent.0 \
    -pidfile "$VM_DIR/qemu.pid" -daemonize
  # Ready when the agent in the guest runs a program (each try bounded by its own timeout).
  local deadline=$((SECONDS + ${GN_VM_BOOT_TIMEOUT:-120}))
  until "$QGA_EXEC" --socket "$VM_SOCK" --timeout 3 -- /bin/true 2>/dev/null; do
    if [ $SECONDS -ge $deadline ] || ! kill -0 "$(cat "$VM_DIR/qemu.pid" 2>/dev/null)" 2>/dev/null; then
      echo "vm: the guest did not answer in time; its console ends with:" >&2
      tail -n 30 "$VM_DIR/console.log" >&2 || true
      return 1
    fi
  done
}

vm_stop() {
  if [ -e "$VM_DIR/qemu.pid" ]; then
    local pid
    pid=$(cat "$VM_DIR/qemu.pid")
    kill "$pid" 2>/dev/null || true
    timeout 20 tail --pid="$pid" -f /dev/null || kill -9 "$pid" 2>/dev/null || true  # until it has exited
    rm -f "$VM_DIR/qemu.pid" "$VM_SOCK"
  fi
  ip netns del "$VM_NS" 2>/dev/null || true
}

# vm_sh 'COMMANDS': runs a shell command line in the guest, prints its output.
vm_sh() { "$QGA_EXEC" --socket "$VM_SOCK" -- /bin/sh -c "$1"; }
# The guest's tuning state as the kernel shows it (see gn-state.sh).
vm_state() { "$QGA_EXEC" --socket "$VM_SOCK" -- /usr/bin/gn-state; }
# guest-nettune-host against the guest.
vm_host() { "$HOST" --socket "$VM_SOCK" "$@"; }
