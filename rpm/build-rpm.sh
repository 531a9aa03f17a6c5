#!/usr/bin/env bash
# Builds guest-nettune and guest-nettune-host .rpm packages from a build tree with rpmbuild.
# Usage: build-rpm.sh SOURCE_DIR BUILD_DIR OUT_DIR VERSION
set -euo pipefail
SRC=$(readlink -f "$1"); BUILD=$(readlink -f "$2"); OUT=$(readlink -m "$3"); VERSION=$4
WORK=$(mktemp -d); trap 'rm -rf "$WORK"' EXIT
mkdir -p "$OUT"
rpmbuild -bb --quiet --define "_topdir $WORK" --define "gn_version $VERSION" --define "gn_src $SRC" \
  --define "gn_build $BUILD" --define "_build_id_links none" "$SRC/rpm/guest-nettune.spec" >/dev/null
find "$WORK/RPMS" -name '*.rpm' -exec cp {} "$OUT/" \;
echo "built $(cd "$OUT" && ls ./*.rpm | tr '\n' ' ')"
