#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# test/valgrind-runner.sh: the runner under valgrind, for `make check-valgrind`
# (R42INTERCEPT_RUNNER points here).  An error or a definite leak makes the
# runner exit 99, which fails the test that ran it.
here="$(dirname "$0")"
exec valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
    "$here/../build/r42intercept-runner" "$@"
