#!/usr/bin/env bash
# test/run-unit.sh BUILD: the C unit tests of BUILD (e.g. build-asan), each
# wrapped in $R42_TEST_PREFIX (e.g. valgrind); fails if any fails.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
build="${1:-build}"
status=0
for t in "$build"/unit/test-*; do
    # shellcheck disable=SC2086
    if ! ${R42_TEST_PREFIX:-} "$t" >"$t.tap" 2>&1 || grep -q '^not ok' "$t.tap"; then
        echo "FAIL $t"; grep -v '^ok' "$t.tap"; status=1
    else
        echo "ok   $t ($(tail -1 "$t.tap"))"
    fi
done
exit $status
