# Sourced by the tests that need a real libvirtd on $URI. start_libvirtd starts virtlogd and
# libvirtd when they are not running and appends their PIDs to STARTED, which the caller's EXIT
# trap kills (so a machine's own daemon is left as it was).
start_libvirtd() {
  command -v libvirtd >/dev/null || { echo "libvirtd is missing: run .ci/setup" >&2; exit 1; }
  virsh -c "$URI" version >/dev/null 2>&1 && return 0
  mkdir -p /var/log/libvirt /run/libvirt
  # wait_for CONDITION...: up to 10 s for a daemon to come up (polling: they offer no other signal).
  wait_for() { for _ in $(seq 1 100); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done; return 1; }
  if [ ! -S /run/libvirt/virtlogd-sock ]; then
    virtlogd -d
    STARTED+=("$(pgrep -nx virtlogd)")
    wait_for test -S /run/libvirt/virtlogd-sock || { echo "virtlogd did not start" >&2; exit 1; }
  fi
  libvirtd -d
  STARTED+=("$(pgrep -nx libvirtd)")
  wait_for virsh -c "$URI" version || { echo "libvirtd did not start" >&2; exit 1; }
}
