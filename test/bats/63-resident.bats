#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-3.0-or-later
# The resident runner (fastpath/resident.c, fastpath/rescall.c): a call
# after the first is answered by a fork of a process that has the core
# loaded already, with the caller's descriptors, directory, environment and
# signals; the same output as without it; a fall-back execs the real program
# in the caller's own process; the front's signals and its death reach the
# call; one resident per context; it keeps nothing of the caller's; it ends
# when idle or when its socket goes; RANGE42_PROXMOX_API_RESIDENT=off and
# RANGE42_PROXMOX_API_CACHE=off start none.

load ../lib/common

setup_file() { r42_file_env_up; }
teardown_file() { r42_file_env_down; }

setup() {
    r42_reset
    dir="$XDG_RUNTIME_DIR/r42intercept"
    devkit_playbook vm_list >"$BATS_TEST_TMPDIR/pb"
}

teardown() {
    pkill -KILL -f -- "--resident $XDG_RUNTIME_DIR/" 2>/dev/null || true
}

# One vm_list ansible-playbook call through the library, profiled.
call() {
    shim env R42INTERCEPT_PROFILE=1 "$@" bash -c devkit_ansible_playbook <"$BATS_TEST_TMPDIR/pb"
}

# ansible-playbook as the devkit calls it, exec'd: the job's pid is the
# runner's front.
exec_playbook() {
    ANSIBLE_CONFIG="$RANGE42_ANSIBLE_ROLES__DEVKITS_DIR/ansible_no_skipped_json.cfg" \
        exec ansible-playbook -i "$RANGE42_ANSIBLE_ROLES__INVENTORY_DIR/inventory_default.yml" \
        --vault-password-file "$RANGE42_VAULT_PASSWORD_FILE" /dev/stdin
}
export -f exec_playbook

# The resident sockets of this test's directory, one per line.
sockets() { compgen -G "$dir/resident-*.sock" || true; }

# Waits (at most 10 s) until N sockets are there.
wait_sockets() {
    local i
    for ((i = 0; i < 100; i++)); do
        [[ $(sockets | grep -c .) -eq $1 ]] && return 0
        sleep 0.1
    done
    fail "sockets: want $1, have: $(sockets)"
}

# The pid of the resident serving socket $1.
resident_pid() {
    local key="${1##*resident-}"
    pgrep -f -- "--resident $dir ${key%.sock} " | head -1
}

# Starts, in the background, a vm_start of VM 101 whose task lasts 20 s,
# exec'd by the job itself (its pid: $job, the front; stderr to $1), once
# a resident serves this test ($rpid), and waits until the call's POST.
start_long_call() {
    call >/dev/null 2>&1
    wait_sockets 1
    rpid="$(resident_pid "$(sockets)")"
    r42_sim POST /_sim/config '{"task_duration": 20}' >/dev/null
    devkit_playbook vm_start vm_id=101 >"$BATS_TEST_TMPDIR/start"
    env LD_PRELOAD="$R42_SO" bash -c exec_playbook <"$BATS_TEST_TMPDIR/start" >/dev/null 2>"$1" &
    job=$!
    local i
    for ((i = 0; i < 100; i++)); do
        [[ $(r42_sim_log_count POST '/qemu/101/status/start$') -ge 1 ]] && return 0
        sleep 0.1
    done
    fail "the call did not start"
}

# Waits (at most 5 s) until the resident $rpid has $1 children; prints how
# many it has.
resident_children() {
    local i
    for ((i = 0; i < 50; i++)); do
        [[ $(pgrep -P "$rpid" | grep -c .) -eq $1 ]] && break
        sleep 0.1
    done
    pgrep -P "$rpid" | grep -c .
}

# True when the profile in $1 says the resident answered.
by_resident() { grep -q 'profile call handed over to the resident runner' <<<"$1"; }

@test "the second call is answered by the resident, with the same output as without it" {
    r42_run call
    assert_eq "$status" 0
    ! by_resident "$stderr" || fail "the first call cannot have a resident"
    wait_sockets 1
    r42_run call
    assert_eq "$status" 0
    by_resident "$stderr" || fail "the resident did not answer: $stderr"
    local via off
    via="$(devkit_jq vm_list <<<"$output")"
    r42_run call RANGE42_PROXMOX_API_RESIDENT=off
    assert_eq "$status" 0
    ! by_resident "$stderr" || fail "RESIDENT=off was answered by the resident"
    off="$(devkit_jq vm_list <<<"$output")"
    [[ -n "$via" ]] || fail "no vm_list result"
    assert_eq "$via" "$off" "the resident's answer and the in-process one"
    # the resident's files: private
    local sock
    sock="$(sockets)"
    assert_eq "$(stat -c %a "$dir")" 700
    [[ -S "$sock" ]] || fail "$sock is not a socket"
}

@test "RANGE42_PROXMOX_API_RESIDENT=off and RANGE42_PROXMOX_API_CACHE=off start no resident" {
    local setting
    for setting in RANGE42_PROXMOX_API_RESIDENT=off RANGE42_PROXMOX_API_CACHE=off; do
        r42_run call "$setting"
        assert_eq "$status" 0
        r42_run call "$setting"
        ! by_resident "$stderr" || fail "$setting: answered by a resident"
    done
    sleep 0.5
    assert_eq "$(sockets)" "" "no resident socket"
    assert_eq "$(pgrep -f -- "--resident $XDG_RUNTIME_DIR/" || true)" "" "no resident process"
    r42_run call RANGE42_PROXMOX_API_RESIDENT=sometimes
    assert_match "$stderr" "RANGE42_PROXMOX_API_RESIDENT=sometimes is not valid"
}

@test "the call runs with the caller's directory, umask, environment and descriptors" {
    call >/dev/null 2>&1
    wait_sockets 1
    # a vault password script shows what the call's process sees
    local pw="$BATS_TEST_TMPDIR/pw.sh" seen="$BATS_TEST_TMPDIR/seen"
    {
        printf '#!/bin/bash\n'
        printf '{ pwd; umask; printf "%%s\\n" "$R42_TEST_MARK"; readlink /proc/$PPID/fd/7; } >%q\n' "$seen"
        printf 'cat %q\n' "$RANGE42_VAULT_PASSWORD_FILE"
    } >"$pw"
    chmod +x "$pw"
    mkdir "$BATS_TEST_TMPDIR/work"
    (
        cd "$BATS_TEST_TMPDIR/work" && umask 0027 && exec 7>"$BATS_TEST_TMPDIR/seven" &&
            R42_TEST_MARK=hello RANGE42_VAULT_PASSWORD_FILE="$pw" \
                shim env R42INTERCEPT_PROFILE=1 bash -c devkit_ansible_playbook \
                <"$BATS_TEST_TMPDIR/pb" >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err"
    )
    by_resident "$(cat "$BATS_TEST_TMPDIR/err")" || fail "not the resident: $(cat "$BATS_TEST_TMPDIR/err")"
    [[ -n "$(devkit_jq vm_list <"$BATS_TEST_TMPDIR/out")" ]] || fail "no result"
    assert_eq "$(cat "$seen")" "$BATS_TEST_TMPDIR/work
0027
hello
$BATS_TEST_TMPDIR/seven" "what the call saw"
}

@test "a fall-back through the resident execs the real program in the caller's process, stdin intact" {
    call >/dev/null 2>&1
    wait_sockets 1
    local fakebin="$BATS_TEST_TMPDIR/bin" cap="$BATS_TEST_TMPDIR/cap"
    mkdir "$fakebin"
    printf '#!/bin/bash\necho $$ >%q.pid\ncat >%q.stdin\necho fake-ansible\n' "$cap" "$cap" \
        >"$fakebin/ansible-playbook"
    chmod +x "$fakebin/ansible-playbook"
    # the runner reads the playbook from the pipe, then falls back
    # (FORCE=off): the real program must get the same bytes, as the
    # caller's process (exec, same pid)
    r42_run bash -c 'echo $$ >"$1"; cat "$2" | PATH="$3:$PATH" LD_PRELOAD="$R42_SO" \
        R42INTERCEPT_PROFILE=1 RANGE42_PROXMOX_API_FORCE=off \
        bash -c '\''echo $$ >"$0.front"; exec ansible-playbook -i x --vault-password-file y /dev/stdin'\'' "$1"' \
        _ "$BATS_TEST_TMPDIR/shell" "$BATS_TEST_TMPDIR/pb" "$fakebin"
    assert_eq "$status" 0
    assert_eq "$output" "fake-ansible"
    by_resident "$stderr" || fail "not the resident: $stderr"
    cmp "$cap.stdin" "$BATS_TEST_TMPDIR/pb" || fail "stdin differs"
    assert_eq "$(cat "$cap.pid")" "$(cat "$BATS_TEST_TMPDIR/shell.front")" "the real program's pid"
}

@test "the front's signal reaches the call, and the front ends of it" {
    start_long_call "$BATS_TEST_TMPDIR/err" || return 1
    assert_eq "$(pgrep -P "$rpid" | grep -c .)" 2 "the call and the spare under the resident"
    kill -TERM "$job"
    local rc=0
    wait "$job" || rc=$?
    assert_eq "$rc" 143 "the front's status: killed by SIGTERM"
    assert_eq "$(resident_children 1)" 1 "only the spare left"
    local polls
    polls="$(r42_sim_log_count GET '/tasks/')"
    sleep 1.5
    assert_eq "$(r42_sim_log_count GET '/tasks/')" "$polls" "no task poll after the call ended"
}

@test "a front killed outright takes its call with it" {
    start_long_call /dev/null || return 1
    kill -KILL "$job"
    wait "$job" || true
    assert_eq "$(resident_children 1)" 1 "the call is gone, the spare left"
}

@test "one resident per context: the libraries' environment and the session keyring make another" {
    call >/dev/null 2>&1
    wait_sockets 1
    call >/dev/null 2>&1 # the same context: no second one
    sleep 0.3
    wait_sockets 1
    call OPENSSL_CONF=/dev/null >/dev/null 2>&1
    wait_sockets 2
    "$R42_TOP/build/progs/keytool" session "r42res-$$" \
        env LD_PRELOAD="$R42_SO" bash -c devkit_ansible_playbook <"$BATS_TEST_TMPDIR/pb" >/dev/null 2>&1
    wait_sockets 3
    # and each answers its own context's calls
    r42_run call OPENSSL_CONF=/dev/null
    assert_eq "$status" 0
    by_resident "$stderr" || fail "OPENSSL_CONF=/dev/null: not answered by its resident"
}

@test "the resident keeps none of the caller's descriptors or variables" {
    exec 7>"$BATS_TEST_TMPDIR/seven"
    R42_TEST_MARK=hello call >/dev/null 2>&1
    exec 7>&-
    wait_sockets 1
    local rpid fds
    rpid="$(resident_pid "$(sockets)")"
    [[ -n "$rpid" ]] || fail "no resident process"
    fds="$(ls -l "/proc/$rpid/fd" | sed 's/.*-> //')"
    ! grep -q "$BATS_TEST_TMPDIR/seven" <<<"$fds" || fail "the caller's fd 7 is kept: $fds"
    ! grep -q 'pipe:' <<<"$fds" || fail "a caller's pipe is kept: $fds"
    local env
    env="$(tr '\0' '\n' <"/proc/$rpid/environ")"
    ! grep -qE '^(R42_TEST_MARK|RANGE42_|LD_PRELOAD|R42INTERCEPT_)' <<<"$env" ||
        fail "the resident's environment holds the caller's: $env"
    assert_no_secret "$env"
}

@test "the resident ends when idle, and when its socket is removed" {
    call RANGE42_PROXMOX_API_RESIDENT=2 >/dev/null 2>&1
    wait_sockets 1
    local rpid i
    rpid="$(resident_pid "$(sockets)")"
    [[ -n "$rpid" ]] || fail "no resident"
    for ((i = 0; i < 100; i++)); do
        kill -0 "$rpid" 2>/dev/null || break
        sleep 0.1
    done
    ! kill -0 "$rpid" 2>/dev/null || fail "still there 10 s after 2 s idle"
    assert_eq "$(sockets)" "" "its socket removed"
    call >/dev/null 2>&1
    wait_sockets 1
    rpid="$(resident_pid "$(sockets)")"
    rm -rf "$dir"
    for ((i = 0; i < 100; i++)); do
        kill -0 "$rpid" 2>/dev/null || break
        sleep 0.1
    done
    ! kill -0 "$rpid" 2>/dev/null || fail "still there 10 s after its socket went"
}

@test "calls at once through one resident: each gets its own answer" {
    call >/dev/null 2>&1
    wait_sockets 1
    local i
    for i in 100 101 102 103 104 105; do
        devkit_playbook snapshot_vm_list vm_id="$i" >"$BATS_TEST_TMPDIR/pb$i"
        shim env R42INTERCEPT_PROFILE=1 bash -c devkit_ansible_playbook <"$BATS_TEST_TMPDIR/pb$i" \
            >"$BATS_TEST_TMPDIR/out$i" 2>"$BATS_TEST_TMPDIR/err$i" &
    done
    wait
    for i in 100 101 102 103 104 105; do
        by_resident "$(cat "$BATS_TEST_TMPDIR/err$i")" || fail "$i: not the resident"
        assert_eq "$(devkit_jq snapshot_vm_list <"$BATS_TEST_TMPDIR/out$i" | jq -r '.[0].vm_id')" "$i" "the answer for $i"
    done
}

@test "a traced caller (strace -f) is answered in its own process, and starts no resident" {
    # (LeakSanitizer cannot run under ptrace: off in every call here, the
    # same environment for all, so that they share one context)
    local asan="ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
    r42_run strace -f -qq -o /dev/null env LD_PRELOAD="$R42_SO" R42INTERCEPT_PROFILE=1 "$asan" \
        bash -c devkit_ansible_playbook <"$BATS_TEST_TMPDIR/pb"
    assert_eq "$status" 0
    ! by_resident "$stderr" || fail "traced, answered by a resident"
    sleep 0.5
    assert_eq "$(sockets)" "" "a resident started under strace"
    # with a resident there, a traced call still runs where the tracer sees it
    call "$asan" >/dev/null 2>&1
    wait_sockets 1
    r42_run call "$asan"
    by_resident "$stderr" || fail "the untraced call was not answered by the resident"
    r42_run strace -f -qq -o "$BATS_TEST_TMPDIR/trace" env LD_PRELOAD="$R42_SO" R42INTERCEPT_PROFILE=1 "$asan" \
        bash -c devkit_ansible_playbook <"$BATS_TEST_TMPDIR/pb"
    assert_eq "$status" 0
    ! by_resident "$stderr" || fail "traced, answered by the resident"
    grep -q 'connect(.*AF_INET' "$BATS_TEST_TMPDIR/trace" || fail "the API connection is not in the trace"
}

@test "the event log names the caller's process, not the resident's fork" {
    call >/dev/null 2>&1
    wait_sockets 1
    local log="$BATS_TEST_TMPDIR/events.jsonl"
    r42_run bash -c 'echo $$ >"$1"; R42INTERCEPT_LOG="$2" R42INTERCEPT_PROFILE=1 LD_PRELOAD="$R42_SO" \
        exec bash -c exec_playbook' _ "$BATS_TEST_TMPDIR/pid" "$log" <"$BATS_TEST_TMPDIR/pb"
    assert_eq "$status" 0
    by_resident "$stderr" || fail "not the resident: $stderr"
    assert_eq "$(jq -r .outcome "$log")" answered
    assert_eq "$(jq -r .pid "$log")" "$(cat "$BATS_TEST_TMPDIR/pid")" "the log's pid"
}
