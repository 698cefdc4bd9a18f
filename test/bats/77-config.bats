#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-3.0-or-later
# The runner's settings (fastpath/config.c): every invalid value is said in
# one trace line naming the variable and what it accepts, and the default
# applies; RANGE42_PROXMOX_API_TASK_TIMEOUT sets the task wait either way;
# RANGE42_PROXMOX_API_FORCE=on never runs the real program; the old
# R42_INTERCEPT_* names still work.

load ../lib/common

setup_file() { r42_file_env_up; }
teardown_file() { r42_file_env_down; }
setup() {
    r42_reset
    # a PATH spy: any real ansible-playbook or ansible-vault that starts
    # leaves a mark
    spy="$BATS_TEST_TMPDIR/spy"
    mkdir -p "$spy"
    for p in ansible-playbook ansible-vault; do
        printf '#!/bin/sh\necho "$0" >>"%s/started"\ncat >/dev/null\necho FAKE\n' "$spy" >"$spy/$p"
        chmod +x "$spy/$p"
    done
}

# ansible-playbook as the devkit runs it, for ACTION and its vars.
pb_call() {
    devkit_playbook "$@" | shim bash -c devkit_ansible_playbook
}

@test "every invalid value: one trace line naming it and what it accepts; the call goes on" {
    local pair name value want
    while IFS='|' read -r pair want; do
        name="${pair%%=*}" value="${pair#*=}"
        env "$name=$value" bash -c "$(declare -f shim devkit_playbook pb_call); pb_call vm_list" \
            >/dev/null 2>"$BATS_TEST_TMPDIR/err"
        assert_eq "$?" 0 "$pair: the call's status" || return 1
        assert_eq "$(grep -c "r42intercept: $name=" "$BATS_TEST_TMPDIR/err")" 1 "$pair: one trace line" || return 1
        assert_match "$(cat "$BATS_TEST_TMPDIR/err")" \
            ":: TRACE :: .*r42intercept: $name=$value is not valid \(accepted: $want\); using " "$pair" || return 1
        assert_match "$(cat "$BATS_TEST_TMPDIR/err")" "fast path: vm_list" "$pair: answered" || return 1
    done <<'EOP'
RANGE42_PROXMOX_API_FORCE=yes|auto, off, on
RANGE42_PROXMOX_API_SCRIPTS=no|on, off
RANGE42_PROXMOX_API_STRICT=true|0, 1
RANGE42_PROXMOX_API_TASK_TIMEOUT=abc|a number of seconds above 0, at most 86400
RANGE42_PROXMOX_API_TASK_TIMEOUT=0|a number of seconds above 0, at most 86400
RANGE42_PROXMOX_API_TASK_TIMEOUT=90000|a number of seconds above 0, at most 86400
RANGE42_PROXMOX_API_CACHE=false|on, off
RANGE42_PROXMOX_API_CACHE_TTL=1.5|a whole number of seconds, 0 to 86400
RANGE42_PROXMOX_API_CACHE_NEG_TTL=-1|a whole number of seconds, 0 to 86400
RANGE42_PROXMOX_API_RESIDENT=yes|on, off, or an idle time of 1 to 3600 seconds
RANGE42_PROXMOX_API_RESIDENT=0|on, off, or an idle time of 1 to 3600 seconds
RANGE42_PROXMOX_API_RESIDENT=3601|on, off, or an idle time of 1 to 3600 seconds
R42INTERCEPT_QUIET=yes|0, 1
R42INTERCEPT_PROFILE=on|0, 1
R42INTERCEPT_TEST_FIXTURE_DEVKIT=true|0, 1
R42INTERCEPT_COST_PLAYBOOK=2s|a number of seconds, 0 to 3600
R42INTERCEPT_COST_VAULT=-3|a number of seconds, 0 to 3600
EOP
}

@test "an invalid value: the default applies (STRICT=true is not strict, FORCE=yes is auto)" {
    RANGE42_PROXMOX_API_STRICT=true r42_run shim bash -c "printf '999\n101\n' | proxmox_vm.vm_id.start.to.jsons.sh"
    assert_eq "$status" 0 "not strict: the batch goes on"
    assert_match "$output" '"vm_id":"101"'
    RANGE42_PROXMOX_API_FORCE=yes r42_run shim bash -c 'echo 102 | proxmox_vm.vm_id.start.to.jsons.sh'
    assert_eq "$status" 0
    assert_match "$stderr" "fast path: proxmox_vm.vm_id.start.to.jsons.sh"
}

@test "RANGE42_PROXMOX_API_TASK_TIMEOUT raises the task wait as well as lowers it" {
    local t want
    for t in "|30" "45|45" "5|5" "200|200"; do
        want="${t#*|}"
        RANGE42_PROXMOX_API_TASK_TIMEOUT="${t%|*}" R42INTERCEPT_PROFILE=1 \
            r42_run pb_call vm_start vm_id=103
        assert_eq "$status" 0 || return 1
        assert_match "$stderr" "profile task wait \(timeout $want s\)" "TASK_TIMEOUT=${t%|*}" || return 1
        r42_sim POST /_sim/reset >/dev/null
    done
}

@test "FORCE=on, the API down: status 125, one error line, no ansible started (playbook level)" {
    r42_sim POST /_sim/config '{"probe_fail": true}' >/dev/null
    RANGE42_PROXMOX_API_FORCE=on PATH="$spy:$PATH" \
        r42_run pb_call vm_start vm_id=101
    assert_eq "$status" 125
    assert_eq "$output" ""
    assert_match "$stderr" ":: ERROR   :: .*r42intercept: RANGE42_PROXMOX_API_FORCE=on and the fast path cannot answer ansible-playbook \(API probe answered HTTP 503"
    assert_eq "$(grep -c 'FORCE=on' <<<"$stderr")" 1
    [[ ! -e "$spy/started" ]] || fail "started: $(cat "$spy/started")"
    assert_eq "$(sim_vm 101 status)" stopped
}

@test "FORCE=on, the API down: status 125 and no ansible (script level, and its playbooks)" {
    r42_sim POST /_sim/config '{"probe_fail": true}' >/dev/null
    RANGE42_PROXMOX_API_FORCE=on PATH="$spy:$PATH" \
        r42_run shim bash -c 'echo 101 | proxmox_vm.vm_id.start.to.jsons.sh'
    assert_eq "$status" 125
    assert_match "$stderr" "FORCE=on and the fast path cannot answer proxmox_vm.vm_id.start.to.jsons.sh"
    # SCRIPTS=off: the script itself runs, as asked; its ansible-playbook
    # call is refused
    RANGE42_PROXMOX_API_SCRIPTS=off RANGE42_PROXMOX_API_FORCE=on PATH="$spy:$PATH" \
        r42_run shim bash -c 'echo 101 | proxmox_vm.vm_id.start.to.jsons.sh'
    assert_match "$stderr" "FORCE=on and the fast path cannot answer ansible-playbook"
    [[ "$status" != 0 ]] || fail "the script succeeded"
    [[ ! -e "$spy/started" ]] || fail "started: $(cat "$spy/started")"
}

@test "FORCE=on, the runner's core missing: status 125, no ansible; the event log says refused" {
    local lone="$BATS_TEST_TMPDIR/lone"
    mkdir -p "$lone" && cp "$R42_RUNNER" "$lone/"
    R42INTERCEPT_LOG="$BATS_TEST_TMPDIR/ev.log" R42INTERCEPT_RUNNER="$lone/r42intercept-runner" \
        RANGE42_PROXMOX_API_FORCE=on PATH="$spy:$PATH" \
        r42_run pb_call vm_start vm_id=101
    assert_eq "$status" 125
    assert_match "$stderr" "FORCE=on and the fast path cannot answer ansible-playbook \(cannot load the runner's core"
    [[ ! -e "$spy/started" ]] || fail "started: $(cat "$spy/started")"
    assert_eq "$(jq -r '"\(.outcome) \(.status)"' "$BATS_TEST_TMPDIR/ev.log")" "refused 125"
}

@test "FORCE=on, the API up: answered as with auto" {
    RANGE42_PROXMOX_API_FORCE=on PATH="$spy:$PATH" r42_run shim bash -c 'echo 104 | proxmox_vm.vm_id.start.to.jsons.sh'
    assert_eq "$status" 0
    assert_match "$output" '"vm_id":"104"'
    [[ ! -e "$spy/started" ]] || fail "started: $(cat "$spy/started")"
}

@test "the old R42_INTERCEPT_* names still work, with one trace line each" {
    R42_INTERCEPT_PROFILE=1 r42_run pb_call vm_start vm_id=101
    assert_eq "$status" 0
    assert_match "$stderr" "r42intercept: profile "
    assert_eq "$(grep -c 'R42_INTERCEPT_PROFILE is deprecated: use R42INTERCEPT_PROFILE' <<<"$stderr")" 1
    R42_INTERCEPT_LOG="$BATS_TEST_TMPDIR/old.log" r42_run pb_call vm_list
    assert_eq "$(jq -r .outcome "$BATS_TEST_TMPDIR/old.log")" answered
    assert_match "$stderr" "R42_INTERCEPT_LOG is deprecated: use R42INTERCEPT_LOG"
    R42_INTERCEPT_QUIET=1 r42_run shim bash -c 'echo 102 | proxmox_vm.vm_id.start.to.jsons.sh'
    assert_eq "$status" 0
    assert_eq "$stderr" "" "quiet: no trace line"
    # the new name wins over the old one
    R42INTERCEPT_PROFILE=0 R42_INTERCEPT_PROFILE=1 r42_run pb_call vm_list
    [[ "$stderr" != *profile* ]] || fail "the old name won"
}
