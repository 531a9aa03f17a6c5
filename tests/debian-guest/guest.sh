# The Debian 12 test guest under qemu (TCG): a copy of the cached base image with a local apt
# repository holding the guest-nettune package just built and a NoCloud seed made from the shipped
# cloud-config, booted with the image's own kernel and initrd, two multiqueue virtio-net NICs on
# taps inside a network namespace the test makes, the qemu-guest-agent port, and QMP. Sourced by
# test_debian_guest.sh. Every exit path stops qemu and removes the namespace.
set -euo pipefail
BUILD=${GN_BUILD:?set GN_BUILD to the build directory}
DG_HERE=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
SRC=$(readlink -f "$DG_HERE/../..")
DG_DIR=$(mktemp -d /tmp/gn-debguest-XXXXXX)
DG_NS="gndeb-$$"
DG_QGA="$DG_DIR/qga.sock"
DG_QMP="$DG_DIR/qmp.sock"
QGA_EXEC="$BUILD/tests/qga-exec"
HOST="$BUILD/qga-bridge/guest-nettune-host"
REPO_IN_GUEST=/opt/guest-nettune-repo

dg_cleanup() {
  if [ -e "$DG_DIR/qemu.pid" ]; then
    local pid; pid=$(cat "$DG_DIR/qemu.pid")
    kill "$pid" 2>/dev/null || true
    timeout 20 tail --pid="$pid" -f /dev/null 2>/dev/null || kill -9 "$pid" 2>/dev/null || true
  fi
  ip netns del "$DG_NS" 2>/dev/null || true
  if [ -n "${GN_KEEP_GUEST:-}" ]; then echo "guest files kept in $DG_DIR" >&2; else rm -rf "$DG_DIR"; fi
}

# dg_disk IMAGE_DIR: the run's disk, a sparse copy of the base image with the repository and the
# seed written into it by debugfs (no mount).
dg_disk() {
  local img=$1 deb
  # The .deb exactly as `cmake --build build --target packages` makes it (the same script), into
  # the run's own directory so that a parallel packaging test does not race it.
  local version
  version=$(sed -n 's/^project(guest-nettune VERSION \([0-9.]*\).*/\1/p' "$SRC/CMakeLists.txt")
  mkdir -p "$DG_DIR/repo" "$DG_DIR/seed" "$DG_DIR/packages"
  bash "$SRC/deb/build-deb.sh" "$SRC" "$BUILD" "$DG_DIR/packages" "$version" >/dev/null
  deb=$(ls "$DG_DIR"/packages/guest-nettune_*.deb 2>/dev/null | head -1)
  [ -n "$deb" ] || { echo "debian-guest: deb/build-deb.sh made no guest-nettune_*.deb" >&2; return 1; }
  cp "$deb" "$DG_DIR/repo/"
  (cd "$DG_DIR/repo" && dpkg-scanpackages --multiversion . /dev/null 2>/dev/null >Packages)
  grep -q '^Package: guest-nettune$' "$DG_DIR/repo/Packages" || { echo "debian-guest: dpkg-scanpackages found no package" >&2; return 1; }
  # The operator's cloud-config exactly as shipped, only the repository line pointed at the image's
  # own file repository.
  local shipped="$SRC/guest-scripts/cloud-init/guest-nettune.cloud-config.yaml"
  sed -E "s|^( *source: ).*\$|\1\"deb [trusted=yes] file:$REPO_IN_GUEST ./\"|" "$shipped" >"$DG_DIR/seed/user-data"
  [ "$(diff "$shipped" "$DG_DIR/seed/user-data" | grep -c '^[<>]')" = 2 ] ||
    { echo "debian-guest: the user-data differs from the shipped cloud-config by more than the source line" >&2; return 1; }
  printf 'instance-id: gn-test-%s\nlocal-hostname: gn-guest\n' "$$" >"$DG_DIR/seed/meta-data"
  cp --sparse=always "$img/base.img" "$DG_DIR/disk.img"
  {
    echo "mkdir $REPO_IN_GUEST"
    echo "cd $REPO_IN_GUEST"
    echo "write $DG_DIR/repo/$(basename "$deb") $(basename "$deb")"
    echo "write $DG_DIR/repo/Packages Packages"
    echo "cd /var/lib/cloud/seed/nocloud"
    echo "write $DG_DIR/seed/user-data user-data"
    echo "write $DG_DIR/seed/meta-data meta-data"
  } >"$DG_DIR/debugfs.cmd"
  debugfs -w -f "$DG_DIR/debugfs.cmd" "$DG_DIR/disk.img" >"$DG_DIR/debugfs.log" 2>&1
  if grep -qiE "error|not found|could not|no such" "$DG_DIR/debugfs.log"; then
    cat "$DG_DIR/debugfs.log" >&2; return 1
  fi
}

# dg_start IMAGE_DIR CMDLINE_EXTRA: boots the guest: 4 vCPUs present of 5 possible, eth0 with 4
# queue pairs, eth1 with 2.
dg_start() {
  local img=$1 extra=$2
  ip netns add "$DG_NS"
  ip -n "$DG_NS" link set lo up
  local i q args=()
  for i in 0 1; do
    q=$((i == 0 ? 4 : 2))
    ip -n "$DG_NS" tuntap add dev "dtap$i" mode tap multi_queue
    ip -n "$DG_NS" link set "dtap$i" up
    args+=(-netdev "tap,id=n$i,ifname=dtap$i,script=no,downscript=no,queues=$q"
           -device "virtio-net-pci,netdev=n$i,mq=on,vectors=$((2 * q + 2)),mac=52:54:00:12:00:0$i")
  done
  ip -n "$DG_NS" addr add 192.0.2.1/24 dev dtap0
  ip netns exec "$DG_NS" qemu-system-x86_64 -machine pc -accel tcg -m 1536 -smp 4,maxcpus=5 -nodefaults \
    -display none -serial "file:$DG_DIR/console.log" \
    -kernel "$img/vmlinuz" -initrd "$img/initrd.img" \
    -append "root=/dev/vda rw console=ttyS0 net.ifnames=0 $extra" \
    -drive "file=$DG_DIR/disk.img,if=virtio,format=raw" "${args[@]}" \
    -chardev "socket,path=$DG_QGA,server=on,wait=off,id=qga0" -device virtio-serial \
    -device virtserialport,chardev=qga0,name=org.qemu.guest_agent.0 \
    -qmp "unix:$DG_QMP,server=on,wait=off" -pidfile "$DG_DIR/qemu.pid" -daemonize
}

dg_alive() { kill -0 "$(cat "$DG_DIR/qemu.pid" 2>/dev/null)" 2>/dev/null; }
dg_console_tail() { echo "-- the guest's console ends with:" >&2; tail -n 40 "$DG_DIR/console.log" >&2 || true; }
# dg_jobs: what systemd in the guest is still doing (when qemu-ga answers), for a wait that ran out.
dg_jobs() {
  echo "-- systemd's jobs, activating and failed units in the guest:" >&2
  dg_sh 'systemctl list-jobs --no-pager; systemctl list-units --no-pager --no-legend --state=activating,deactivating,failed' 30 >&2 ||
    echo "(qemu-ga did not answer)" >&2
}

# dg_sh 'COMMANDS' [TIMEOUT]: a shell command line in the guest through qemu-ga's guest-exec.
dg_sh() { "$QGA_EXEC" --socket "$DG_QGA" --timeout "${2:-180}" -- /bin/sh -c "$1"; }
dg_host() { "$HOST" --socket "$DG_QGA" --timeout 120 "$@"; }
dg_qmp() { python3 "$DG_HERE/qmp.py" "$DG_QMP" "$@"; }

# dg_wait SECONDS WHAT COMMAND...: until COMMAND succeeds; fails with the console's tail.
dg_wait() {
  local limit=$1 what=$2; shift 2
  local deadline=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    if [ $SECONDS -ge $deadline ] || ! dg_alive; then
      echo "debian-guest: not within ${limit}s: $what" >&2
      dg_console_tail
      dg_jobs
      return 1
    fi
    sleep 1
  done
}
