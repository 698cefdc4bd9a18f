#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-3.0-or-later
# The repository on its own: no pointer to documents outside it (a spec,
# issue numbers, defect ids of an outside report), only into docs/.

load ../lib/common

# grep -rn over the sources and docs of the repository, build trees aside.
repo_grep() {
    grep -rn -I --exclude-dir=.git --exclude-dir='build*' \
        --include='*.[ch]' --include='*.bats' --include='*.md' --include='*.sh' \
        --include='*.py' --include='*.inc' --include='*.def' --include='*.yml' \
        --include='*.in' --include=Makefile "$@" "$R42_TOP"
}

@test "repository: no reference to an outside spec, issue or defect number" {
    # the words are split so that this file does not match itself
    local spec="\\bSP""EC\\b" issue="issues\\? #\\?[0-9]" seed="the se""ed" number="#1[0-9]\\b"
    run repo_grep -e "$spec" -e "$issue" -e "$seed" -e "$number"
    assert_eq "$output" "" "references to documents outside the repository"
    run repo_grep -E -e '(^|[ (,])D[0-9]{1,2}([:, )]|$)'
    assert_eq "$output" "" "defect ids of an outside report"
}

@test "repository: the docs the code points to exist" {
    local doc
    for doc in $(repo_grep -o -h 'docs/[a-z-]*\.md' | sed 's/^[0-9]*://' | sort -u); do
        [[ -f "$R42_TOP/$doc" ]] || fail "$doc is referenced but missing"
    done
    [[ -f "$R42_TOP/docs/decision.md" ]] || fail "docs/decision.md missing"
}

@test "repository: every source file starts with the SPDX licence line" {
    run bash "$R42_TOP/contrib/spdx-check.sh"
    assert_eq "$output" "" "files without 'SPDX-License-Identifier: GPL-3.0-or-later' (contrib/spdx-check.sh --fix adds it)"
    assert_eq "$status" 0
    grep -q 'GNU GENERAL PUBLIC LICENSE' "$R42_TOP/LICENSE" && grep -q 'Version 3' "$R42_TOP/LICENSE" ||
        fail "LICENSE is not the GPL version 3"
}
