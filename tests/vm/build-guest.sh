#!/usr/bin/env bash
# Builds the test guest: Debian's cloud kernel (apt-get download, cached under BUILD/vm/cache)
# and an initramfs with busybox-static, the static guest-nettune, Debian's qemu-ga and ethtool
# with the shared libraries they need, udp-burst and gn-state.
# Usage: build-guest.sh BUILD_DIR   (writes BUILD_DIR/vm/vmlinuz and BUILD_DIR/vm/initramfs.gz)
set -euo pipefail
BUILD=$(readlink -f "$1")
HERE=$(dirname "$(readlink -f "$0")")
OUT="$BUILD/vm"
CACHE="$OUT/cache"
mkdir -p "$CACHE"
for tool in qemu-ga ethtool busybox cpio; do
  command -v "$tool" >/dev/null || { echo "build-guest: $tool is missing: run .ci/setup" >&2; exit 1; }
done

# The kernel: the newest cloud image the archive's meta-package names.
if [ ! -e "$CACHE/kernel.ok" ]; then
  pkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null | awk '/Depends: linux-image-/{print $2; exit}')
  if [ -z "$pkg" ]; then
    apt-get update -qq >/dev/null
    pkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null | awk '/Depends: linux-image-/{print $2; exit}')
  fi
  [ -n "$pkg" ] || { echo "build-guest: no linux-image-cloud-amd64 in the package lists (apt-get update?)" >&2; exit 1; }
  rm -rf "$CACHE/kernel" && mkdir -p "$CACHE/kernel"
  (cd "$CACHE" && rm -f linux-image-*.deb && apt-get download "$pkg" >/dev/null 2>&1) ||
    { echo "build-guest: apt-get download $pkg failed" >&2; exit 1; }
  dpkg-deb -x "$CACHE"/linux-image-*.deb "$CACHE/kernel"
  touch "$CACHE/kernel.ok"
fi
vmlinuz=$(ls "$CACHE"/kernel/boot/vmlinuz-* | head -1)
kver=${vmlinuz##*/vmlinuz-}
cp "$vmlinuz" "$OUT/vmlinuz"

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
for prog in "$(command -v qemu-ga)" "$(command -v ethtool)"; do
  install -m 0755 "$prog" "$root/usr/sbin/$(basename "$prog")"
  # The libraries ldd lists, at the same paths, and the loader.
  ldd "$prog" | awk '/=> \//{print $3} /^[ \t]*\//{print $1}' | while read -r lib; do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done
done
mkdir -p "$root/lib/modules/$kver"
(cd "$CACHE/kernel/lib/modules/$kver" && find kernel/drivers/virtio kernel/drivers/net/virtio_net.ko \
  kernel/drivers/net/net_failover.ko kernel/net/core/failover.ko kernel/drivers/char/virtio_console.ko -name '*.ko' |
  cpio -pdm --quiet "$root/lib/modules/$kver")
echo "root:x:0:0:root:/:/bin/sh" >"$root/etc/passwd"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1 >"$OUT/initramfs.gz")
echo "build-guest: $OUT/vmlinuz ($kver) and $OUT/initramfs.gz ($(du -h "$OUT/initramfs.gz" | cut -f1))"
