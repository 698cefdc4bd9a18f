#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# test/run-unit.sh BUILD: the C unit tests of BUILD (e.g. build-asan), each
# wrapped in $R42_TEST_PREFIX (e.g. valgrind); fails if any fails.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
build="${1:-build}"
status=0
mkdir -p "$build/unit-tap"
for t in "$build"/unit/test-*; do
    tap="$build/unit-tap/${t##*/}.tap"
    # shellcheck disable=SC2086
    if ! ${R42_TEST_PREFIX:-} "$t" >"$tap" 2>&1 || grep -q '^not ok' "$tap"; then
        echo "FAIL $t"; grep -v '^ok' "$tap"; status=1
    else
        echo "ok   $t ($(tail -1 "$tap"))"
    fi
done
exit $status
