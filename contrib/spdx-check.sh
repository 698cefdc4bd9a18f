#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# contrib/spdx-check.sh [--fix]: lists the source files of the repository
# (C, headers, .inc/.def, shell, bash, python, bats, Makefile, debian/rules,
# .ci/run, *.in templates) whose first line, or second after a #! line, is
# not the SPDX licence line; exits 1 when there is one.  --fix inserts the
# line there instead (one line per file: "/* ... */" for C-like files, "#"
# otherwise), so that the pass can be run again after a merge.
set -euo pipefail
cd "$(dirname "$0")/.."

spdx='SPDX-License-Identifier: GPL-3.0-or-later'
fix=0
case "${1:-}" in
--fix) fix=1 ;;
"") ;;
*)
    echo "usage: contrib/spdx-check.sh [--fix]" >&2
    exit 2
    ;;
esac

# The files: tracked ones in a git checkout, else the tree without build
# directories; data (fuzz corpus) aside.
list_files() {
    if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        git ls-files
    else
        find . -path './build*' -prune -o -path ./.git -prune -o -type f -print |
            sed 's|^\./||'
    fi | grep -v '^test/fuzz/corpus/' |
        grep -E '\.(c|h|inc|def|sh|bash|py|bats|in)$|(^|/)Makefile$|^debian/rules$|^\.ci/run$' |
        sort
}

# The comment form of the line for FILE.
spdx_line() {
    case "$1" in
    *.c | *.h | *.inc | *.def) printf '/* %s */' "$spdx" ;;
    *) printf '# %s' "$spdx" ;;
    esac
}

# 0 when FILE has the line where it belongs.
has_spdx() {
    local first second
    first="$(sed -n 1p "$1")"
    second="$(sed -n 2p "$1")"
    [[ "$first" == *"$spdx"* ]] && return 0
    [[ "$first" == '#!'* && "$second" == *"$spdx"* ]]
}

# Inserts the line into FILE: after a #! line, else first.
insert_spdx() {
    local file="$1" line
    line="$(spdx_line "$file")"
    if [[ "$(head -c 2 "$file")" == '#!' ]]; then
        sed -i "1a\\$line" "$file"
    else
        sed -i "1i\\$line" "$file"
    fi
}

missing=0
while IFS= read -r f; do
    [[ -f "$f" ]] || continue
    has_spdx "$f" && continue
    if ((fix)); then
        insert_spdx "$f"
        echo "added: $f"
    else
        echo "missing: $f"
        missing=$((missing + 1))
    fi
done < <(list_files)
((missing == 0))
