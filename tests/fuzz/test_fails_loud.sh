#!/usr/bin/env bash
# .ci/fuzz fails loud: a build of the cpuset target whose entry point crashes, leaks, trips UBSan
# or ASan, or hangs on planted inputs (tests/fuzz/planted.cpp) must make .ci/fuzz exit non-zero,
# one kind at a time and with the report shown; the same build without a planted input passes.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${GN_BUILD:?set GN_BUILD to the build directory}/fuzz-planted
WORK=$(mktemp -d /tmp/gn-fuzz-loud-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
FAILS=0
fail() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); }

fuzz() {  # fuzz EXTRA_CORPUS_DIR OUTPUT: exit status of .ci/fuzz on the planted build
  local rc=0
  GN_FUZZ_BUILD=$BUILD GN_FUZZ_ONLY=cpuset GN_FUZZ_CMAKE_ARGS=-DGN_FUZZ_PLANT=ON GN_FUZZ_TIMEOUT=3 \
    GN_FUZZ_EXTRA_CORPUS=$1 bash "$ROOT/.ci/fuzz" 2 >"$2" 2>&1 || rc=$?
  return $rc
}

# The control: the planted build passes when no planted input is there.
mkdir -p "$WORK/none"
if fuzz "$WORK/none" "$WORK/control.out"; then
  echo "control (no planted input): .ci/fuzz exit 0"
else
  fail "control: .ci/fuzz failed without a planted input"
  cat "$WORK/control.out" >&2
fi

# Each planted input: a non-zero exit, and the output shows the report.
declare -A expect=(
  [ABORT]="deadly signal"
  [LEAK]="LeakSanitizer: detected memory leaks"
  [UB]="runtime error: signed integer overflow"
  [OVERFLOW]="AddressSanitizer: heap-buffer-overflow"
  [HANG]="libFuzzer: timeout"
)
for kind in ABORT LEAK UB OVERFLOW HANG; do
  mkdir -p "$WORK/$kind"
  printf 'PLANTED-%s' "$kind" >"$WORK/$kind/planted"
  rc=0
  fuzz "$WORK/$kind" "$WORK/$kind.out" || rc=$?
  if [ "$rc" -eq 0 ]; then
    fail "PLANTED-$kind: .ci/fuzz exited 0"
    tail -20 "$WORK/$kind.out" >&2
  elif ! grep -q "${expect[$kind]}" "$WORK/$kind.out"; then
    fail "PLANTED-$kind: .ci/fuzz exited $rc but its output does not show '${expect[$kind]}'"
    tail -20 "$WORK/$kind.out" >&2
  else
    echo "PLANTED-$kind: .ci/fuzz exit $rc, output shows '${expect[$kind]}'"
  fi
done
[ "$FAILS" -eq 0 ] && echo "fails loud: every planted failure made .ci/fuzz exit non-zero"
[ "$FAILS" -eq 0 ]
