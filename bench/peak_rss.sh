#!/usr/bin/env bash
# Peak resident memory of `status` and `apply` on a 1024-CPU snapshot (16 virtio NICs of 256
# queue pairs, every mask empty: everything to write), beside `guest-nettune --help` in the same
# run (the static binary's own start-up, the least any command costs). Target: <= 8 MB each.
# Usage: bench/peak_rss.sh [BUILD_DIR]    (GNU time: Debian's `time` package)
set -euo pipefail
BUILD=$(readlink -f "${1:-build}")
AGENT="$BUILD/agent/guest-nettune"
WORK=$(mktemp -d /tmp/gn-rss-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
"$BUILD/tests/make-fixture" wide-1024-16-256 "$WORK/snap"

# peak_kb COMMAND...: the command's maximum resident set size in KiB.
peak_kb() {
  /usr/bin/time -f '%M' -o "$WORK/rss" "$@" >/dev/null 2>"$WORK/err" || {
    local rc=$?
    [ "$rc" -le 3 ] || { cat "$WORK/err" >&2; exit 1; }
  }
  tail -n 1 "$WORK/rss"
}
base=$(peak_kb "$AGENT" --help)
status=$(peak_kb "$AGENT" status --root "$WORK/snap" --config '')
status_json=$(peak_kb "$AGENT" status --json --root "$WORK/snap" --config '')
apply=$(peak_kb "$AGENT" apply --root "$WORK/snap" --config '' --state-dir "$WORK/state" --run-dir "$WORK/run")

echo "== peak RSS, 1024 CPUs x 16 NICs x 256 queue pairs (snapshot), KiB"
printf '%-22s %10s %8s %s\n' command "peak KiB" "x --help" "target 8192 KiB"
for row in "--help:$base" "status:$status" "status --json:$status_json" "apply:$apply"; do
  name=${row%%:*} kb=${row##*:}
  printf '%-22s %10d %8s %s\n' "$name" "$kb" "$(awk -v a="$kb" -v b="$base" 'BEGIN{printf "%.2f", a/b}')" \
    "$([ "$kb" -le 8192 ] && echo met || echo NOT met)"
done
