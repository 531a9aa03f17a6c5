#!/usr/bin/env bash
# Builds the test guest: a Debian cloud kernel (apt-get download) and an initramfs with
# busybox-static, the static guest-nettune, Debian's qemu-ga, ethtool and tc with the shared
# libraries they need, udp-burst and gn-state.
# Usage: build-guest.sh BUILD_DIR   (writes BUILD_DIR/vm[-SUITE]/vmlinuz and initramfs.gz)
# GN_KERNEL_SUITE picks the kernel generation: unset = the newest cloud kernel of the machine's own
# package lists (bookworm here), written to BUILD_DIR/vm; bullseye (5.10), bookworm (6.1) or
# trixie (6.12) = fetched with private apt lists (the machine's apt configuration is not touched)
# and cached outside the clone under $GN_IMAGE_CACHE/kernels/SUITE, written to BUILD_DIR/vm-SUITE.
set -euo pipefail
BUILD=$(readlink -f "$1")
HERE=$(dirname "$(readlink -f "$0")")
SUITE=${GN_KERNEL_SUITE:-}
OUT="$BUILD/vm${SUITE:+-$SUITE}"
mkdir -p "$OUT"
for tool in qemu-ga ethtool tc busybox cpio depmod modprobe xz; do
  command -v "$tool" >/dev/null || { echo "build-guest: $tool is missing: run .ci/setup" >&2; exit 1; }
done

if [ -z "$SUITE" ]; then
  CACHE="$OUT/cache"
  APT=(apt-get) APTC=(apt-cache)
else
  case $SUITE in bullseye|bookworm|trixie) ;; *) echo "build-guest: GN_KERNEL_SUITE=$SUITE: bullseye, bookworm or trixie" >&2; exit 2;; esac
  CACHE="${GN_IMAGE_CACHE:-/var/cache/guest-nettune-tests}/kernels/$SUITE"
  mkdir -p "$CACHE/lists/partial" "$CACHE/apt-cache/archives/partial"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $SUITE main" >"$CACHE/sources.list"
  opts=(-o "Dir::State::Lists=$CACHE/lists" -o "Dir::Etc::sourcelist=$CACHE/sources.list" -o Dir::Etc::sourceparts=-
        -o "Dir::Cache=$CACHE/apt-cache" -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache=)
  APT=(apt-get "${opts[@]}") APTC=(apt-cache "${opts[@]}")
fi
mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock 9  # one download per cache at a time

# The kernel: the newest cloud image the suite's meta-package names.
if [ ! -e "$CACHE/kernel.ok" ]; then
  pkg=$("${APTC[@]}" depends linux-image-cloud-amd64 2>/dev/null | awk '/Depends: linux-image-/{print $2; exit}' || true)
  if [ -z "$pkg" ]; then
    "${APT[@]}" update -qq >/dev/null || { echo "build-guest: apt-get update for ${SUITE:-this machine} failed" >&2; exit 1; }
    pkg=$("${APTC[@]}" depends linux-image-cloud-amd64 2>/dev/null | awk '/Depends: linux-image-/{print $2; exit}' || true)
  fi
  [ -n "$pkg" ] || { echo "build-guest: no linux-image-cloud-amd64 in the package lists of ${SUITE:-this machine}" >&2; exit 1; }
  rm -rf "$CACHE/kernel" && mkdir -p "$CACHE/kernel"
  (cd "$CACHE" && rm -f linux-image-*.deb && "${APT[@]}" download "$pkg" >/dev/null 2>&1) ||
    { echo "build-guest: apt-get download $pkg failed" >&2; exit 1; }
  dpkg-deb -x "$CACHE"/linux-image-*.deb "$CACHE/kernel"
  touch "$CACHE/kernel.ok"
fi
vmlinuz=$(ls "$CACHE"/kernel/boot/vmlinuz-* | head -1)
kver=${vmlinuz##*/vmlinuz-}
# Written beside and renamed into place: another test may be booting the previous image right now.
cp "$vmlinuz" "$OUT/vmlinuz.new" && mv "$OUT/vmlinuz.new" "$OUT/vmlinuz"
# Modules live under lib/modules (bullseye, bookworm) or usr/lib/modules (trixie: merged /usr).
kmods=$CACHE/kernel/lib/modules/$kver modbase=$CACHE/kernel
if [ ! -d "$kmods" ]; then kmods=$CACHE/kernel/usr/lib/modules/$kver modbase=$CACHE/kernel/usr; fi
[ -d "$kmods" ] || { echo "build-guest: no modules directory for $kver in the package" >&2; exit 1; }
# The load order of the virtio drivers (virtio_blk for test_reboot.sh's state disk; ext4 is built
# into the cloud kernels) and what they depend on, from the kernel's own module
# metadata (the set changes between generations: virtio_pci_modern_dev from 5.12, dimlib from 6.9).
[ -e "$kmods/modules.dep" ] || depmod -b "$modbase" "$kver"
mapfile -t mods < <(modprobe -d "$modbase" -S "$kver" --show-depends -a virtio_pci virtio_net virtio_console virtio_blk 2>/dev/null |
  awk '$1 == "insmod" {print $2}' | awk '!seen[$0]++')
[ ${#mods[@]} -gt 0 ] || { echo "build-guest: modprobe found no virtio modules for $kver" >&2; exit 1; }

# The root filesystem.
root="$OUT/root"
rm -rf "$root" && mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,lib,lib64,proc,sys,dev,run,tmp,etc}
cp /bin/busybox "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
install -m 0755 "$HERE/guest-init.sh" "$root/init"
install -m 0755 "$HERE/gn-state.sh" "$root/usr/bin/gn-state"
install -m 0755 "$HERE/gn-big.sh" "$root/usr/bin/gn-big"
install -m 0755 "$BUILD/agent/guest-nettune" "$root/usr/sbin/guest-nettune"
install -m 0755 "$BUILD/tests/udp-burst" "$root/usr/bin/udp-burst"
file "$root/usr/sbin/guest-nettune" | grep -q "statically linked" || { echo "build-guest: guest-nettune is not static" >&2; exit 1; }
for prog in "$(command -v qemu-ga)" "$(command -v ethtool)" "$(command -v tc)"; do
  install -m 0755 "$prog" "$root/usr/sbin/$(basename "$prog")"
  # The libraries ldd lists, at the same paths, and the loader.
  ldd "$prog" | awk '/=> \//{print $3} /^[ \t]*\//{print $1}' | while read -r lib; do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done
done
mkdir -p "$root/lib/modules"
# Each module as plain .ko (busybox insmod does not read .ko.xz), in load order.
: >"$root/lib/modules/load-order"
for m in "${mods[@]}"; do
  b=$(basename "$m"); b=${b%.xz}
  case $m in
    *.xz) xz -dc "$m" >"$root/lib/modules/$b" ;;
    *) cp "$m" "$root/lib/modules/$b" ;;
  esac
  echo "$b" >>"$root/lib/modules/load-order"
done
echo "root:x:0:0:root:/:/bin/sh" >"$root/etc/passwd"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1 >"$OUT/initramfs.gz.new")
mv "$OUT/initramfs.gz.new" "$OUT/initramfs.gz"
echo "build-guest: $OUT/vmlinuz ($kver) and $OUT/initramfs.gz ($(du -h "$OUT/initramfs.gz" | cut -f1))"
