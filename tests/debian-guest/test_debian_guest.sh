#!/usr/bin/env bash
# The real boot path: a Debian 12 guest with systemd, udev and cloud-init (built by
# build-image.sh, cached outside the clone), the guest-nettune .deb installed by cloud-init from a
# local apt repository with the shipped cloud-config, then: first boot, udev on queue changes,
# vCPU hot-add/offline, NIC hot-plug, reboot, revert and package removal, and the unit's
# systemd-analyze security figure. Two boots of one qemu. Every result is read back from the
# guest's sysfs/procfs through qemu-ga (gn-state), not from guest-nettune's report.
# Environment: GN_BUILD (build dir), GN_IMAGE_CACHE (image cache), GN_KEEP_GUEST=1 keeps the files.
HERE=$(dirname "$(readlink -f "$0")")
. "$HERE/guest.sh"
PASSES=0 FAILS=0
trap dg_cleanup EXIT
fail() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); }
pass() { echo "ok: $*"; PASSES=$((PASSES + 1)); }
check() { local what=$1; shift; if "$@"; then pass "$what"; else fail "$what"; fi; }
jqe() { jq -e "$@" >/dev/null; }
differs_from_plan() { local STATE=$1; [ -n "$(tuned "$2")" ]; }
t_start=$SECONDS
stamp() { echo "== [$((SECONDS - t_start)) s] $*"; }

for tool in qemu-system-x86_64 debugfs dpkg-scanpackages python3 jq; do
  command -v "$tool" >/dev/null || { echo "debian-guest: $tool is missing: run .ci/setup" >&2; exit 1; }
done
[ -x "$QGA_EXEC" ] && [ -x "$HOST" ] || { echo "debian-guest: build qga-exec and guest-nettune-host first" >&2; exit 1; }

stamp "base image (cached outside the clone)"
IMG=$(bash "$HERE/build-image.sh")
stamp "disk: local apt repository + NoCloud seed from the shipped cloud-config"
dg_disk "$IMG"

# --- State helpers over gn-state's lines ----------------------------------------------------
STATE=""
refresh() { STATE=$(dg_sh /usr/local/sbin/gn-state 30); }
cpus_of_mask() {  # hex mask (commas allowed) -> sorted CPU list, space separated
  local hex=${1//,/} bit=0 i d b out=()
  for ((i = ${#hex} - 1; i >= 0; i--)); do
    d=$((16#${hex:i:1}))
    for b in 0 1 2 3; do (( (d >> b) & 1 )) && out+=($((bit + b))); done
    bit=$((bit + 4))
  done
  echo "${out[*]:-}"
}
cpus_of_list() {  # 0-2,4 -> 0 1 2 4
  local part out=()
  for part in ${1//,/ }; do
    if [[ $part == *-* ]]; then out+=($(seq "${part%-*}" "${part#*-}")); else out+=("$part"); fi
  done
  echo "${out[*]:-}"
}
usable_cpus() {  # online minus isolated, from STATE
  local online isolated c out=()
  online=$(cpus_of_list "$(awk '$1 == "cpus" && $2 == "online" {print $3}' <<<"$STATE")")
  isolated=" $(cpus_of_list "$(awk '$1 == "cpus" && $2 == "isolated" {print $3}' <<<"$STATE")") "
  for c in $online; do [[ $isolated == *" $c "* ]] || out+=("$c"); done
  echo "${out[*]}"
}
sysctl_of() { awk -v s="$1" '$1 == "sysctl" && $2 == s {print $3}' <<<"$STATE"; }
channels_of() { awk -v n="$1" '$1 == "channels" && $2 == n {print $3}' <<<"$STATE"; }

# tuned NIC: prints what differs from the plan's rules (empty output = tuned), read from STATE:
# channels = min(max, usable CPUs); every usable CPU in exactly one tx queue's XPS mask, no other
# CPU in any; each queue's IRQs on its XPS block; with fewer rx queues than usable CPUs, every rx
# queue's RPS mask within the usable CPUs and a flow count set.
tuned() {
  local nic=$1 usable n max cur q mask all=() role iq irq aff
  usable=$(usable_cpus)
  n=$(wc -w <<<"$usable")
  read -r _ _ cur max < <(awk -v n="$nic" '$1 == "channels" && $2 == n' <<<"$STATE")
  [ -n "${max:-}" ] || { echo "$nic: no channels line"; return; }
  local want=$((max < n ? max : n))
  [ "$cur" = "$want" ] || echo "$nic: combined $cur, plan $want (usable CPUs: $usable)"
  declare -A block=()
  while read -r _ _ q mask; do
    block[$q]=$(cpus_of_mask "$mask")
    [ -n "${block[$q]}" ] || echo "$nic: tx-$q XPS empty"
    all+=(${block[$q]})
  done < <(awk -v n="$nic" '$1 == "xps" && $2 == n' <<<"$STATE")
  local got
  got=$(printf '%s\n' "${all[@]:-}" | sort -n | tr '\n' ' ' | sed 's/ *$//')
  [ "$got" = "$usable" ] || echo "$nic: XPS covers CPUs '$got', plan: each of '$usable' exactly once"
  while read -r _ _ role iq irq aff; do
    [ "$iq" -lt "$cur" ] || continue  # a queue beyond the channel count carries no traffic
    [ "$(cpus_of_mask "$aff")" = "${block[$iq]:-}" ] ||
      echo "$nic: IRQ $irq ($role.$iq) on CPUs '$(cpus_of_mask "$aff")', XPS block of tx-$iq is '${block[$iq]:-}'"
  done < <(awk -v n="$nic" '$1 == "irq" && $2 == n' <<<"$STATE")
  if [ "$cur" -lt "$n" ]; then
    local flows c
    while read -r _ _ q mask flows; do
      [ -n "$(cpus_of_mask "$mask")" ] || echo "$nic: rx-$q RPS empty with $cur rx queues < $n CPUs"
      for c in $(cpus_of_mask "$mask"); do
        [[ " $usable " == *" $c "* ]] || echo "$nic: rx-$q RPS has CPU $c outside the usable CPUs"
      done
      [ "$flows" != 0 ] || echo "$nic: rx-$q rps_flow_cnt 0"
    done < <(awk -v n="$nic" '$1 == "rps" && $2 == n' <<<"$STATE")
  fi
}
# all_tuned NIC...: refreshes STATE, succeeds when every NIC is tuned (else prints the gaps).
all_tuned() {
  refresh || return 1
  local nic out=""
  for nic in "$@"; do out+=$(tuned "$nic"); done
  LAST_GAPS=$out
  [ -z "$out" ]
}
# converge SECONDS WHAT NIC...: all_tuned within SECONDS.
converge() {
  local limit=$1 what=$2; shift 2
  local deadline=$((SECONDS + limit)) t0=$SECONDS
  until all_tuned "$@"; do
    if [ $SECONDS -ge $deadline ]; then fail "$what: not tuned within ${limit}s: $LAST_GAPS"; return 0; fi
    sleep 1
  done
  pass "$what (tuned after $((SECONDS - t0)) s)"
}
# quiet: udev has handled every event and systemd has no job left (what a re-apply would need).
quiet() { dg_sh 'udevadm settle --timeout=60 && [ -z "$(systemctl list-jobs --no-legend)" ]' 90; }
journal_of() { dg_sh "journalctl -b --no-pager -o cat -u $1" 60; }

# --- Boot 1: cloud-init installs and runs the package --------------------------------------
# CPU 3 isolated: the plan leaves it out of every mask, which the driver's own striping does not,
# so a missed re-apply is visible.
stamp "boot 1: first boot with cloud-init"
dg_start "$IMG" "isolcpus=3"
dg_wait 600 "qemu-ga answers" dg_sh true 10
BOOT1=$(dg_sh 'cat /proc/sys/kernel/random/boot_id')
stamp "qemu-ga answers; waiting for cloud-init's boot-finished"
dg_wait 900 "cloud-init boot-finished" dg_sh 'test -e /var/lib/cloud/instance/boot-finished' 10
stamp "cloud-init finished"

echo "-- 1. first boot"
check "cloud-init installed guest-nettune from the local repository" \
  dg_sh "dpkg-query -W -f='\${Status}' guest-nettune | grep -q 'install ok installed'"
ci_result=$(dg_sh 'cat /var/lib/cloud/data/result.json' 30 || true)
check "cloud-init reports no error ($(jq -c '.v1.errors' <<<"$ci_result" 2>/dev/null))" \
  jqe '.v1.errors == []' <<<"$ci_result"
check "guest-nettune.service is active" dg_sh 'systemctl is-active --quiet guest-nettune.service'
unit_log=$(journal_of guest-nettune.service)
check "the unit's journal shows no permission error under its hardening" \
  bash -c '! grep -iE "permission denied|operation not permitted|read-only file system|EACCES|EPERM" <<<"$1"' _ "$unit_log"
for kind in "eth0 channels" "/xps_cpus" "/rps_cpus" "/smp_affinity" "/proc/sys/net/core/"; do
  check "a $kind write succeeded inside the unit" grep -qF -- "$kind" <<<"$(grep '^wrote ' <<<"$unit_log")"
done
check "no write failed inside the unit" bash -c '! grep -q "^error:" <<<"$1"' _ "$unit_log"
converge 15 "first boot: eth0 and eth1 tuned" eth0 eth1
PRE1=$(dg_sh 'cat /run/gn-prestate')
check "the plan differs from the kernel's own state (eth0 combined $(awk '$1=="channels"&&$2=="eth0"{print $3}' <<<"$PRE1") at boot)" \
  differs_from_plan "$PRE1" eth0
status_json=$(dg_host --json status || true)
check "host status: every setting ok ($(jq -c '.summary' <<<"$status_json" 2>/dev/null))" \
  jqe '.summary.drift == 0 and .summary.ok > 0 and ([.settings[] | select(.state != "ok" and .state != "not_applicable")] | length == 0)' <<<"$status_json"

echo "-- 7. systemd-analyze security"
security=$(dg_sh 'systemd-analyze security --no-pager guest-nettune.service' 120 || true)
exposure=$(grep -oE 'Overall exposure level for guest-nettune.service: [0-9.]+ [A-Z]+' <<<"$security" || true)
echo "figure: $exposure"
check "systemd-analyze security gives a figure" [ -n "$exposure" ]
echo "$security" | awk '$1 == "✗" {print "  exposed: " $0}' | head -40

echo "-- 3. udev, CPUs: hot-add a vCPU through QMP, online it, offline another"
cpu=$(dg_qmp '{"execute":"query-hotpluggable-cpus"}' | jq -c '[.[] | select(has("qom-path") | not)][0]')
cpu_args=$(jq -c '.props + {driver: .type, id: "hotcpu"}' <<<"$cpu")
cpus_before=$(dg_sh 'cat /sys/devices/system/cpu/present')
dg_qmp "{\"execute\":\"device_add\",\"arguments\":$cpu_args}" >/dev/null
dg_wait 120 "the hot-added vCPU appears in the guest" \
  bash -c '[ "$("$0" --socket "$1" --timeout 30 -- /bin/cat /sys/devices/system/cpu/present)" != "$2" ]' "$QGA_EXEC" "$DG_QGA" "$cpus_before"
newcpu=$(comm -13 <(cpus_of_list "$cpus_before" | tr ' ' '\n' | sort) \
                  <(cpus_of_list "$(dg_sh 'cat /sys/devices/system/cpu/present')" | tr ' ' '\n' | sort) | head -1)
echo "the guest calls it cpu$newcpu"
dg_sh "echo 1 > /sys/devices/system/cpu/cpu$newcpu/online"
converge 15 "vCPU $newcpu hot-added and onlined: masks follow" eth0 eth1
check "eth0 uses the new CPU's queue (combined $(channels_of eth0))" [ "$(channels_of eth0)" = 4 ]
dg_sh "echo 0 > /sys/devices/system/cpu/cpu1/online"
converge 15 "CPU 1 offlined: masks follow" eth0 eth1

echo "-- 2. udev, queues: ethtool -L eth0 combined 2 then 4 while a re-apply runs"
dg_sh 'systemctl --no-block start guest-nettune-reapply.service; ethtool -L eth0 combined 2; ethtool -L eth0 combined 4'
converge 15 "eth0 back on the plan after two channel changes" eth0 eth1

echo "-- 4. NIC hot-plug: a multiqueue virtio-net NIC through QMP"
ip -n "$DG_NS" tuntap add dev dtap2 mode tap multi_queue
ip -n "$DG_NS" link set dtap2 up
dg_qmp '{"execute":"netdev_add","arguments":{"type":"tap","id":"n2","ifname":"dtap2","script":"no","downscript":"no","queues":4}}' \
       '{"execute":"device_add","arguments":{"driver":"virtio-net-pci","netdev":"n2","mq":true,"vectors":10,"id":"nic2","mac":"52:54:00:12:00:02"}}' >/dev/null
dg_wait 60 "eth2 appears in the guest" dg_sh 'test -e /sys/class/net/eth2'
converge 30 "hot-plugged eth2 tuned" eth2
check "guest-nettune@eth2.service ran and succeeded" \
  dg_sh 'systemctl show -p Result --value guest-nettune@eth2.service | grep -qx success && [ "$(systemctl show -p ExecMainExitTimestampMonotonic --value guest-nettune@eth2.service)" != 0 ]'

echo "-- 5. reboot: the unit tunes again without cloud-init"
stamp "reboot"
dg_sh 'systemctl --no-block reboot' 30 || true
dg_wait 900 "the guest is back with a new boot id" \
  bash -c '[ "$("$0" --socket "$1" --timeout 10 -- /bin/cat /proc/sys/kernel/random/boot_id)" != "$2" ]' "$QGA_EXEC" "$DG_QGA" "$BOOT1"
dg_wait 900 "boot 2 finished" dg_sh 'systemctl is-system-running --wait >/dev/null; s=$(systemctl is-system-running); [ "$s" = running ] || [ "$s" = degraded ]' 600
stamp "boot 2 up"
check "guest-nettune.service active after reboot" dg_sh 'systemctl is-active --quiet guest-nettune.service'
unit_log=$(journal_of guest-nettune.service)
check "the unit wrote at this boot (the kernel reset the settings)" grep -q '^wrote ' <<<"$unit_log"
check "cloud-init did not run guest-nettune again (runcmd is per instance)" \
  bash -c '! grep -q "guest-nettune" <<<"$1"' _ "$(dg_sh 'journalctl -b --no-pager -o cat _COMM=cloud-init' 60 || true)"
converge 15 "boot 2: eth0, eth1 and eth2 tuned" eth0 eth1 eth2

echo "-- 6. revert sticks"
PRE2=$(dg_sh 'cat /run/gn-prestate')
dg_sh 'guest-nettune revert' 120 >/dev/null || fail "guest-nettune revert failed"
refresh
check "revert brings back this boot's pre-apply state" diff <(echo "$PRE2") <(echo "$STATE")
pre_budget=$(STATE=$PRE2 sysctl_of netdev_budget)
dg_sh 'ethtool -L eth0 combined 2'
dg_sh "echo 0 > /sys/devices/system/cpu/cpu$newcpu/online"
dg_wait 120 "udev and systemd idle after the events" quiet
refresh
check "after revert and a queue change, eth0 stays at combined 2 (got $(channels_of eth0))" [ "$(channels_of eth0)" = 2 ]
check "after revert and a CPU event, netdev_budget stays $pre_budget (got $(sysctl_of netdev_budget))" \
  [ "$(sysctl_of netdev_budget)" = "$pre_budget" ]
dg_sh "echo 1 > /sys/devices/system/cpu/cpu$newcpu/online; guest-nettune apply" 120 >/dev/null || fail "re-apply by hand failed"
converge 15 "applied again by hand" eth0 eth1 eth2
dg_sh 'DEBIAN_FRONTEND=noninteractive apt-get remove -y guest-nettune' 300 >/dev/null || fail "apt-get remove guest-nettune failed"
refresh
check "apt-get remove: netdev_budget back at $pre_budget (got $(sysctl_of netdev_budget))" \
  [ "$(sysctl_of netdev_budget)" = "$pre_budget" ]
check "apt-get remove: eth1 XPS back to the kernel's" \
  diff <(grep '^xps eth1' <<<"$PRE2") <(grep '^xps eth1' <<<"$STATE")
dg_sh 'ethtool -L eth0 combined 3'
dg_sh "echo 0 > /sys/devices/system/cpu/cpu$newcpu/online"
dg_wait 120 "udev and systemd idle after the events" quiet
refresh
check "after removal and a queue change, eth0 stays at combined 3 (got $(channels_of eth0))" [ "$(channels_of eth0)" = 3 ]
check "after removal and a CPU event, netdev_budget stays $pre_budget" [ "$(sysctl_of netdev_budget)" = "$pre_budget" ]

stamp "done: $PASSES passed, $FAILS failed"
[ "$FAILS" -eq 0 ]
