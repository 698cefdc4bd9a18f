#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-3.0-or-later
# Falling back: the real ansible-playbook runs, exactly as called, whenever
# the fast path is off, the API does not answer, or the call is not one we
# reproduce; and other callers (python subprocess, execvp) are served too.

load ../lib/common

# These tests are about the playbook level: the fixture scripts run, their
# ansible-playbook calls are answered (50-scripts.bats covers the script level).
export RANGE42_PROXMOX_API_SCRIPTS=off

setup_file() { r42_file_env_up; }
teardown_file() { r42_file_env_down; }
setup() {
    r42_reset
    # a stand-in ansible-playbook that records what reaches it
    fakebin="$BATS_TEST_TMPDIR/fakebin"
    mkdir -p "$fakebin"
    cat >"$fakebin/ansible-playbook" <<'EOS'
#!/bin/bash
sha256sum >"$R42_CAP.stdin"
printf '%s\n' "$@" >"$R42_CAP.argv"
env | grep -v -e '^_=' -e '^LD_PRELOAD=' -e '^R42_CAP=' | sort >"$R42_CAP.env"
echo "FAKE ansible-playbook"
EOS
    chmod +x "$fakebin/ansible-playbook"
}

# Runs CMD (reading PLAYBOOK_FILE on stdin) through the fake ansible-playbook
# without and with the shim; both must record the same argv, env and bytes.
same_as_without_shim() {
    local input="$1"
    shift
    R42_CAP="$BATS_TEST_TMPDIR/plain" PATH="$fakebin:$PATH" "$@" <"$input" >/dev/null
    R42_CAP="$BATS_TEST_TMPDIR/shim" PATH="$fakebin:$PATH" r42_run shim "$@" <"$input"
    assert_eq "$output" "FAKE ansible-playbook" || return 1
    local f
    for f in stdin argv env; do
        run diff "$BATS_TEST_TMPDIR/plain.$f" "$BATS_TEST_TMPDIR/shim.$f"
        assert_eq "$status" 0 "$f differs: $output" || return 1
    done
}

@test "RANGE42_PROXMOX_API_FORCE=off: the real ansible-playbook and role run" {
    RANGE42_PROXMOX_API_FORCE=off r42_run shim bash -c 'echo 101 | proxmox_vm.vm_id.start.to.jsons.sh'
    assert_eq "$status" 0
    assert_eq "$output" '{"action":"vm_start","proxmox_node":"px-testing","source":"proxmox","vm_id":"101","vm_name":"admin-builder-api","vm_status":"running"}'
    assert_match "$stderr" "running the real ansible-playbook: RANGE42_PROXMOX_API_FORCE=off"
    assert_eq "$(sim_vm 101 status)" running
}

@test "a failing probe: the real ansible-playbook runs, unchanged" {
    r42_sim POST /_sim/config '{"probe_fail": true}' >/dev/null
    r42_run shim bash -c 'echo 103 | proxmox_vm.vm_id.start.to.jsons.sh'
    assert_eq "$status" 0
    assert_match "$stderr" "running the real ansible-playbook: API probe answered HTTP 503"
    assert_match "$output" '"source":"proxmox","vm_id":"103"'
    assert_eq "$(sim_vm 103 status)" running
}

@test "an unreachable API: the real ansible-playbook runs" {
    # the vault points at the simulator: stop it answering by dropping
    r42_sim POST /_sim/config '{"drop": 1}' >/dev/null
    devkit_playbook vm_list proxmox_node=px-testing >"$BATS_TEST_TMPDIR/pb"
    R42_CAP="$BATS_TEST_TMPDIR/c" PATH="$fakebin:$PATH" r42_run shim bash -c devkit_ansible_playbook <"$BATS_TEST_TMPDIR/pb"
    assert_eq "$output" "FAKE ansible-playbook"
    assert_match "$stderr" "running the real ansible-playbook: API probe failed"
}

@test "a 100 KiB playbook reaches ansible-playbook byte-identical (pipe, read then replayed)" {
    { devkit_playbook vm_start vm_id=101 proxmox_node=px-testing
      for i in $(seq 1600); do printf '      # padding line %04d ........................................\n' "$i"; done
    } >"$BATS_TEST_TMPDIR/big"
    (( $(stat -c %s "$BATS_TEST_TMPDIR/big") >= 100 * 1024 ))
    # not ours because of -v: the runner reads nothing
    same_as_without_shim "$BATS_TEST_TMPDIR/big" bash -c 'cat | ansible-playbook -v -i inv /dev/stdin'
    # ours until the playbook is read: FORCE=off stops it first
    RANGE42_PROXMOX_API_FORCE=off same_as_without_shim "$BATS_TEST_TMPDIR/big" bash -c 'cat | devkit_ansible_playbook'
    # read and parsed (a second play), then replayed from the runner's copy
    printf '      - hosts: other\n        tasks: []\n' >>"$BATS_TEST_TMPDIR/big"
    same_as_without_shim "$BATS_TEST_TMPDIR/big" bash -c 'cat | devkit_ansible_playbook'
    assert_match "$stderr" "running the real ansible-playbook: playbook: not exactly one play"
}

@test "stdin larger than the runner reads (5 MiB) is replayed whole" {
    { devkit_playbook vm_start vm_id=101
      head -c $((5 * 1024 * 1024)) /dev/zero | tr '\0' '#'; echo; } >"$BATS_TEST_TMPDIR/huge"
    same_as_without_shim "$BATS_TEST_TMPDIR/huge" bash -c 'cat | devkit_ansible_playbook'
    assert_match "$stderr" "stdin is larger than"
}

@test "a playbook in a regular file on stdin is read in place and left untouched" {
    devkit_playbook vm_start vm_id=101 >"$BATS_TEST_TMPDIR/pb"
    printf '      - hosts: other\n        tasks: []\n' >>"$BATS_TEST_TMPDIR/pb"
    same_as_without_shim "$BATS_TEST_TMPDIR/pb" bash -c devkit_ansible_playbook
}

@test "options we do not reproduce fall back and say which" {
    devkit_playbook vm_list >"$BATS_TEST_TMPDIR/pb"
    for opt in --check -v "-e x=1" "--limit px-testing" "--tags t"; do
        # shellcheck disable=SC2086
        R42_CAP="$BATS_TEST_TMPDIR/c" PATH="$fakebin:$PATH" r42_run shim \
            bash -c "ansible-playbook $opt -i inv --vault-password-file pw /dev/stdin" <"$BATS_TEST_TMPDIR/pb"
        assert_eq "$output" "FAKE ansible-playbook" "$opt"
        assert_match "$stderr" "running the real ansible-playbook: ansible-playbook option ${opt%% *} is not supported"
    done
}

@test "a stdout callback that is not json falls back" {
    devkit_playbook vm_list >"$BATS_TEST_TMPDIR/pb"
    ANSIBLE_STDOUT_CALLBACK=default R42_CAP="$BATS_TEST_TMPDIR/c" PATH="$fakebin:$PATH" \
        r42_run shim bash -c devkit_ansible_playbook <"$BATS_TEST_TMPDIR/pb"
    assert_eq "$output" "FAKE ansible-playbook"
    assert_match "$stderr" "the stdout callback is default, not json"
}

@test "the fast path prints the json callback document, like ansible" {
    devkit_playbook vm_start vm_id=105 proxmox_node=px-testing >"$BATS_TEST_TMPDIR/pb"
    r42_run shim bash -c devkit_ansible_playbook <"$BATS_TEST_TMPDIR/pb"
    assert_eq "$status" 0
    doc="$output"
    printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/doc.json"
    # the reference document's structure, key for key (values aside)
    shape='[paths(..) | map(if type == "number" then 0 else . end)] | unique'
    run diff <(jq -c "$shape" "$R42_TOP/test/reference/ansible-json-callback.vm_start.trimmed.json") \
        <(jq -c "$shape" "$BATS_TEST_TMPDIR/doc.json")
    assert_eq "$status" 0 "document shape: $output"
    assert_eq "$(devkit_jq vm_start <"$BATS_TEST_TMPDIR/doc.json")" \
        '{"action":"vm_start","proxmox_node":"px-testing","source":"proxmox-api","vm_id":"105","vm_name":"vuln-box-00","vm_status":"running"}'
    # 4-space indent, sorted keys: what json.dumps(indent=4, sort_keys=True) gives
    assert_eq "$(python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin), indent=4, sort_keys=True))' <"$BATS_TEST_TMPDIR/doc.json")" "$doc"
}

@test "a failed VM: the document shows the failed task; exit 0, or 2 with RANGE42_PROXMOX_API_STRICT=1" {
    r42_sim POST /_sim/config '{"http_errors": {"106": [500, "VM 106 qmp command failed"]}}' >/dev/null
    devkit_playbook vm_stop vm_id=106 >"$BATS_TEST_TMPDIR/pb"
    r42_run shim bash -c devkit_ansible_playbook <"$BATS_TEST_TMPDIR/pb"
    assert_eq "$status" 0
    assert_eq "$(printf '%s' "$output" | jq -c '.stats[]|[.ok,.failures]')" "[1,1]"
    assert_eq "$(printf '%s' "$output" | jq -r '.plays[0].tasks[-1].hosts["px-testing"] | [.failed, .msg] | @tsv')" \
        "$(printf 'true\tStatus code was 500 and not [200]: HTTP Error 500: VM 106 qmp command failed')"
    assert_eq "$(printf '%s' "$output" | devkit_jq vm_stop)" ""
    RANGE42_PROXMOX_API_STRICT=1 r42_run shim bash -c devkit_ansible_playbook <"$BATS_TEST_TMPDIR/pb"
    assert_eq "$status" 2
}

@test "a python subprocess caller and an execvp caller get the fast path" {
    devkit_playbook vm_start vm_id=101 >"$BATS_TEST_TMPDIR/pb"
    export ANSIBLE_CONFIG="$RANGE42_ANSIBLE_ROLES__DEVKITS_DIR/ansible_no_skipped_json.cfg"
    inv="$RANGE42_ANSIBLE_ROLES__INVENTORY_DIR/inventory_default.yml"
    r42_run shim python3 -c 'import subprocess, sys
subprocess.run(["ansible-playbook", "-i", sys.argv[1], "--vault-password-file", sys.argv[2], "/dev/stdin"], check=True)' \
        "$inv" "$RANGE42_VAULT_PASSWORD_FILE" <"$BATS_TEST_TMPDIR/pb"
    assert_eq "$status" 0
    assert_match "$stderr" "fast path: vm_start vm 101"
    assert_eq "$(printf '%s' "$output" | devkit_jq vm_start | jq -r .source)" proxmox-api
    devkit_playbook vm_stop vm_id=101 >"$BATS_TEST_TMPDIR/pb"
    r42_run shim "$R42_EXECER" execvp ansible-playbook -i "$inv" --vault-password-file "$RANGE42_VAULT_PASSWORD_FILE" /dev/stdin <"$BATS_TEST_TMPDIR/pb"
    assert_eq "$status" 0
    assert_match "$stderr" "fast path: vm_stop vm 101"
    assert_eq "$(sim_vm 101 status)" stopped
}
