#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-3.0-or-later
# The Debian package: `make deb` builds it (version: the VERSION file, which
# debian/changelog must match), lintian finds nothing it does not justify,
# and it installs and removes cleanly.  dpkg runs on a private root
# (--root, --force-not-root), so the test works as root or not and leaves
# the system's packages alone.  Skipped only where dpkg-deb is absent.

load ../lib/common

setup_file() {
    command -v dpkg-deb >/dev/null || return 0
    export DEB_BUILD="$BATS_FILE_TMPDIR/build"
    DEB_BUILD_OPTIONS=nocheck nice make -s -C "$R42_TOP" deb BUILD="$DEB_BUILD" \
        >"$BATS_FILE_TMPDIR/make-deb.log" 2>&1 || true
}

setup() {
    command -v dpkg-deb >/dev/null || skip "dpkg-deb is not installed"
    version="$(cat "$R42_TOP/VERSION")"
    deb="$DEB_BUILD/deb/r42intercept_${version}_$(dpkg --print-architecture).deb"
    [[ -f "$deb" ]] || fail "make deb built no $deb: $(tail -30 "$BATS_FILE_TMPDIR/make-deb.log")"
}

@test "deb: one version, VERSION's: package, debian/changelog, CHANGELOG.md, --version" {
    assert_eq "$(dpkg-deb -f "$deb" Version)" "$version" "package version"
    assert_eq "$(dpkg-parsechangelog -l "$R42_TOP/debian/changelog" -S Version)" "$version" "debian/changelog"
    assert_eq "$(grep -m1 '^## ' "$R42_TOP/CHANGELOG.md")" "## $version" "CHANGELOG.md"
    # make deb refuses a changelog that does not match
    local copy="$BATS_TEST_TMPDIR/tree"
    mkdir -p "$copy"
    tar -C "$R42_TOP" -c --exclude-vcs --exclude='./build*' . | tar -x -C "$copy"
    echo 99.9 >"$copy/VERSION"
    run make -s -C "$copy" deb BUILD="$BATS_TEST_TMPDIR/b"
    assert_eq "$status" 2 "make deb with another VERSION"
    assert_match "$output" "debian/changelog has version $version, VERSION has 99.9"
}

@test "deb: runtime dependencies declared" {
    local depends lib
    depends="$(dpkg-deb -f "$deb" Depends)"
    for lib in libc6 libcurl4 libcjson1 libsodium23 libyaml-0-2 libssl3; do
        assert_match "$depends" "(^|, )$lib( |,|$)" "Depends: $lib"
    done
}

@test "deb: lintian finds no error or warning, each override justified" {
    command -v lintian >/dev/null || fail "lintian is not installed (contrib/debian-packages.txt)"
    run lintian --fail-on error,warning --info --pedantic "$deb"
    assert_eq "$status" 0 "lintian: $output"
    ! grep -q "^[EWIP]: " <<<"$output" || fail "lintian tags not overridden: $output"
    # an override without a comment above it has no justification
    run awk '/^#/ { c = 1; next } /^r42intercept: / && !c { print } { if (!/^r42intercept: /) c = 0 }' \
        "$R42_TOP/debian/r42intercept.lintian-overrides"
    assert_eq "$output" "" "overrides without a justification"
}

@test "deb: dpkg -i installs every file of the package, dpkg -r leaves none" {
    local root="$BATS_TEST_TMPDIR/root" log="$BATS_TEST_TMPDIR/dpkg.log"
    mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates"
    : >"$root/var/lib/dpkg/status"
    # the dependencies are the host's, not the private root's
    run dpkg --force-not-root --force-depends --root="$root" --log="$log" -i "$deb"
    assert_eq "$status" 0 "dpkg -i: $output"
    # what is on disk is the package's file list
    diff <(dpkg-deb -c "$deb" | awk '{ print $NF }' | sed 's|^\./|/|; s|/$||' | grep -v '^$' | sort) \
        <(cd "$root" && find . -path ./var -prune -o -print | sed 's|^\.||' | grep -v '^$' | sort) ||
        fail "installed files differ from the package's list"
    for f in /usr/bin/r42intercept /usr/lib/r42intercept/libr42intercept.so \
        /usr/lib/r42intercept/r42intercept-runner /usr/lib/r42intercept/r42intercept-core.so \
        /usr/share/man/man1/r42intercept.1.gz /usr/share/doc/r42intercept/range42-context.sh \
        /usr/share/doc/r42intercept/README.md /usr/share/doc/r42intercept/decision.md \
        /usr/share/doc/r42intercept/copyright; do
        [[ -f "$root$f" ]] || fail "$f not installed"
    done
    # the installed programs run and say the version; the core loads
    assert_eq "$("$root/usr/bin/r42intercept" --version)" "r42intercept $version"
    assert_eq "$("$root/usr/lib/r42intercept/r42intercept-runner" --version)" "r42intercept-runner $version"
    run "$root/usr/lib/r42intercept/r42intercept-runner" --check
    assert_eq "$status" 0 "the core loads: $output"
    run --separate-stderr env MANWIDTH=80 man --warnings -l "$root/usr/share/man/man1/r42intercept.1.gz"
    assert_eq "$stderr" "" "the installed man page renders without warnings"
    # the installed library names the installed runner
    grep -q /usr/lib/r42intercept/r42intercept-runner "$root/usr/lib/r42intercept/libr42intercept.so" ||
        fail "the library does not name /usr/lib/r42intercept/r42intercept-runner"
    run dpkg --force-not-root --root="$root" --log="$log" -r r42intercept
    assert_eq "$status" 0 "dpkg -r: $output"
    run find "$root" -path "$root/var" -prune -o -print
    assert_eq "$output" "$root" "left after dpkg -r"
}
