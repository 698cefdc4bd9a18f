#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-3.0-or-later
# The event log (R42INTERCEPT_LOG, fastpath/evlog.c) and its summary
# (r42intercept --summary, fastpath/summary.c): one JSON line per runner
# call, whole even when calls run at once; the summary counts what the log
# holds; no secret is written.

load ../lib/common

setup_file() { r42_file_env_up; }
teardown_file() { r42_file_env_down; }
setup() {
    r42_reset
    export R42INTERCEPT_LOG="$BATS_TEST_TMPDIR/events.log"
    WRAPPER="$R42_TOP/build/r42intercept"
    # a stand-in ansible-playbook for the calls that fall back
    fakebin="$BATS_TEST_TMPDIR/fakebin"
    mkdir -p "$fakebin"
    printf '#!/bin/sh\ncat >/dev/null\necho FAKE ansible-playbook\n' >"$fakebin/ansible-playbook"
    chmod +x "$fakebin/ansible-playbook"
}

# One call of kind $1 (0 playbook, 1 script, 2 vault), all answered.
one_call() {
    case "$1" in
    0) devkit_playbook vm_list | shim bash -c devkit_ansible_playbook ;;
    1) echo px-testing | shim proxmox_vm.list.to.jsons.sh ;;
    2) shim ansible-vault view --vault-password-file "$RANGE42_VAULT_PASSWORD_FILE" \
        "$RANGE42_ANSIBLE_ROLES__DEVKITS_DIR/secrets/default_vault.yml" ;;
    esac
}

assert_log_clean() {
    assert_no_secret "$(cat "$R42INTERCEPT_LOG")"
}

@test "20 concurrent calls: 20 whole JSON lines, each with its fields" {
    local i pids=()
    for i in $(seq 1 20); do
        one_call $((i % 3)) >/dev/null 2>&1 &
        pids+=($!)
    done
    for i in "${pids[@]}"; do wait "$i"; done
    assert_eq "$(wc -l <"$R42INTERCEPT_LOG")" 20 "lines in the log"
    # jq parses every line on its own: none is cut or interleaved
    run jq -c . "$R42INTERCEPT_LOG"
    assert_eq "$status" 0 "jq parses the log: $output"
    assert_eq "$(jq -s 'length' "$R42INTERCEPT_LOG")" 20
    assert_eq "$(jq -r 'select(.outcome == "answered" and .status == 0) | .pid' "$R42INTERCEPT_LOG" | sort -u | wc -l)" 20 \
        "20 answered calls, 20 processes"
    assert_eq "$(jq -r '.level' "$R42INTERCEPT_LOG" | sort | uniq -c | awk '{print $2 "=" $1}' | tr '\n' ' ')" \
        "playbook=6 script=7 vault=7 "
    # each line: time (ISO 8601 UTC), action, duration, requests
    run jq -e 'select((.time | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$") | not)
                 or (.duration_ms | type) != "number" or (.requests | type) != "number")' "$R42INTERCEPT_LOG"
    assert_eq "$output" "" "malformed records"
    assert_eq "$(jq -r 'select(.level == "script") | "\(.action) \(.program) \(.plays)"' "$R42INTERCEPT_LOG" | sort -u)" \
        "vm_list proxmox_vm.list.to.jsons.sh 1"
    assert_eq "$(jq -r 'select(.level == "vault") | .action' "$R42INTERCEPT_LOG" | sort -u)" view
    assert_log_clean
}

@test "a line records the VMs, the requests and a per-VM error" {
    printf '101\n999\n' | shim proxmox_vm.vm_id.start.to.jsons.sh >/dev/null 2>&1 || true
    run jq -c '[.level, .action, .vms, .plays, (.vm_errors | map(.vm)), .outcome, (.requests > 0)]' "$R42INTERCEPT_LOG"
    assert_eq "$output" '["script","vm_start",["101","999"],2,["999"],"answered",true]'
    assert_log_clean
}

@test "a fall-back is logged with its reason; the summary groups it" {
    r42_sim POST /_sim/config '{"probe_fail": true}' >/dev/null
    devkit_playbook vm_list | PATH="$fakebin:$PATH" shim bash -c devkit_ansible_playbook >/dev/null 2>&1
    devkit_playbook vm_list | PATH="$fakebin:$PATH" shim bash -c devkit_ansible_playbook >/dev/null 2>&1
    run jq -r '"\(.outcome): \(.reason)"' "$R42INTERCEPT_LOG"
    assert_eq "$output" "fell back: API probe answered HTTP 503 Service Unavailable
fell back: the API probe failed less than a few seconds ago (cached verdict)"
    r42_run "$WRAPPER" --summary "$R42INTERCEPT_LOG"
    assert_eq "$status" 0
    assert_match "$output" "2 calls: 0 answered, 2 fell back"
    assert_match "$output" "fell back +1  API probe answered HTTP 503"
    assert_log_clean
}

@test "the summary's counts are the log's" {
    local i
    for i in 0 1 2 0 1; do one_call "$i" >/dev/null 2>&1; done
    printf '101\n999\n' | shim proxmox_vm.vm_id.start.to.jsons.sh >/dev/null 2>&1 || true
    r42_sim POST /_sim/config '{"probe_fail": true}' >/dev/null
    devkit_playbook vm_list | PATH="$fakebin:$PATH" shim bash -c devkit_ansible_playbook >/dev/null 2>&1
    r42_run "$WRAPPER" --summary "$R42INTERCEPT_LOG" --json
    assert_eq "$status" 0
    local sum="$output" log="$R42INTERCEPT_LOG"
    assert_eq "$(jq .calls <<<"$sum")" "$(wc -l <"$log")"
    assert_eq "$(jq .answered <<<"$sum")" "$(jq -s 'map(select(.outcome == "answered")) | length' "$log")"
    assert_eq "$(jq .fell_back <<<"$sum")" "$(jq -s 'map(select(.outcome == "fell back")) | length' "$log")"
    assert_eq "$(jq -cS .answered_by_action <<<"$sum")" \
        "$(jq -sc 'map(select(.outcome == "answered") | "\(.level) \(.action)") | group_by(.) | map({(.[0]): length}) | add' -S "$log")"
    assert_eq "$(jq -c '[.vm_errors[].vm]' <<<"$sum")" "$(jq -sc '[.[].vm_errors[].vm]' "$log")"
    assert_eq "$(jq '.runner_seconds * 1000 | round' <<<"$sum")" "$(jq -s 'map(.duration_ms) | add | round' "$log")"
    # the text form says the same
    r42_run "$WRAPPER" --summary "$log"
    assert_match "$output" "$(jq .calls <<<"$sum") calls: $(jq .answered <<<"$sum") answered, 1 fell back"
    assert_match "$output" "VM errors +vm 999 vm_start: "
    assert_match "$output" "time saved: about [0-9.]+ s \(an estimate"
    assert_log_clean
}

@test "the wrapper prints the summary of its own run on stderr, stdout untouched" {
    echo '{"stale":"line"}' >"$R42INTERCEPT_LOG"
    r42_run "$WRAPPER" bash -c 'echo px-testing | proxmox_vm.list.to.jsons.sh; echo 101 | proxmox_vm.vm_id.start.to.jsons.sh'
    assert_eq "$status" 0
    assert_match "$stderr" "r42intercept summary of $R42INTERCEPT_LOG: 2 calls: 2 answered"
    assert_match "$stderr" "answered +1  script vm_list"
    [[ "$output" != *summary* ]] || fail "the summary went to stdout"
    assert_eq "$(wc -l <<<"$output")" 9 "the scripts' own lines"
    # -q: no summary
    r42_run "$WRAPPER" -q bash -c 'echo 101 | proxmox_vm.vm_id.start.to.jsons.sh'
    [[ "$stderr" != *summary* ]] || fail "-q printed a summary"
    # the command's status is the wrapper's
    r42_run "$WRAPPER" bash -c 'exit 7'
    assert_eq "$status" 7
}

@test "no R42INTERCEPT_LOG: nothing written, no summary" {
    unset R42INTERCEPT_LOG
    r42_run "$WRAPPER" bash -c 'echo 101 | proxmox_vm.vm_id.start.to.jsons.sh'
    assert_eq "$status" 0
    [[ "$stderr" != *summary* ]] || fail "a summary without a log"
    [[ ! -e "$BATS_TEST_TMPDIR/events.log" ]] || fail "a log was written"
}
