#!/usr/bin/env bash
# The planner's headers see no I/O: plan.h and facts.h (and everything they include) reach neither
# the SysRoot gateway, the ethtool ioctl, the journal, durable writes nor a stream or system call
# header. Asks the compiler for each header's full include list (-M), so an indirect include counts.
# Usage: pure_headers.sh CXX SOURCE_DIR
set -euo pipefail
cxx=$1 src=$2
forbidden='/(sysroot|ethtool|durable_file|journal|run_lock|probe|capture|load_sample)\.h$|/(fstream|iostream|filesystem)$|/(unistd|fcntl)\.h$|/sys/ioctl\.h$|/linux/ethtool\.h$'
fail=0
for h in agent/plan/plan.h agent/probe/facts.h; do
  deps=$("$cxx" -std=c++17 -M -x c++ -I"$src/agent/common" -I"$src/agent/probe" -I"$src/agent/plan" "$src/$h" |
    tr -s ' \\' '\n' | sed '/^$/d; /:$/d')
  [ -n "$deps" ] || { echo "FAIL: no include list for $h"; fail=1; continue; }
  if bad=$(grep -E "$forbidden" <<<"$deps"); then
    echo "FAIL: $h reaches I/O headers:"
    sed 's/^/    /' <<<"$bad"
    fail=1
  else
    echo "ok: $h ($(wc -l <<<"$deps") headers, none of them I/O)"
  fi
done
exit "$fail"
