#!/usr/bin/env bash
# Builds guest-nettune_VERSION_amd64.deb (the static agent, units, udev rules, config, man page,
# completion) and guest-nettune-host_VERSION_amd64.deb from a build tree, with dpkg-deb.
# Usage: build-deb.sh SOURCE_DIR BUILD_DIR OUT_DIR VERSION
set -euo pipefail
SRC=$(readlink -f "$1"); BUILD=$(readlink -f "$2"); OUT=$(readlink -m "$3"); VERSION=$4
ARCH=$(dpkg --print-architecture)
WORK=$(mktemp -d); trap 'rm -rf "$WORK"' EXIT
mkdir -p "$OUT"

docs() {  # docs ROOT PACKAGE
  local d="$1/usr/share/doc/$2"
  install -d "$d"
  install -m 0644 "$SRC/deb/copyright" "$d/copyright"
  printf '%s (%s) stable; urgency=medium\n\n  * Release %s.\n\n -- guest-nettune developers <dev@example.com>  %s\n' \
    "$2" "$VERSION" "$VERSION" "$(date -R -u -d @"${SOURCE_DATE_EPOCH:-1795651200}")" | gzip -9n >"$d/changelog.gz"
}
md5sums() { (cd "$1" && find . -path ./DEBIAN -prune -o -type f -printf '%P\n' | sort | xargs md5sum >DEBIAN/md5sums); }

# --- guest-nettune: everything the guest needs, one static binary.
G="$WORK/guest"
install -d "$G/DEBIAN" "$G/usr/sbin" "$G/lib/systemd/system" "$G/lib/udev/rules.d" "$G/etc/guest-nettune" \
  "$G/usr/share/man/man8" "$G/usr/share/bash-completion/completions"
install -m 0755 "$BUILD/agent/guest-nettune" "$G/usr/sbin/guest-nettune"
strip --strip-unneeded "$G/usr/sbin/guest-nettune"
install -m 0644 "$SRC"/guest-scripts/systemd/*.service "$G/lib/systemd/system/"
install -m 0644 "$SRC/guest-scripts/udev/90-guest-nettune.rules" "$G/lib/udev/rules.d/"
install -m 0644 "$SRC/guest-scripts/guest-nettune.conf" "$G/etc/guest-nettune/guest-nettune.conf"
gzip -9n <"$SRC/docs/man/guest-nettune.8" >"$G/usr/share/man/man8/guest-nettune.8.gz"
install -m 0644 "$SRC/guest-scripts/completion/guest-nettune" "$G/usr/share/bash-completion/completions/"
install -D -m 0644 "$SRC/deb/guest-nettune.lintian-overrides" "$G/usr/share/lintian/overrides/guest-nettune"
docs "$G" guest-nettune
for s in postinst prerm postrm; do install -m 0755 "$SRC/deb/guest-nettune.$s" "$G/DEBIAN/$s"; done
echo /etc/guest-nettune/guest-nettune.conf >"$G/DEBIAN/conffiles"
cat >"$G/DEBIAN/control" <<CTL
Package: guest-nettune
Version: $VERSION
Architecture: $ARCH
Maintainer: guest-nettune developers <dev@example.com>
Installed-Size: $(du -sk "$G" | cut -f1)
Section: net
Priority: optional
Homepage: https://repo.example.com/guest-nettune
Suggests: qemu-guest-agent
Description: make a KVM guest's virtio-net NICs use every vCPU
 guest-nettune plans and applies multiqueue channels, XPS, RPS/RFS, IRQ
 affinity and NAPI sysctls for the guest's kernel (RHEL 7's 3.10 driver,
 the 4.18-era driver, 4.19 and later), writes only what differs, keeps the
 original values and restores them on revert. A systemd unit applies it at
 boot and udev rules re-apply it when queues or CPUs change. The binary is
 statically linked so that one build runs on every guest kernel.
CTL
md5sums "$G"
dpkg-deb --root-owner-group -Zxz --build "$G" "$OUT/guest-nettune_${VERSION}_${ARCH}.deb" >/dev/null

# --- guest-nettune-host: the host side.
H="$WORK/host"
install -d "$H/DEBIAN" "$H/usr/bin" "$H/usr/share/man/man1" "$H/usr/share/bash-completion/completions"
install -m 0755 "$BUILD/qga-bridge/guest-nettune-host" "$H/usr/bin/guest-nettune-host"
strip --strip-unneeded "$H/usr/bin/guest-nettune-host"
gzip -9n <"$SRC/docs/man/guest-nettune-host.1" >"$H/usr/share/man/man1/guest-nettune-host.1.gz"
install -m 0644 "$SRC/guest-scripts/completion/guest-nettune-host" "$H/usr/share/bash-completion/completions/"
install -d "$H/lib/systemd/system" "$H/usr/share/guest-nettune-host/prometheus"
install -m 0644 "$SRC/guest-scripts/host/guest-nettune-host-prometheus.service" \
  "$SRC/guest-scripts/host/guest-nettune-host-prometheus.timer" "$H/lib/systemd/system/"
install -m 0644 "$SRC/guest-scripts/host/guest-nettune-host.rules.yml" "$H/usr/share/guest-nettune-host/prometheus/"
docs "$H" guest-nettune-host
# Shared-library dependencies as dpkg-shlibdeps computes them.
mkdir -p "$WORK/shl/debian"
printf 'Source: guest-nettune\n\nPackage: guest-nettune-host\nArchitecture: any\n' >"$WORK/shl/debian/control"
deps=$(cd "$WORK/shl" && dpkg-shlibdeps -O "$H/usr/bin/guest-nettune-host" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
cat >"$H/DEBIAN/control" <<CTL
Package: guest-nettune-host
Version: $VERSION
Architecture: $ARCH
Maintainer: guest-nettune developers <dev@example.com>
Installed-Size: $(du -sk "$H" | cut -f1)
Depends: $deps
Section: admin
Priority: optional
Homepage: https://repo.example.com/guest-nettune
Description: ask KVM guests' guest-nettune how their network is tuned
 guest-nettune-host talks to a guest's qemu-guest-agent over its chardev
 socket, runs guest-nettune inside the guest with guest-exec, and prints the
 guest's tuning state, plan or apply/revert result as a table or JSON, with
 exit codes that say what failed. It asks every guest of the host at once
 (libvirt domains or Proxmox sockets); a timer writes their state for
 node_exporter's textfile collector, with Prometheus alert rules.
CTL
md5sums "$H"
dpkg-deb --root-owner-group -Zxz --build "$H" "$OUT/guest-nettune-host_${VERSION}_${ARCH}.deb" >/dev/null
echo "built $OUT/guest-nettune_${VERSION}_${ARCH}.deb and $OUT/guest-nettune-host_${VERSION}_${ARCH}.deb"
