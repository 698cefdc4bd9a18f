#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# test/fuzz/run.sh: runs the libFuzzer targets of test/fuzz/ (built by
# `make fuzz-build` into build-fuzz/) for a fixed time each, one after the
# other, from their seed corpus test/fuzz/corpus/<target>/.
#
#   run.sh --tap SECONDS      make test: a fresh working corpus per run,
#                             one TAP line per target
#   run.sh --report SECONDS   make fuzz: the working corpus build-fuzz/corpus/
#                             <target>/ grows from run to run; a table of
#                             executions and time per target
#
# A crash, a leak, a sanitizer report, a failed check, a timeout (one input
# over 25 s) or an out-of-memory (one input over 2 GB) fails the target and
# leaves the input in build-fuzz/crashes/<target>/ (reproduce it with
# build-fuzz/fuzz-<target> FILE) and the log beside it.  Exits 1 if any
# target failed.  FUZZ_TARGETS="vault jout" runs only those.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1

mode="${1:-}"
seconds="${2:-}"
if [[ "$mode" != --tap && "$mode" != --report ]] ||
    ! [[ "$seconds" =~ ^[1-9][0-9]*$ ]]; then
    echo "usage: $0 --tap|--report SECONDS" >&2
    exit 2
fi

build="build-fuzz"
targets=()
if [[ -n "${FUZZ_TARGETS:-}" ]]; then
    read -ra targets <<<"$FUZZ_TARGETS"
else
    for src in test/fuzz/fuzz-*.c; do
        name="${src##*/fuzz-}"
        targets+=("${name%.c}")
    done
fi

tmp="$(mktemp -d "${TMPDIR:-/tmp}/r42-fuzz-run.XXXXXX")" || exit 1
trap 'rm -rf "$tmp"' EXIT

# Value of the libFuzzer final statistic NAME in LOG ("stat::NAME: V").
stat() { sed -n "s/^stat::$2: *//p" "$1" | tail -1; }

[[ "$mode" == --report ]] &&
    printf '%-10s %12s %9s %10s %8s %9s  %s\n' target executions seconds \
        exec/s corpus "peak RSS" result
failed=0
for name in "${targets[@]}"; do
    bin="$build/fuzz-$name"
    seeds="test/fuzz/corpus/$name"
    crashes="$build/crashes/$name"
    if [[ "$mode" == --tap ]]; then
        work="$tmp/corpus-$name"
    else
        work="$build/corpus/$name"
    fi
    mkdir -p "$work" "$crashes" || exit 1
    if [[ ! -x "$bin" || ! -d "$seeds" ]]; then
        failed=1
        if [[ "$mode" == --tap ]]; then
            echo "not ok - fuzz $name: $bin or $seeds missing (make fuzz-build)"
        else
            echo "$name: $bin or $seeds missing (make fuzz-build)"
        fi
        continue
    fi
    opts=(-max_total_time="$seconds" -timeout=25 -rss_limit_mb=2048
        -print_final_stats=1 -artifact_prefix="$crashes/")
    [[ -f "test/fuzz/$name.dict" ]] && opts+=(-dict="test/fuzz/$name.dict")
    log="$tmp/$name.log"
    start=$SECONDS
    # the whole run is bounded too: the fuzzing time, plus loading the
    # corpus, plus one timeout
    timeout -k 10 $((seconds + 120)) "$bin" "${opts[@]}" "$work" "$seeds" \
        >"$log" 2>&1
    rc=$?
    took=$((SECONDS - start))
    runs="$(stat "$log" number_of_executed_units)"
    runs="${runs:-?}"
    if [[ $rc -eq 0 ]]; then
        result="no crash"
    else
        failed=1
        artifact="$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)"
        cp "$log" "$crashes/last-failure.log"
        result="FAILED (exit $rc), input: ${artifact:-none written}, log: $crashes/last-failure.log"
    fi
    if [[ "$mode" == --tap ]]; then
        if [[ $rc -eq 0 ]]; then
            echo "ok - fuzz $name: $runs runs in $took s, no crash"
        else
            echo "not ok - fuzz $name: $result"
            grep -E 'ERROR|SUMMARY|fuzz_assert|runtime error' "$log" | head -5 |
                sed 's/^/#   /'
        fi
    else
        printf '%-10s %12s %9s %10s %8s %6s MB  %s\n' "$name" "$runs" "$took" \
            "$(stat "$log" average_exec_per_sec)" \
            "$(find "$work" -type f | wc -l)" \
            "$(stat "$log" peak_rss_mb)" "$result"
    fi
done
exit $failed
