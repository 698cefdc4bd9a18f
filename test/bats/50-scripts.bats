#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-3.0-or-later
# The script-level fast path: the devkit entry scripts answered natively.
# Every case runs the fixture script twice on a fresh simulator: with the
# script answered by the runner, and with RANGE42_PROXMOX_API_SCRIPTS=off
# (the script itself runs, its ansible-playbook calls answered at the
# playbook level); stdout and exit status must be identical.  A few cases
# are also compared with no shim at all (real ansible; "source" aside).

load ../lib/common

setup_file() { r42_file_env_up; }
teardown_file() { r42_file_env_down; }
setup() { r42_reset; }

# Time-dependent parts of outputs: UPIDs, snapshot dates, snaptime, digest.
mask() {
    sed -E 's/UPID:[^"]*/UPID/g; s/-[0-9]{6}-[0-9]{6}/-STAMP/g;
            s/"vm_snapshot_time":[0-9]+/"vm_snapshot_time":T/g;
            s/"vm_snapshot_sha1":"[0-9a-f]+"/"vm_snapshot_sha1":"H"/g'
}

# compare_levels SETUP CMD: runs SETUP (simulator state, may be "") then CMD
# under both levels; CMD must take the script-level fast path.
compare_levels() {
    local prep="$1" cmd="$2"
    r42_sim POST /_sim/reset >/dev/null
    rm -rf "$XDG_RUNTIME_DIR"/r42intercept
    eval "$prep"
    RANGE42_PROXMOX_API_SCRIPTS=off r42_run shim bash -c "$cmd"
    local want_out="$output" want_rc="$status"
    [[ "$stderr" == *"RANGE42_PROXMOX_API_SCRIPTS=off"* ]] || fail "reference did not run the script: $stderr" || return 1
    r42_sim POST /_sim/reset >/dev/null
    eval "$prep"
    r42_run shim bash -c "$cmd"
    assert_eq "$status" "$want_rc" "exit status of: $cmd" || return 1
    assert_eq "$(mask <<<"$output")" "$(mask <<<"$want_out")" "stdout of: $cmd" || return 1
    [[ "$stderr" == *"fast path: proxmox_"*".to.jsons.sh via the Proxmox API"* ]] ||
        fail "no script-level fast path for: $cmd ($stderr)" || return 1
    [[ "$stderr" != *"running the real"* ]] || fail "fell back: $stderr" || return 1
    [[ -n "$output" || "${ALLOW_EMPTY:-}" == 1 ]] || fail "no output for: $cmd" || return 1
}

snap() { # VM NAME: a snapshot made directly through the API
    curl -sk -o /dev/null -X POST -H "Authorization: PVEAPIToken=root@pam!r42ci=$R42_TOKEN_SECRET" \
        -H 'Content-Type: application/json' -d "{\"snapname\":\"$2\",\"description\":\"d $2\"}" \
        "$R42_SIM_URL/api2/json/nodes/px-testing/qemu/$1/snapshot"
}

@test "list: node names on stdin, a name filter (case-insensitive regex), --json" {
    compare_levels "" 'echo px-testing | proxmox_vm.list.to.jsons.sh'
    compare_levels "" 'echo px-testing | proxmox_vm.list.to.jsons.sh ADMIN'
    compare_levels "" 'echo px-testing | proxmox_vm.list.to.jsons.sh "^(vuln|student)-box-0[12]$" --json'
    compare_levels "" 'echo "{\"proxmox_node\":\"px-testing\"}" | proxmox_vm.list.to.jsons.sh --json box'
    ALLOW_EMPTY=1 compare_levels "" 'echo px-testing | proxmox_vm.list.to.jsons.sh no-such-vm'
}

@test "list: a terminal stdin means the vault's node" {
    r42_run shim script -qec 'proxmox_vm.list.to.jsons.sh admin' /dev/null
    assert_eq "$status" 0
    assert_eq "$(tr -d '\r' <<<"$output" | grep '^{' | jq -r .vm_name | tr '\n' ' ')" "admin-wazuh admin-builder-api admin-deployer-ui "
}

@test "lifecycle: bare ids, JSON lines, several lines, --json, empty stdin" {
    compare_levels "" 'printf "%s\n" 101 103 | proxmox_vm.vm_id.start.to.jsons.sh'
    compare_levels "" 'printf "%s\n" "{\"vm_id\":102}" "{\"proxmox_node\":\"px-testing\",\"vm_id\":104}" | proxmox_vm.vm_id.stop.to.jsons.sh --json'
    compare_levels "" 'echo 106 | proxmox_vm.vm_id.stop_force.to.jsons.sh'
    compare_levels "" 'printf "100\n106\n" | proxmox_vm.vm_id.pause.to.jsons.sh'
    compare_levels 'r42_sim POST /_sim/config "{}" >/dev/null' 'echo "{\"vm_id\": 100, \"note\": \"x\"}" | proxmox_vm.vm_id.resume.to.jsons.sh'
    ALLOW_EMPTY=1 compare_levels "" 'proxmox_vm.vm_id.start.to.jsons.sh </dev/null'
}

@test "lifecycle: a terminal stdin is an error, as in the devkit" {
    r42_run shim script -qec 'proxmox_vm.vm_id.start.to.jsons.sh; echo "rc=$?"' /dev/null
    assert_match "$output" 'NO STDIN DATA'
    assert_match "$output" 'rc=1'
    assert_eq "$(sim_vm 101 status)" stopped
}

@test "extract: the VM list line of a vm_id" {
    compare_levels "" 'printf "%s\n" 100 "{\"vm_id\":105}" | proxmox_vm.vm_id.list_vm_and_extract_vm_name.to.jsons.sh'
    ALLOW_EMPTY=1 compare_levels "" 'echo 999 | proxmox_vm.vm_id.list_vm_and_extract_vm_name.to.jsons.sh'
}

@test "snapshots: create (defaults and given), list (filter), revert and delete (defaults and given)" {
    compare_levels "" 'printf "%s\n" 100 "{\"vm_id\":101,\"vm_snapshot_name\":\"given\",\"vm_snapshot_description\":\"a \\\"quoted\\\" é\"}" | proxmox_snapshot_vm.vm_id.create_snapshot.to.jsons.sh'
    compare_levels "snap 100 s1; snap 100 s2; snap 101 s1" 'printf "%s\n" 100 101 | proxmox_snapshot_vm.vm_id.list_snapshot.to.jsons.sh'
    compare_levels "snap 100 s1; snap 100 s2" 'echo 100 | proxmox_snapshot_vm.vm_id.list_snapshot.to.jsons.sh "^S1$"'
    compare_levels "snap 100 s1; snap 100 s2" 'printf "%s\n" 100 "{\"vm_id\":100,\"vm_snapshot_name\":\"s1\"}" | proxmox_snapshot_vm.vm_id.revert_snapshot.to.jsons.sh'
    compare_levels "snap 102 a1; snap 102 a2" 'printf "%s\n" 102 102 | proxmox_snapshot_vm.vm_id.delete_snapshot.to.jsons.sh'
}

@test "the create trace line is the devkit's" {
    r42_run shim bash -c 'echo "{\"vm_id\":100,\"vm_snapshot_name\":\"t1\",\"vm_snapshot_description\":\"tab\\there\"}" | proxmox_snapshot_vm.vm_id.create_snapshot.to.jsons.sh'
    local fast="$stderr"
    r42_sim POST /_sim/reset >/dev/null
    RANGE42_PROXMOX_API_SCRIPTS=off r42_run shim bash -c 'echo "{\"vm_id\":100,\"vm_snapshot_name\":\"t1\",\"vm_snapshot_description\":\"tab\\there\"}" | proxmox_snapshot_vm.vm_id.create_snapshot.to.jsons.sh'
    assert_eq "$(grep -v r42intercept <<<"$fast")" "$(grep -v r42intercept <<<"$stderr")"
    assert_match "$fast" $'"vm_snapshot_description":"tab\there"'
}

@test "same stdout as the real devkit chain with real ansible (source aside)" {
    for cmd in 'echo px-testing | proxmox_vm.list.to.jsons.sh admin' \
               'printf "%s\n" 101 "{\"vm_id\":103}" | proxmox_vm.vm_id.start.to.jsons.sh' \
               'echo 100 | proxmox_snapshot_vm.vm_id.create_snapshot.to.jsons.sh'; do
        r42_sim POST /_sim/reset >/dev/null
        r42_run bash -c "$cmd"
        local want="$output"
        r42_sim POST /_sim/reset >/dev/null
        r42_run shim bash -c "$cmd"
        assert_match "$stderr" "fast path: proxmox_"
        assert_eq "$(normalise_source <<<"$output" | mask)" "$(mask <<<"$want")" "$cmd"
    done
}

@test "fall-backs: help, --text, unknown arguments, FORCE=off, a failing probe" {
    for cmd in 'proxmox_vm.vm_id.start.to.jsons.sh -h </dev/null' \
               'echo px-testing | proxmox_vm.list_running_and_extract_vm_id.to.text.sh --text' \
               'echo 101 | proxmox_vm.vm_id.start.to.jsons.sh -x' \
               'echo px-testing | proxmox_vm.list.to.jsons.sh a b'; do
        r42_run shim bash -c "$cmd"
        assert_match "$stderr" "running the real proxmox_vm.*: (help|argument|--text)" "$cmd"
    done
    RANGE42_PROXMOX_API_FORCE=off r42_run shim bash -c 'echo 101 | proxmox_vm.vm_id.start.to.jsons.sh'
    assert_match "$stderr" "running the real proxmox_vm.vm_id.start.to.jsons.sh: RANGE42_PROXMOX_API_FORCE=off"
    assert_match "$output" '"source":"proxmox","vm_id":"101"'
    # (the --text case above ran list_running in text: its good probe is cached)
    rm -rf "$XDG_RUNTIME_DIR"/r42intercept
    r42_sim POST /_sim/config '{"probe_fail": true}' >/dev/null
    r42_run shim bash -c 'echo 103 | proxmox_vm.vm_id.start.to.jsons.sh'
    assert_match "$stderr" "running the real proxmox_vm.vm_id.start.to.jsons.sh: API probe answered HTTP 503"
    assert_eq "$(sim_vm 103 status)" running
}

@test "a script of the same name that is not the devkit's runs itself" {
    mkdir -p "$BATS_TEST_TMPDIR/other"
    printf '#!/bin/bash\necho "not the devkit"\n' >"$BATS_TEST_TMPDIR/other/proxmox_vm.vm_id.start.to.jsons.sh"
    chmod +x "$BATS_TEST_TMPDIR/other/proxmox_vm.vm_id.start.to.jsons.sh"
    r42_run shim bash -c "echo 101 | $BATS_TEST_TMPDIR/other/proxmox_vm.vm_id.start.to.jsons.sh"
    assert_eq "$output" "not the devkit"
    assert_match "$stderr" "other/proxmox_vm.vm_id.start.to.jsons.sh is not a version of the devkit we know"
    # next to the devkit, but another version (another ACTION)
    sed 's/^ACTION="vm_start"$/ACTION="vm_start_v2"/' "$R42_TOP/test/fixtures/devkit/proxmox_vm.vm_id.start.to.jsons.sh" \
        >"$RANGE42_ANSIBLE_ROLES__DEVKITS_DIR/../proxmox_vm.vm_id.start.to.jsons.sh"
    cp "$R42_TOP/test/fixtures/devkit/proxmox__inc.warmup_checks.sh" "$RANGE42_ANSIBLE_ROLES__DEVKITS_DIR/../"
    chmod +x "$RANGE42_ANSIBLE_ROLES__DEVKITS_DIR/../proxmox_vm.vm_id.start.to.jsons.sh"
    r42_run shim bash -c "echo 101 | $RANGE42_ANSIBLE_ROLES__DEVKITS_DIR/../proxmox_vm.vm_id.start.to.jsons.sh"
    rm -f "$RANGE42_ANSIBLE_ROLES__DEVKITS_DIR/../proxmox_vm.vm_id.start.to.jsons.sh" "$RANGE42_ANSIBLE_ROLES__DEVKITS_DIR/../proxmox__inc.warmup_checks.sh"
    assert_match "$stderr" "proxmox_vm.vm_id.start.to.jsons.sh is not a version of the devkit we know"
}

@test "bash SCRIPT and sh SCRIPT are answered too" {
    r42_run shim bash -c "echo 101 | bash $RANGE42_ANSIBLE_ROLES__DEVKITS_DIR/proxmox_vm.vm_id.start.to.jsons.sh"
    assert_match "$stderr" "fast path: proxmox_vm.vm_id.start.to.jsons.sh"
    assert_match "$output" '"vm_status":"running"'
    # an sh that is bash (here: a link named sh)
    ln -s "$(command -v bash)" "$BATS_TEST_TMPDIR/sh"
    r42_run shim bash -c "cd $RANGE42_ANSIBLE_ROLES__DEVKITS_DIR && echo 101 | $BATS_TEST_TMPDIR/sh proxmox_vm.vm_id.stop.to.jsons.sh"
    assert_match "$stderr" "fast path: proxmox_vm.vm_id.stop.to.jsons.sh"
    assert_match "$output" '"vm_status":"stopped"'
}

@test "sh SCRIPT with an sh that is not bash (dash) runs the script as that sh would" {
    mkdir -p "$BATS_TEST_TMPDIR/dash"
    ln -s "$(command -v dash)" "$BATS_TEST_TMPDIR/dash/sh"
    local sh="$BATS_TEST_TMPDIR/dash/sh"
    run --separate-stderr bash -c "cd $RANGE42_ANSIBLE_ROLES__DEVKITS_DIR && echo 101 | $sh proxmox_vm.vm_id.stop.to.jsons.sh"
    local want="$status:$output"
    r42_run shim bash -c "cd $RANGE42_ANSIBLE_ROLES__DEVKITS_DIR && echo 101 | $sh proxmox_vm.vm_id.stop.to.jsons.sh"
    assert_eq "$status:$output" "$want"
    assert_match "$stderr" "running the real proxmox_vm.vm_id.stop.to.jsons.sh: $sh is not bash"
    [[ "$want" != 0:* ]] || fail "dash ran the bash script: the test shows nothing"
}

@test "a batch with one bad VM: a trace, the others done; strict mode stops with 2" {
    r42_sim POST /_sim/config '{"http_errors": {"103": [500, "VM 103 is locked (snapshot)"]}}' >/dev/null
    r42_run shim bash -c 'printf "%s\n" 101 103 105 | proxmox_vm.vm_id.start.to.jsons.sh'
    assert_eq "$status" 0
    assert_eq "$(jq -r .vm_id <<<"$output" | tr '\n' ' ')" "101 105 "
    assert_match "$stderr" "vm_start vm 103 failed: Status code was 500 and not \[200\]: HTTP Error 500: VM 103 is locked \(snapshot\)"
    r42_sim POST /_sim/reset >/dev/null
    r42_sim POST /_sim/config '{"http_errors": {"103": [500, "VM 103 is locked (snapshot)"]}}' >/dev/null
    RANGE42_PROXMOX_API_STRICT=1 r42_run shim bash -c 'printf "%s\n" 101 103 105 | proxmox_vm.vm_id.start.to.jsons.sh'
    assert_eq "$status" 2
    assert_eq "$(jq -r .vm_id <<<"$output")" "101"
    assert_eq "$(sim_vm 105 status)" stopped
}

@test "a line we do not reproduce: the real script takes over from it, with the rest of stdin" {
    r42_run shim bash -c 'printf "%s\n" 101 "{\"vm_id\":\"abc\"}" 103 | proxmox_vm.vm_id.start.to.jsons.sh'
    assert_match "$stderr" "running the real proxmox_vm.vm_id.start.to.jsons.sh: from stdin line 2 on"
    assert_match "$(head -1 <<<"$output")" '"source":"proxmox-api","vm_id":"101"'
    assert_eq "$(sim_vm 101 status)" running
    # the real script fails on "abc" (the role's request is refused) and stops there, as it would have
    assert_eq "$(sim_vm 103 status)" stopped
}
