#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-3.0-or-later
# The manual page r42intercept(1): renders without warnings, names every
# variable of ours the code reads, and is installed.

load ../lib/common

setup() {
    page="$R42_TOP/docs/r42intercept.1"
}

@test "man page: renders at 80 columns without a warning" {
    command -v man >/dev/null || fail "man (man-db) is not installed"
    run --separate-stderr env MANWIDTH=80 man --warnings -l "$page"
    assert_eq "$status" 0 "man exit status: $stderr"
    assert_eq "$stderr" "" "warnings"
    local section
    for section in NAME SYNOPSIS DESCRIPTION OPTIONS DOCTOR "HOW IT DECIDES" \
        ENVIRONMENT "EXIT STATUS" FILES EXAMPLES "SEE ALSO"; do
        grep -q "^$section\$" <<<"$output" || fail "no $section section"
    done
    # the built copy carries the version
    make -s -C "$R42_TOP" build/r42intercept.1
    run --separate-stderr env MANWIDTH=80 man --warnings -l "$R42_TOP/build/r42intercept.1"
    assert_eq "$stderr" "" "warnings in the built page"
    assert_match "$output" "r42intercept $(cat "$R42_TOP/VERSION")" "the version in the footer"
}

@test "man page: every RANGE42_* and R42*INTERCEPT_* variable the code reads is documented" {
    local vars var n=0
    vars="$(grep -rhoE '"(RANGE42_|R42_?INTERCEPT_)[A-Z0-9_]+"' "$R42_TOP/fastpath" "$R42_TOP/shim" |
        tr -d '"' | sort -u)"
    [[ -n "$vars" ]] || fail "no variable found in the code"
    for var in $vars; do
        n=$((n + 1))
        grep -q "^\\.B[RI]* .*\\b$var\\b" "$page" || fail "$var is not in the man page"
    done
    ((n >= 15)) || fail "only $n variables found"
}

@test "man page: make install puts it in MANDIR/man1, uninstall removes it" {
    local dest="$BATS_TEST_TMPDIR/dest"
    run make -s -C "$R42_TOP" install DESTDIR="$dest" PREFIX=/usr
    assert_eq "$status" 0 "make install: $output"
    [[ -f "$dest/usr/share/man/man1/r42intercept.1" ]] || fail "not installed"
    [[ -f "$dest/usr/share/doc/r42intercept/decision.md" ]] || fail "docs not installed"
    run make -s -C "$R42_TOP" uninstall DESTDIR="$dest" PREFIX=/usr
    run find "$dest" -mindepth 1
    assert_eq "$output" "" "left after uninstall"
}
