#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-3.0-or-later
# Which devkit scripts are answered (docs/decision.md section 6): only the versions we
# reproduce, recognised by the digest of their text (comments and blank
# lines aside), and only when the helpers they run through PATH are ours
# too.  Anything else runs itself, with one trace line saying why.

load ../lib/common

setup_file() { r42_file_env_up; }
teardown_file() { r42_file_env_down; }
setup() {
    r42_reset
    # a devkit directory of our own: links to the environment's files
    kit="$BATS_TEST_TMPDIR/kit"
    mkdir -p "$kit"
    local f
    for f in "$RANGE42_ANSIBLE_ROLES__DEVKITS_DIR"/*; do
        [[ -f "$f" ]] && ln -s "$(readlink -f "$f")" "$kit/${f##*/}"
    done
    start="$kit/proxmox_vm.vm_id.start.to.jsons.sh"
    fixture="$R42_TOP/test/fixtures/devkit/proxmox_vm.vm_id.start.to.jsons.sh"
    rm "$start"
}

# The trace lines of the runner about the script (not its ansible calls).
script_traces() {
    grep -c 'r42intercept: .*proxmox_vm.vm_id.start.to.jsons.sh' <<<"$stderr" || true
}

@test "script identity: a local copy with a guard after ACTION= runs itself: rc 3, VM untouched, one trace line" {
    sed 's/^ACTION="vm_start"$/&\necho "maintenance freeze" >\&2; exit 3/' "$fixture" >"$start"
    chmod +x "$start"
    grep -q '^echo "maintenance freeze"' "$start"
    r42_run bash -c "echo 101 | $start"
    assert_eq "$status" 3 "without the library"
    r42_run shim bash -c "echo 101 | $start"
    assert_eq "$status" 3
    assert_match "$stderr" "maintenance freeze"
    assert_match "$stderr" "running the real proxmox_vm.vm_id.start.to.jsons.sh: $start is not a version of the devkit we know \\(digest [0-9a-f]{12}\\)"
    assert_eq "$(script_traces)" 1 "one trace line about the script"
    assert_eq "$(sim_vm 101 status)" stopped
    assert_eq "$(r42_sim_log_count POST '/status/start$')" 0
}

@test "script identity: a file that only records its stdin, named like the script and setting ACTION, runs itself" {
    printf '#!/bin/bash\nACTION="vm_start"\ncat >"%s"\n' "$BATS_TEST_TMPDIR/recorded" >"$start"
    chmod +x "$start"
    r42_run shim bash -c "printf '101\n103\n' | $start"
    assert_eq "$status" 0
    assert_eq "$(cat "$BATS_TEST_TMPDIR/recorded")" $'101\n103'
    assert_match "$stderr" "is not a version of the devkit we know"
    assert_eq "$(sim_vm 101 status)" stopped
    assert_eq "$(sim_vm 103 status)" stopped
}

@test "script identity: a copy whose comments, blank lines and trailing blanks differ is still answered" {
    { sed -n 1p "$fixture"
      printf '# a local note\n\n   # indented note\n'
      sed -n '2,$p' "$fixture" | sed 's/$/  /'
    } >"$start"
    chmod +x "$start"
    ! cmp -s "$start" "$fixture"
    r42_run shim bash -c "echo 101 | $start"
    assert_eq "$status" 0
    assert_match "$stderr" "fast path: proxmox_vm.vm_id.start.to.jsons.sh via the Proxmox API"
    assert_match "$output" '"vm_id":"101","vm_name":"admin-builder-api","vm_status":"running"'
    assert_eq "$(sim_vm 101 status)" running
}

@test "script identity: a modified helper earlier in PATH makes the script run itself" {
    ln -s "$fixture" "$start"
    local helper=proxmox__inc.jsons.basic_vm_actions.to.jsons.sh
    mkdir -p "$BATS_TEST_TMPDIR/mine"
    ln -s "$R42_TOP/test/fixtures/devkit/devkit_fixture.lib.sh" "$BATS_TEST_TMPDIR/mine/"
    { cat "$RANGE42_ANSIBLE_ROLES__DEVKITS_DIR/$helper"; echo 'echo "local helper" >&2'; } >"$BATS_TEST_TMPDIR/mine/$helper"
    chmod +x "$BATS_TEST_TMPDIR/mine/$helper"
    PATH="$BATS_TEST_TMPDIR/mine:$PATH" r42_run shim bash -c "echo 101 | $start"
    assert_eq "$status" 0
    assert_match "$stderr" "running the real proxmox_vm.vm_id.start.to.jsons.sh: $BATS_TEST_TMPDIR/mine/$helper is not a version of the test fixture devkit we know"
    assert_match "$stderr" "local helper"
    assert_eq "$(script_traces)" 1 "one trace line about the script"
    # a helper missing from PATH: the real script fails as bash makes it
    PATH="$BATS_TEST_TMPDIR/mine:/usr/bin:/bin" r42_run shim bash -c "echo 101 | $start; echo rc=\$?"
    assert_match "$stderr" "running the real proxmox_vm.vm_id.start.to.jsons.sh: [a-z_.]+ is not found through PATH"
    assert_match "$stderr" "proxmox__inc.warmup_checks.sh: command not found"
    assert_eq "$output" rc=127
}

@test "script identity: the fixture devkit is answered only under R42INTERCEPT_TEST_FIXTURE_DEVKIT=1" {
    ln -s "$fixture" "$start"
    R42INTERCEPT_TEST_FIXTURE_DEVKIT=0 r42_run shim bash -c "echo 101 | $start"
    assert_match "$stderr" "running the real proxmox_vm.vm_id.start.to.jsons.sh: $start is not a version of the devkit we know"
    r42_sim POST /_sim/reset >/dev/null
    r42_run shim bash -c "echo 101 | $start"
    assert_match "$stderr" "fast path: proxmox_vm.vm_id.start.to.jsons.sh via the Proxmox API"
}
