#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-3.0-or-later
# Inputs Ansible rejects or treats otherwise than the devkit's
# (docs/decision.md section 6): each case runs for real (no library), then with it, on a
# fresh simulator; the runner must hand it to the real program (one trace
# line), with the same exit status and the same VM state as real Ansible.
# A few cases that Ansible runs normally show the fast path still answers.

load ../lib/common

setup_file() { r42_file_env_up; }
teardown_file() { r42_file_env_down; }
setup() {
    r42_reset
    cd "$BATS_TEST_TMPDIR" || return 1
    export cfg="$RANGE42_ANSIBLE_ROLES__DEVKITS_DIR/ansible_no_skipped_json.cfg"
    export inv="$RANGE42_ANSIBLE_ROLES__INVENTORY_DIR/inventory_default.yml"
    export pw="$RANGE42_VAULT_PASSWORD_FILE"
    # VM 100 runs; a call that acts on it stops it
    devkit_playbook vm_stop_force vm_id=100 proxmox_node=px-testing >pb.yml
}

# playbook CFG INV [ARGS...]: ansible-playbook as the devkit calls it, with
# that config and inventory, on pb.yml (ARGS replace the password option).
playbook() {
    local c="$1" i="$2"
    shift 2
    [[ $# -gt 0 ]] || set -- --vault-password-file "$pw"
    ANSIBLE_CONFIG="$c" ansible-playbook -i "$i" "$@" pb.yml
}
export -f playbook

# masked FILE: the file's text with the token secret masked (the real
# role's uri task shows its headers), then the file removed.
masked() {
    sed "s/$R42_TOKEN_SECRET/<token secret>/g" "$1"
    rm -f "$1"
}

# vs_ansible CMD...: CMD for real, then with the library, each on a fresh
# simulator: same exit status and VM 100 state; with the library, the
# real program ran (its trace line).  Sets real_out, real_status, and
# output, status and stderr for the run with the library.
vs_ansible() {
    r42_sim POST /_sim/reset >/dev/null
    run --separate-stderr bash -c "$* >'$BATS_TEST_TMPDIR/out'"
    real_status="$status"
    real_out="$(masked "$BATS_TEST_TMPDIR/out")"
    local real_vm
    real_vm="$(sim_vm 100 status)"
    r42_sim POST /_sim/reset >/dev/null
    r42_run shim bash -c "$* >'$BATS_TEST_TMPDIR/out'"
    output="$(masked "$BATS_TEST_TMPDIR/out")"
    assert_eq "$status" "$real_status" "exit status (real Ansible's: $real_status) of: $*" || return 1
    assert_eq "$(sim_vm 100 status)" "$real_vm" "VM 100 after: $*" || return 1
    assert_match "$stderr" "r42intercept: running the real ansible-(playbook|vault)" || return 1
    [[ "$stderr" != *"fast path"* ]] || fail "the fast path answered: $*"
}

# fast CMD...: the fast path answers CMD and VM 100 is stopped.
fast() {
    r42_run shim bash -c "$*"
    assert_eq "$status" 0 "$* ($stderr)" || return 1
    assert_match "$stderr" "fast path: vm_stop_force vm 100" || return 1
    assert_eq "$(sim_vm 100 status)" stopped
}

#### what Ansible rejects ######################################################

@test "Ansible rejects: task var names that are not identifiers: real ansible's rc 4, VM untouched" {
    local name
    for name in '"my var"' my-var 1var '"True"' 123; do
        devkit_playbook vm_stop_force vm_id=100 proxmox_node=px-testing "$name=x" >pb.yml
        vs_ansible playbook "$cfg" "$inv" || return 1
        assert_eq "$real_status" 4 "ansible rejects the name $name"
        assert_eq "$(sim_vm 100 status)" running
    done
}

@test "Ansible rejects: a UTF-16 playbook: real ansible's rc 250, VM untouched" {
    devkit_playbook vm_stop_force vm_id=100 proxmox_node=px-testing | iconv -t UTF-16 >pb16.yml
    mv pb16.yml pb.yml
    vs_ansible playbook "$cfg" "$inv"
    assert_eq "$real_status" 250
    assert_eq "$(sim_vm 100 status)" running
}

@test "Ansible rejects: a UTF-8 playbook with a BOM is still answered" {
    { printf '\xef\xbb\xbf'; devkit_playbook vm_stop_force vm_id=100 proxmox_node=px-testing; } >pb8.yml
    mv pb8.yml pb.yml
    fast playbook "$cfg" "$inv"
}

@test "Ansible rejects: ansible.cfg with a duplicate option or section: real ansible's rc 5" {
    printf '[defaults]\nstdout_callback = json\nstdout_callback = json\n' >dup-option.cfg
    printf '[defaults]\nstdout_callback = json\n[defaults]\nstdout_callback = json\n' >dup-section.cfg
    printf '[defaults]\n  stdout_callback = json\n  stdout_callback = json\n' >dup-indented.cfg
    local c
    for c in dup-option.cfg dup-section.cfg dup-indented.cfg; do
        vs_ansible playbook "$c" "$inv" || return 1
        assert_eq "$real_status" 5 "$c"
        assert_match "$stderr" "running the real ansible-playbook: ansible.cfg line 3: duplicate"
    done
}

@test "Ansible rejects: [DEFAULT] callbacks_enabled in ansible.cfg: the real output (profile_tasks lines)" {
    printf '[DEFAULT]\ncallbacks_enabled = ansible.posix.profile_tasks\n[defaults]\nstdout_callback = json\n' >default.cfg
    vs_ansible playbook default.cfg "$inv"
    assert_eq "$real_status" 0
    assert_match "$real_out" "VM STOP FORCE"
    assert_match "$output" "VM STOP FORCE" "the real program printed profile_tasks' lines"
    assert_match "$stderr" "DEFAULT\\] sets callbacks_enabled"
}

#### vault_id_match ############################################################

@test "vault_id_match: ansible-vault view with ANSIBLE_VAULT_ID_MATCH and another label: the real error" {
    local data="$R42_TOP/test/unit/data"
    cd "$data" || return 1
    vs_ansible ANSIBLE_VAULT_ID_MATCH=1 ansible-vault view --vault-id other@vault_pass.txt vault-1.2.yml
    assert_eq "$real_status" 1
    assert_match "$stderr" "Decryption failed"
    vs_ansible ANSIBLE_VAULT_ID_MATCH=1 ansible-vault view --vault-password-file vault_pass.txt vault-1.2.yml
    vs_ansible ANSIBLE_VAULT_ID_MATCH=1 ansible-vault view --vault-id lab@vault_pass.txt vault-1.1.yml
    # the matching label, and a 1.1 vault with an unlabelled password: answered
    run cmp <(ANSIBLE_VAULT_ID_MATCH=1 ansible-vault view --vault-id lab@vault_pass.txt vault-1.2.yml) \
        <(ANSIBLE_VAULT_ID_MATCH=1 LD_PRELOAD="$R42_SO" bash -c 'ansible-vault view --vault-id lab@vault_pass.txt vault-1.2.yml')
    assert_eq "$status" 0
    r42_run shim bash -c 'ANSIBLE_VAULT_ID_MATCH=1 ansible-vault view --vault-password-file vault_pass.txt vault-1.1.yml'
    assert_eq "$status:$stderr" "0:"
}

@test "vault_id_match: ansible-playbook with vault_id_match and another label: the real error, VM untouched" {
    # the devkit's vault is a 1.1 vault: its id is "default"
    printf '[defaults]\nstdout_callback = json\nvault_id_match = True\n' >match.cfg
    vs_ansible playbook match.cfg "$inv" --vault-id "other@$pw"
    assert_eq "$real_status" 1
    assert_eq "$(sim_vm 100 status)" running
    fast playbook match.cfg "$inv" --vault-id "default@$pw"
}

@test "vault_id_match: a devkit script, ANSIBLE_VAULT_ID_MATCH, a vault labelled otherwise: the real script, VM untouched" {
    # a devkit directory whose vault is a 1.2 vault labelled "lab"
    mkdir -p kit/secrets
    local f
    for f in "$RANGE42_ANSIBLE_ROLES__DEVKITS_DIR"/*; do
        [[ -f "$f" ]] && ln -s "$(readlink -f "$f")" "kit/${f##*/}"
    done
    ansible-vault view --vault-password-file "$pw" "$RANGE42_ANSIBLE_ROLES__DEVKITS_DIR/secrets/default_vault.yml" |
        ansible-vault encrypt --vault-id "lab@$pw" --output kit/secrets/default_vault.yml - 2>/dev/null
    head -1 kit/secrets/default_vault.yml | grep -q ';1.2;AES256;lab'
    local run='echo 100 | ANSIBLE_VAULT_ID_MATCH=1 RANGE42_ANSIBLE_ROLES__DEVKITS_DIR="$PWD/kit" proxmox_vm.vm_id.stop_force.to.jsons.sh'
    r42_sim POST /_sim/reset >/dev/null
    run --separate-stderr bash -c "$run"
    local real_status="$status" real_out="$output"
    assert_eq "$(sim_vm 100 status)" running "real: the devkit's ansible calls cannot open the vault"
    r42_run shim bash -c "$run"
    assert_eq "$status:$output" "$real_status:$real_out"
    assert_match "$stderr" "running the real proxmox_vm.vm_id.stop_force.to.jsons.sh: no vault password has the vault's id"
    assert_eq "$(sim_vm 100 status)" running
}

@test "vault_id_match: the caller's ansible.cfg setting vault_id_match (ansible-vault view in the devkit reads it): the real script" {
    printf '[defaults]\nvault_id_match = yes\n' >ansible.cfg
    r42_run shim bash -c 'echo 100 | proxmox_vm.vm_id.stop_force.to.jsons.sh'
    assert_match "$stderr" "running the real proxmox_vm.vm_id.stop_force.to.jsons.sh: ansible.cfg sets vault_id_match"
}

#### the inventory as Ansible reads it #########################################

@test "inventory: an INI name under [group:children] is a group, not a host: no host matched, VM untouched" {
    printf '[lab:children]\npx-testing\n\n[px-testing]\n' >inv.ini
    vs_ansible playbook "$cfg" inv.ini
    assert_eq "$real_status" 0
    assert_eq "$(sim_vm 100 status)" running
}

@test "inventory: ansible_connection: ssh to a closed port: UNREACHABLE (rc 4), VM untouched" {
    printf 'all:\n  hosts:\n    px-testing:\n      ansible_connection: ssh\n      ansible_host: 127.0.0.1\n      ansible_port: 9\n' >inv.yml
    vs_ansible playbook "$cfg" inv.yml
    assert_eq "$real_status" 4
    assert_eq "$(sim_vm 100 status)" running
}

@test "inventory: local with ansible_host and ansible_port set: the real program decides" {
    printf 'all:\n  hosts:\n    px-testing:\n      ansible_connection: local\n      ansible_host: 10.0.0.1\n      ansible_port: 2222\n' >inv.yml
    vs_ansible playbook "$cfg" inv.yml
}

@test "inventory: host_vars/ or group_vars/ beside the inventory or the playbook: the real program" {
    mkdir -p inv-dir/host_vars pb-dir/group_vars
    cp "$inv" inv-dir/inv.yml
    mv pb.yml pb-dir/pb.yml
    # host_vars files outrank the inventory's host variables
    printf 'ansible_connection: ssh\nansible_host: 127.0.0.1\nansible_port: 9\n' >inv-dir/host_vars/px-testing.yml
    vs_ansible 'cd pb-dir && playbook "$cfg" ../inv-dir/inv.yml'
    assert_eq "$real_status" 4
    assert_eq "$(sim_vm 100 status)" running
    # group_vars do not (Ansible runs locally), but we do not read them
    rm -r inv-dir/host_vars
    printf 'ansible_connection: ssh\n' >pb-dir/group_vars/all.yml
    vs_ansible 'cd pb-dir && playbook "$cfg" ../inv-dir/inv.yml'
    assert_eq "$real_status" 0
}

@test "inventory: a group variable we do not follow, a host that is also a group: the real program" {
    printf 'all:\n  vars:\n    ansible_connection: ssh\n    ansible_port: 9\n  hosts:\n    px-testing:\n' >inv.yml
    vs_ansible playbook "$cfg" inv.yml
    assert_eq "$real_status" 4
    # Ansible warns and still runs on the host here: we do not guess
    printf 'all:\n  hosts:\n    px-testing:\n      ansible_connection: local\n  children:\n    px-testing:\n' >inv.yml
    vs_ansible playbook "$cfg" inv.yml
    assert_match "$stderr" "px-testing is a group name in the inventory"
}

@test "inventory: a vault that sets ansible_connection (it outranks the inventory): the real program" {
    { ansible-vault view --vault-password-file "$pw" "$RANGE42_ANSIBLE_ROLES__DEVKITS_DIR/secrets/default_vault.yml"
      printf 'ansible_connection: ssh\nansible_port: 9\n'
    } | ansible-vault encrypt --vault-password-file "$pw" --output vault.yml - 2>/dev/null
    sed -i "s|\"$RANGE42_ANSIBLE_ROLES__DEVKITS_DIR/secrets/default_vault.yml\"|\"$PWD/vault.yml\"|" pb.yml
    grep -q "$PWD/vault.yml" pb.yml
    vs_ansible playbook "$cfg" "$inv"
    assert_eq "$real_status" 4
    assert_match "$stderr" "the vault sets ansible_"
}

@test "inventory: what Ansible runs locally is still answered: INI host, local on all" {
    printf '[lab]\npx-testing ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n' >inv.ini
    fast playbook "$cfg" inv.ini
    r42_sim POST /_sim/reset >/dev/null
    printf 'all:\n  vars:\n    ansible_connection: local\n  children:\n    lab:\n      hosts:\n        px-testing:\n' >inv.yml
    fast playbook "$cfg" inv.yml
}
