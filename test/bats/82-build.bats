#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-3.0-or-later
# The Makefile as a packager uses it: CPPFLAGS, CFLAGS and LDFLAGS reach
# every compile and link line (the shim, the wrapper and the front
# included), and WERROR= turns -Werror off.

load ../lib/common

# The C compiler lines `make -n` would run for TARGETS with a marker in
# each flag variable, one per line (a recipe's continuation lines joined).
cc_lines() {
    make -s -n -B -C "$R42_TOP" BUILD="$BATS_TEST_TMPDIR/build" CC=r42cc \
        CPPFLAGS=-DR42_MARK_CPPFLAGS CFLAGS="-O2 -DR42_MARK_CFLAGS" \
        LDFLAGS=-Wl,--r42-mark-ldflags "$@" 2>/dev/null |
        sed -e ':a' -e '/\\$/{N;s/\\\n//;ba' -e '}' | grep '^r42cc '
}

@test "make: CPPFLAGS, CFLAGS and LDFLAGS on every compile and link line" {
    local lines line n=0 links=0
    lines="$(cc_lines all unit)"
    [[ -n "$lines" ]] || fail "no compiler line in make -n"
    while IFS= read -r line; do
        n=$((n + 1))
        [[ "$line" == *-DR42_MARK_CFLAGS* ]] || fail "no CFLAGS: $line"
        if [[ "$line" == *" -c "* ]]; then
            [[ "$line" == *-DR42_MARK_CPPFLAGS* ]] || fail "no CPPFLAGS: $line"
        else
            links=$((links + 1))
            [[ "$line" == *--r42-mark-ldflags* ]] || fail "no LDFLAGS: $line"
            # a link line that also compiles a source needs CPPFLAGS too
            if [[ "$line" =~ \.c( |$) ]]; then
                [[ "$line" == *-DR42_MARK_CPPFLAGS* ]] || fail "no CPPFLAGS: $line"
            fi
        fi
    done <<<"$lines"
    # the shim, the front, the core, the wrapper, the unit tests
    for what in libr42intercept.so r42intercept-runner r42intercept-core.so \
        "-o $BATS_TEST_TMPDIR/build/r42intercept" unit/test-; do
        grep -q -- "--r42-mark-ldflags.*$what\|$what.*--r42-mark-ldflags" <<<"$lines" ||
            fail "no link line with LDFLAGS for $what"
    done
    ((links >= 5)) || fail "only $links link lines"
    # the installed copies (built with LIBDIR in) too
    lines="$(cc_lines "$BATS_TEST_TMPDIR/build/install/libr42intercept.so" \
        "$BATS_TEST_TMPDIR/build/install/r42intercept")"
    assert_eq "$(grep -c -- '-DR42_MARK_CPPFLAGS.*--r42-mark-ldflags' <<<"$lines")" 2 \
        "install copies: $lines"
}

@test "make: -Werror by default, WERROR= drops it and builds" {
    local lines
    lines="$(cc_lines all | grep '\.c\( \|$\)')" # the lines that compile
    [[ -n "$lines" ]] || fail "no compile line"
    ! grep -v -q -- -Werror <<<"$lines" || fail "a compile line without -Werror by default"
    lines="$(cc_lines WERROR= all)"
    ! grep -q -- -Werror <<<"$lines" || fail "-Werror with WERROR="
    # a real build without -Werror, with a distribution's hardening flags
    run nice make -s -C "$R42_TOP" -j2 BUILD="$BATS_TEST_TMPDIR/build" WERROR= \
        CPPFLAGS="-Wdate-time -D_FORTIFY_SOURCE=2" \
        CFLAGS="-g -O2 -fstack-protector-strong -Wformat -Werror=format-security" \
        LDFLAGS="-Wl,-z,relro" all
    assert_eq "$status" 0 "make WERROR= all: $output"
    [[ -x "$BATS_TEST_TMPDIR/build/r42intercept-runner" && -f "$BATS_TEST_TMPDIR/build/libr42intercept.so" ]] ||
        fail "nothing built"
    run "$BATS_TEST_TMPDIR/build/r42intercept-runner" --check
    assert_eq "$status" 0 "the hardened core loads: $output"
}
