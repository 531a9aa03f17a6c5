#!/usr/bin/env bash
# Builds the base image of the Debian 12 test guest from Debian's packages: mmdebstrap (minbase
# plus systemd, udev, cloud-init, qemu-guest-agent, the cloud kernel and its initramfs, ifupdown,
# ethtool, iproute2, kmod, locales), turned into an ext4 disk with `mkfs.ext4 -d` (no loop mount).
# The result is cached OUTSIDE the clone, keyed by a hash of this script (which holds the package
# list), so only the first run pays (about 2 minutes here):
#   $GN_IMAGE_CACHE/debian12-HASH/{base.img,vmlinuz,initrd.img}   (default /var/cache/guest-nettune-tests)
# Prints the directory. The guest-nettune package is NOT in the image: each test run adds a local
# apt repository and a NoCloud seed to a copy, and cloud-init installs it as an operator's would.
set -euo pipefail
SELF=$(readlink -f "$0")
HERE=$(dirname "$SELF")
# Configuration that makes it a cloud guest booting under the test's qemu. Written by the
# customize hook into the root filesystem before it is packed.
customize() {
  local r=$1
  echo "gn-guest" >"$r/etc/hostname"
  printf '127.0.0.1 localhost\n127.0.1.1 gn-guest\n' >"$r/etc/hosts"
  echo "/dev/vda / ext4 defaults 0 1" >"$r/etc/fstab"
  # No network archive from inside the guest: the only source is the one cloud-init adds.
  : >"$r/etc/apt/sources.list"
  rm -f "$r"/etc/apt/sources.list.d/*
  # eth0 (net.ifnames=0 on the command line) with a documentation address; later NICs unconfigured.
  cat >"$r/etc/network/interfaces" <<'ENI'
auto lo
iface lo inet loopback
auto eth0
iface eth0 inet static
    address 192.0.2.2/24
ENI
  # The locale cloud-init's locale module sets is already the system's: nothing to generate.
  echo "LANG=C.UTF-8" >"$r/etc/default/locale"
  cat >"$r/etc/cloud/cloud.cfg.d/90-gn-test.cfg" <<'CFG'
# guest-nettune test guest: NoCloud seed only, the network is configured by the image.
datasource_list: [NoCloud, None]
network: {config: disabled}
locale: C.UTF-8
CFG
  # Root without password on the serial console, for a person debugging a failed run.
  sed -i 's/^root:[^:]*:/root::/' "$r/etc/shadow"
  # Nothing that wakes up to use the CPU during the test.
  for u in apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer man-db.timer; do
    ln -sf /dev/null "$r/etc/systemd/system/$u"
  done
  mkdir -p "$r/var/lib/cloud/seed/nocloud"
  # Test scaffolding: the kernel's own state at every boot, saved before guest-nettune.service
  # touches it (what revert must restore), read by the test through qemu-ga.
  install -m 0755 "$HERE/gn-state.sh" "$r/usr/local/sbin/gn-state"
  cat >"$r/etc/systemd/system/gn-prestate.service" <<'UNIT'
[Unit]
Description=guest-nettune test: save the untuned state of this boot
DefaultDependencies=no
After=local-fs.target systemd-udev-trigger.service systemd-sysctl.service
Before=guest-nettune.service network-pre.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/sh -c '/usr/local/sbin/gn-state >/run/gn-prestate'

[Install]
WantedBy=multi-user.target
UNIT
  ln -sf /etc/systemd/system/gn-prestate.service "$r/etc/systemd/system/multi-user.target.wants/gn-prestate.service"
}

if [ "${1:-}" = "--customize" ]; then customize "$2"; exit 0; fi

CACHE_ROOT=${GN_IMAGE_CACHE:-/var/cache/guest-nettune-tests}
PACKAGES=systemd-sysv,udev,dbus,cloud-init,qemu-guest-agent,linux-image-cloud-amd64,ifupdown,ethtool,iproute2,kmod,locales,procps
key=$(cat "$SELF" "$HERE/gn-state.sh" | sha256sum | cut -c1-16)
OUT="$CACHE_ROOT/debian12-$key"
if [ -e "$OUT/ok" ]; then echo "$OUT"; exit 0; fi
for tool in mmdebstrap mkfs.ext4; do
  command -v "$tool" >/dev/null || { echo "build-image: $tool is missing: run .ci/setup" >&2; exit 1; }
done
mkdir -p "$CACHE_ROOT"
# One builder at a time; a second caller waits and then finds the cache filled.
exec 9>"$CACHE_ROOT/.build.lock"
flock 9
if [ -e "$OUT/ok" ]; then echo "$OUT"; exit 0; fi
work=$(mktemp -d "$CACHE_ROOT/.build-XXXXXX")
# --one-file-system: an interrupted mmdebstrap may leave /proc or /dev/pts mounted inside.
trap 'rm -rf --one-file-system "$work"' EXIT
root="$work/root"


echo "build-image: mmdebstrap bookworm ($PACKAGES) into $OUT (first run only)" >&2
# mmdebstrap hands apt a hook `cat >&N` that /bin/sh (dash) runs, and dash takes single-digit
# descriptors only: with descriptors up to 10 open (one inherited, this script's lock on 9) N became
# 11 and apt failed with "Bad fd number". Close every inherited descriptor above 2 for it (the
# lock stays held by this shell).
(
cd /proc/$BASHPID/fd
for fd in *; do [ "$fd" -le 2 ] || eval "exec $fd>&-"; done
cd /
exec mmdebstrap --variant=minbase --include="$PACKAGES" \
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-include=/usr/share/doc/*/copyright' --dpkgopt='path-exclude=/usr/share/locale/*' \
  --customize-hook="bash '$SELF' --customize \"\$1\"" \
  bookworm "$root"
) >"$work/mmdebstrap.log" 2>&1 ||
  { tail -n 30 "$work/mmdebstrap.log" >&2; echo "build-image: mmdebstrap failed" >&2; exit 1; }
mkdir -p "$work/out"
cp "$(ls "$root"/boot/vmlinuz-*-cloud-amd64 | head -1)" "$work/out/vmlinuz"
cp "$(ls "$root"/boot/initrd.img-*-cloud-amd64 | head -1)" "$work/out/initrd.img"
truncate -s 3G "$work/out/base.img"
mkfs.ext4 -q -F -L gn-root -d "$root" "$work/out/base.img"
touch "$work/out/ok"
rm -rf "$OUT" && mv "$work/out" "$OUT"
# Images of older package lists are of no further use (3 GB sparse each).
for old in "$CACHE_ROOT"/debian12-*; do
  [ "$old" = "$OUT" ] || rm -rf --one-file-system "$old"
done
echo "$OUT"
