#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-3.0-or-later
# The four snapshot actions end to end through the fixture devkit scripts
# with the shim: results, the simulator's snapshots, errors of both styles,
# awkward names and descriptions, and one fall-back to real ansible.

load ../lib/common

# These tests are about the playbook level: the fixture scripts run, their
# ansible-playbook calls are answered (50-scripts.bats covers the script level).
export RANGE42_PROXMOX_API_SCRIPTS=off

setup_file() { r42_file_env_up; }
teardown_file() { r42_file_env_down; }
setup() { r42_reset; }

# The snapshots of VM $1 in the simulator, "name:parent:description" lines.
sim_snapshots() {
    r42_sim GET /_sim/state | jq -r --arg id "$1" \
        '.vms[$id].snapshots[] | "\(.name):\(.parent // ""):\(.description)"'
}

create() { # JSON-LINES...
    r42_run shim bash -c 'printf "%s\n" "$@" | proxmox_snapshot_vm.vm_id.create_snapshot.to.jsons.sh' _ "$@"
}

@test "snapshot_vm_create: result line with raw_data, snapshot in the simulator" {
    create '{"vm_id":100,"vm_snapshot_name":"snap1","vm_snapshot_description":"first"}'
    assert_eq "$status" 0
    assert_match "$stderr" "fast path: snapshot_vm_create vm 100"
    line="$output"
    assert_eq "$(jq -c 'del(.raw_data)' <<<"$line")" \
        '{"action":"snapshot_vm_create","proxmox_node":"px-testing","source":"proxmox-api","vm_id":"100","vm_name":"admin-wazuh","vm_snapshot_description":"first","vm_snapshot_name":"snap1"}'
    assert_match "$(jq -r .raw_data.data <<<"$line")" '^UPID:px-testing:.*:qmsnapshot:100:root@pam!r42ci:$'
    assert_eq "$(sim_snapshots 100)" "snap1::first"
}

@test "snapshot_vm_create: default name and description <vm_name>-<yymmdd-HHMMSS>" {
    create 101
    assert_eq "$status" 0
    assert_match "$(jq -r .vm_snapshot_name <<<"$output")" '^admin-builder-api-[0-9]{6}-[0-9]{6}$'
    assert_match "$(sim_snapshots 101)" '^admin-builder-api-[0-9]{6}-[0-9]{6}::admin-builder-api-[0-9]{6}-[0-9]{6}$'
}

@test "snapshot_vm_list: one line per entry, current included, optional keys only when given" {
    create '{"vm_id":100,"vm_snapshot_name":"s1","vm_snapshot_description":"one"}' \
           '{"vm_id":100,"vm_snapshot_name":"s2","vm_snapshot_description":"two"}'
    r42_run shim bash -c 'echo 100 | proxmox_snapshot_vm.vm_id.list_snapshot.to.jsons.sh'
    assert_eq "$status" 0
    assert_eq "$(jq -r '[.vm_snapshot_name, .vm_snapshot_parent, (.vm_snapshot_time | type), (.vm_snapshot_sha1 | type), .vm_id, .source] | join(",")' <<<"$output")" \
        "$(printf '%s\n' s1,,number,null,100,proxmox-api s2,s1,number,null,100,proxmox-api current,s2,null,string,100,proxmox-api)"
    assert_eq "$(jq -r 'select(.vm_snapshot_name == "current") | .vm_snapshot_description' <<<"$output")" "You are here!"
    assert_eq "$(jq -c 'select(.vm_snapshot_name == "s1") | keys' <<<"$output")" \
        '["action","proxmox_node","source","vm_id","vm_snapshot_description","vm_snapshot_name","vm_snapshot_parent","vm_snapshot_time"]'
}

@test "snapshot_vm_revert and snapshot_vm_delete default to the latest snapshot" {
    create '{"vm_id":102,"vm_snapshot_name":"base","vm_snapshot_description":"b"}'
    assert_eq "$(sim_vm 102 status)" running
    r42_run shim bash -c 'echo 102 | proxmox_snapshot_vm.vm_id.revert_snapshot.to.jsons.sh'
    assert_eq "$status" 0
    assert_eq "$(jq -c 'del(.raw_data)' <<<"$output")" \
        '{"action":"snapshot_vm_revert","proxmox_node":"px-testing","source":"proxmox-api","vm_id":"102","vm_name":"admin-deployer-ui","vm_snapshot_name":"base"}'
    assert_eq "$(sim_vm 102 status)" stopped "a rollback to a snapshot without RAM stops the VM"
    r42_run shim bash -c 'echo 102 | proxmox_snapshot_vm.vm_id.delete_snapshot.to.jsons.sh'
    assert_eq "$status" 0
    assert_eq "$(jq -r '[.action, .vm_snapshot_name, .source] | join(",")' <<<"$output")" "snapshot_vm_delete,base,proxmox-api"
    assert_eq "$(sim_snapshots 102)" ""
}

@test "create -> list -> revert -> delete on three VMs" {
    ids='100 101 102'
    r42_run shim bash -c "printf '%s\n' $ids | jq -c '{vm_id: ., vm_snapshot_name: \"chain\", vm_snapshot_description: \"chain test\"}' | proxmox_snapshot_vm.vm_id.create_snapshot.to.jsons.sh"
    assert_eq "$status" 0
    assert_eq "$(jq -r .vm_id <<<"$output" | tr '\n' ' ')" "100 101 102 "
    r42_run shim bash -c "printf '%s\n' $ids | proxmox_snapshot_vm.vm_id.list_snapshot.to.jsons.sh"
    assert_eq "$(jq -r 'select(.vm_snapshot_name == "current") | "\(.vm_id)=\(.vm_snapshot_parent)"' <<<"$output" | tr '\n' ' ')" \
        "100=chain 101=chain 102=chain "
    r42_run shim bash -c "printf '%s\n' $ids | proxmox_snapshot_vm.vm_id.revert_snapshot.to.jsons.sh"
    assert_eq "$(jq -r '"\(.vm_id):\(.vm_snapshot_name)"' <<<"$output" | tr '\n' ' ')" "100:chain 101:chain 102:chain "
    r42_run shim bash -c "printf '%s\n' $ids | proxmox_snapshot_vm.vm_id.delete_snapshot.to.jsons.sh"
    assert_eq "$(jq -r .action <<<"$output" | sort -u)" snapshot_vm_delete
    for id in $ids; do assert_eq "$(sim_snapshots "$id")" "" "VM $id has no snapshot left"; done
    [[ "$stderr" != *"running the real ansible-playbook"* ]] || fail "a call fell back: $stderr"
}

@test "spaces, quotes and non-ASCII reach the API intact" {
    desc='Vor dem "Upgrade" – état 100 % ✓'
    create "$(jq -cn --arg d "$desc" '{vm_id: 100, vm_snapshot_name: "pre_upgrade", vm_snapshot_description: $d}')"
    assert_eq "$status" 0
    assert_eq "$(jq -r .vm_snapshot_description <<<"$output")" "$desc"
    assert_eq "$(r42_sim GET /_sim/state | jq -r '.vms["100"].snapshots[0].description')" "$desc"
    # a name Proxmox refuses: it reaches the API as written, the 400 is reported
    create '{"vm_id":100,"vm_snapshot_name":"with space \"q\" é","vm_snapshot_description":"x"}'
    assert_eq "$status" 0
    assert_eq "$(jq -r 'select(.method == "POST" and (.body | test("with space"))) | .body | fromjson | .snapname' "$R42_SIM_LOG")" 'with space "q" é'
    assert_match "$stderr" 'snapshot_vm_create vm 100 failed: Status code was 400 and not \[200\]: HTTP Error 400: Parameter verification failed.'
}

@test "each snapshot task error: the role's line all the same (as ansible prints it), a trace, exit 0" {
    # a name already used: the task fails; the role printed the POST's answer
    create '{"vm_id":100,"vm_snapshot_name":"dup","vm_snapshot_description":"a"}'
    create '{"vm_id":100,"vm_snapshot_name":"dup","vm_snapshot_description":"b"}' \
           '{"vm_id":101,"vm_snapshot_name":"dup","vm_snapshot_description":"b"}'
    assert_eq "$status" 0
    assert_eq "$(jq -r '"\(.vm_id):\(.vm_snapshot_description):\(.raw_data.data | test("^UPID:"))"' <<<"$output" | tr '\n' ' ')" "100:b:true 101:b:true "
    assert_match "$stderr" "vm 100 failed: Proxmox task failed: snapshot name 'dup' already used"
    assert_eq "$(sim_snapshots 100)" "dup::a"
    # a snapshot that does not exist: delete's and revert's tasks fail (Proxmox checks
    # nothing before either task)
    r42_run shim bash -c 'printf "%s\n" "{\"vm_id\":100,\"vm_snapshot_name\":\"nope\"}" 101 | proxmox_snapshot_vm.vm_id.delete_snapshot.to.jsons.sh'
    assert_eq "$status" 0
    assert_eq "$(jq -r '"\(.vm_id):\(.vm_snapshot_name)"' <<<"$output" | tr '\n' ' ')" "100:nope 101:dup "
    assert_match "$stderr" "snapshot_vm_delete vm 100 failed: Proxmox task failed: snapshot 'nope' does not exist"
    r42_run shim bash -c 'printf "%s\n" "{\"vm_id\":100,\"vm_snapshot_name\":\"nope\"}" 100 | proxmox_snapshot_vm.vm_id.revert_snapshot.to.jsons.sh'
    assert_eq "$status" 0
    assert_eq "$(jq -r '"\(.vm_id):\(.vm_snapshot_name)"' <<<"$output" | tr '\n' ' ')" "100:nope 100:dup "
    assert_match "$stderr" "snapshot_vm_revert vm 100 failed: Proxmox task failed: snapshot 'nope' does not exist"
    # a task error on one VM, and a task that never ends (shortened timeout)
    r42_sim POST /_sim/config '{"task_errors": {"100": "snapshot feature is not available"}, "task_forever": ["101"]}' >/dev/null
    RANGE42_PROXMOX_API_TASK_TIMEOUT=1 create '{"vm_id":100,"vm_snapshot_name":"tt","vm_snapshot_description":"t"}' \
        '{"vm_id":101,"vm_snapshot_name":"tt","vm_snapshot_description":"t"}' \
        '{"vm_id":102,"vm_snapshot_name":"tt","vm_snapshot_description":"t"}'
    assert_eq "$status" 0
    assert_eq "$(jq -r .vm_id <<<"$output" | tr '\n' ' ')" "100 101 102 "
    assert_match "$stderr" "vm 100 failed: Proxmox task failed: snapshot feature is not available"
    assert_match "$stderr" "vm 101 failed: Proxmox task still running after 1 s"
}

@test "a snapshot action falls back to real ansible-playbook and the fixture role" {
    RANGE42_PROXMOX_API_FORCE=off create '{"vm_id":103,"vm_snapshot_name":"slow","vm_snapshot_description":"via ansible"}'
    assert_eq "$status" 0
    assert_match "$stderr" "running the real ansible-playbook: RANGE42_PROXMOX_API_FORCE=off"
    assert_eq "$(jq -c 'del(.raw_data)' <<<"$output")" \
        '{"action":"snapshot_vm_create","proxmox_node":"px-testing","source":"proxmox","vm_id":"103","vm_name":"student-box-01","vm_snapshot_description":"via ansible","vm_snapshot_name":"slow"}'
    assert_eq "$(sim_snapshots 103)" "slow::via ansible"
}
