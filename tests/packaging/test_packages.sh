#!/usr/bin/env bash
# Packaging and guest integration files: build the .deb and .rpm, install the .deb into a
# throwaway root (maintainer scripts run there without systemd or udev), inspect the .rpm,
# lintian/rpmlint without errors, systemd-analyze on the units, the udev rules parsed by udevadm
# (in a private mount namespace), the cloud-config validated by cloud-init, the config file and
# the bash completions.
set -euo pipefail
SRC=$(readlink -f "$(dirname "$0")/../..")
BUILD=${GN_BUILD:?set GN_BUILD to the build directory}
WORK=$(mktemp -d /tmp/gn-pkg-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
PASSES=0 FAILS=0
fail() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); }
check() { local what=$1; shift; if "$@"; then PASSES=$((PASSES + 1)); else fail "$what"; fi; }
empty() { [ -z "$1" ] || { echo "$1" >&2; return 1; }; }

VERSION=$(sed -n 's/^project(guest-nettune VERSION \([0-9.]*\).*/\1/p' "$SRC/CMakeLists.txt")
bash "$SRC/deb/build-deb.sh" "$SRC" "$BUILD" "$WORK/out" "$VERSION" >/dev/null
bash "$SRC/rpm/build-rpm.sh" "$SRC" "$BUILD" "$WORK/out" "$VERSION" >/dev/null
DEB="$WORK/out/guest-nettune_${VERSION}_amd64.deb"
HDEB="$WORK/out/guest-nettune-host_${VERSION}_amd64.deb"
RPM="$WORK/out/guest-nettune-${VERSION}-1.x86_64.rpm"
HRPM="$WORK/out/guest-nettune-host-${VERSION}-1.x86_64.rpm"
for p in "$DEB" "$HDEB" "$RPM" "$HRPM"; do check "built $(basename "$p")" test -s "$p"; done

echo "-- .deb into a throwaway root"
R="$WORK/root"
mkdir -p "$R"/{bin,tmp,etc} "$R/var/lib/dpkg"/{info,updates,triggers}
touch "$R/var/lib/dpkg/status" "$R/var/lib/dpkg/available"
cp /bin/busybox "$R/bin/busybox"
for a in sh rm mkdir cat; do ln -s busybox "$R/bin/$a"; done
mkdir -p "$R/dev" && mknod -m 666 "$R/dev/null" c 1 3
dpkg_root() { dpkg --root="$R" --force-unsafe-io "$@" >>"$WORK/dpkg.log" 2>&1 || { cat "$WORK/dpkg.log" >&2; return 1; }; }
check "dpkg installs guest-nettune into the root (scripts run without systemd or udev)" \
  dpkg_root -i "$DEB"
check "the agent is there, 0755, statically linked" \
  sh -c "[ \"\$(stat -c %a '$R/usr/sbin/guest-nettune')\" = 755 ] && file '$R/usr/sbin/guest-nettune' | grep -q 'statically linked'"
for f in lib/systemd/system/guest-nettune.service lib/systemd/system/guest-nettune@.service \
         lib/systemd/system/guest-nettune-reapply.service lib/udev/rules.d/90-guest-nettune.rules \
         etc/guest-nettune/guest-nettune.conf usr/share/man/man8/guest-nettune.8.gz \
         usr/share/bash-completion/completions/guest-nettune usr/share/doc/guest-nettune/copyright; do
  check "$f is 0644" [ "$(stat -c %a "$R/$f" 2>/dev/null)" = 644 ]
done
check "the config file is a conffile" \
  sh -c "dpkg --root='$R' -s guest-nettune | grep -A1 '^Conffiles:' | grep -q '/etc/guest-nettune/guest-nettune.conf'"
check "dpkg reports it installed" sh -c "dpkg --root='$R' -s guest-nettune | grep -q 'Status: install ok installed'"
echo "# changed by the admin" >>"$R/etc/guest-nettune/guest-nettune.conf"
check "dpkg removes it (prerm runs guest-nettune revert in the root)" dpkg_root -r guest-nettune
check "a changed conffile survives removal" test -e "$R/etc/guest-nettune/guest-nettune.conf"
check "the binary is gone" test ! -e "$R/usr/sbin/guest-nettune"
check "dpkg purges it" dpkg_root -P guest-nettune
check "purge removes the config" test ! -e "$R/etc/guest-nettune/guest-nettune.conf"
check "host package: guest-nettune-host in /usr/bin" \
  sh -c "dpkg-deb -c '$HDEB' | grep ' ./usr/bin/guest-nettune-host$' >/dev/null"
check "host package depends on the C++ runtime" sh -c "dpkg-deb -f '$HDEB' Depends | grep -q libstdc++6"
check "host package depends on libvirt (its --domain transport)" sh -c "dpkg-deb -f '$HDEB' Depends | grep -q libvirt0"
for f in ./lib/systemd/system/guest-nettune-host-prometheus.service ./lib/systemd/system/guest-nettune-host-prometheus.timer \
         ./usr/share/guest-nettune-host/prometheus/guest-nettune-host.rules.yml; do
  check "host package ships $f" sh -c "dpkg-deb -c '$HDEB' | grep -q ' $f\$'"
done
check "the guest agent never links libvirt" sh -c "! strings '$BUILD/agent/guest-nettune' | grep -q virDomainQemuAgentCommand"

echo "-- .rpm"
check "rpm lists the agent, units, rules, config" sh -c "rpm -qpl '$RPM' 2>/dev/null | grep -c -E '^/usr/sbin/guest-nettune$|\.service$|90-guest-nettune.rules$|guest-nettune.conf$' | grep -qx 6"
check "rpm marks the config file as config" sh -c "rpm -qpc '$RPM' 2>/dev/null | grep -qx /etc/guest-nettune/guest-nettune.conf"
check "rpm info names the package" sh -c "rpm -qpi '$RPM' 2>/dev/null | grep -q '^Name *: guest-nettune$'"
check "rpm scripts reload and revert, guarded" sh -c "rpm -qp --scripts '$RPM' 2>/dev/null | grep -q 'guest-nettune revert' && rpm -qp --scripts '$RPM' 2>/dev/null | grep -q 'command -v systemctl'"
check "host rpm has guest-nettune-host" sh -c "rpm -qpl '$HRPM' 2>/dev/null | grep -qx /usr/bin/guest-nettune-host"
check "host rpm has the Prometheus timer, service and rules" sh -c "rpm -qpl '$HRPM' 2>/dev/null | grep -c -E 'guest-nettune-host-prometheus\.(service|timer)\$|guest-nettune-host\.rules\.yml\$' | grep -qx 3"

echo "-- lintian and rpmlint: no errors"
lint=$(lintian "$DEB" "$HDEB" 2>&1 | grep -v '^running with root' || true)
no_errors() { ! grep -q '^E:' <<<"$1"; }
check "lintian reports no errors" no_errors "$lint"
[ -z "$lint" ] || echo "lintian: $lint"
rl=$(rpmlint -r "$SRC/rpm/guest-nettune.rpmlintrc" "$RPM" "$HRPM" 2>&1 || true)
check "rpmlint reports 0 errors" grep -q " 0 errors" <<<"$rl"
grep -E ": [WE]: " <<<"$rl" || true

echo "-- units, rules, cloud-config, config, completions"
U="$WORK/units"
mkdir -p "$U/usr/sbin"
dpkg-deb -x "$DEB" "$U"
for unit in guest-nettune.service guest-nettune@eth0.service guest-nettune-reapply.service; do
  check "systemd-analyze verify $unit prints nothing" empty "$(systemd-analyze verify --man=no --root="$U" "$unit" 2>&1)"
done
HU="$WORK/host-units"
mkdir -p "$HU"
dpkg-deb -x "$HDEB" "$HU"
# The host units keep systemd's default dependencies (sysinit.target, timers.target): verify them
# beside this machine's own unit files, without replacing any of the package's.
cp -an /lib/systemd/system/. "$HU/lib/systemd/system/"
for unit in guest-nettune-host-prometheus.service guest-nettune-host-prometheus.timer; do
  check "systemd-analyze verify $unit prints nothing" empty "$(systemd-analyze verify --man=no --root="$HU" "$unit" 2>&1)"
done
rules_out=$(unshare -m sh -c "mount -t tmpfs none /etc/udev/rules.d && cp '$SRC/guest-scripts/udev/90-guest-nettune.rules' /etc/udev/rules.d/ && udevadm test --action=add /sys/class/net/lo 2>&1")
check "udevadm read the rules" grep -q "Reading rules file: /etc/udev/rules.d/90-guest-nettune.rules" <<<"$rules_out"
check "udevadm found nothing wrong in them" empty "$(grep '^/etc/udev/rules.d/90-guest-nettune.rules:' <<<"$rules_out" || true)"
check "cloud-init schema accepts the cloud-config" sh -c \
  "cloud-init schema --config-file '$SRC/guest-scripts/cloud-init/guest-nettune.cloud-config.yaml' >/dev/null"
# Every tuning key of --help is in the config file, and the file with every key uncommented parses.
keys=$("$BUILD/agent/guest-nettune" plan --help | sed -n 's/^  --\([a-z-]*\).*/\1/p' | sort -u)
for k in $keys; do
  case $k in help|root|json|config|verbose) continue ;; esac
  check "config file documents '$k'" grep -q "^#$k = " "$SRC/guest-scripts/guest-nettune.conf"
done
"$BUILD/tests/make-fixture" rhel8.0-9vcpu-4-queues "$WORK/snap"
sed 's/^#\([a-z-]* = \)/\1/' "$SRC/guest-scripts/guest-nettune.conf" | grep -v '^interface = \|^exclude = \|^driver = ' >"$WORK/all.conf"
check "the config file with every key set parses" sh -c \
  "'$BUILD/agent/guest-nettune' plan --root '$WORK/snap' --config '$WORK/all.conf' >/dev/null"
check "bash completion for guest-nettune parses" bash -n "$SRC/guest-scripts/completion/guest-nettune"
check "bash completion for guest-nettune-host parses" bash -n "$SRC/guest-scripts/completion/guest-nettune-host"
got=$(bash -c ". '$SRC/guest-scripts/completion/guest-nettune'; COMP_WORDS=(guest-nettune plan --prof); COMP_CWORD=2; _guest_nettune; echo \"\${COMPREPLY[*]}\"")
check "completion offers --profile ($got)" [ "$got" = "--profile" ]
got=$(bash -c ". '$SRC/guest-scripts/completion/guest-nettune'; COMP_WORDS=(guest-nettune apply --profile th); COMP_CWORD=3; _guest_nettune; echo \"\${COMPREPLY[*]}\"")
check "completion offers throughput ($got)" [ "$got" = "throughput" ]
# Per command, completion offers exactly the options --help lists.
for c in plan apply revert status check capture; do
  helped=$("$BUILD/agent/guest-nettune" "$c" --help | sed -n 's/^  \(-[a-z] \[ \)\{0,1\}--\([a-z-]*\).*/--\2/p' | sort -u | tr '\n' ' ')
  offered=$(bash -c ". '$SRC/guest-scripts/completion/guest-nettune'; COMP_WORDS=(guest-nettune $c --); COMP_CWORD=2; _guest_nettune; printf '%s\n' \"\${COMPREPLY[@]}\"" | sort -u | tr '\n' ' ')
  check "completion for $c offers what its --help lists (help: $helped; completion: $offered)" [ "$helped" = "$offered" ]
done
got=$(bash -c ". '$SRC/guest-scripts/completion/guest-nettune-host'; COMP_WORDS=(guest-nettune-host --socket s st); COMP_CWORD=3; _guest_nettune_host; echo \"\${COMPREPLY[*]}\"")
check "host completion offers status ($got)" [ "$got" = "status" ]

echo "$PASSES passed, $FAILS failed"
[ "$FAILS" -eq 0 ]
