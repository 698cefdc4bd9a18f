#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-3.0-or-later
# The fault matrix: each fault of the simulator (test/sim/faults.py) at each
# phase of a call (the probe, the action's POST, the task poll, the status
# read), with the outcome test/README.md's table gives; a POST is never sent
# twice; the task timeout bounds the task poll; and the opt-in TLS
# verification (RANGE42_PROXMOX_API_CAFILE, RANGE42_PROXMOX_API_FINGERPRINT).
#
# Probe faults run at the playbook level with a stand-in ansible-playbook as
# the real one (a fall-back costs nothing); the other phases run a batch of
# three VMs (101 103 105, start) at the script level, the fault on VM 103.

load ../lib/common

setup_file() {
    r42_file_env_up
    local dir="$R42_ENV_DIR"
    # a CA that did not sign the simulator's certificate
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
        -subj "/CN=another CA" -keyout "$dir/other-ca.key" -out "$dir/other-ca.crt" \
        >/dev/null 2>&1
    export R42_RIGHT_KEY_PIN R42_WRONG_KEY_PIN R42_RIGHT_CERT_FP R42_WRONG_CERT_FP
    R42_RIGHT_KEY_PIN="$(key_pin "$dir/tls.crt")"
    R42_WRONG_KEY_PIN="$(key_pin "$dir/other-ca.crt")"
    R42_RIGHT_CERT_FP="$(cert_fp "$dir/tls.crt")"
    R42_WRONG_CERT_FP="$(cert_fp "$dir/other-ca.crt")"
}
teardown_file() { r42_file_env_down; }
setup() {
    r42_reset
    fakebin="$BATS_TEST_TMPDIR/fakebin"
    mkdir -p "$fakebin"
    printf '#!/bin/sh\ncat >/dev/null\necho "FAKE ansible-playbook"\n' >"$fakebin/ansible-playbook"
    chmod +x "$fakebin/ansible-playbook"
}

# libcurl's pin of a certificate's public key: sha256//BASE64.
key_pin() {
    printf 'sha256//%s\n' "$(openssl x509 -in "$1" -pubkey -noout |
        openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64)"
}

# A certificate's SHA-256 fingerprint as Proxmox shows it: AA:BB:...
cert_fp() {
    openssl x509 -in "$1" -noout -fingerprint -sha256 | sed 's/^.*=//'
}

# The paths of each phase's request; VM 103's for the per-VM phases.
PROBE='/nodes/px-testing/qemu$'
ACTION='/qemu/103/status/start$'
POLL='/tasks/.*:qmstart:103:.*/status$'
POLL_RAW='/tasks/.*%3Aqmstart%3A103%3A.*/status$' # as the log has it
READ='/qemu/103/status/current$'

# fault METHOD PATH FAULT [ARG-JSON]: the first matching request gets FAULT.
fault() {
    local arg="${4:+, \"arg\": $4}"
    r42_sim POST /_sim/config "{\"faults\": [{\"method\": \"$1\", \"path\": \"$2\",
        \"nth\": [1], \"fault\": \"$3\"$arg}]}" >/dev/null
}

# vm_start on VM 101 at the playbook level; the real ansible-playbook is
# the stand-in.
playbook() {
    devkit_playbook vm_start vm_id=101 "$@" >"$BATS_TEST_TMPDIR/pb"
    PATH="$fakebin:$PATH" r42_run shim timeout 20 bash -c devkit_ansible_playbook \
        <"$BATS_TEST_TMPDIR/pb"
}

# vm_start on 101 103 105 at the script level.
batch() {
    r42_run shim timeout 20 bash -c \
        'printf "%s\n" 101 103 105 | proxmox_vm.vm_id.start.to.jsons.sh'
}

# A fresh simulator and an empty probe cache, within one test.
fresh() {
    r42_reset && rm -rf "$XDG_RUNTIME_DIR/r42intercept"
}

posts() {
    r42_sim_log_count POST "$1"
}

# The call fell back before any action, saying why (REGEX).
assert_fell_back() {
    assert_eq "$status" 0 "exit status" || return 1
    assert_eq "$output" "FAKE ansible-playbook" "the real program ran" || return 1
    assert_match "$stderr" "running the real ansible-playbook: $1" || return 1
    assert_eq "$(posts .)" 0 "POST requests" || return 1
    assert_eq "$(sim_vm 101 status)" stopped
}

# The playbook call took the fast path and started VM 101.
assert_fast() {
    assert_eq "$status" 0 "exit status" || return 1
    assert_match "$stderr" "fast path: vm_start vm 101 on px-testing" || return 1
    assert_eq "$(jq -c '.plays[0].tasks[1].hosts["px-testing"].vm_start.vm_status' <<<"$output")" \
        '"running"' "the document's result" || return 1
    assert_eq "$(sim_vm 101 status)" running
}

# The batch went on: 101 and 105 done, VM 103 failed with one trace line
# (REGEX), its POST sent once.
assert_vm_failed() {
    assert_eq "$status" 0 "exit status" || return 1
    assert_eq "$(jq -r .vm_id <<<"$output" | tr '\n' ' ')" "101 105 " "result lines" || return 1
    assert_eq "$(grep -c 'failed:' <<<"$stderr")" 1 "failure traces" || return 1
    assert_match "$stderr" "vm_start vm 103 failed: $1" || return 1
    assert_eq "$(posts "$ACTION")" 1 "POSTs for VM 103" || return 1
    assert_eq "$(sim_vm 101 status)/$(sim_vm 105 status)" running/running
}

# The batch ended as without the fault: three result lines, no failure,
# VM 103's POST sent once.
assert_all_done() {
    assert_eq "$status" 0 "exit status" || return 1
    assert_eq "$(jq -r .vm_id <<<"$output" | tr '\n' ' ')" "101 103 105 " "result lines" || return 1
    [[ "$stderr" != *failed:* ]] || fail "a failure was reported: $stderr" || return 1
    assert_eq "$(posts "$ACTION")" 1 "POSTs for VM 103" || return 1
    assert_eq "$(sim_vm 103 status)" running
}

# Nothing reached the simulator's HTTP layer: no request, so none with the
# Authorization header.
assert_no_request() {
    assert_eq "$(jq -s 'length' "$R42_SIM_LOG")" 0 "requests in the simulator's log" || return 1
    assert_eq "$(jq -s 'map(select(.auth != "missing")) | length' "$R42_SIM_LOG")" 0 \
        "requests with an Authorization header"
}

# ---- probe ---------------------------------------------------------------

@test "probe, status 500: fall back" {
    fault GET "$PROBE" status '[500, "Internal Server Error"]'
    playbook
    assert_fell_back "API probe answered HTTP 500 Internal Server Error"
}

@test "probe, invalid JSON: fall back, saying so" {
    fault GET "$PROBE" badjson
    playbook
    assert_fell_back "API probe failed: invalid JSON in the answer to GET /nodes/px-testing/qemu"
}

@test "probe, truncated body: fall back" {
    fault GET "$PROBE" truncated
    playbook
    assert_fell_back "API probe failed: GET /nodes/px-testing/qemu: "
}

@test "probe, connection reset: fall back" {
    fault GET "$PROBE" reset
    playbook
    assert_fell_back "API probe failed: GET /nodes/px-testing/qemu: "
}

@test "probe, closed after the request: fall back" {
    fault GET "$PROBE" close
    playbook
    assert_fell_back "API probe failed: GET /nodes/px-testing/qemu: "
}

@test "probe, hang: fall back after the probe's 2 s" {
    fault GET "$PROBE" hang
    playbook
    assert_fell_back "API probe failed: GET /nodes/px-testing/qemu: .*[Tt]ime"
}

@test "probe, answer dripped one byte at a time: fast path" {
    fault GET "$PROBE" drip 0
    playbook
    assert_fast
}

@test "probe, slow drip beyond 2 s: fall back" {
    fault GET "$PROBE" drip 0.01
    playbook
    assert_fell_back "API probe failed: GET /nodes/px-testing/qemu: .*[Tt]ime"
}

# ---- the action's POST -----------------------------------------------------

@test "POST, status 500: that VM fails, the batch goes on" {
    fault POST "$ACTION" status '[500, "VM 103 is locked"]'
    batch
    assert_vm_failed "Status code was 500 and not \[200\]: HTTP Error 500: VM 103 is locked"
    assert_eq "$(sim_vm 103 status)" stopped
}

@test "POST, invalid JSON: that VM fails, saying so" {
    fault POST "$ACTION" badjson
    batch
    assert_vm_failed "invalid JSON in the answer to POST /nodes/px-testing/qemu/103/status/start"
}

@test "POST, truncated body: that VM fails" {
    fault POST "$ACTION" truncated
    batch
    assert_vm_failed "Status code was -1 and not \[200\]: POST /nodes/px-testing/qemu/103/status/start: "
}

@test "POST, connection reset: that VM fails, the POST is not sent again" {
    fault POST "$ACTION" reset
    batch
    assert_vm_failed "Status code was -1 and not \[200\]: POST /nodes/px-testing/qemu/103/status/start: .*not sent again"
    assert_eq "$(sim_vm 103 status)" stopped
}

@test "POST, closed after the request: that VM fails, the POST is not sent again" {
    fault POST "$ACTION" close
    batch
    assert_vm_failed "Status code was -1 and not \[200\]: POST /nodes/px-testing/qemu/103/status/start: .*not sent again"
    assert_eq "$(sim_vm 103 status)" stopped
}

@test "POST, done by the server, then closed: reported failed, not done twice" {
    r42_sim POST /_sim/config '{"faults": [{"method": "POST", "path": "/qemu/103/status/start$",
        "nth": [1], "fault": "close", "apply": true}]}' >/dev/null
    batch
    assert_vm_failed ".*not sent again"
    assert_eq "$(r42_sim GET /_sim/state | jq .tasks)" 3 "tasks created"
}

@test "POST, held 1 s without an answer, then closed: that VM fails, not sent again" {
    fault POST "$ACTION" hang 1
    batch
    assert_vm_failed "Status code was -1 and not \[200\]: POST /nodes/px-testing/qemu/103/status/start: .*not sent again"
}

@test "POST, slow drip: done" {
    fault POST "$ACTION" drip 0.002
    batch
    assert_all_done
}

@test "DELETE, closed after the request: not sent again" {
    r42_run shim bash -c 'echo "{\"vm_id\":101,\"vm_snapshot_name\":\"s1\",\"vm_snapshot_description\":\"d\"}" |
        proxmox_snapshot_vm.vm_id.create_snapshot.to.jsons.sh'
    assert_eq "$status" 0
    rm -rf "$XDG_RUNTIME_DIR/r42intercept" # the delete probes: its DELETE reuses that connection
    fault DELETE '/qemu/101/snapshot/s1$' close
    r42_run shim bash -c 'echo "{\"vm_id\":101,\"vm_snapshot_name\":\"s1\"}" |
        proxmox_snapshot_vm.vm_id.delete_snapshot.to.jsons.sh'
    assert_eq "$status" 0
    assert_match "$stderr" "snapshot_vm_delete vm 101 failed: Status code was -1 and not \[200\]: DELETE /nodes/px-testing/qemu/101/snapshot/s1: .*not sent again"
    assert_eq "$(r42_sim_log_count DELETE /snapshot/s1$)" 1 "DELETE requests"
}

# ---- the task poll ---------------------------------------------------------

@test "task poll, status 500: that VM fails" {
    fault GET "$POLL" status '[500, "no such task"]'
    batch
    assert_vm_failed "Status code was 500 and not \[200\]: HTTP Error 500: no such task"
}

@test "task poll, invalid JSON: that VM fails, saying so" {
    fault GET "$POLL" badjson
    batch
    assert_vm_failed "invalid JSON in the answer to GET /nodes/px-testing/tasks/UPID%3A"
}

@test "task poll, truncated body: that VM fails" {
    fault GET "$POLL" truncated
    batch
    assert_vm_failed "Status code was -1 and not \[200\]: GET /nodes/px-testing/tasks/UPID%3A.*/status: "
}

@test "task poll, connection reset: the GET is sent again on a new connection, done" {
    fault GET "$POLL" reset
    batch
    assert_all_done
    assert_eq "$(r42_sim_log_count GET "$POLL_RAW")" 2 "task polls"
}

@test "task poll, closed after the request: the GET is sent again, done" {
    fault GET "$POLL" close
    batch
    assert_all_done
    assert_eq "$(r42_sim_log_count GET "$POLL_RAW")" 2 "task polls"
}

@test "task poll, hang: bounded by RANGE42_PROXMOX_API_TASK_TIMEOUT, that VM fails" {
    # the batch is killed at 20 s; the poll's own request timeout is 30 s
    fault GET "$POLL" hang
    RANGE42_PROXMOX_API_TASK_TIMEOUT=1 batch
    assert_vm_failed "Status code was -1 and not \[200\]: GET /nodes/px-testing/tasks/UPID%3A.*/status: .*[Tt]ime"
}

@test "task poll, slow drip: done" {
    fault GET "$POLL" drip 0.002
    batch
    assert_all_done
}

# ---- the status read -------------------------------------------------------

@test "status read, status 500: that VM fails" {
    fault GET "$READ" status '[500, "got timeout"]'
    batch
    assert_vm_failed "Status code was 500 and not \[200\]: HTTP Error 500: got timeout"
}

@test "status read, invalid JSON: that VM fails, saying so" {
    fault GET "$READ" badjson
    batch
    assert_vm_failed "invalid JSON in the answer to GET /nodes/px-testing/qemu/103/status/current"
}

@test "status read, truncated body: that VM fails" {
    fault GET "$READ" truncated
    batch
    assert_vm_failed "Status code was -1 and not \[200\]: GET /nodes/px-testing/qemu/103/status/current: "
}

@test "status read, connection reset: the GET is sent again, done" {
    fault GET "$READ" reset
    batch
    assert_all_done
    assert_eq "$(r42_sim_log_count GET "$READ")" 2 "status reads"
}

@test "status read, closed after the request: the GET is sent again, done" {
    fault GET "$READ" close
    batch
    assert_all_done
    assert_eq "$(r42_sim_log_count GET "$READ")" 2 "status reads"
}

@test "status read, held 1 s without an answer, then closed: sent again, done" {
    fault GET "$READ" hang 1
    batch
    assert_all_done
    assert_eq "$(r42_sim_log_count GET "$READ")" 2 "status reads"
}

@test "status read, slow drip: done" {
    fault GET "$READ" drip 0.002
    batch
    assert_all_done
}

# ---- TLS verification --------------------------------------------------------

@test "TLS: the right public-key pin (sha256//): fast path" {
    RANGE42_PROXMOX_API_FINGERPRINT="$R42_RIGHT_KEY_PIN" playbook
    assert_fast
}

@test "TLS: the right certificate fingerprint (Proxmox's AA:BB:… form): fast path" {
    RANGE42_PROXMOX_API_FINGERPRINT="$R42_RIGHT_CERT_FP" playbook
    assert_fast
}

@test "TLS: the same fingerprint in lower case, and a key pin among others: fast path" {
    RANGE42_PROXMOX_API_FINGERPRINT="${R42_RIGHT_CERT_FP,,}" playbook
    assert_fast
    fresh
    RANGE42_PROXMOX_API_FINGERPRINT="$R42_WRONG_KEY_PIN;$R42_RIGHT_KEY_PIN" playbook
    assert_fast
}

@test "TLS: a wrong public-key pin: fall back, no request with the token" {
    RANGE42_PROXMOX_API_FINGERPRINT="$R42_WRONG_KEY_PIN" playbook
    assert_fell_back "API probe failed: GET /nodes/px-testing/qemu: .*pinned public key"
    assert_eq "$(grep -c TRACE <<<"$stderr")" 1 "trace lines"
    assert_no_request
}

@test "TLS: a wrong certificate fingerprint: fall back, no request with the token" {
    RANGE42_PROXMOX_API_FINGERPRINT="$R42_WRONG_CERT_FP" playbook
    assert_fell_back "API probe failed: GET /nodes/px-testing/qemu: the server's certificate does not match RANGE42_PROXMOX_API_FINGERPRINT"
    assert_eq "$(grep -c TRACE <<<"$stderr")" 1 "trace lines"
    assert_no_request
}

@test "TLS: the right CA: fast path, at the script level too" {
    RANGE42_PROXMOX_API_CAFILE="$R42_ENV_DIR/ca.crt" playbook
    assert_fast
    fresh
    RANGE42_PROXMOX_API_CAFILE="$R42_ENV_DIR/ca.crt" RANGE42_PROXMOX_API_FINGERPRINT="$R42_RIGHT_CERT_FP" batch
    assert_all_done
}

@test "TLS: another CA: fall back, no request with the token" {
    RANGE42_PROXMOX_API_CAFILE="$R42_ENV_DIR/other-ca.crt" playbook
    assert_fell_back "API probe failed: GET /nodes/px-testing/qemu: .*certificate"
    assert_no_request
}

@test "TLS: the right CA, a host name the certificate does not name: fall back" {
    RANGE42_PROXMOX_API_CAFILE="$R42_ENV_DIR/ca.crt" playbook \
        proxmox_api_host="localhost:$R42_SIM_PORT"
    assert_fell_back "API probe failed: GET /nodes/px-testing/qemu: .*localhost"
    assert_no_request
}

@test "TLS: a fingerprint in neither form, an unreadable CA file: fall back, nothing sent" {
    RANGE42_PROXMOX_API_FINGERPRINT="sha1//abc" playbook
    assert_fell_back "RANGE42_PROXMOX_API_FINGERPRINT is neither"
    RANGE42_PROXMOX_API_CAFILE="$R42_ENV_DIR/no-such-ca.crt" playbook
    assert_fell_back "RANGE42_PROXMOX_API_CAFILE"
    assert_no_request
}

@test "TLS: a probe verdict cached without verification is not used with it" {
    playbook
    assert_fast
    r42_sim POST /_sim/reset >/dev/null
    RANGE42_PROXMOX_API_FINGERPRINT="$R42_WRONG_KEY_PIN" playbook
    assert_fell_back "API probe failed: .*pinned public key"
    assert_no_request
}
