#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-3.0-or-later
# The script-level fast path for the later scripts (docs/devkit-scripts.md
# section 2): VM delete, the VM state lists and *_all_vms, the container
# scripts and container snapshots, and the slow path's own outcome in each
# case (already running, already stopped, a task that fails, a missing
# guest), strict mode stopping where the devkit stops, and repeated default
# snapshot names.
#
# compare_levels: the fixture script answered by the runner, and run itself
# with RANGE42_PROXMOX_API_SCRIPTS=off (its ansible-playbook calls answered
# at the playbook level). compare_real: the same against the fixture script
# run with real ansible (RANGE42_PROXMOX_API_FORCE=off; "source" aside).
# Both: same stdout, same exit status, same devkit trace/pass/error lines.

load ../lib/common

setup_file() { r42_file_env_up; }
teardown_file() { r42_file_env_down; }
setup() {
    r42_reset
    # the *_all_vms scripts sleep 3-5 s per VM on the slow path: not here
    mkdir -p "$BATS_TEST_TMPDIR/nosleep"
    printf '#!/bin/sh\nexit 0\n' >"$BATS_TEST_TMPDIR/nosleep/sleep"
    chmod +x "$BATS_TEST_TMPDIR/nosleep/sleep"
}

# Time-dependent parts of outputs: UPIDs, snapshot dates, snaptime, digest;
# in ansible's text: the HTTP date header, elapsed, and our source.
mask() {
    sed -E 's/"date": "[^"]*"/"date": "DATE"/g; s/"elapsed": [0-9]+/"elapsed": E/g;
            s/"source": "proxmox-api"/"source": "proxmox"/g;
            s/"(snaptime|(vm|lxc)_snapshot_time)": [0-9]+/"\1": T/g;
            s/"(digest|(vm|lxc)_snapshot_sha1)": "[0-9a-f]{40}"/"\1": "H"/g;
            s/UPID:[^"]*/UPID/g; s/-[0-9]{6}-[0-9]{6}/-STAMP/g;
            s/"(vm|lxc)_snapshot_time":[0-9]+/"\1_snapshot_time":T/g;
            s/"(vm|lxc)_snapshot_sha1":"[0-9a-f]+"/"\1_snapshot_sha1":"H"/g'
}

# Text without its colour (SGR) codes: on a terminal jq colours its output,
# which the runner does not reproduce (plain lines).
nocolour() {
    sed $'s/\e\\[[0-9;]*m//g'
}

# The devkit's own stderr lines (not r42intercept's, not ansible's).
devkit_lines() {
    grep -aE '^:: (TRACE|PASS|ERROR) ' | grep -av 'r42intercept' | mask || true
}

api() { # METHOD PATH [JSON]: a request straight to the simulator's API
    curl -sk -o /dev/null -X "$1" -H "Authorization: PVEAPIToken=root@pam!r42ci=$R42_TOKEN_SECRET" \
        ${3:+-H 'Content-Type: application/json' -d "$3"} "$R42_SIM_URL/api2/json/nodes/px-testing/$2"
}

# reference MODE SETUP CMD: a fresh simulator, SETUP, then CMD the reference
# way (MODE levels: the script runs itself, playbook level; real: real
# ansible); sets want_out, want_rc, want_err.
reference() {
    local mode="$1" prep="$2" cmd="$3"
    r42_sim POST /_sim/reset >/dev/null
    rm -rf "$XDG_RUNTIME_DIR"/r42intercept
    eval "$prep"
    if [[ "$mode" == real ]]; then
        PATH="$BATS_TEST_TMPDIR/nosleep:$PATH" RANGE42_PROXMOX_API_FORCE=off r42_run shim bash -c "$cmd"
        [[ "$stderr" == *"RANGE42_PROXMOX_API_FORCE=off"* ]] || fail "reference did not run ansible: $stderr" || return 1
    else
        RANGE42_PROXMOX_API_SCRIPTS=off r42_run shim bash -c "$cmd"
        [[ "$stderr" == *"RANGE42_PROXMOX_API_SCRIPTS=off"* ]] || fail "reference did not run the script: $stderr" || return 1
    fi
    want_out="$(normalise_source <<<"$output" | mask)" want_rc="$status"
    want_err="$(devkit_lines <<<"$stderr")"
}

# compare MODE SETUP CMD: CMD through the script-level fast path must print
# what the reference printed, with its exit status and devkit lines.
compare() {
    local mode="$1" prep="$2" cmd="$3"
    reference "$mode" "$prep" "$cmd" || return 1
    r42_sim POST /_sim/reset >/dev/null
    eval "$prep"
    r42_run shim bash -c "$cmd"
    assert_eq "$status" "$want_rc" "exit status of: $cmd" || return 1
    assert_eq "$(normalise_source <<<"$output" | mask)" "$want_out" "stdout of: $cmd" || return 1
    assert_eq "$(devkit_lines <<<"$stderr")" "$want_err" "devkit stderr lines of: $cmd" || return 1
    [[ "$stderr" == *"fast path: proxmox_"*" via the Proxmox API"* ]] ||
        fail "no script-level fast path for: $cmd ($stderr)" || return 1
    [[ "$stderr" != *"running the real"* ]] || fail "fell back: $stderr" || return 1
    [[ -n "$output" || "${ALLOW_EMPTY:-}" == 1 ]] || fail "no output for: $cmd" || return 1
}
compare_levels() { compare levels "$@"; }
compare_real() { compare real "$@"; }

PAUSE_104='api POST qemu/104/status/suspend'
SNAPS='api POST lxc/200/snapshot "{\"snapname\":\"s1\",\"description\":\"d1\"}"; api POST lxc/200/snapshot "{\"snapname\":\"s2\"}"'

@test "every new script against the fixture script run with real ansible (one case each)" {
    compare_real "$PAUSE_104" 'echo 105 | proxmox_vm.vm_id.delete.to.jsons.sh
        echo px-testing | proxmox_vm.list_running.to.jsons.sh student
        echo px-testing | proxmox_vm.list_stopped.to.jsons.sh admin
        echo px-testing | proxmox_vm.list_paused.to.jsons.sh student
        echo px-testing | proxmox_vm.list_running_and_extract_vm_id.to.text.sh vuln
        echo px-testing | proxmox_vm.start_all_vms.to.jsons.sh student
        echo px-testing | proxmox_vm.stop_force_all_vms.to.jsons.sh vuln
        echo px-testing | proxmox_vm.resume_all_vms.to.jsons.sh student'
    assert_eq "$(sim_vm 105 name)/$(sim_vm 103 status)/$(sim_vm 106 status)/$(sim_vm 104 qmpstatus)" "null/running/stopped/running"
    compare_real "$SNAPS" 'echo px-testing | proxmox_lxc.list.to.jsons.sh "^test-"
        echo 202 | proxmox_lxc.vm_id.list_lxc_and_extract_vm_name.to.jsons.sh
        echo 201 | proxmox_lxc.vm_id.start.to.jsons.sh
        echo 202 | proxmox_lxc.vm_id.pause.to.jsons.sh
        echo 202 | proxmox_lxc.vm_id.resume.to.jsons.sh
        echo 201 | proxmox_lxc.vm_id.stop.to.jsons.sh
        echo 202 | proxmox_lxc.vm_id.stop_force.to.jsons.sh
        echo 203 | proxmox_lxc.vm_id.delete.to.jsons.sh
        echo "{\"vm_id\":201,\"lxc_snapshot_name\":\"given\",\"lxc_snapshot_description\":\"a \\\"q\\\" é\"}" | proxmox_snapshot_lxc.vm_id.create_snapshot.to.jsons.sh
        echo 200 | proxmox_snapshot_lxc.vm_id.list_snapshot.to.jsons.sh
        echo "{\"vm_id\":200,\"lxc_snapshot_name\":\"s1\"}" | proxmox_snapshot_lxc.vm_id.revert_snapshot.to.jsons.sh
        echo "{\"vm_id\":200,\"lxc_snapshot_name\":\"s2\"}" | proxmox_snapshot_lxc.vm_id.delete_snapshot.to.jsons.sh'
    assert_eq "$(r42_sim GET /_sim/state | jq -c '[.lxcs["203"], (.lxcs["200"].snapshots | map(.name)), .lxcs["201"].snapshots[0].description]')" '[null,["s1"],"a \"q\" é"]'
}

@test "vm delete: names looked up, lines traced; an unknown id (empty name); a running VM stops the batch" {
    compare_levels "" 'printf "%s\n" 105 "{\"vm_id\":103,\"vm_name\":\"old\"}" | proxmox_vm.vm_id.delete.to.jsons.sh'
    # an unknown id: an empty name, which the devkit does not pass on (the
    # role sends its request, then fails: ansible-playbook runs itself)
    ALLOW_EMPTY=1 RANGE42_PROXMOX_API_STRICT=1 compare_levels "" 'echo 999 | proxmox_vm.vm_id.delete.to.jsons.sh --json'
    RANGE42_PROXMOX_API_STRICT=1 compare_levels "" 'printf "%s\n" 105 100 103 | proxmox_vm.vm_id.delete.to.jsons.sh'
    assert_eq "$status" 2
    assert_eq "$(sim_vm 105 name)/$(sim_vm 103 name)" "null/student-box-01"
}

@test "vm state lists: running, stopped, paused (the running ones), with and without a filter" {
    compare_levels "$PAUSE_104" 'echo px-testing | proxmox_vm.list_running.to.jsons.sh'
    compare_levels "$PAUSE_104" 'echo px-testing | proxmox_vm.list_running.to.jsons.sh --json "^STUDENT"'
    compare_levels "" 'echo "{\"proxmox_node\":\"px-testing\"}" | proxmox_vm.list_stopped.to.jsons.sh box'
    compare_levels "$PAUSE_104" 'echo px-testing | proxmox_vm.list_paused.to.jsons.sh'
    compare_levels "$PAUSE_104" 'echo px-testing | proxmox_vm.list_paused.to.jsons.sh box --ignored'
    compare_levels "" 'printf "%s\n" px-testing px-testing | proxmox_vm.list_running_and_extract_vm_id.to.text.sh'
    compare_levels "" 'echo px-testing | proxmox_vm.list_running_and_extract_vm_id.to.text.sh --json'
}

@test "on a terminal: the vault's node for a terminal stdin (jq's colours aside)" {
    for cmd in 'proxmox_vm.list_running_and_extract_vm_id.to.text.sh admin' \
               'proxmox_vm.list_stopped.to.jsons.sh box' \
               'proxmox_lxc.list.to.jsons.sh web'; do
        RANGE42_PROXMOX_API_SCRIPTS=off r42_run shim script -qec "$cmd" /dev/null
        local slow
        slow="$(tr -d '\r' <<<"$output" | grep -v 'r42intercept' | nocolour | normalise_source)"
        r42_run shim script -qec "$cmd" /dev/null
        assert_match "$output" "fast path: proxmox_"
        assert_eq "$(tr -d '\r' <<<"$output" | grep -v 'r42intercept' | nocolour | normalise_source)" "$slow" "$cmd"
    done
    r42_run shim script -qec 'proxmox_vm.list_running_and_extract_vm_id.to.text.sh admin' /dev/null
    assert_eq "$(tr -d '\r' <<<"$output" | grep -v '::' | nocolour | tr '\n' ' ')" "100 102 "
}

@test "*_all_vms: every VM of the state list, each task waited for (no sleep)" {
    compare_levels "" 'echo px-testing | proxmox_vm.start_all_vms.to.jsons.sh "box-0[01]"'
    assert_eq "$(sim_vm 103 status)/$(sim_vm 105 status)/$(sim_vm 101 status)" running/running/stopped
    compare_levels "" 'echo px-testing | proxmox_vm.stop_force_all_vms.to.jsons.sh admin'
    compare_levels "$PAUSE_104" 'echo px-testing | proxmox_vm.resume_all_vms.to.jsons.sh "student|vuln"'
    ACTION=x compare_levels "" 'echo px-testing | proxmox_vm.start_all_vms.to.jsons.sh --json'
    # pause_all reads stdin first: from a terminal, its list gets the vault's node
    r42_sim POST /_sim/reset >/dev/null
    PATH="$BATS_TEST_TMPDIR/nosleep:$PATH" RANGE42_PROXMOX_API_SCRIPTS=off \
        r42_run shim script -qec 'proxmox_vm.pause_all_vms.to.jsons.sh box' /dev/null
    local slow
    slow="$(tr -d '\r' <<<"$output" | nocolour | grep -aE '^(\{|:: PASS)' | normalise_source | mask)"
    r42_sim POST /_sim/reset >/dev/null
    r42_run shim script -qec 'proxmox_vm.pause_all_vms.to.jsons.sh box' /dev/null
    assert_eq "$status" 0
    assert_match "$output" "fast path: proxmox_vm.pause_all_vms.to.jsons.sh"
    assert_eq "$(tr -d '\r' <<<"$output" | nocolour | grep -aE '^(\{|:: PASS)' | normalise_source | mask)" "$slow"
    assert_match "$slow" ':: PASS    ::  :: \{"vm_id":104,"proxmox_node":"px-testing","action":""\}'
    assert_eq "$(sim_vm 104 qmpstatus)/$(sim_vm 106 qmpstatus)" paused/paused
}

@test "*_all_vms: an empty or piped stdin where the devkit's list fails runs the real script" {
    r42_run shim bash -c 'proxmox_vm.start_all_vms.to.jsons.sh </dev/null'
    assert_match "$stderr" "running the real proxmox_vm.start_all_vms.to.jsons.sh: no stdin line"
    r42_run shim bash -c 'echo 100 | proxmox_vm.pause_all_vms.to.jsons.sh'
    assert_match "$stderr" "running the real proxmox_vm.pause_all_vms.to.jsons.sh: no stdin line"
    assert_eq "$output" ""
    assert_eq "$(sim_vm 100 qmpstatus)" running
}

@test "stop_all_vms runs itself: the devkit's copy stops at its own syntax error" {
    r42_run shim bash -c 'echo px-testing | proxmox_vm.stop_all_vms.to.jsons.sh'
    assert_eq "$status" 2
    assert_match "$stderr" "syntax error near unexpected token"
    [[ "$stderr" != *r42intercept* ]] || fail "the runner took it: $stderr"
}

@test "containers: list (filter), extract, the five lifecycle scripts, delete" {
    compare_levels "" 'echo px-testing | proxmox_lxc.list.to.jsons.sh; printf "%s\n" 201 999 "{\"vm_id\":204}" | proxmox_lxc.vm_id.list_lxc_and_extract_vm_name.to.jsons.sh'
    compare_levels "" 'echo "{\"proxmox_node\":\"px-testing\"}" | proxmox_lxc.list.to.jsons.sh --json LXC-'
    compare_levels "" 'printf "%s\n" 201 "{\"vm_id\":203}" | proxmox_lxc.vm_id.start.to.jsons.sh --json; echo 200 | proxmox_lxc.vm_id.pause.to.jsons.sh; printf "%s\n" 200 203 | proxmox_lxc.vm_id.resume.to.jsons.sh'
    compare_levels "" 'printf "%s\n" 200 202 | proxmox_lxc.vm_id.stop.to.jsons.sh; echo 201 | proxmox_lxc.vm_id.stop_force.to.jsons.sh'
    compare_levels "" 'printf "%s\n" 203 204 | proxmox_lxc.vm_id.delete.to.jsons.sh'
    assert_eq "$(r42_sim GET /_sim/state | jq -c '[.lxcs["203"], .lxcs["204"]]')" '[null,null]'
    ALLOW_EMPTY=1 RANGE42_PROXMOX_API_STRICT=1 compare_levels "" 'echo 999 | proxmox_lxc.vm_id.delete.to.jsons.sh'
}

@test "container snapshots: create (defaults and given), list (filter), revert and delete (defaults and given), none to delete" {
    compare_levels "" 'printf "%s\n" 200 "{\"vm_id\":201,\"lxc_snapshot_name\":\"given\",\"vm_snapshot_name\":\"ignored\"}" | proxmox_snapshot_lxc.vm_id.create_snapshot.to.jsons.sh'
    compare_levels "$SNAPS" 'printf "%s\n" 200 201 | proxmox_snapshot_lxc.vm_id.list_snapshot.to.jsons.sh'
    compare_levels "$SNAPS" 'echo 200 | proxmox_snapshot_lxc.vm_id.list_snapshot.to.jsons.sh "^S1$"'
    compare_levels "$SNAPS" 'printf "%s\n" 200 | proxmox_snapshot_lxc.vm_id.revert_snapshot.to.jsons.sh; printf "%s\n" "{\"vm_id\":200,\"lxc_snapshot_name\":\"s1\"}" 200 | proxmox_snapshot_lxc.vm_id.delete_snapshot.to.jsons.sh'
    assert_eq "$(r42_sim GET /_sim/state | jq -c '.lxcs["200"].snapshots | map(.name)')" '[]'
    ALLOW_EMPTY=1 compare_real "" 'echo 200 | proxmox_snapshot_lxc.vm_id.revert_snapshot.to.jsons.sh'
    assert_eq "$status" 1
    assert_match "$stderr" "NOTHING TO DELETE - NO SNAPSHOT FOUND"
}

@test "outcomes as the slow path prints them: already running, already stopped, a failed task, a template" {
    # each a task that ends in error later: the role's line all the same, status 0
    compare_real "$PAUSE_104" 'echo 100 | proxmox_vm.vm_id.start.to.jsons.sh; echo 101 | proxmox_vm.vm_id.stop.to.jsons.sh; echo 103 | proxmox_vm.vm_id.stop_force.to.jsons.sh; echo 107 | proxmox_vm.vm_id.start.to.jsons.sh; echo 104 | proxmox_vm.vm_id.start.to.jsons.sh'
    assert_eq "$status" 0
    assert_eq "$(jq -r '"\(.vm_id):\(.vm_status)"' <<<"$output" | tr '\n' ' ')" "100:running 101:stopped 103:stopped 107:stopped 104:running "
    compare_real 'r42_sim POST /_sim/config "{\"task_errors\": {\"103\": \"start failed: QEMU exited with code 1\"}}" >/dev/null' \
        'echo 103 | proxmox_vm.vm_id.start.to.jsons.sh; echo 203 | proxmox_lxc.vm_id.resume.to.jsons.sh; echo 204 | proxmox_lxc.vm_id.start.to.jsons.sh'
    assert_match "$stderr" "vm_start vm 103 failed: Proxmox task failed: start failed: QEMU exited with code 1"
    assert_match "$stderr" "lxc_resume vm 203 failed: Proxmox task failed: command 'lxc-checkpoint"
    # snapshot names in use and unknown: the POST's answer printed, the task failed
    compare_real 'api POST qemu/100/snapshot "{\"snapname\":\"dup\"}"' \
        'echo "{\"vm_id\":100,\"vm_snapshot_name\":\"dup\"}" | proxmox_snapshot_vm.vm_id.create_snapshot.to.jsons.sh; echo "{\"vm_id\":100,\"vm_snapshot_name\":\"nope\"}" | proxmox_snapshot_vm.vm_id.delete_snapshot.to.jsons.sh'
}

@test "outcomes where ansible fails (HTTP errors): nothing printed for that line; a single line gives the slow path's stdout" {
    for cmd in 'echo 104 | proxmox_vm.vm_id.stop.to.jsons.sh' \
               'echo 101 | proxmox_vm.vm_id.pause.to.jsons.sh' \
               'echo 101 | proxmox_vm.vm_id.resume.to.jsons.sh' \
               'echo 999 | proxmox_vm.vm_id.start.to.jsons.sh' \
               'echo 200 | proxmox_lxc.vm_id.start.to.jsons.sh' \
               'echo 201 | proxmox_lxc.vm_id.stop.to.jsons.sh' \
               'echo 200 | proxmox_lxc.vm_id.delete.to.jsons.sh'; do
        RANGE42_PROXMOX_API_STRICT=1 reference levels "$PAUSE_104" "$cmd"
        assert_eq "$want_out" "" "$cmd"
        assert_eq "$want_rc" 2 "$cmd"
        r42_sim POST /_sim/reset >/dev/null
        eval "$PAUSE_104"
        r42_run shim bash -c "$cmd"
        assert_eq "$status:$output" "0:" "$cmd (the batch rule: status 0)"
        assert_match "$stderr" "failed: Status code was 500" "$cmd"
        r42_sim POST /_sim/reset >/dev/null
        eval "$PAUSE_104"
        RANGE42_PROXMOX_API_STRICT=1 r42_run shim bash -c "$cmd"
        assert_eq "$status:$output" "2:" "$cmd (strict)"
    done
    # one is checked against real ansible too
    ALLOW_EMPTY=1 RANGE42_PROXMOX_API_STRICT=1 compare_real "" 'echo 101 | proxmox_vm.vm_id.pause.to.jsons.sh'
}

@test "strict mode stops where the devkit stops: same stdout, status 2, the rest not done" {
    RANGE42_PROXMOX_API_STRICT=1 compare_real "" 'printf "%s\n" 104 999 106 | proxmox_vm.vm_id.stop_force.to.jsons.sh'
    assert_eq "$status" 2
    assert_eq "$(jq -r .vm_id <<<"$output")" 104
    assert_eq "$(sim_vm 106 status)" running
    RANGE42_PROXMOX_API_STRICT=1 compare_levels "" 'printf "%s\n" 201 200 202 | proxmox_lxc.vm_id.start.to.jsons.sh'
    assert_eq "$(r42_sim GET /_sim/state | jq -r '.lxcs["202"].status')" running
    RANGE42_PROXMOX_API_STRICT=1 compare_levels "" 'printf "%s\n" 202 201 200 | proxmox_lxc.vm_id.stop.to.jsons.sh'
    assert_eq "$status" 2
    RANGE42_PROXMOX_API_STRICT=1 compare_levels "" 'printf "%s\n" 103 100 105 | proxmox_vm.vm_id.delete.to.jsons.sh'
    RANGE42_PROXMOX_API_STRICT=1 compare_levels "$PAUSE_104" 'echo px-testing | proxmox_vm.stop_all_vms.to.jsons.sh; printf "%s\n" 106 104 100 | proxmox_vm.vm_id.stop.to.jsons.sh'
    # without strict mode the batch goes on (the batch rule, docs/decision.md section 5)
    r42_run shim bash -c 'printf "%s\n" 104 999 106 | proxmox_vm.vm_id.stop_force.to.jsons.sh'
    assert_eq "$status" 0
    assert_eq "$(jq -r .vm_id <<<"$output" | tr '\n' ' ')" "104 106 "
}

@test "five creates without a name on one VM in a row: five distinct snapshots of the devkit's form" {
    r42_run shim bash -c 'for i in 1 2 3 4 5; do echo 100 | proxmox_snapshot_vm.vm_id.create_snapshot.to.jsons.sh; done; printf "%s\n" 200 200 | proxmox_snapshot_lxc.vm_id.create_snapshot.to.jsons.sh'
    assert_eq "$status" 0
    local names
    names="$(r42_sim GET /_sim/state | jq -r '.vms["100"].snapshots[].name')"
    assert_eq "$(sort -u <<<"$names" | wc -l)" 5 "distinct VM snapshots: $names"
    assert_eq "$(grep -cE '^admin-wazuh-[0-9]{6}-[0-9]{6}$' <<<"$names")" 5 "$names"
    assert_eq "$(jq -r 'select(.action == "snapshot_vm_create") | .vm_snapshot_name' <<<"$output")" "$names"
    names="$(r42_sim GET /_sim/state | jq -r '.lxcs["200"].snapshots[].name')"
    assert_eq "$(sort -u <<<"$names" | grep -cE '^test-lxc-web-[0-9]{6}-[0-9]{6}$')" 2 "$names"
    [[ "$stderr" != *"already used"* ]] || fail "a default name was used twice: $stderr"
}

@test "--text of the scripts not answered in text, -h and wrong arguments run the real scripts" {
    # (one --text only: the real script then runs real ansible)
    for cmd in 'echo px-testing | proxmox_vm.list_running_and_extract_vm_id.to.text.sh --text' \
               'proxmox_lxc.vm_id.resume.to.jsons.sh -h </dev/null' \
               'proxmox_vm.vm_id.delete.to.jsons.sh -h </dev/null' \
               'echo px-testing | proxmox_vm.list_running.to.jsons.sh -x' \
               'echo px-testing | proxmox_vm.list_paused.to.jsons.sh -x' \
               'proxmox_vm.start_all_vms.to.jsons.sh --help' \
               'echo 200 | proxmox_snapshot_lxc.vm_id.create_snapshot.to.jsons.sh -x'; do
        r42_run shim bash -c "$cmd"
        assert_match "$stderr" "running the real proxmox_.*: (help|argument|--text)" "$cmd"
    done
}

@test "--text: every script answered in text, as the fixture script with real ansible prints it" {
    compare_real "$PAUSE_104" 'echo px-testing | proxmox_vm.list.to.jsons.sh --text
        echo px-testing | proxmox_vm.list_running.to.jsons.sh --text
        echo px-testing | proxmox_vm.list_stopped.to.jsons.sh box --text
        echo px-testing | proxmox_vm.list_paused.to.jsons.sh --text
        printf "%s\n" 103 105 | proxmox_vm.vm_id.start.to.jsons.sh --text
        echo 100 | proxmox_vm.vm_id.stop.to.jsons.sh --text
        echo 102 | proxmox_vm.vm_id.stop_force.to.jsons.sh --text
        echo 106 | proxmox_vm.vm_id.pause.to.jsons.sh --text
        echo 104 | proxmox_vm.vm_id.resume.to.jsons.sh --text
        echo 100 | proxmox_snapshot_vm.vm_id.list_snapshot.to.jsons.sh --text'
    assert_eq "$(sim_vm 104 qmpstatus)/$(sim_vm 106 qmpstatus)/$(sim_vm 103 status)" "running/paused/running"
    [[ "$output" == *"included: $ANSIBLE_ROLES_PATH/range42-ansible_roles-proxmox_controller/tasks/vm_list.yml for px-testing"* ]] ||
        fail "no include line: $output"
    [[ "$output" == *"ok: [px-testing] => (item={'vmid': 100, "* ]] || fail "no loop item: $output"
    compare_real "$SNAPS" 'echo px-testing | proxmox_lxc.list.to.jsons.sh --text
        echo 201 | proxmox_lxc.vm_id.start.to.jsons.sh --text
        echo 202 | proxmox_lxc.vm_id.pause.to.jsons.sh --text
        echo 202 | proxmox_lxc.vm_id.resume.to.jsons.sh --text
        echo 201 | proxmox_lxc.vm_id.stop.to.jsons.sh --text
        echo 202 | proxmox_lxc.vm_id.stop_force.to.jsons.sh --text
        echo 200 | proxmox_snapshot_lxc.vm_id.list_snapshot.to.jsons.sh --text'
}

@test "--text: delete, snapshot create/revert/delete and *_all_vms, as the fixture scripts with real ansible print them" {
    compare_real "$SNAPS" 'echo 105 | proxmox_vm.vm_id.delete.to.jsons.sh --text
        echo 203 | proxmox_lxc.vm_id.delete.to.jsons.sh --text
        echo "{\"vm_id\":101,\"vm_snapshot_name\":\"given\",\"vm_snapshot_description\":\"d\"}" | proxmox_snapshot_vm.vm_id.create_snapshot.to.jsons.sh --text
        echo "{\"vm_id\":101,\"vm_snapshot_name\":\"given\"}" | proxmox_snapshot_vm.vm_id.revert_snapshot.to.jsons.sh --text
        echo "{\"vm_id\":101,\"vm_snapshot_name\":\"given\"}" | proxmox_snapshot_vm.vm_id.delete_snapshot.to.jsons.sh --text
        echo "{\"vm_id\":201,\"lxc_snapshot_name\":\"given\",\"lxc_snapshot_description\":\"d\"}" | proxmox_snapshot_lxc.vm_id.create_snapshot.to.jsons.sh --text
        echo 200 | proxmox_snapshot_lxc.vm_id.revert_snapshot.to.jsons.sh --text
        echo 200 | proxmox_snapshot_lxc.vm_id.delete_snapshot.to.jsons.sh --text'
    assert_eq "$(r42_sim GET /_sim/state | jq -c '[.vms["105"], .lxcs["203"], (.vms["101"].snapshots | map(.name)), (.lxcs["200"].snapshots | map(.name))]')" '[null,null,[],["s1"]]'
    compare_real "$PAUSE_104" 'echo px-testing | proxmox_vm.start_all_vms.to.jsons.sh --text
        echo px-testing | proxmox_vm.resume_all_vms.to.jsons.sh --text
        echo px-testing | proxmox_vm.stop_force_all_vms.to.jsons.sh --text'
    [[ "$stderr" == *":: PASS    :: "*"stopping :: 100"* ]] || fail "no pass line: $stderr"
    # (pause_all reads stdin first: a piped stdin leaves its list nothing,
    # and it runs itself, in JSON mode too; its terminal case is above)
}

@test "--text: a request Proxmox fails (start of a running container): ansible's fatal line and recap" {
    RANGE42_PROXMOX_API_STRICT=1 compare_real "" 'echo 200 | proxmox_lxc.vm_id.start.to.jsons.sh --text'
    assert_eq "$status" 2
    assert_match "$output" 'fatal: \[px-testing\]: FAILED! => \{"changed": false, .*"msg": "Status code was 500 and not \[200\]: HTTP Error 500: CT 200 already running"'
    assert_match "$output" 'failed=1 '
}

@test "--text: a role file outside what we reproduce runs the real script" {
    local roles="$BATS_TEST_TMPDIR/roles"
    cp -r "$ANSIBLE_ROLES_PATH" "$roles"
    local file="$roles/range42-ansible_roles-proxmox_controller/tasks/vm_start.yml"
    sed -i 's/^      register: r42_call$/      register: r42_call\n      retries: 1/' "$file"
    grep -q 'retries: 1' "$file"
    ANSIBLE_ROLES_PATH="$roles" r42_run shim bash -c 'echo 103 | proxmox_vm.vm_id.start.to.jsons.sh --text'
    assert_eq "$status" 0
    assert_match "$stderr" "running the real proxmox_vm.vm_id.start.to.jsons.sh: .*a task with keys we do not reproduce"
    assert_match "$output" "PLAY RECAP"
    assert_eq "$(sim_vm 103 status)" running
    # main.yml with a condition of another form
    sed -i 's/when: proxmox_vm_action == "vm_stop"$/when: proxmox_vm_action in ["vm_stop"]/' \
        "$roles/range42-ansible_roles-proxmox_controller/tasks/main.yml"
    git -C "$R42_TOP" diff --quiet -- test/fixtures/roles
    ANSIBLE_ROLES_PATH="$roles" r42_run shim bash -c 'echo 103 | proxmox_vm.vm_id.stop.to.jsons.sh --text'
    assert_match "$stderr" "running the real proxmox_vm.vm_id.stop.to.jsons.sh: main.yml task [0-9]+: not an include"
    assert_match "$output" "PLAY RECAP"
}

# ---- the create scripts (vm_create, lxc_create) ------------------------------

VM_NEW='{"vm_id":2222,"vm_name":"vm_no_disk","vm_cpu":"host","vm_cores":2,"vm_sockets":1,"vm_memory":2042}'
VM_FULL='{"proxmox_node":"px-testing","vm_id":1111,"vm_name":"vm with iso","vm_cpu":"host","vm_cores":"2","vm_sockets":1,"vm_memory":2042,"vm_disk_size":42,"vm_iso_file":"local:iso/u 24.iso"}'
CT_NEW='{"vm_id":"801","lxc_name":"test-bbbb","lxc_template":"local:vztmpl/alpine.tar.xz","lxc_password":"test test","lxc_ssh_pubkeys":"ssh-ed25519 AAAA x@y","lxc_cores":"1","lxc_memory":"2048","proxmox_storage":"local-lvm","lxc_disk_size":"16","lxc_net_name":"eth0","lxc_bridge":"vmbr0","lxc_ip":"192.168.42.231/24","lxc_gateway":"192.168.42.1","lxc_dns_primary":"1.1.1.1","lxc_dns_secondary":"4.2.2.4"}'

# The guests as the simulator holds them (names, states), tasks applied.
guests() {
    r42_sim GET /api2/json/nodes/px-testing/qemu >/dev/null 2>&1 || true
    r42_sim GET /_sim/state |
        jq -c '[(.vms, .lxcs) | to_entries[] | [.key, .value.name, .value.status]]'
}

# compare_create MODE SETUP STDIN SCRIPT: the script through the fast path
# against the reference (same stdout, status, devkit lines), the same guests
# afterwards, and no ansible-playbook answered or run on the fast path.
compare_create() {
    local mode="$1" prep="$2" in="$3" script="$4" want_guests
    local cmd="printf '%s\n' '$in' | $script"
    reference "$mode" "$prep" "$cmd" || return 1
    want_guests="$(guests)"
    ALLOW_EMPTY=1 compare "$mode" "$prep" "$cmd" || return 1
    assert_eq "$(guests)" "$want_guests" "guests after: $cmd" || return 1
    [[ "$stderr" != *" on px-testing via the Proxmox API"* && "$stderr" != *ansible-playbook* ]] ||
        fail "ansible-playbook started on the fast path: $stderr" || return 1
}

@test "vm create: new VM without and with disk and CD, an id in use, against real ansible and the playbook level" {
    local s=proxmox_vm.jsons.create.to.jsons.sh
    compare_create real "" "$VM_NEW" "$s"
    assert_eq "$(jq -c '[.vm_id, .vm_cores, .vm_net0, has("vm_scsi0"), has("ide2")]' <<<"$output")" '["2222","2","virtio,bridge=vmbr0",false,false]'
    assert_eq "$(sim_vm 2222 name)" vm_no_disk
    compare_create real "" "$VM_FULL" "$s"
    assert_eq "$(jq -c '[.vm_scsi0, .ide2, .boot, .vm_name]' <<<"$output")" '["local-lvm:42,format=raw","local:iso/u 24.iso,media=cdrom","order=ide2","vm with iso"]'
    # an id in use: the role only says so; nothing printed, status 0
    compare_create real "" "$(jq -c '.vm_id = 100' <<<"$VM_NEW")" "$s"
    assert_eq "$status:$output:$(sim_vm 100 name)" "0::admin-wazuh"
    compare_create levels "" "$VM_FULL" "$s"
    compare_create levels "" "$(jq -c '.vm_id = 100' <<<"$VM_NEW")" "$s"
}

@test "lxc create: a new container (started), an id in use, against real ansible and the playbook level" {
    local s=proxmox_lxc.jsons.create.to.jsons.sh
    compare_create real "" "$CT_NEW" "$s"
    assert_eq "$(jq -c '[.vm_id, .lxc_rootfs, .lxc_ssh_public_keys, .lxc_nameserver, (.raw_data.data | startswith("UPID:"))]' <<<"$output")" \
        '["801","local-lvm:16","REDACTED","1.1.1.1,4.2.2.4",true]'
    assert_eq "$(r42_sim GET /_sim/state | jq -r '.lxcs["801"] | .name + "/" + .status')" test-bbbb/running
    compare_create levels "" "$CT_NEW" "$s"
}

@test "creates that fail (an id used by the other kind, a container id in use): nothing printed; strict: status 2" {
    for cmd in "printf '%s\n' '$(jq -c '.vm_id = 200' <<<"$VM_NEW")' | proxmox_vm.jsons.create.to.jsons.sh" \
               "printf '%s\n' '$(jq -c '.vm_id = 100' <<<"$CT_NEW")' | proxmox_lxc.jsons.create.to.jsons.sh"; do
        RANGE42_PROXMOX_API_STRICT=1 reference real "" "$cmd"
        assert_eq "$want_out:$want_rc" ":2" "$cmd"
        r42_sim POST /_sim/reset >/dev/null
        RANGE42_PROXMOX_API_STRICT=1 r42_run shim bash -c "$cmd"
        assert_eq "$status:$output" "2:" "$cmd (strict)"
        assert_match "$stderr" "failed: Status code was 500" "$cmd"
        [[ "$stderr" == *"fast path: proxmox_"* ]] || fail "not on the fast path: $stderr"
        r42_sim POST /_sim/reset >/dev/null
        r42_run shim bash -c "$cmd"
        assert_eq "$status:$output" "0:" "$cmd (the batch rule, docs/decision.md: status 0)"
    done
    # a failing line does not stop the batch without strict mode
    r42_run shim bash -c "printf '%s\n' '$(jq -c '.vm_id = 200' <<<"$VM_NEW")' '$VM_NEW' | proxmox_vm.jsons.create.to.jsons.sh"
    assert_eq "$status:$(jq -r .vm_id <<<"$output")" "0:2222"
}

@test "creates not reproduced run the real script: --text, missing values, a bare id" {
    r42_run shim bash -c "printf '%s\n' '$VM_NEW' | proxmox_vm.jsons.create.to.jsons.sh --text"
    assert_match "$stderr" "running the real"
    # a container without its network values: the role fails on them
    r42_run shim bash -c "echo '{\"vm_id\":803,\"lxc_name\":\"x\",\"lxc_template\":\"t\"}' | proxmox_lxc.jsons.create.to.jsons.sh"
    assert_match "$stderr" "running the real"
    assert_eq "$output" ""
    # a bare id: no name, no values
    r42_run shim bash -c 'echo 2224 | proxmox_vm.jsons.create.to.jsons.sh'
    assert_match "$stderr" "running the real"
    assert_eq "$(sim_vm 2224 name)" null
}

@test "vm_create at the playbook level: the result task, or the role's skip message for an id in use" {
    r42_run shim bash -c "$(declare -f devkit_playbook); devkit_playbook vm_create vm_id=2301 vm_name=pb vm_cpu=host vm_cores=1 vm_sockets=1 vm_memory=512 vm_disk_size=8 | devkit_ansible_playbook"
    assert_eq "$status" 0
    assert_match "$stderr" "fast path: vm_create vm 2301 on px-testing"
    assert_eq "$(devkit_jq vm_create <<<"$output" | jq -c '[.vm_id, .vm_scsi0, .vm_net0]')" '["2301","local-lvm:8,format=raw","virtio,bridge=vmbr0"]'
    assert_eq "$(sim_vm 2301 name)" pb
    r42_run shim bash -c "$(declare -f devkit_playbook); devkit_playbook vm_create vm_id=100 vm_name=pb vm_cpu=host vm_cores=1 vm_sockets=1 vm_memory=512 | devkit_ansible_playbook"
    assert_eq "$status" 0
    assert_match "$stderr" "fast path: vm_create vm 100 on px-testing"
    assert_eq "$(devkit_jq vm_create <<<"$output")" ""
    assert_eq "$(jq -c '[.plays[].tasks[-1] | .task.name, .hosts[].msg, .hosts[]._ansible_verbose_always]' <<<"$output")" \
        '["range42-ansible_roles-proxmox_controller : VM - SKIP CREATE (VM ID 100 already exists)","VM ID 100 already exists — skipping creation",true]'
    assert_eq "$(sim_vm 100 name)" admin-wazuh
}
