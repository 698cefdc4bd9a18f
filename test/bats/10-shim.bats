#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-3.0-or-later
# The preloaded shim alone: which execs it re-aims at the runner, through
# every hooked function, and that everything else runs exactly as without
# it (output, errno, exit codes).  A fake runner records what it is given.

load ../lib/common

setup() {
    bin="$BATS_TEST_TMPDIR/bin"
    mkdir -p "$bin"
    printf '#!/bin/sh\necho "REAL ansible-playbook $*"\n' >"$bin/ansible-playbook"
    chmod +x "$bin/ansible-playbook"
    fake="$BATS_TEST_TMPDIR/fake-runner"
    cat >"$fake" <<'EOS'
#!/bin/bash
# records its argv, one per line, then its environment, and fd 3's state
{
    printf 'ARG %s\n' "$@"
    env | sort | sed 's/^/ENV /'
    [ -e /proc/self/fd/3 ] && echo "FD3 open" || echo "FD3 closed"
} >"$R42_FAKE_OUT"
echo "FAKE RUNNER"
EOS
    chmod +x "$fake"
    export R42_FAKE_OUT="$BATS_TEST_TMPDIR/fake.out"
    export PATH="$bin:$PATH"
}

# The runner must see: --r42-exec, the resolved program path, then the
# caller's argv (argv[0] as given: $2, default "ansible-playbook").
assert_rerouted_to_fake() {
    assert_eq "$output" "FAKE RUNNER" "$1: the fake runner ran" || return 1
    run grep '^ARG ' "$R42_FAKE_OUT"
    assert_eq "$output" "$(printf 'ARG %s\n' --r42-exec "$bin/ansible-playbook" "${2:-ansible-playbook}" -i inv /dev/stdin)" \
        "$1: runner argv" || return 1
}

@test "every exec function re-aims ansible-playbook at the runner" {
    for mode in execve execv execl execle execveat fexecve fork-execve vfork-execve posix_spawn; do
        R42INTERCEPT_RUNNER="$fake" r42_run shim "$R42_EXECER" "$mode" "$bin/ansible-playbook" -i inv /dev/stdin
        assert_rerouted_to_fake "$mode" "$bin/ansible-playbook"
    done
    for mode in execvp execvpe execlp posix_spawnp; do
        R42INTERCEPT_RUNNER="$fake" r42_run shim "$R42_EXECER" "$mode" ansible-playbook -i inv /dev/stdin
        assert_rerouted_to_fake "$mode (PATH search)"
    done
}

@test "the runner gets the caller's environment and file descriptors unchanged" {
    R42INTERCEPT_RUNNER="$fake" shim "$R42_EXECER" execvp ansible-playbook -i inv /dev/stdin 3>/dev/null
    grep -e '^ENV ' -e '^FD3' "$R42_FAKE_OUT" | grep -v '^ENV _=' >"$BATS_TEST_TMPDIR/via-shim"
    # what a program that is not ours gets from the same exec, same env
    cp "$fake" "$bin/recorder"
    R42INTERCEPT_RUNNER="$fake" shim "$R42_EXECER" execvp recorder 3>/dev/null
    grep -e '^ENV ' -e '^FD3' "$R42_FAKE_OUT" | grep -v '^ENV _=' >"$BATS_TEST_TMPDIR/direct"
    run diff "$BATS_TEST_TMPDIR/direct" "$BATS_TEST_TMPDIR/via-shim"
    assert_eq "$status" 0 "environment or fds differ: $output"
    grep -q '^ENV LD_PRELOAD=' "$BATS_TEST_TMPDIR/via-shim"
    grep -q '^FD3 open' "$BATS_TEST_TMPDIR/via-shim"
}

@test "python3 subprocess callers are re-aimed (vfork+exec and posix_spawn)" {
    R42INTERCEPT_RUNNER="$fake" r42_run shim python3 -c \
        'import subprocess; subprocess.run(["ansible-playbook", "-i", "inv", "/dev/stdin"], check=True)'
    assert_rerouted_to_fake "subprocess.run (fork_exec)"
    R42INTERCEPT_RUNNER="$fake" r42_run shim python3 -c \
        'import subprocess, sys; subprocess.run([sys.argv[1], "-i", "inv", "/dev/stdin"], close_fds=False, check=True)' \
        "$bin/ansible-playbook"
    assert_rerouted_to_fake "subprocess.run (posix_spawn)" "$bin/ansible-playbook"
}

@test "python3 running the ansible-playbook script is re-aimed" {
    printf '# not run\n' >"$BATS_TEST_TMPDIR/ansible-playbook"
    R42INTERCEPT_RUNNER="$fake" r42_run shim "$R42_EXECER" execv /usr/bin/python3 \
        -u "$BATS_TEST_TMPDIR/ansible-playbook" -i inv pb
    assert_eq "$output" "FAKE RUNNER"
    run grep '^ARG' "$R42_FAKE_OUT"
    assert_eq "$output" "$(printf 'ARG %s\n' --r42-exec /usr/bin/python3 /usr/bin/python3 -u \
        "$BATS_TEST_TMPDIR/ansible-playbook" -i inv pb)"
}

@test "without a runner the real program runs" {
    R42INTERCEPT_RUNNER=/nonexistent/runner r42_run shim "$R42_EXECER" execvp ansible-playbook -i inv x
    assert_eq "$status" 0
    assert_eq "$output" "REAL ansible-playbook -i inv x"
}

@test "errno and fall-backs of exec*p are glibc's for programs that are not ours" {
    mkdir -p "$BATS_TEST_TMPDIR/noexec"
    printf 'echo hi\n' >"$BATS_TEST_TMPDIR/noexec/not-exec"
    printf 'echo "script ran $1"\n' >"$bin/no-shebang"
    chmod +x "$bin/no-shebang"
    for args in "execvp no-such-program" "execvpe no-such-program" "execlp no-such-program" \
        "execv /no/such/file" "execve $BATS_TEST_TMPDIR/noexec/not-exec" \
        "execvp no-shebang arg1" "execv $bin/no-shebang arg1" "execvp $BATS_TEST_TMPDIR" \
        "posix_spawnp no-such-program" "posix_spawn /no/such/file" "execvp echo plain echo"; do
        # shellcheck disable=SC2086
        run "$R42_EXECER" $args
        local want="$status:$output"
        # shellcheck disable=SC2086
        r42_run shim "$R42_EXECER" $args
        assert_eq "$status:$output" "$want" "execer $args"
    done
    PATH="$BATS_TEST_TMPDIR/noexec:$PATH" run "$R42_EXECER" execvp not-exec
    assert_eq "$output" "errno=EACCES"
    PATH="$BATS_TEST_TMPDIR/noexec:$PATH" r42_run shim "$R42_EXECER" execvp not-exec
    assert_eq "$output" "errno=EACCES" "EACCES is remembered through the PATH search"
}

@test "jq, bash, grep and sed behave exactly as without the shim" {
    script='printf "%s\n" "{\"a\":1}" "{\"a\":2}" | jq -c ".a" | grep -v 1 | sed s/2/two/
            echo "$((6*7))" | tr 4 x; (exit 3); echo "rc=$?"; ls /nonexistent 2>&1 | head -c 20
            jq -n "1 + 1"; bash -c "exit 5"; echo "rc=$?"; command -v ansible-playbook >/dev/null; echo found=$?'
    run --separate-stderr bash -c "$script"
    local want_out="$output" want_err="$stderr" want_rc="$status"
    r42_run shim bash -c "$script"
    assert_eq "$status" "$want_rc"
    assert_eq "$output" "$want_out"
    assert_eq "$stderr" "$want_err"
}

@test "exec*p: a script without #! and 4096 or more arguments runs with /bin/sh, as glibc does" {
    printf 'echo "ran $#"\n' >"$bin/no-shebang"
    chmod +x "$bin/no-shebang"
    local n
    for n in 4095 4096 5000 100000; do
        # shellcheck disable=SC2046
        run "$R42_EXECER" execvp no-shebang $(seq "$n")
        assert_eq "$output" "ran $n" "without the shim"
        # shellcheck disable=SC2046
        r42_run shim "$R42_EXECER" execvp no-shebang $(seq "$n")
        assert_eq "$status:$output" "0:ran $n" "$n arguments"
    done
}

@test "exec*p: the name-length limit is glibc's (255 characters are searched for)" {
    local n name
    for n in 254 255 256 300; do
        name="$(printf 'a%.0s' $(seq "$n"))"
        run "$R42_EXECER" execvp "$name"
        local want="$output"
        r42_run shim "$R42_EXECER" execvp "$name"
        assert_eq "$output" "$want" "a $n-character name"
    done
    assert_eq "$want" "errno=ENAMETOOLONG"
}
