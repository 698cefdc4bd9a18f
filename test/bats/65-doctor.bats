#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-3.0-or-later
# `r42intercept doctor`: one line per condition of the decision, exit 0
# when the fast path would be taken; each broken condition is named on a
# FAIL line with its fix, and no secret is printed.

load ../lib/common

setup_file() { r42_file_env_up; }
teardown_file() { r42_file_env_down; }
setup() {
    r42_reset
    wrapper="$R42_TOP/build/r42intercept"
}

# A devkit directory of our own (the env's files, linked), without the
# vault; DEVKITS_DIR points at it.
own_devkit() {
    local dir="$BATS_TEST_TMPDIR/devkit" f
    mkdir -p "$dir/secrets"
    for f in "$RANGE42_ANSIBLE_ROLES__DEVKITS_DIR"/*; do
        [[ -f "$f" ]] && ln -s "$f" "$dir/${f##*/}"
    done
    export RANGE42_ANSIBLE_ROLES__DEVKITS_DIR="$dir"
}

# A plain-YAML vault in our own devkit: API at HOST, token secret SECRET.
plain_vault() {
    own_devkit
    printf '%s\n' "proxmox_api_host: \"$1\"" 'proxmox_api_user: "root@pam"' \
        'proxmox_api_token_id: "r42ci"' "proxmox_api_token_secret: \"$2\"" \
        'proxmox_node: "px-testing"' >"$RANGE42_ANSIBLE_ROLES__DEVKITS_DIR/secrets/default_vault.yml"
}

# A loopback port nobody listens on.
closed_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Passes when the doctor exited 1 with a FAIL line for CHECK whose text
# matches REGEX and a fix.
assert_fails_on() {
    local nl=$'\n'
    assert_eq "$status" 1 "exit status"
    assert_match "$output" "(^|$nl)FAIL  $1: [^$nl]*$2[^$nl]*; fix: " "FAIL line for $1"
    assert_match "$output" "the real programs would run" "verdict"
}

@test "doctor: a good devkit environment: every check ok, exit 0" {
    r42_run "$wrapper" doctor
    assert_eq "$status" 0 "exit status ($output)"
    local nl=$'\n' check
    for check in RANGE42_PROXMOX_API_FORCE "devkit variables" "devkit scripts" callback \
        "caller's ansible.cfg" role "vault password file" "vault file" inventory \
        "API reachable" "token accepted"; do
        assert_match "$output" "(^|$nl)ok    $check: " "ok line for $check"
    done
    ! grep -q '^\(FAIL\|skip\) ' <<<"$output" || fail "a check did not pass: $output"
    assert_match "$output" "the fast path would be taken\$"
    assert_eq "$stderr" "" "nothing on stderr"
}

@test "doctor: the wrong callback in the devkit's ansible.cfg is named" {
    own_devkit
    rm "$RANGE42_ANSIBLE_ROLES__DEVKITS_DIR/ansible_no_skipped_json.cfg"
    printf '[defaults]\nstdout_callback = yaml\n' >"$RANGE42_ANSIBLE_ROLES__DEVKITS_DIR/ansible_no_skipped_json.cfg"
    cp "$(readlink -f "$R42_ENV_DIR/devkit/secrets/default_vault.yml")" \
        "$RANGE42_ANSIBLE_ROLES__DEVKITS_DIR/secrets/"
    r42_run "$wrapper" doctor
    assert_fails_on callback "yaml"
    assert_match "$output" "ok    token accepted: " "the other checks still run"
}

@test "doctor: a missing vault password file is named" {
    export RANGE42_VAULT_PASSWORD_FILE="$BATS_TEST_TMPDIR/no-such-password"
    r42_run "$wrapper" doctor
    assert_fails_on "vault password file" "no-such-password"
    assert_match "$output" "skip  vault file: " "the vault is not opened"
}

@test "doctor: a vault that does not open or is missing is named" {
    printf 'not-the-password\n' >"$BATS_TEST_TMPDIR/wrong"
    RANGE42_VAULT_PASSWORD_FILE="$BATS_TEST_TMPDIR/wrong" r42_run "$wrapper" doctor
    assert_fails_on "vault file" "default_vault.yml"
    assert_match "$output" "ok    vault password file: " "the password file itself is fine"
    own_devkit # no secrets/default_vault.yml
    r42_run "$wrapper" doctor
    assert_fails_on "vault file" "default_vault.yml"
}

@test "doctor: an API that does not answer is named" {
    plain_vault "127.0.0.1:$(closed_port)" wrong-secret-1
    r42_run "$wrapper" doctor
    assert_fails_on "API reachable" "127.0.0.1"
    assert_match "$output" "skip  token accepted: " "no token check without an answer"
    [[ "$output" != *wrong-secret-1* ]] || fail "the vault's token secret was printed"
}

@test "doctor: a token the API refuses is named" {
    plain_vault "127.0.0.1:$R42_SIM_PORT" wrong-secret-2
    r42_run "$wrapper" doctor
    assert_match "$output" "ok    API reachable: " "the API answers"
    assert_fails_on "token accepted" "HTTP 401"
    [[ "$output" != *wrong-secret-2* ]] || fail "the vault's token secret was printed"
}

@test "doctor: a role not in the roles path is named" {
    mkdir -p "$BATS_TEST_TMPDIR/roles"
    ANSIBLE_ROLES_PATH="$BATS_TEST_TMPDIR/roles" r42_run "$wrapper" doctor
    assert_fails_on role "range42-ansible_roles-proxmox_controller"
}

@test "doctor: FORCE=off and a missing devkit variable are named" {
    RANGE42_PROXMOX_API_FORCE=off r42_run "$wrapper" doctor
    assert_fails_on RANGE42_PROXMOX_API_FORCE "off"
    unset RANGE42_ANSIBLE_ROLES__INVENTORY_DIR
    r42_run "$wrapper" doctor
    assert_fails_on "devkit variables" "RANGE42_ANSIBLE_ROLES__INVENTORY_DIR is not set"
}

@test "doctor: an explicit ansible-playbook command line" {
    devkit_playbook vm_start vm_id=101 >"$BATS_TEST_TMPDIR/play.yml"
    local inv="$RANGE42_ANSIBLE_ROLES__INVENTORY_DIR/inventory_default.yml"
    export ANSIBLE_CONFIG="$RANGE42_ANSIBLE_ROLES__DEVKITS_DIR/ansible_no_skipped_json.cfg"
    r42_run "$wrapper" doctor ansible-playbook -i "$inv" \
        --vault-password-file "$RANGE42_VAULT_PASSWORD_FILE" "$BATS_TEST_TMPDIR/play.yml"
    assert_eq "$status" 0 "exit status ($output)"
    assert_match "$output" "ok    playbook: .*action vm_start on host px-testing"
    r42_run "$wrapper" doctor ansible-playbook -i "$inv" -e x=1 \
        --vault-password-file "$RANGE42_VAULT_PASSWORD_FILE" "$BATS_TEST_TMPDIR/play.yml"
    assert_fails_on "command line" "-e"
    ANSIBLE_STDOUT_CALLBACK=yaml r42_run "$wrapper" doctor ansible-playbook -i "$inv" \
        --vault-password-file "$RANGE42_VAULT_PASSWORD_FILE" "$BATS_TEST_TMPDIR/play.yml"
    assert_fails_on callback "yaml"
    r42_run "$wrapper" doctor ls
    assert_eq "$status" 2 "not an ansible-playbook command line"
}

@test "doctor: the wrapper still runs a command named doctor after --" {
    mkdir -p "$BATS_TEST_TMPDIR/bin"
    printf '#!/bin/sh\necho a command named doctor\n' >"$BATS_TEST_TMPDIR/bin/doctor"
    chmod +x "$BATS_TEST_TMPDIR/bin/doctor"
    PATH="$BATS_TEST_TMPDIR/bin:$PATH" r42_run "$wrapper" -- doctor
    assert_eq "$status" 0
    assert_eq "$output" "a command named doctor"
}
