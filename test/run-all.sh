#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# test/run-all.sh: every test of r42intercept, then one line "N passed, N failed".
# Runs the C unit tests (TAP), the bats integration tests (TAP), each fuzz
# target for R42_FUZZ_SECONDS (default 10), and a final sweep of everything
# the tests printed for the environments' secrets.
# R42_KEEP=1 keeps the run's files; BATS_ARGS adds bats options (e.g. -f NAME).
set -uo pipefail

top="$(cd "$(dirname "$0")/.." && pwd)"
cd "$top" || exit 1
export R42_TEST_TMP="${R42_TEST_TMP:-$(mktemp -d /tmp/r42-tests.XXXXXX)}"
mkdir -p "$R42_TEST_TMP/captured"
log="$R42_TEST_TMP/tap.log"
: >"$log"

# Counts "ok"/"not ok" lines of TAP read on stdin, echoing them.
count_tap() {
    local line
    while IFS= read -r line; do
        printf '%s\n' "$line"
        printf '%s\n' "$line" >>"$log"
    done
}

echo "# unit tests"
for t in build/unit/test-*; do
    echo "# $t"
    if ! "$t" | count_tap; then
        echo "not ok - $t exited non-zero" | count_tap
    fi
done

echo "# simulator self-test"
if ! python3 -m unittest -v test/sim/test_pvesim.py test/sim/test_faults.py test/sim/test_latency.py >"$R42_TEST_TMP/sim-selftest.log" 2>&1; then
    echo "not ok - simulator self-test failed (see below)" | count_tap
    tail -20 "$R42_TEST_TMP/sim-selftest.log"
fi
sed -n -e 's/^\(test[^ ]*\) .* \.\.\. ok$/ok - simulator: \1/p' \
    -e 's/^\(test[^ ]*\) .* \.\.\. \(FAIL\|ERROR\)$/not ok - simulator: \1/p' \
    "$R42_TEST_TMP/sim-selftest.log" | count_tap

echo "# integration tests (bats)"
# shellcheck disable=SC2086
bats --tap ${BATS_ARGS:-} test/bats | count_tap

echo "# fuzz targets (libFuzzer, ${R42_FUZZ_SECONDS:-10} s each; crashes kept in build-fuzz/crashes/)"
bash test/fuzz/run.sh --tap "${R42_FUZZ_SECONDS:-10}" | count_tap

echo "# secret sweep"
secrets=()
for f in "$R42_TEST_TMP"/env-*/token_secret "$R42_TEST_TMP"/env-*/vault_pass.txt; do
    [[ -s "$f" ]] && secrets+=("$(cat "$f")")
done
leaks=0
for s in "${secrets[@]}"; do
    if grep -rlF -- "$s" "$R42_TEST_TMP/captured" "$log" \
        "$R42_TEST_TMP"/env-*/sim.log 2>/dev/null | grep -q .; then
        leaks=$((leaks + 1))
    fi
done
if [[ ${#secrets[@]} -gt 0 && $leaks -eq 0 ]]; then
    echo "ok - no token or vault password in any captured output or log (${#secrets[@]} secrets)" | count_tap
else
    echo "not ok - secret sweep: ${#secrets[@]} secrets, $leaks leaked" | count_tap
fi

skipped=$(grep -ciE "^ok .*# skip" "$log")
passed=$(( $(grep -c "^ok " "$log") - skipped ))
failed=$(( $(grep -c "^not ok " "$log") + skipped ))  # a skip is not a pass
[[ "${R42_KEEP:-0}" == 1 ]] && echo "# files kept in $R42_TEST_TMP" || rm -rf "$R42_TEST_TMP"
echo "$passed passed, $failed failed"
[[ $failed -eq 0 && $passed -gt 0 ]]
