#!/usr/bin/env bash
# guest-nettune-host through a real libvirtd (qemu:///system): a TCG domain booted from the
# whole-guest harness's kernel and initramfs with a 4-queue virtio NIC and the agent channel;
# status, apply and revert through --domain, each checked in the guest's sysfs; a domain that is
# shut off and one without the agent channel, each with its clear error; status --all, and
# status --all --prometheus (promtool check metrics, the domains' series).
# libvirtd (and virtlogd) are started here when not running, and stopped again if we started
# them. The taps are unmanaged, in the host namespace, and stay down: the guest sends nothing.
set -euo pipefail
HERE=$(dirname "$(readlink -f "$0")")
BUILD=${GN_BUILD:?set GN_BUILD to the build directory}
HOST="$BUILD/qga-bridge/guest-nettune-host"
QGA_EXEC="$BUILD/tests/qga-exec"
URI=qemu:///system
TAG="gnlv$$"
WORK=$(mktemp -d /tmp/gn-libvirt-XXXXXX)
PASSES=0 FAILS=0 STARTED=()
fail() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); }
check() { local what=$1; shift; if "$@"; then PASSES=$((PASSES + 1)); else fail "$what"; fi; }

cleanup() {
  local rc=$?
  for d in "$TAG-a" "$TAG-off" "$TAG-noagent"; do
    virsh -c "$URI" destroy "$d" >/dev/null 2>&1 || true
    virsh -c "$URI" undefine "$d" >/dev/null 2>&1 || true
  done
  for t in "${TAG}t0" "${TAG}t1" "${TAG}t2"; do ip link del "$t" 2>/dev/null || true; done
  for p in "${STARTED[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
  exit $rc
}
trap cleanup EXIT

. "$HERE/daemon.sh"
start_libvirtd
check "libvirtd answers on $URI" sh -c "virsh -c '$URI' version >/dev/null"
bash "$HERE/../vm/build-guest.sh" "$BUILD" >/dev/null
# libvirt runs qemu as its own user, which may not get into the build tree (a clone under a
# private mktemp directory, say): the images go to a directory of ours that it can read.
chmod 0755 "$WORK"
install -m 0644 "$BUILD/vm/vmlinuz" "$BUILD/vm/initramfs.gz" "$WORK/"

# domain_xml NAME TAP AGENT(yes|no)
domain_xml() {
  local channel=""
  [ "$3" = yes ] && channel="<channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>"
  cat <<XML
<domain type='qemu'>
  <name>$1</name>
  <memory unit='MiB'>512</memory>
  <vcpu>4</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>$WORK/vmlinuz</kernel>
    <initrd>$WORK/initramfs.gz</initrd>
    <cmdline>console=ttyS0 panic=-1 ipv6.disable=1 quiet</cmdline>
  </os>
  <features><acpi/><apic/></features>
  <on_reboot>destroy</on_reboot>
  <devices>
    <interface type='ethernet'>
      <target dev='$2' managed='no'/>
      <model type='virtio'/>
      <driver name='qemu' queues='4'/>
    </interface>
    $channel
    <serial type='file'><source path='$WORK/$1.console'/></serial>
    <memballoon model='none'/>
  </devices>
</domain>
XML
}
i=0
for d in a off noagent; do
  ip tuntap add dev "${TAG}t$i" mode tap multi_queue
  agent=yes; [ "$d" = noagent ] && agent=no
  domain_xml "$TAG-$d" "${TAG}t$i" "$agent" >"$WORK/$d.xml"
  virsh -c "$URI" define "$WORK/$d.xml" >/dev/null
  i=$((i + 1))
done
virsh -c "$URI" start "$TAG-a" >/dev/null
virsh -c "$URI" start "$TAG-noagent" >/dev/null
# Until the agent in the guest answers (each try bounded by libvirt's own timeout).
deadline=$((SECONDS + 120))
until virsh -c "$URI" qemu-agent-command "$TAG-a" '{"execute":"guest-ping"}' --timeout 3 >/dev/null 2>&1; do
  if [ $SECONDS -ge $deadline ]; then echo "the guest did not answer; console:" >&2; tail -20 "$WORK/a.console" >&2; exit 1; fi
done
g() { "$QGA_EXEC" --domain "$TAG-a" -- "$@"; }
state() { g /usr/bin/gn-state; }
g /bin/sh -c 'ethtool -L eth0 combined 1'
before=$(state | grep -v '^txq')
check "the domain has 4 vCPUs online" grep -qx "cpus 0-3" <<<"$before"
check "eth0 starts at combined 1" grep -qx "channels eth0 1 4" <<<"$before"

echo "-- status, apply, revert through --domain"
st=$("$HOST" --domain "$TAG-a" --json status) && rc=0 || rc=$?
check "status exits 0 (got $rc)" [ "$rc" -eq 0 ]
drifting=$(jq '[.settings[] | select(.kind == "channels" and .state == "drift")] | length' <<<"$st")
check "status shows eth0's channels drifting" [ "$drifting" = 1 ]
"$HOST" --domain "$TAG-a" apply >/dev/null && rc=0 || rc=$?
check "apply exits 0 (got $rc)" [ "$rc" -eq 0 ]
after=$(state)
check "the guest's eth0 now has combined 4" grep -qx "channels eth0 4 4" <<<"$after"
check "each CPU on its own tx queue" [ "$(grep '^xps eth0' <<<"$after" | awk '{print $4}' | tr '\n' ' ')" = "1 2 4 8 " ]
again=$("$HOST" --domain "$TAG-a" --json apply | jq '.summary.writes')
check "a second apply writes 0 (got $again)" [ "$again" = 0 ]
uuid=$(virsh -c "$URI" domuuid "$TAG-a" | sed -n 1p)  # sed reads to the end: no SIGPIPE for virsh under pipefail
"$HOST" --domain "$uuid" revert >/dev/null && rc=0 || rc=$?
check "revert by UUID exits 0 (got $rc)" [ "$rc" -eq 0 ]
check "revert restores the guest" [ "$(state | grep -v '^txq')" = "$before" ]

echo "-- the clear errors"
out=$("$HOST" --domain "$TAG-off" status 2>&1) && rc=0 || rc=$?
check "a shut-off domain exits 10 (got $rc)" [ "$rc" -eq 10 ]
check "and says it is shut off and how to start it ($out)" grep -q "shut off.*virsh -c $URI start $TAG-off" <<<"$out"
out=$("$HOST" --domain "$TAG-noagent" status 2>&1) && rc=0 || rc=$?
check "a domain without the agent channel exits 10 (got $rc)" [ "$rc" -eq 10 ]
check "and says how to add the channel ($out)" grep -q "org.qemu.guest_agent.0" <<<"$out"
out=$("$HOST" --domain "$TAG-nosuch" status 2>&1) && rc=0 || rc=$?
check "an unknown domain exits 2 (got $rc)" [ "$rc" -eq 2 ]

echo "-- status --all"
all=$("$HOST" --all status 2>"$WORK/all.err") && rc=0 || rc=$?
echo "$all"
check "--all exits 15 when a domain did not report (got $rc)" [ "$rc" -eq 15 ]
check "--all lists the tuned domain with its kernel" grep -qE "^$TAG-a +ok +6\." <<<"$all"
check "--all shows the domain without an agent as such" grep -qE "^$TAG-noagent +no_agent" <<<"$all"
check "--all has the agent's table headings" grep -qE "^GUEST +ANSWER +KERNEL +PROFILE +DRIFT" <<<"$all"
absent() { ! grep -q "$1" <<<"$2"; }
check "--all does not list the shut-off domain" absent "^$TAG-off " "$all"
json=$("$HOST" --all --json status 2>/dev/null || true)
check "--all --json has a row per running domain of ours" \
  [ "$(jq --arg t "$TAG" '[.[] | select(.domain | startswith($t))] | length' <<<"$json")" = 2 ]

echo "-- status --all --prometheus over the domains"
"$HOST" --all --prometheus status >"$WORK/all.prom" 2>"$WORK/all-prom.err" && rc=0 || rc=$?
check "--all --prometheus exits 15 as --all does (got $rc)" [ "$rc" -eq 15 ]
if command -v promtool >/dev/null; then
  check "promtool check metrics accepts it" sh -c "promtool check metrics <'$WORK/all.prom'"
else
  fail "promtool missing (bash .ci/setup installs prometheus)"
fi
check "the domain with the agent is up" grep -qx "guest_nettune_guest_up{domain=\"$TAG-a\"} 1" "$WORK/all.prom"
check "the domain without an agent is down, class no_agent, exit code 10" sh -c \
  "grep -qx 'guest_nettune_guest_up{domain=\"$TAG-noagent\"} 0' '$WORK/all.prom' &&
   grep -qx 'guest_nettune_guest_answer{domain=\"$TAG-noagent\",class=\"no_agent\"} 1' '$WORK/all.prom' &&
   grep -qx 'guest_nettune_guest_exit_code{domain=\"$TAG-noagent\"} 10' '$WORK/all.prom'"
check "the reverted domain's queues: 1 current, 4 max, 4 vCPUs" sh -c \
  "grep -qx 'guest_nettune_guest_queues{domain=\"$TAG-a\",nic=\"eth0\",kind=\"current\"} 1' '$WORK/all.prom' &&
   grep -qx 'guest_nettune_guest_queues{domain=\"$TAG-a\",nic=\"eth0\",kind=\"max\"} 4' '$WORK/all.prom' &&
   grep -qx 'guest_nettune_guest_vcpus{domain=\"$TAG-a\"} 4' '$WORK/all.prom'"
check "its channels drift again after the revert" grep -qx "guest_nettune_guest_drift{domain=\"$TAG-a\",nic=\"eth0\"} [1-9][0-9]*" "$WORK/all.prom"
check "the shut-off domain has no row" sh -c "! grep -q 'domain=\"$TAG-off\"' '$WORK/all.prom'"
check "the source is libvirt" grep -q '^guest_nettune_host_guests{source="libvirt"} ' "$WORK/all.prom"

out=$("$HOST" --domain "$TAG-a" status 2>&1) && rc=0 || rc=$?
check "after the --all runs the domain still answers on its own (got $rc)" [ "$rc" -eq 0 ]

echo "-- a reply over libvirt's cap (last: libvirt keeps the agent marked failed afterwards)"
out=$("$HOST" --domain "$TAG-a" --guest-path /usr/bin/gn-big status 2>&1) && rc=0 || rc=$?
check "a reply over libvirt's 10 MiB exits 14 (got $rc)" [ "$rc" -eq 14 ]
check "and says so, with what to do ($out)" grep -q "over libvirt's 10 MiB limit.*--interface" <<<"$out"
out=$("$HOST" --domain "$TAG-a" status 2>&1) && rc=0 || rc=$?
check "afterwards libvirt reports the agent unavailable: exit 10 (got $rc)" [ "$rc" -eq 10 ]

echo "$PASSES passed, $FAILS failed"
[ "$FAILS" -eq 0 ]
