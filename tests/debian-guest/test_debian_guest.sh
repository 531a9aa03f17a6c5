#!/usr/bin/env bash
# The real boot path: a Debian 12 guest with systemd, udev and cloud-init (built by
# build-image.sh, cached outside the clone), the guest-nettune .deb installed by cloud-init from a
# local apt repository with the shipped cloud-config, then: first boot, udev on queue changes,
# vCPU hot-add/offline, NIC hot-plug, reboot, revert (held through udev events and a reboot),
# `apt-get remove guest-nettune` after an explicit apply, and the unit's systemd-analyze security
# figure. Three boots of one qemu: the first (cloud-init), a reboot (scenario 5, then the revert of
# scenario 6), and a reboot that must stay untuned (then apply, and the package's removal). Every result
# is read back from the guest's sysfs/procfs through qemu-ga (gn-state), not from guest-nettune's
# report. Environment: GN_BUILD (build dir), GN_IMAGE_CACHE (image cache), GN_KEEP_GUEST=1 keeps
# the files; GN_DEMO_WITHOUT_UDEV_RULE=1 only shows scenario 2 failing without the udev rule.
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
  local nic x out=""
  for nic in "$@"; do x=$(tuned "$nic"); [ -z "$x" ] || out+="$x"$'\n'; done
  LAST_GAPS=$out
  [ -z "$out" ]
}
# settled SECONDS WHAT NIC...: all_tuned within SECONDS of the host's clock. Only for states that
# should already hold when it is called (after a boot); how fast a re-apply follows an event is
# measured by observe, on the guest's clock.
settled() {
  local limit=$1 what=$2; shift 2
  local deadline=$((SECONDS + limit))
  until all_tuned "$@"; do
    if [ $SECONDS -ge $deadline ]; then fail "$what: not tuned: $LAST_GAPS"; return 0; fi
    sleep 1
  done
  pass "$what"
}
# observe LIMIT WHAT 'CHANGE' NIC...: runs CHANGE in the guest (a shell script, stops at its first
# failing command), then reads gn-state there again and again for LIMIT+5 s of the guest's own
# clock (/proc/uptime), each snapshot stamped with the seconds from CHANGE's return to the end of
# that snapshot's reading (an upper bound of when what it shows was true). Passes when
# a snapshot at most LIMIT s after the change matches the plan for every NIC and every later one
# does too. The time is the guest's: a qemu-ga round trip slowed by the host's load neither adds
# to it nor hides a late re-apply. STATE is left at the last snapshot.
observe() {
  local limit=$1 what=$2 change=$3; shift 3
  local window=$((limit + 5)) out dir t last_t="" i=0 g x nic first_ok="" last_bad="" gaps=""
  dir=$(mktemp -d "$DG_DIR/observe-XXXXXX")
  if ! out=$(dg_sh "set -e
$change
set +e
t0=\$(cut -d' ' -f1 /proc/uptime)
while :; do
  /usr/local/sbin/gn-state
  d=\$(awk -v t0=\$t0 '{printf \"%.1f\", \$1 - t0}' /proc/uptime)
  echo \"@ \$d\"
  awk -v d=\$d 'BEGIN {exit !(d >= $window)}' && break
  sleep 0.5
done" $((window + 900))); then
    fail "$what: the change or the sampling failed in the guest"; return 0
  fi
  awk -v dir="$dir" '/^@ /{print $2 > (dir "/times"); n++; next} {print > sprintf("%s/%04d", dir, n + 1)}' <<<"$out"
  while read -r t; do
    i=$((i + 1)) last_t=$t
    STATE=$(cat "$dir/$(printf %04d $i)" 2>/dev/null || true)
    g=""
    for nic in "$@"; do x=$(tuned "$nic"); [ -z "$x" ] || g+="$x"$'\n'; done
    if [ -z "$g" ]; then
      [ -n "$first_ok" ] || first_ok=$t
    else
      first_ok="" last_bad=$t gaps=$g
    fi
  done <"$dir/times"
  if [ -n "$first_ok" ] && awk -v a="$first_ok" -v l="$limit" 'BEGIN {exit !(a <= l)}'; then
    pass "$what (on the plan ${first_ok} s after the change by the guest's clock and in every later snapshot up to ${last_t} s; $i snapshots)"
  elif [ -n "$first_ok" ]; then
    fail "$what: matches the plan only ${first_ok} s after the change (limit ${limit} s, guest's clock); at ${last_bad} s: $gaps"
  else
    fail "$what: not on the plan ${last_t:-?} s after the change (guest's clock, $i snapshots): $gaps"
  fi
}
# booted BOOT_ID: systemd has finished this boot (running, or degraded: some unit failed; the checks that
# follow say whether it is ours). Asked afresh each time rather than with `is-system-running --wait`,
# which waits for a bus signal: one CI run waited 900 s there after the console showed the boot done.
# BOOT_ID is the boot before: a guest still in it (a reboot that never began) is not booted.
booted() {
  dg_sh "[ \"\$(cat /proc/sys/kernel/random/boot_id)\" != '$1' ] && { s=\$(systemctl is-system-running); [ \"\$s\" = running ] || [ \"\$s\" = degraded ]; }" 30
}
# quiet: udev has handled every event and systemd has no job left (what a re-apply would need).
quiet() { dg_sh 'udevadm settle --timeout=60 && [ -z "$(systemctl list-jobs --no-legend)" ]' 90; }
# quiet_after_events: quiet, once udev has read every event the kernel sent before this call: a
# change event triggered now is processed after them (one netlink socket, read in order).
quiet_after_events() {
  dg_sh 'udevadm trigger --settle --action=change /sys/devices/virtual/mem/null && udevadm settle --timeout=60 && [ -z "$(systemctl list-jobs --no-legend)" ]' 90
}
journal_of() { dg_sh "journalctl -b --no-pager -o cat -u $1" 60; }

# --- Boot 1: cloud-init installs and runs the package --------------------------------------
# CPU 3 isolated: the plan leaves it out of every mask, which the driver's own striping does not,
# so a missed re-apply is visible.
stamp "boot 1: first boot with cloud-init"
dg_start "$IMG" "isolcpus=3"
dg_wait 900 "qemu-ga answers" dg_sh true 20
BOOT1=$(dg_sh 'cat /proc/sys/kernel/random/boot_id')
stamp "qemu-ga answers; waiting for cloud-init's boot-finished"
dg_wait 1200 "cloud-init boot-finished" dg_sh 'test -e /var/lib/cloud/instance/boot-finished' 30
stamp "cloud-init finished"
dg_sh 'echo "boot 1: $(systemd-analyze | head -1)"; systemd-analyze blame --no-pager | head -n 4 | sed "s/^/boot 1 blame: /"' 120 || true

echo "-- 1. first boot"
check "cloud-init installed guest-nettune from the local repository" \
  dg_sh "dpkg-query -W -f='\${Status}' guest-nettune | grep -q 'install ok installed'"
ci_result=$(dg_sh 'cat /var/lib/cloud/data/result.json' || true)
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
settled 120 "1. first boot: eth0 and eth1 on the plan" eth0 eth1
PRE1=$(dg_sh 'cat /run/gn-prestate')
check "the plan differs from the kernel's own state (eth0 combined $(awk '$1=="channels"&&$2=="eth0"{print $3}' <<<"$PRE1") at boot)" \
  differs_from_plan "$PRE1" eth0
status_json=$(dg_host --json status || true)
check "host status: every setting ok ($(jq -c '.summary' <<<"$status_json" 2>/dev/null))" \
  jqe '.summary.drift == 0 and .summary.ok > 0 and ([.settings[] | select(.state != "ok" and .state != "not_applicable")] | length == 0)' <<<"$status_json"
stamp "scenario 1 done"

echo "-- 7. systemd-analyze security"
security=$(dg_sh 'systemd-analyze security --no-pager guest-nettune.service' 300 || true)
exposure=$(grep -oE 'Overall exposure level for guest-nettune.service: [0-9.]+ [A-Z]+' <<<"$security" || true)
echo "figure: $exposure"
check "systemd-analyze security gives a figure" [ -n "$exposure" ]
echo "$security" | awk '$1 == "✗" {print "  exposed: " $0}' | head -40
stamp "scenario 7 done"

if [ -n "${GN_DEMO_WITHOUT_UDEV_RULE:-}" ]; then
  # Only for showing that scenario 2 can fail: the package's udev rule is taken out of the guest.
  echo "-- DEMONSTRATION: the udev rule removed from the guest; scenario 2 must fail"
  dg_sh 'rm /lib/udev/rules.d/90-guest-nettune.rules && udevadm control --reload-rules'
fi

echo "-- 2. udev, queues: ethtool -L eth0 combined 2 then 4 while a re-apply runs"
# The first change makes udev start a re-apply; the second is issued once that re-apply has
# started (a new invocation id), so it lands while the re-apply runs or is about to probe.
observe 15 "2. udev, queues: eth0 and eth1 on the plan after combined 2 then 4 during a re-apply" '
  unit=guest-nettune-reapply.service
  before=$(systemctl show -p InvocationID --value $unit)
  ethtool -L eth0 combined 2
  i=0
  while [ "$(systemctl show -p InvocationID --value $unit)" = "$before" ] && [ $i -lt 300 ]; do
    i=$((i + 1)); sleep 0.1
  done
  echo "re-apply after combined 2: $(systemctl show -p ActiveState --value $unit) ($((i / 10)) s)" >&2
  ethtool -L eth0 combined 4
  echo "re-apply after combined 4: $(systemctl show -p ActiveState --value $unit), jobs: $(systemctl list-jobs --no-legend | grep -c guest-nettune)" >&2' eth0 eth1
stamp "scenario 2 done"
if [ -n "${GN_DEMO_WITHOUT_UDEV_RULE:-}" ]; then
  stamp "demonstration done: $PASSES passed, $FAILS failed"
  [ "$FAILS" -eq 0 ]; exit
fi

echo "-- 3. udev, CPUs: hot-add a vCPU through QMP, online it, offline another"
cpu=$(dg_qmp '{"execute":"query-hotpluggable-cpus"}' | jq -c '[.[] | select(has("qom-path") | not)][0]')
cpu_args=$(jq -c '.props + {driver: .type, id: "hotcpu"}' <<<"$cpu")
cpus_before=$(dg_sh 'cat /sys/devices/system/cpu/present')
dg_qmp "{\"execute\":\"device_add\",\"arguments\":$cpu_args}" >/dev/null
dg_wait 300 "the hot-added vCPU appears in the guest" \
  bash -c '[ "$("$0" --socket "$1" --timeout 60 -- /bin/cat /sys/devices/system/cpu/present)" != "$2" ]' "$QGA_EXEC" "$DG_QGA" "$cpus_before"
newcpu=$(comm -13 <(cpus_of_list "$cpus_before" | tr ' ' '\n' | sort) \
                  <(cpus_of_list "$(dg_sh 'cat /sys/devices/system/cpu/present')" | tr ' ' '\n' | sort) | sed -n 1p)
echo "the guest calls it cpu$newcpu (offline until something onlines it: $(dg_sh "cat /sys/devices/system/cpu/cpu$newcpu/online"))"
observe 15 "3a. vCPU $newcpu hot-added and onlined: masks follow" \
  "echo 1 > /sys/devices/system/cpu/cpu$newcpu/online" eth0 eth1
check "eth0 uses the new CPU's queue (combined $(channels_of eth0), 4 usable CPUs)" [ "$(channels_of eth0)" = 4 ]
observe 15 "3b. CPU 1 offlined: masks follow" "echo 0 > /sys/devices/system/cpu/cpu1/online" eth0 eth1
check "eth0 follows the CPU count down (combined $(channels_of eth0), 3 usable CPUs)" [ "$(channels_of eth0)" = 3 ]
stamp "scenario 3 done"

echo "-- 4. NIC hot-plug: a multiqueue virtio-net NIC through QMP"
ip -n "$DG_NS" tuntap add dev dtap2 mode tap multi_queue
ip -n "$DG_NS" link set dtap2 up
dg_qmp '{"execute":"netdev_add","arguments":{"type":"tap","id":"n2","ifname":"dtap2","script":"no","downscript":"no","queues":4}}' \
       '{"execute":"device_add","arguments":{"driver":"virtio-net-pci","netdev":"n2","mq":true,"vectors":10,"id":"nic2","mac":"52:54:00:12:00:02"}}' >/dev/null
# The change, on the guest's clock, is eth2's appearance.
observe 15 "4. hot-plugged eth2 on the plan" '
  i=0
  until [ -e /sys/class/net/eth2 ]; do i=$((i + 1)); [ $i -lt 3000 ] || exit 1; sleep 0.1; done' eth2
check "guest-nettune@eth2.service ran and succeeded" \
  dg_sh 'systemctl show -p Result --value guest-nettune@eth2.service | grep -qx success && [ "$(systemctl show -p ExecMainExitTimestampMonotonic --value guest-nettune@eth2.service)" != 0 ]'
echo "eth2's writes: $(journal_of guest-nettune@eth2.service | grep -c '^wrote .*eth2') by guest-nettune@eth2.service, $(journal_of guest-nettune-reapply.service | grep -c '^wrote .*eth2') by guest-nettune-reapply.service (the queue rule; whichever takes the lock first)"
stamp "scenario 4 done"

echo "-- 5. reboot: the unit tunes again without cloud-init"
dg_sh 'systemctl --no-block reboot' 60 || true
dg_wait 900 "the guest is back with a new boot id" \
  bash -c '[ "$("$0" --socket "$1" --timeout 20 -- /bin/cat /proc/sys/kernel/random/boot_id)" != "$2" ]' "$QGA_EXEC" "$DG_QGA" "$BOOT1"
dg_wait 900 "boot 2 finished" booted "$BOOT1"
stamp "boot 2 up"
dg_sh 'echo "boot 2: $(systemd-analyze | head -1)"; echo "boot 2: guest-nettune.service ran $(systemctl show -p ExecMainStartTimestampMonotonic --value guest-nettune.service | awk "{printf \"%.1f\", \$1 / 1e6}") s after the kernel started"; echo "boot 1 shutdown: $(journalctl -b -1 -o short-monotonic --no-pager | grep -m1 -E "Stopping|Stopped target" | cut -c1-60) .. $(journalctl -b -1 -o short-monotonic --no-pager | tail -1 | cut -c1-60)"' || true
check "guest-nettune.service active after reboot" dg_sh 'systemctl is-active --quiet guest-nettune.service'
unit_log=$(journal_of guest-nettune.service)
check "the unit wrote at this boot (the kernel had reset the settings)" grep -q '^wrote ' <<<"$unit_log"
check "cloud-init did not run its per-instance runcmd again (its semaphore predates this boot)" \
  dg_sh 'f=/var/lib/cloud/instance/sem/config_runcmd; [ -e $f ] && [ "$(stat -c %Y $f)" -lt "$(awk "/^btime/ {print \$2}" /proc/stat)" ]'
PRE2=$(dg_sh 'cat /run/gn-prestate')
echo "boot 2 started with: $(grep '^cpus online' <<<"$PRE2"), $(grep -c '^channels' <<<"$PRE2") NICs ($(awk '$1 == "channels" {printf "%s combined %s/%s ", $2, $3, $4}' <<<"$PRE2"))"
check "at boot 2 the kernel's own state was off the plan again" differs_from_plan "$PRE2" eth0
settled 120 "5. boot 2: eth0, eth1 and eth2 on the plan" eth0 eth1 eth2
stamp "scenario 5 done"

echo "-- 5b. the journal after the reboot is this boot's"
BOOT2=$(dg_sh 'cat /proc/sys/kernel/random/boot_id')
check "the journal's boot id is boot 2's (the boot unit journalled this boot's originals afresh)" \
  dg_sh "grep -q '\"boot_id\": *\"$BOOT2\"' /var/lib/guest-nettune/journal.json"

echo "-- 6. revert sticks"
dg_sh 'guest-nettune revert' 300 || fail "guest-nettune revert failed"
refresh
check "revert brings back boot 2's pre-apply state, nothing of boot 1's" diff <(echo "$PRE2") <(echo "$STATE")
check "revert holds automatic runs (reapply.json: all false, no NIC, no sysctls)" \
  dg_sh 'j=$(tr -d " \n" </var/lib/guest-nettune/reapply.json); echo "reapply.json: $j" >&2; case $j in *\"all\":false*) ;; *) exit 1 ;; esac; case $j in *\"nics\":[[]]*) ;; *) exit 1 ;; esac; case $j in *\"sysctls\":false*) ;; *) exit 1 ;; esac'
pre_budget=$(STATE=$PRE2 sysctl_of netdev_budget)
cursor=$(dg_sh "journalctl -n 0 --show-cursor --no-pager | sed -n 's/^-- cursor: //p'")
dg_sh "ethtool -L eth0 combined 2; echo 0 > /sys/devices/system/cpu/cpu$newcpu/online"
dg_wait 300 "the udev-started re-apply ran after the events and said it is held" \
  dg_sh "journalctl --after-cursor '$cursor' -o cat --no-pager -u guest-nettune-reapply.service | grep -q 'held since'" 60
dg_wait 300 "udev and systemd idle after the events" quiet
refresh
check "after revert, a queue change and a CPU event: eth0 stays at combined 2 (got $(channels_of eth0))" [ "$(channels_of eth0)" = 2 ]
check "after revert and the events: netdev_budget stays $pre_budget (got $(sysctl_of netdev_budget))" \
  [ "$(sysctl_of netdev_budget)" = "$pre_budget" ]
check "after revert and the events: eth1 is left as the driver striped it (not on the plan)" differs_from_plan "$STATE" eth1
stamp "revert held through udev events"

echo "-- 6b. the hold survives a reboot"
dg_sh 'systemctl --no-block reboot' 60 || true
dg_wait 900 "the guest is back with a new boot id" \
  bash -c '[ "$("$0" --socket "$1" --timeout 20 -- /bin/cat /proc/sys/kernel/random/boot_id)" != "$2" ]' "$QGA_EXEC" "$DG_QGA" "$BOOT2"
dg_wait 900 "boot 3 finished" booted "$BOOT2"
stamp "boot 3 up"
unit_log=$(journal_of guest-nettune.service)
check "boot 3: guest-nettune.service ran and succeeded" dg_sh 'systemctl is-active --quiet guest-nettune.service'
check "boot 3: the unit says it is held and wrote nothing" \
  bash -c 'grep -q "held since" <<<"$1" && ! grep -q "^wrote " <<<"$1"' _ "$unit_log"
PRE3=$(dg_sh 'cat /run/gn-prestate')
dg_wait 300 "udev and systemd idle at boot 3" quiet
refresh
check "boot 3: the kernel's own state is untouched" diff <(echo "$PRE3") <(echo "$STATE")

echo "-- 6c. an explicit apply resumes"
dg_sh 'guest-nettune apply' 300 >/dev/null || fail "guest-nettune apply failed"
settled 60 "6c. explicit apply: eth0, eth1 and eth2 on the plan" eth0 eth1 eth2
observe 15 "6c. after the explicit apply udev re-tunes again (ethtool -L eth0 combined 2)" 'ethtool -L eth0 combined 2' eth0 eth1 eth2
stamp "explicit apply resumed"

echo "-- 6d. apt-get remove guest-nettune right after an explicit apply"
# The journal keeps the first original of each value in this boot, so what removal restores is
# the state before guest-nettune's first write of each value. 6c's explicit apply found eth0's
# channels already on the plan (nothing journalled) and its udev re-apply then journalled the
# test's own `combined 2`. An admin revert forgets the journal; the state it leaves (read here from
# sysfs/procfs) is what the explicit apply below starts from, and no admin change follows it.
dg_sh 'guest-nettune revert' 300 >/dev/null || fail "6d. guest-nettune revert failed"
dg_wait 300 "udev and systemd idle after the revert" quiet
refresh
PRE_RM=$STATE
echo "before the apply: $(awk '$1 == "channels" {printf "%s combined %s/%s ", $2, $3, $4}' <<<"$PRE_RM")netdev_budget $(sysctl_of netdev_budget)"
check "6d. the state before the apply is off the plan (so restoring it can be told from staying tuned)" \
  bash -c '[ -n "$1" ]' _ "$(for n in eth0 eth1 eth2; do tuned "$n"; done)"
dg_sh 'guest-nettune apply' 300 >/dev/null || fail "6d. guest-nettune apply failed"
settled 60 "6d. explicit apply: eth0, eth1 and eth2 on the plan" eth0 eth1 eth2
cursor=$(dg_sh "journalctl -n 0 --show-cursor --no-pager | sed -n 's/^-- cursor: //p'")
if rm_out=$(dg_sh 'DEBIAN_FRONTEND=noninteractive apt-get remove -y guest-nettune 2>&1' 600); then
  tail -n 3 <<<"$rm_out"
else
  fail "6d. apt-get remove guest-nettune failed: $rm_out"
fi
dg_wait 300 "udev and systemd idle after the removal" quiet
refresh
check "6d. apt-get remove brings back the state before the explicit apply" diff <(echo "$PRE_RM") <(echo "$STATE")
check "6d. the package is gone" dg_sh "! dpkg-query -W -f='\${Status}' guest-nettune 2>/dev/null | grep -q 'ok installed'"
check "6d. the units and the udev rule are gone (files, and systemd knows no unit file)" \
  dg_sh 'for f in /lib/systemd/system/guest-nettune.service /lib/systemd/system/guest-nettune@.service /lib/systemd/system/guest-nettune-reapply.service /lib/udev/rules.d/90-guest-nettune.rules; do [ ! -e $f ] || { echo "$f is still there" >&2; exit 1; }; done; l=$(systemctl list-unit-files --no-legend "guest-nettune*"); [ -z "$l" ] || { echo "unit files: $l" >&2; exit 1; }; for u in guest-nettune.service guest-nettune-reapply.service; do s=$(systemctl show -p LoadState --value $u); [ "$s" = not-found ] || { echo "$u: LoadState $s" >&2; exit 1; }; done'
check "6d. guest-nettune.service is stopped, not left active (exited) without its unit file" \
  dg_sh 's=$(systemctl show -p ActiveState --value guest-nettune.service); [ "$s" = inactive ] || { echo "guest-nettune.service: ActiveState $s" >&2; exit 1; }'
cursor2=$(dg_sh "journalctl -n 0 --show-cursor --no-pager | sed -n 's/^-- cursor: //p'")
check "6d. the hold stays behind in /var/lib/guest-nettune (a reinstall does not tune by itself)" \
  dg_sh 'tr -d " \n" </var/lib/guest-nettune/reapply.json | grep -q "\"all\":false"'
# A later queue change: the driver re-stripes eth0 only; eth1, eth2 and the sysctls must stay
# exactly as restored, and eth0 at the count set here (the plan would be 4).
dg_sh 'ethtool -L eth0 combined 1'
dg_wait 300 "udev and systemd idle after ethtool -L" quiet_after_events
refresh
check "6d. after removal, ethtool -L eth0 combined 1 stays (got combined $(channels_of eth0))" [ "$(channels_of eth0)" = 1 ]
check "6d. after removal and ethtool -L on eth0: eth1, eth2, the CPUs and the sysctls exactly as restored" \
  diff <(grep -v '^[a-z]* eth0 ' <<<"$PRE_RM") <(grep -v '^[a-z]* eth0 ' <<<"$STATE")
# A later CPU event: the driver re-stripes every NIC; channel counts and sysctls must not move,
# and the NICs stay off the plan.
dg_sh "echo 0 > /sys/devices/system/cpu/cpu$newcpu/online"
dg_wait 300 "udev and systemd idle after the CPU event" quiet_after_events
refresh
check "6d. CPU $newcpu went from online ($(STATE=$PRE_RM; awk '$2 == "online" {print $3}' <<<"$STATE")) to offline ($(awk '$2 == "online" {print $3}' <<<"$STATE"))" \
  bash -c '[[ " $1 " == *" $3 "* ]] && [[ " $2 " != *" $3 "* ]]' _ "$(STATE=$PRE_RM usable_cpus)" "$(usable_cpus)" "$newcpu"
check "6d. after removal and CPU $newcpu offline: channel counts and sysctls unchanged" \
  diff <(grep -E '^(channels|sysctl) ' <<<"$PRE_RM" | sed 's/^channels eth0 [0-9]* /channels eth0 1 /') <(grep -E '^(channels|sysctl) ' <<<"$STATE")
check "6d. after removal and CPU $newcpu offline: eth1 and eth2 left as the driver striped them (off the plan)" \
  bash -c '[ -n "$1" ] && [ -n "$2" ]' _ "$(tuned eth1)" "$(tuned eth2)"
check "6d. nothing wrote from the removal on, and no guest-nettune unit started after it" \
  dg_sh "l=\$(journalctl --after-cursor '$cursor' -o cat --no-pager -u 'guest-nettune*' | grep '^wrote '; journalctl --after-cursor '$cursor2' -o cat --no-pager -u 'guest-nettune*'); [ -z \"\$l\" ] || { echo \"\$l\" >&2; exit 1; }"
stamp "scenario 6 done"

stamp "done: $PASSES passed, $FAILS failed"
[ "$FAILS" -eq 0 ]
