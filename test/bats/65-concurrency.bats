#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-3.0-or-later
# Concurrent tasks within a batch (docs/tasks.md): a script call given several
# VMs keeps up to N Proxmox tasks in flight (N: the cluster's max_workers,
# 4 when not set; RANGE42_PROXMOX_API_PARALLEL overrides it; strict mode
# one at a time), starts them in input order, never two on one guest, and
# prints its lines in input order.  Every assertion is on the order of the
# simulator's request log and on its task start/end times (how many ran at
# once, how many rounds), never on a duration measured here.

load ../lib/common

setup_file() { r42_file_env_up --vms 12; }
teardown_file() { r42_file_env_down; }
setup() {
    r42_reset
    mkdir -p "$BATS_TEST_TMPDIR/nosleep"
    printf '#!/bin/sh\nexit 0\n' >"$BATS_TEST_TMPDIR/nosleep/sleep"
    chmod +x "$BATS_TEST_TMPDIR/nosleep/sleep"
}

# seed N: VMs 100..100+N-1, all stopped; DURATIONS: the task_durations knob
seed() {
    local n="$1" durations="$2"
    r42_sim POST /_sim/reset "$(jq -cn --argjson n "$n" \
        '{vms: [range($n) | {vmid: (100 + .), name: "vm-\(100 + .)", status: "stopped"}]}')" \
        >/dev/null &&
        r42_sim POST /_sim/config "{\"task_durations\": $durations}" >/dev/null
}

# start IDS...: the start script on those ids, one per line
start() {
    r42_run shim timeout 60 bash -c 'printf "%s\n" "$@" | proxmox_vm.vm_id.start.to.jsons.sh' _ "$@"
}

tasks() { r42_sim GET /_sim/tasks; }
in_flight() { tasks | jq .max_in_flight; }

# The number of rounds: the longest chain of tasks each started after the
# previous one ended (10 tasks 4 at a time: 3; one at a time: 10).
rounds() {
    tasks | jq '.tasks | sort_by(.start) | reduce .[] as $t ([];
        . + [$t + {depth: (1 + ([.[] | select(.end != null and .end <= $t.start) | .depth] | max // 0))}])
        | map(.depth) | max'
}

# The vm ids of the POST requests, in the order the simulator got them.
post_order() {
    jq -rs '[.[] | select(.method == "POST") | .path | capture("/qemu/(?<id>[0-9]+)/").id] | join(" ")' \
        "$R42_SIM_LOG"
}

# Whether, in the log, every POST k (from 0) comes after at least k-N+1
# task ends were seen (a poll answering "stopped"): never more than N
# tasks in flight from the client's side, and the first N at once.
posts_paced() {
    jq -se --argjson n "$1" '
        reduce .[] as $e ({seen: 0, k: 0, ok: true};
            if $e.task_status == "stopped" then .seen += 1
            elif $e.method == "POST" then
                .ok = (.ok and .seen >= (.k - $n + 1) and (.k >= $n or .seen == 0)) | .k += 1
            else . end) | .ok' "$R42_SIM_LOG" >/dev/null
}

out_ids() { jq -r .vm_id <<<"$output" | tr '\n' ' '; }

# The trace lines of a run (the batch's own profile aside).
traces() { grep -a 'TRACE' <<<"$stderr" | grep -v 'fast path:' ; }

@test "10 VMs with 1 s tasks, max_workers not set: 4 in flight, 3 rounds, input order kept" {
    seed 10 '{"start": 1}'
    start 105 100 109 101 108 102 107 103 106 104
    assert_eq "$status" 0
    assert_eq "$(out_ids)" "105 100 109 101 108 102 107 103 106 104 " "stdout in input order"
    assert_eq "$(post_order)" "105 100 109 101 108 102 107 103 106 104" "POSTs in input order"
    assert_eq "$(in_flight)" 4 "most tasks in flight"
    assert_eq "$(rounds)" 3 "rounds of tasks (ceil(10/4))"
    posts_paced 4 || fail "a POST went before a task slot was free: $(cat "$R42_SIM_LOG")"
    assert_eq "$(r42_sim_log_count GET '^/api2/json/cluster/options$')" 1 "options requests"
    assert_eq "$(r42_sim GET /_sim/state | jq -r '[.vms[].status] | unique | join(" ")')" running
    [[ "$stderr" != *failed* ]] || fail "a failure: $stderr"
}

@test "max_workers from the cluster's options is used; RANGE42_PROXMOX_API_PARALLEL overrides it; a bad value is traced" {
    seed 6 '{"start": 0.5}'
    r42_sim POST /_sim/config '{"max_workers": 2}' >/dev/null
    start 100 101 102 103 104 105
    assert_eq "$status" 0
    assert_eq "$(in_flight)" 2 "tasks in flight with max_workers 2"
    assert_eq "$(rounds)" 3
    posts_paced 2 || fail "more than 2 in flight from the client's side"
    seed 6 '{"start": 0.5}'
    r42_sim POST /_sim/config '{"max_workers": 2}' >/dev/null
    RANGE42_PROXMOX_API_PARALLEL=3 start 100 101 102 103 104 105
    assert_eq "$status" 0
    assert_eq "$(in_flight)" 3 "tasks in flight with PARALLEL=3"
    assert_eq "$(r42_sim_log_count GET '^/api2/json/cluster/options$')" 0 "options read with PARALLEL set"
    seed 6 '{"start": 0.5}'
    RANGE42_PROXMOX_API_PARALLEL=lots start 100 101 102 103 104 105
    assert_eq "$status" 0
    assert_match "$stderr" "RANGE42_PROXMOX_API_PARALLEL=lots is not a number from 1 to 64: the cluster's max_workers is used"
    assert_eq "$(in_flight)" 4 "the default after a bad value"
    assert_eq "$(out_ids)" "100 101 102 103 104 105 "
}

@test "strict mode and PARALLEL=1: never two tasks in flight, no options request" {
    seed 4 '{"start": 0.3}'
    RANGE42_PROXMOX_API_STRICT=1 start 100 101 102 103
    assert_eq "$status" 0
    assert_eq "$(in_flight)" 1 "strict: tasks in flight"
    assert_eq "$(rounds)" 4
    seed 4 '{"start": 0.3}'
    r42_sim POST /_sim/config '{"max_workers": 8}' >/dev/null
    RANGE42_PROXMOX_API_STRICT=1 RANGE42_PROXMOX_API_PARALLEL=4 start 100 101 102 103
    assert_eq "$(in_flight)" 1 "strict with PARALLEL=4: tasks in flight"
    seed 4 '{"start": 0.3}'
    RANGE42_PROXMOX_API_PARALLEL=1 start 100 101 102 103
    assert_eq "$status" 0
    assert_eq "$(in_flight)" 1 "PARALLEL=1: tasks in flight"
    assert_eq "$(out_ids)" "100 101 102 103 "
    assert_eq "$(r42_sim_log_count GET '^/api2/json/cluster/options$')" 0 "options requests"
}

@test "two lines for one VM never have tasks in flight at once; the lines after wait too" {
    seed 4 '{"start": 0.5}'
    start 100 101 100 102
    assert_eq "$status" 0
    assert_eq "$(out_ids)" "100 101 100 102 "
    assert_eq "$(tasks | jq .max_in_flight_per_guest)" 1 "tasks at once on one VM"
    assert_eq "$(in_flight)" 2 "100 and 101 at once"
    assert_eq "$(post_order)" "100 101 100 102"
    # the second POST for 100 comes after its first task was seen ended
    jq -se '[.[] | select((.task_status == "stopped" and (.path | test("qmstart%3A100%3A"))) or
            (.method == "POST" and (.path | test("/qemu/100/"))))] | .[1].task_status == "stopped"' \
        "$R42_SIM_LOG" >/dev/null || fail "the second start of 100 went before its first ended"
    # the second one fails at its end (already running): a trace, its line printed, as the role does
    assert_match "$stderr" "vm_start vm 100 failed: Proxmox task failed: VM 100 already running"
}

@test "a failure in the middle of a concurrent batch: every other VM done, the same lines as one at a time" {
    local cfg='{"http_errors": {"103": [500, "VM 103 is locked (snapshot)"]},
                "task_errors": {"105": "start failed: out of memory"}}'
    seed 8 '{"start": 0.3}'
    r42_sim POST /_sim/config "$cfg" >/dev/null
    RANGE42_PROXMOX_API_PARALLEL=1 start 100 101 102 103 104 105 106 107
    assert_eq "$status" 0
    local want_out="$output" want_traces
    want_traces="$(traces)"
    assert_eq "$(in_flight)" 1
    seed 8 '{"start": 0.3}'
    r42_sim POST /_sim/config "$cfg" >/dev/null
    start 100 101 102 103 104 105 106 107
    assert_eq "$status" 0
    assert_eq "$(in_flight)" 4 "tasks in flight"
    assert_eq "$(sed -E 's/UPID:[^"]*/UPID/g' <<<"$output")" "$(sed -E 's/UPID:[^"]*/UPID/g' <<<"$want_out")" "stdout"
    assert_eq "$(traces)" "$want_traces" "trace lines"
    assert_eq "$(out_ids)" "100 101 102 104 105 106 107 " "lines (103 failed)"
    assert_match "$want_traces" "vm_start vm 103 failed: Status code was 500"
    assert_match "$want_traces" "vm_start vm 105 failed: Proxmox task failed: start failed: out of memory"
    assert_eq "$(r42_sim GET /_sim/state | jq -r '[.vms | to_entries[] | select(.value.status == "running") | .key] | join(" ")')" \
        "100 101 102 104 106 107" "VMs started"
    # strict mode stops at 103, as the devkit does, with nothing after it started
    seed 8 '{"start": 0.3}'
    r42_sim POST /_sim/config "$cfg" >/dev/null
    RANGE42_PROXMOX_API_STRICT=1 start 101 102 103 104
    assert_eq "$status" 2
    assert_eq "$(out_ids)" "101 102 "
    assert_eq "$(post_order)" "101 102 103"
}

@test "each line is written as soon as it and all before it are done" {
    seed 3 '{"start": 0.2}'
    r42_sim POST /_sim/config '{"task_forever": ["102"]}' >/dev/null
    mkfifo "$BATS_TEST_TMPDIR/out"
    RANGE42_PROXMOX_API_TASK_TIMEOUT=3 shim bash -c \
        'printf "%s\n" 100 101 102 | proxmox_vm.vm_id.start.to.jsons.sh' \
        >"$BATS_TEST_TMPDIR/out" 2>/dev/null &
    local pid=$! first second alive=no fd
    exec {fd}<"$BATS_TEST_TMPDIR/out"
    IFS= read -r -t 10 first <&"$fd"
    IFS= read -r -t 10 second <&"$fd"
    # both read while 102's task still runs (it never ends: the runner waits 3 s for it)
    kill -0 "$pid" 2>/dev/null && alive=yes
    cat <&"$fd" >/dev/null
    exec {fd}<&-
    wait "$pid"
    assert_eq "$alive" yes "the runner was still waiting for 102"
    assert_eq "$(jq -r .vm_id <<<"$first$second")" "100
101"
}

@test "*_all_vms: the state list's VMs, up to max_workers at once, in list order" {
    seed 6 '{"start": 0.5}'
    r42_sim POST /_sim/config '{"max_workers": 3}' >/dev/null
    r42_run shim timeout 60 bash -c 'echo px-testing | proxmox_vm.start_all_vms.to.jsons.sh'
    assert_eq "$status" 0
    assert_eq "$(out_ids)" "100 101 102 103 104 105 "
    assert_eq "$(post_order)" "100 101 102 103 104 105"
    assert_eq "$(in_flight)" 3
    assert_eq "$(rounds)" 2
}

@test "a traced script (delete): trace lines and results interleaved as one at a time, on one stream" {
    seed 5 '{"destroy": 0.3}'
    RANGE42_PROXMOX_API_PARALLEL=1 r42_run shim timeout 60 bash -c \
        'printf "%s\n" 100 101 102 103 104 | proxmox_vm.vm_id.delete.to.jsons.sh 2>&1'
    assert_eq "$status" 0
    local want="$output"
    assert_eq "$(grep '^:: TRACE' <<<"$want" | grep -vc r42intercept)" 5 "the devkit's per-line traces"
    seed 5 '{"destroy": 0.3}'
    r42_run shim timeout 60 bash -c \
        'printf "%s\n" 100 101 102 103 104 | proxmox_vm.vm_id.delete.to.jsons.sh 2>&1'
    assert_eq "$status" 0
    assert_eq "$(in_flight)" 4 "tasks in flight"
    assert_eq "$(sed -E 's/UPID:[^"]*/UPID/g' <<<"$output")" "$(sed -E 's/UPID:[^"]*/UPID/g' <<<"$want")"
    assert_eq "$(r42_sim GET /_sim/state | jq -c '.vms')" "{}"
}
