#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-3.0-or-later
# Against a checkout of the real range42 devkit (make check-range42; not in
# CI, which has none): the table of known versions (fastpath/dkid_devkit.inc)
# is the one its git history gives, and the runner recognises each of its
# current entry scripts, with its helpers found through PATH.
#   R42_REF_DEVKIT   the devkit clone, with its history (default /work/ref/devkit)

load ../lib/common

REF="${R42_REF_DEVKIT:-/work/ref/devkit}"

setup_file() {
    [[ -d "$REF/.git" || -f "$REF/.git" ]] || { echo "no devkit clone in $REF (R42_REF_DEVKIT)" >&2; return 1; }
    r42_file_env_up
}
teardown_file() { r42_file_env_down; }
setup() {
    r42_reset
    # the real devkit, reached through PATH as its users have it; the
    # environment's vault beside it; our fixtures out of the way
    realkit="$BATS_TEST_TMPDIR/realkit"
    mkdir -p "$realkit"
    local f
    for f in "$REF"/*; do ln -s "$f" "$realkit/${f##*/}"; done
    ln -s "$RANGE42_ANSIBLE_ROLES__DEVKITS_DIR/secrets" "$realkit/secrets"
    export PATH="$realkit:$(tr ':' '\n' <<<"$PATH" | grep -vxF "$RANGE42_ANSIBLE_ROLES__DEVKITS_DIR" | paste -sd:)"
    export RANGE42_ANSIBLE_ROLES__DEVKITS_DIR="$realkit"
    unset R42INTERCEPT_TEST_FIXTURE_DEVKIT
}

@test "the table of known versions is the devkit's history" {
    run bash "$R42_TOP/test/fixtures/devkit-digests.sh" "$REF"
    assert_eq "$status" 0 "devkit-digests.sh: $output"
    printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/table"
    run diff "$R42_TOP/fastpath/dkid_devkit.inc" "$BATS_TEST_TMPDIR/table"
    assert_eq "$status" 0 "fastpath/dkid_devkit.inc is not the table of $REF (regenerate it and review): $output"
}

# answered SCRIPT [STDIN]: the runner recognises the real SCRIPT and takes
# the script-level fast path.
answered() {
    r42_run shim bash -c "printf '%s\n' '${2:-}' | $1"
    [[ "$stderr" != *"running the real $1"* ]] || fail "$1 not answered: $stderr" || return 1
    assert_match "$stderr" "fast path: $1 via the Proxmox API" || return 1
}

@test "each of the eleven entry scripts of the real devkit is recognised and answered" {
    [[ "$(command -v proxmox_vm.list.to.jsons.sh)" == "$realkit/"* ]]
    answered proxmox_vm.list.to.jsons.sh px-testing
    answered proxmox_vm.vm_id.start.to.jsons.sh 101
    answered proxmox_vm.vm_id.pause.to.jsons.sh 101
    answered proxmox_vm.vm_id.resume.to.jsons.sh 101
    answered proxmox_vm.vm_id.stop.to.jsons.sh 101
    answered proxmox_vm.vm_id.start.to.jsons.sh 101
    answered proxmox_vm.vm_id.stop_force.to.jsons.sh 101
    answered proxmox_vm.vm_id.list_vm_and_extract_vm_name.to.jsons.sh 101
    answered proxmox_snapshot_vm.vm_id.create_snapshot.to.jsons.sh '{"vm_id":101,"vm_snapshot_name":"s1"}'
    answered proxmox_snapshot_vm.vm_id.create_snapshot.to.jsons.sh '{"vm_id":101,"vm_snapshot_name":"s2"}'
    answered proxmox_snapshot_vm.vm_id.list_snapshot.to.jsons.sh 101
    answered proxmox_snapshot_vm.vm_id.revert_snapshot.to.jsons.sh 101
    answered proxmox_snapshot_vm.vm_id.delete_snapshot.to.jsons.sh 101
}

@test "each later entry script of the real devkit (delete, state lists, *_all_vms, containers) is recognised and answered" {
    answered proxmox_vm.list_running.to.jsons.sh px-testing
    answered proxmox_vm.list_stopped.to.jsons.sh px-testing
    answered proxmox_vm.list_paused.to.jsons.sh px-testing
    answered proxmox_vm.list_running_and_extract_vm_id.to.text.sh px-testing
    answered proxmox_vm.start_all_vms.to.jsons.sh px-testing
    answered proxmox_vm.stop_force_all_vms.to.jsons.sh px-testing
    answered proxmox_vm.resume_all_vms.to.jsons.sh px-testing
    r42_run shim script -qec 'proxmox_vm.pause_all_vms.to.jsons.sh' /dev/null
    assert_match "$output" "fast path: proxmox_vm.pause_all_vms.to.jsons.sh via the Proxmox API"
    answered proxmox_vm.vm_id.delete.to.jsons.sh 105
    answered proxmox_lxc.list.to.jsons.sh px-testing
    answered proxmox_lxc.vm_id.list_lxc_and_extract_vm_name.to.jsons.sh 200
    answered proxmox_lxc.vm_id.start.to.jsons.sh 201
    answered proxmox_lxc.vm_id.pause.to.jsons.sh 201
    answered proxmox_lxc.vm_id.resume.to.jsons.sh 201
    answered proxmox_lxc.vm_id.stop.to.jsons.sh 201
    answered proxmox_lxc.vm_id.stop_force.to.jsons.sh 200
    answered proxmox_lxc.vm_id.delete.to.jsons.sh 203
    answered proxmox_snapshot_lxc.vm_id.create_snapshot.to.jsons.sh '{"vm_id":200,"lxc_snapshot_name":"s1"}'
    answered proxmox_snapshot_lxc.vm_id.list_snapshot.to.jsons.sh 200
    answered proxmox_snapshot_lxc.vm_id.revert_snapshot.to.jsons.sh 200
    answered proxmox_snapshot_lxc.vm_id.delete_snapshot.to.jsons.sh 200
}

@test "a copy of a real script with one more command runs itself" {
    local copy="$BATS_TEST_TMPDIR/copy"
    mkdir -p "$copy"
    sed 's/^ACTION="vm_start"$/&\necho "maintenance freeze" >\&2; exit 3/' \
        "$REF/proxmox_vm.vm_id.start.to.jsons.sh" >"$copy/proxmox_vm.vm_id.start.to.jsons.sh"
    chmod +x "$copy/proxmox_vm.vm_id.start.to.jsons.sh"
    r42_run shim bash -c "echo 101 | $copy/proxmox_vm.vm_id.start.to.jsons.sh"
    assert_eq "$status" 3
    assert_match "$stderr" "is not a version of the devkit we know"
    assert_eq "$(sim_vm 101 status)" stopped
}
