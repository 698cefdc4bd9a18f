#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-3.0-or-later
# The six lifecycle actions end to end: a devkit-shaped fixture script, run
# with the shim preloaded, gets its ansible-playbook calls answered from the
# simulator's API (source "proxmox-api"), and the simulator's state changes.

load ../lib/common

# These tests are about the playbook level: the fixture scripts run, their
# ansible-playbook calls are answered (50-scripts.bats covers the script level).
export RANGE42_PROXMOX_API_SCRIPTS=off

setup_file() { r42_file_env_up; }
teardown_file() { r42_file_env_down; }
setup() { r42_reset; }

# One VM through a fixture script with the shim: OUTPUT is its JSON line.
act() {
    local script="$1" vm="$2"
    r42_run shim bash -c "printf '%s\n' '$vm' | $script"
    assert_eq "$status" 0 "$script exit status" || return 1
    assert_match "$stderr" "fast path: " "$script took the fast path" || return 1
}

@test "vm_list: every VM, as the reference list, from the API" {
    r42_run shim bash -c 'echo px-testing | proxmox_vm.list.to.jsons.sh'
    assert_eq "$status" 0
    assert_match "$stderr" "fast path: vm_list on px-testing"
    want="$(awk -F'\t' '$1 == "list" {print $2}' "$R42_TOP/test/reference/slow-path-outputs.tsv")"
    assert_eq "$(printf '%s\n' "$output" | normalise_source)" "$want"
    assert_match "$output" '"source":"proxmox-api"'
}

@test "vm_start: a stopped VM starts" {
    assert_eq "$(sim_vm 101 status)" stopped
    act proxmox_vm.vm_id.start.to.jsons.sh 101
    assert_eq "$output" '{"action":"vm_start","proxmox_node":"px-testing","source":"proxmox-api","vm_id":"101","vm_name":"admin-builder-api","vm_status":"running"}'
    assert_eq "$(sim_vm 101 status)" running
}

@test "vm_stop: a running VM shuts down (the task is waited for)" {
    act proxmox_vm.vm_id.stop.to.jsons.sh '{"vm_id":102}'
    assert_eq "$output" '{"action":"vm_stop","proxmox_node":"px-testing","source":"proxmox-api","vm_id":"102","vm_name":"admin-deployer-ui","vm_status":"stopped"}'
    assert_eq "$(sim_vm 102 status)" stopped
}

@test "vm_stop_force: a running VM is powered off, with timeout=10" {
    act proxmox_vm.vm_id.stop_force.to.jsons.sh 104
    assert_eq "$output" '{"action":"vm_stop_force","proxmox_node":"px-testing","source":"proxmox-api","vm_id":"104","vm_name":"student-box-02","vm_status":"stopped"}'
    assert_eq "$(sim_vm 104 status)" stopped
    body="$(jq -r 'select(.method == "POST") | .body' "$R42_SIM_LOG")"
    assert_eq "$body" "timeout=10"
}

@test "vm_pause and vm_resume: qmpstatus goes paused and back" {
    act proxmox_vm.vm_id.pause.to.jsons.sh 100
    assert_eq "$output" '{"action":"vm_pause","proxmox_node":"px-testing","source":"proxmox-api","vm_id":"100","vm_name":"admin-wazuh","vm_status":"running"}'
    assert_eq "$(sim_vm 100 qmpstatus)" paused
    act proxmox_vm.vm_id.resume.to.jsons.sh 100
    assert_eq "$output" '{"action":"vm_resume","proxmox_node":"px-testing","source":"proxmox-api","vm_id":"100","vm_name":"admin-wazuh","vm_status":"running"}'
    assert_eq "$(sim_vm 100 qmpstatus)" running
}

@test "one keep-alive connection per call: probe, action, task poll and status" {
    act proxmox_vm.vm_id.start.to.jsons.sh 103
    run jq -s '[.[].conn] | unique | length' "$R42_SIM_LOG"
    assert_eq "$output" 1 "connections used by one call"
    run jq -s 'length' "$R42_SIM_LOG"
    assert_eq "$output" 4 "probe + POST + task status + status/current"
}

@test "a slow task is polled until it ends, then the state is read" {
    r42_sim POST /_sim/config '{"task_duration": 0.4}' >/dev/null
    act proxmox_vm.vm_id.start.to.jsons.sh 105
    assert_match "$output" '"vm_status":"running"'
    polls="$(r42_sim_log_count GET '/tasks/.*/status$')"
    (( polls >= 2 && polls <= 8 )) || fail "task polled $polls times"
}

@test "an API error on one VM of three: a trace, the other two done, exit 0" {
    r42_sim POST /_sim/config '{"http_errors": {"104": [500, "VM 104 is locked (backup)"]}}' >/dev/null
    r42_run shim bash -c 'printf "%s\n" 101 104 103 | proxmox_vm.vm_id.start.to.jsons.sh'
    assert_eq "$status" 0
    assert_eq "$(printf '%s\n' "$output" | jq -r .vm_id | tr '\n' ' ')" "101 103 "
    assert_match "$stderr" "vm_start vm 104 failed: Status code was 500 and not \[200\]: HTTP Error 500: VM 104 is locked \(backup\)"
    assert_eq "$(sim_vm 101 status)/$(sim_vm 103 status)" running/running
}

# slow_and_fast KNOBS CMD: CMD on a fresh simulator with KNOBS, once with
# real ansible (want_out, want_rc) and once through the fast path (status,
# output, stderr).
slow_and_fast() {
    r42_sim POST /_sim/config "$1" >/dev/null
    RANGE42_PROXMOX_API_FORCE=off r42_run shim bash -c "$2"
    want_out="$output" want_rc="$status"
    r42_sim POST /_sim/reset >/dev/null
    r42_sim POST /_sim/config "$1" >/dev/null
    r42_run shim bash -c "$2"
    assert_match "$stderr" "fast path: " || return 1
}

@test "a task that fails: the role's state line all the same (as ansible prints it), a trace, the batch goes on" {
    slow_and_fast '{"task_errors": {"101": "start failed: QEMU exited with code 1"}}' \
        'printf "%s\n" 101 103 | proxmox_vm.vm_id.start.to.jsons.sh'
    assert_eq "$status" 0
    assert_eq "$(normalise_source <<<"$output")" "$want_out"
    assert_eq "$status" "$want_rc"
    assert_eq "$(printf '%s\n' "$output" | jq -r '"\(.vm_id):\(.vm_status)"' | tr '\n' ' ')" "101:stopped 103:running "
    assert_match "$stderr" "vm_start vm 101 failed: Proxmox task failed: start failed: QEMU exited with code 1"
    # strict mode stops where ansible stops: not on a task that fails later
    r42_sim POST /_sim/reset >/dev/null
    r42_sim POST /_sim/config '{"task_errors": {"101": "start failed: QEMU exited with code 1"}}' >/dev/null
    RANGE42_PROXMOX_API_STRICT=1 r42_run shim bash -c 'printf "%s\n" 101 103 | proxmox_vm.vm_id.start.to.jsons.sh'
    assert_eq "$status" 0
    assert_eq "$(normalise_source <<<"$output")" "$want_out"
}

@test "a task that never ends times out within RANGE42_PROXMOX_API_TASK_TIMEOUT; the state line is printed" {
    export RANGE42_PROXMOX_API_TASK_TIMEOUT=1
    slow_and_fast '{"task_forever": ["101"]}' 'printf "%s\n" 101 103 | proxmox_vm.vm_id.start.to.jsons.sh'
    assert_eq "$status" 0
    assert_eq "$(normalise_source <<<"$output")" "$want_out"
    assert_eq "$(printf '%s\n' "$output" | jq -r .vm_id | tr '\n' ' ')" "101 103 "
    assert_match "$stderr" "vm 101 failed: Proxmox task still running after 1 s"
}
