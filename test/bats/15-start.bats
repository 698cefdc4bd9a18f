#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-3.0-or-later
# Every way of starting r42intercept reaches the level the program is
# answered at: the r42intercept wrapper, LD_PRELOAD on the command itself
# (the shim's constructor), the range42-context snippet typed at an
# interactive bash, and a preloaded caller.  Under each: the fast path, a
# fall-back (stdin given back byte for byte, the runner started once, no
# pass marker left in the real program's environment), and programs that
# are not ours unchanged.  Also: a runner that cannot start is never silent
# (bad R42INTERCEPT_RUNNER, a broken shared library), closed descriptors
# 0-2, no core dumps, the wrapper's options, and make install/uninstall.

load ../lib/common

setup_file() { r42_file_env_up; }
teardown_file() { r42_file_env_down; }

WAYS=(wrapper preload snippet caller)

setup() {
    r42_reset
    export wrapper="$R42_TOP/build/r42intercept"
    export snippet="$R42_TOP/build/range42-context.sh"
    export ANSIBLE_CONFIG="$RANGE42_ANSIBLE_ROLES__DEVKITS_DIR/ansible_no_skipped_json.cfg"
    inv="$RANGE42_ANSIBLE_ROLES__INVENTORY_DIR/inventory_default.yml"
    vault="$RANGE42_ANSIBLE_ROLES__DEVKITS_DIR/secrets/default_vault.yml"
    # A runner that notes each start (pid, argv), then is the real one.
    real_runner="${R42INTERCEPT_RUNNER:-$R42_RUNNER}"
    runs="$BATS_TEST_TMPDIR/runs"
    : >"$runs"
    counter="$BATS_TEST_TMPDIR/counting-runner"
    printf '#!/bin/bash\necho "$$ $*" >>%q\nexec %q "$@"\n' \
        "$runs" "$real_runner" >"$counter"
    chmod +x "$counter"
    export R42INTERCEPT_RUNNER="$counter"
    # A stand-in ansible-playbook (python, like the real one): appends what
    # reached it to $R42_CAP (one line per call) and its stdin to $R42_CAP.in.
    fakebin="$BATS_TEST_TMPDIR/fakebin"
    mkdir -p "$fakebin"
    cat >"$fakebin/ansible-playbook" <<'EOS'
#!/usr/bin/python3
import hashlib, os, sys
fds = ",".join("%d:%s" % (fd, "open" if os.path.exists("/proc/self/fd/%d" % fd) else "closed")
               for fd in (0, 1, 2))
data = sys.stdin.buffer.read() if sys.stdin else b""
with open("/proc/self/environ", "rb") as f:
    raw = f.read()
marker = any(k.startswith("R42INTERCEPT_PASS") for k in os.environ) or b"R42INTERCEPT_PASS" in raw
cap = os.environ["R42_CAP"]
with open(cap, "a") as out:
    out.write("fds=%s stdin=%s marker=%s argv=%s\n" % (fds, hashlib.sha256(data).hexdigest()[:16],
                                                     marker, " ".join(sys.argv[1:])))
with open(cap + ".in", "ab") as out:
    out.write(data)
if sys.stdout:
    print('{"plays": []}')
EOS
    chmod +x "$fakebin/ansible-playbook"
    export R42_CAP="$BATS_TEST_TMPDIR/cap"
}

# Runs the commands in FILE in an interactive bash (no rc files, no
# history); its stderr without the job-control notices of a shell that has
# no terminal.
interactive() {
    local rc=0
    PS1= PS2= HISTFILE=/dev/null bash --norc --noprofile -i <"$1" 2>"$1.err" || rc=$?
    grep -v -e 'cannot set terminal process group' -e 'no job control in this shell' "$1.err" >&2
    return $rc
}

# Runs CMD... with stdin from the file IN, started the way WAY says:
#   wrapper   r42intercept CMD...
#   preload   LD_PRELOAD=lib CMD...   (from a shell that is not preloaded)
#   snippet   typed at an interactive bash that sourced range42-context.sh
#   caller    exec'd by a preloaded caller (execer execvp)
start_as() {
    local way="$1" in="$2"
    shift 2
    case "$way" in
    wrapper) "$wrapper" "$@" <"$in" ;;
    preload) LD_PRELOAD="$R42_SO" "$@" <"$in" ;;
    snippet)
        local typed
        typed="$(mktemp "$BATS_TEST_TMPDIR/typed.XXXXXX")"
        printf '. %q\n%s <%q\nexit $?\n' "$snippet" "$(printf '%q ' "$@")" "$in" >"$typed"
        interactive "$typed" ;;
    caller) LD_PRELOAD="$R42_SO" "$R42_EXECER" execvp "$@" <"$in" ;;
    esac
}
export -f interactive start_as

# Number of runner starts whose argv matches REGEX.
runs_of() {
    grep -c -E -- "$1" "$runs" || true
}

# Asserts the fake ansible-playbook ran once, with stdin SHA (16 hex
# digits) and no pass marker, and the runner started once for it.
assert_fake_once() {
    run cat "$R42_CAP"
    assert_eq "${#lines[@]}" 1 "$1: calls of the real ansible-playbook: $output" || return 1
    assert_match "$output" "stdin=$2 " "$1: stdin given back" || return 1
    assert_match "$output" "marker=False" "$1: a pass marker reached the real program" || return 1
    assert_eq "$(runs_of 'ansible-playbook')" 1 "$1: runner starts: $(cat "$runs")" || return 1
}

sha16() { sha256sum "$1" | cut -c1-16; }

@test "the wrapper, LD_PRELOAD on the script, the snippet: a devkit script is answered at the script level" {
    printf '101\n' >"$BATS_TEST_TMPDIR/in"
    for way in "${WAYS[@]}"; do
        r42_reset
        : >"$runs"
        r42_run start_as "$way" "$BATS_TEST_TMPDIR/in" proxmox_vm.vm_id.start.to.jsons.sh
        assert_eq "$status" 0 "$way: status; $stderr"
        assert_eq "$output" '{"action":"vm_start","proxmox_node":"px-testing","source":"proxmox-api","vm_id":"101","vm_name":"admin-builder-api","vm_status":"running"}' "$way"
        assert_match "$stderr" "fast path: proxmox_vm.vm_id.start.to.jsons.sh via the Proxmox API" "$way"
        # one runner start, for the script: none for ansible-vault or -playbook
        assert_eq "$(wc -l <"$runs")" 1 "$way: runner starts: $(cat "$runs")"
        assert_eq "$(runs_of 'proxmox_vm.vm_id.start.to.jsons.sh')" 1 "$way"
        assert_eq "$(sim_vm 101 status)" running "$way"
    done
}

@test "the wrapper, LD_PRELOAD on the command, the snippet: ansible-playbook is answered" {
    devkit_playbook vm_start vm_id=103 >"$BATS_TEST_TMPDIR/pb"
    for way in "${WAYS[@]}"; do
        r42_reset
        : >"$runs"
        r42_run start_as "$way" "$BATS_TEST_TMPDIR/pb" ansible-playbook -i "$inv" \
            --vault-password-file "$RANGE42_VAULT_PASSWORD_FILE" /dev/stdin
        assert_eq "$status" 0 "$way: status; $stderr"
        assert_eq "$(devkit_jq vm_start <<<"$output" | jq -r .source)" proxmox-api "$way"
        assert_match "$stderr" "fast path: vm_start vm 103 on px-testing" "$way"
        assert_eq "$(wc -l <"$runs")" 1 "$way: runner starts: $(cat "$runs")"
        assert_eq "$(sim_vm 103 status)" running "$way"
    done
}

@test "the wrapper, LD_PRELOAD on the command, the snippet: ansible-vault view is answered, as Debian's prints it" {
    printf 'x\n' >"$BATS_TEST_TMPDIR/none"
    run --separate-stderr ansible-vault view --vault-password-file "$RANGE42_VAULT_PASSWORD_FILE" "$vault"
    local want="$output"
    for way in "${WAYS[@]}"; do
        : >"$runs"
        # shellcheck disable=SC2030,SC2031
        run --separate-stderr start_as "$way" "$BATS_TEST_TMPDIR/none" ansible-vault view \
            --vault-password-file "$RANGE42_VAULT_PASSWORD_FILE" "$vault"
        assert_eq "$status" 0 "$way: status; $stderr"
        [[ "$output" == "$want" ]] || fail "$way: the plaintext differs" || return 1
        assert_eq "$(runs_of 'ansible-vault view')" 1 "$way: runner starts: $(wc -l <"$runs")"
    done
}

@test "fall-back under each way (FORCE=off, probe down): stdin given back, runner started once, no marker" {
    devkit_playbook vm_start vm_id=101 >"$BATS_TEST_TMPDIR/pb"
    for way in "${WAYS[@]}"; do
        for reason in force probe; do
            r42_reset
            : >"$runs"
            rm -f "$R42_CAP" "$R42_CAP.in"
            if [[ $reason == probe ]]; then
                r42_sim POST /_sim/config '{"probe_fail": true}' >/dev/null
                unset RANGE42_PROXMOX_API_FORCE
            else
                export RANGE42_PROXMOX_API_FORCE=off
            fi
            PATH="$fakebin:$PATH" r42_run start_as "$way" "$BATS_TEST_TMPDIR/pb" ansible-playbook \
                -i "$inv" --vault-password-file "$RANGE42_VAULT_PASSWORD_FILE" /dev/stdin
            assert_eq "$status" 0 "$way $reason: status; $stderr"
            assert_match "$stderr" "running the real ansible-playbook: (RANGE42_PROXMOX_API_FORCE=off|.*probe)" "$way $reason"
            assert_fake_once "$way $reason" "$(sha16 "$BATS_TEST_TMPDIR/pb")"
            cmp -s "$BATS_TEST_TMPDIR/pb" "$R42_CAP.in" || fail "$way $reason: stdin bytes differ"
        done
    done
    unset RANGE42_PROXMOX_API_FORCE
}

@test "fall-back of a devkit script under each way (probe down): its stdin lines reach it, one runner start for it" {
    # stdin read by the runner, then given back to the real script, whose
    # ansible-playbook calls (the stand-in) get one playbook per line
    printf '101\n{"vm_id": "103"}\n102\n' >"$BATS_TEST_TMPDIR/in"
    for way in "${WAYS[@]}"; do
        r42_reset
        r42_sim POST /_sim/config '{"probe_fail": true}' >/dev/null
        : >"$runs"
        rm -f "$R42_CAP" "$R42_CAP.in"
        PATH="$fakebin:$PATH" r42_run start_as "$way" "$BATS_TEST_TMPDIR/in" proxmox_vm.vm_id.start.to.jsons.sh
        assert_match "$stderr" "running the real proxmox_vm.vm_id.start.to.jsons.sh: .*probe" "$way"
        assert_eq "$(runs_of 'proxmox_vm.vm_id.start.to.jsons.sh')" 1 "$way: script runner starts: $(cat "$runs")"
        assert_eq "$(grep -o 'vm_id: "[0-9]*"' "$R42_CAP.in" | tr '\n' ' ')" \
            'vm_id: "101" vm_id: "103" vm_id: "102" ' "$way: the lines the real script read"
        assert_eq "$(grep -c 'marker=False' "$R42_CAP")" 3 "$way: $(cat "$R42_CAP")"
    done
}

@test "a pass marker survives programs that exec in place (#!/usr/bin/env, wrapper scripts), then is gone" {
    # ansible-playbook as a shell wrapper that execs python through env
    mkdir -p "$BATS_TEST_TMPDIR/lib"
    mv "$fakebin/ansible-playbook" "$BATS_TEST_TMPDIR/lib/ansible-playbook"
    sed -i '1s|.*|#!/usr/bin/env python3|' "$BATS_TEST_TMPDIR/lib/ansible-playbook"
    printf '#!/bin/sh\nexec /usr/bin/env python3 %q "$@"\n' "$BATS_TEST_TMPDIR/lib/ansible-playbook" \
        >"$fakebin/ansible-playbook"
    chmod +x "$fakebin/ansible-playbook"
    devkit_playbook vm_list >"$BATS_TEST_TMPDIR/pb"
    for way in wrapper preload caller; do
        : >"$runs"
        rm -f "$R42_CAP" "$R42_CAP.in"
        # bounded: a loop back into the runner would never end
        RANGE42_PROXMOX_API_FORCE=off PATH="$fakebin:$PATH" r42_run timeout 60 \
            bash -c 'start_as "$@"' _ "$way" "$BATS_TEST_TMPDIR/pb" ansible-playbook -i "$inv" pb
        assert_eq "$status" 0 "$way: status; $stderr"
        assert_fake_once "$way" "$(sha16 "$BATS_TEST_TMPDIR/pb")"
    done
}

@test "programs that are not ours: same output, errors and status under each way" {
    printf 'some input\n' >"$BATS_TEST_TMPDIR/in"
    local cmds=("ls /nonexistent-r42" "cat" "sh -c 'exit 7'" "python3 -c 'import sys; sys.exit(\"py error\")'"
        "jq -n '1 + error(\"boom\")'" "bash -c 'no-such-command-r42; exit 3'" "ansible-vault encrypt_string --help")
    local c way
    for c in "${cmds[@]}"; do
        run --separate-stderr bash -c "$c" <"$BATS_TEST_TMPDIR/in"
        local want="$status|$output|$stderr"
        for way in wrapper preload caller; do
            # shellcheck disable=SC2030,SC2031
            run --separate-stderr start_as "$way" "$BATS_TEST_TMPDIR/in" bash -c "$c"
            assert_eq "$status|$output|$stderr" "$want" "$way: $c"
        done
        # the snippet: the same interactive shell with and without it (the
        # shell echoes what it reads on stderr: the same text both times)
        printf '. "$S"\n%s <%q\nexit $?\n' "$c" "$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/typed"
        S=/dev/null run --separate-stderr interactive "$BATS_TEST_TMPDIR/typed"
        want="$status|$output|$stderr"
        S="$snippet" run --separate-stderr interactive "$BATS_TEST_TMPDIR/typed"
        assert_eq "$status|$output|$stderr" "$want" "snippet: $c"
    done
    assert_eq "$(wc -l <"$runs")" 0 "the runner started for a program that is not ours"
}

@test "the wrapper: --help, --version, -q, --, exit statuses" {
    run "$wrapper" --version
    assert_eq "$output" "r42intercept $(cat "$R42_TOP/VERSION")"
    run "$R42_RUNNER" --version
    assert_eq "$output" "r42intercept-runner $(cat "$R42_TOP/VERSION")"
    run "$wrapper" --help
    assert_eq "$status" 0
    assert_match "$output" "Usage: r42intercept \[OPTION\]... \[--\] COMMAND"
    assert_match "$output" "125 if r42intercept itself failed"
    run --separate-stderr "$wrapper"
    assert_eq "$status" 125 "no command"
    run --separate-stderr "$wrapper" --bogus true
    assert_eq "$status" 125 "unknown option"
    assert_match "$stderr" "^r42intercept: unrecognized option '--bogus'"
    run -127 --separate-stderr "$wrapper" no-such-command-r42
    assert_eq "$status:$stderr" "127:r42intercept: no-such-command-r42: No such file or directory"
    run --separate-stderr "$wrapper" "$BATS_TEST_TMPDIR"
    assert_eq "$status" 126 "a directory"
    run "$wrapper" sh -c 'exit 9'
    assert_eq "$status" 9 "the command's own status"
    run "$wrapper" -- sh -c 'echo "$LD_PRELOAD"'
    assert_eq "$output" "$R42_SO"
    LD_PRELOAD=libm.so.6 run "$wrapper" "$wrapper" sh -c 'echo "$LD_PRELOAD"'
    assert_eq "$output" "$R42_SO libm.so.6" "prepended once, other entries kept"
    # -q: no trace lines, same output
    printf '102\n' >"$BATS_TEST_TMPDIR/in"
    r42_run "$wrapper" -q proxmox_vm.vm_id.stop.to.jsons.sh <"$BATS_TEST_TMPDIR/in"
    assert_eq "$status" 0
    assert_eq "$stderr" "" "-q prints no trace"
    assert_match "$output" '"vm_id":"102".*"vm_status":"stopped"'
}

@test "the snippet names the build's library directory, and says when the library is missing" {
    grep -qF "r42_lib='$R42_TOP/build/libr42intercept.so'" "$snippet"
    sed "s|$R42_TOP/build|/nonexistent-r42|" "$snippet" >"$BATS_TEST_TMPDIR/snippet"
    run --separate-stderr bash --norc -c '. "$1"; echo "[$LD_PRELOAD]"' _ "$BATS_TEST_TMPDIR/snippet"
    assert_eq "$output" "[]"
    assert_match "$stderr" "libr42intercept.so is missing"
}

@test "a runner that cannot start says why once, and the real program runs" {
    devkit_playbook vm_list >"$BATS_TEST_TMPDIR/pb"
    printf '\177ELF garbage\n' >"$BATS_TEST_TMPDIR/garbage"
    chmod +x "$BATS_TEST_TMPDIR/garbage"
    printf '#!/bin/sh\n' >"$BATS_TEST_TMPDIR/not-exec"
    local bad reason
    for bad in "/nonexistent/runner:No such file or directory" "$BATS_TEST_TMPDIR:Permission denied" \
        "$BATS_TEST_TMPDIR/not-exec:Permission denied" "$BATS_TEST_TMPDIR/garbage:Exec format error"; do
        reason="${bad##*:}"
        for way in wrapper preload caller spawn; do
            rm -f "$R42_CAP" "$R42_CAP.in"
            if [[ $way == spawn ]]; then
                R42INTERCEPT_RUNNER="${bad%:*}" PATH="$fakebin:$PATH" r42_run shim "$R42_EXECER" posix_spawnp \
                    ansible-playbook -i "$inv" /dev/stdin <"$BATS_TEST_TMPDIR/pb"
            else
                R42INTERCEPT_RUNNER="${bad%:*}" PATH="$fakebin:$PATH" r42_run start_as "$way" \
                    "$BATS_TEST_TMPDIR/pb" ansible-playbook -i "$inv" /dev/stdin
            fi
            assert_eq "$status" 0 "$way ${bad%:*}"
            assert_eq "$(grep -c 'r42intercept' <<<"$stderr")" 1 "$way ${bad%:*}: one trace line: $stderr"
            assert_match "$stderr" "cannot start the runner ${bad%:*} \($reason\); running ansible-playbook as is" "$way"
            run cat "$R42_CAP"
            assert_eq "${#lines[@]}" 1 "$way ${bad%:*}: the real program ran once"
            assert_match "$output" "stdin=$(sha16 "$BATS_TEST_TMPDIR/pb") marker=False"
        done
    done
}

@test "a runner whose shared libraries are missing or broken says so and runs the real program" {
    devkit_playbook vm_list >"$BATS_TEST_TMPDIR/pb"
    # a libcjson that the dynamic loader cannot load
    mkdir -p "$BATS_TEST_TMPDIR/badlib"
    : >"$BATS_TEST_TMPDIR/badlib/libcjson.so.1"
    LD_LIBRARY_PATH="$BATS_TEST_TMPDIR/badlib" PATH="$fakebin:$PATH" r42_run start_as caller \
        "$BATS_TEST_TMPDIR/pb" ansible-playbook -i "$inv" /dev/stdin
    assert_eq "$status" 0 "$stderr"
    assert_match "$stderr" "running the real ansible-playbook: cannot load the runner's core: .*libcjson.so.1"
    assert_fake_once "broken library" "$(sha16 "$BATS_TEST_TMPDIR/pb")"
    # the front without its core
    rm -f "$R42_CAP"
    : >"$runs"
    cp "$real_runner" "$BATS_TEST_TMPDIR/r42intercept-runner"
    R42INTERCEPT_RUNNER="$BATS_TEST_TMPDIR/r42intercept-runner" PATH="$fakebin:$PATH" r42_run \
        start_as preload "$BATS_TEST_TMPDIR/pb" ansible-playbook -i "$inv" /dev/stdin
    assert_eq "$status" 0 "$stderr"
    assert_match "$stderr" "cannot load the runner's core: .*r42intercept-core.so: cannot open shared object file"
    run cat "$R42_CAP"
    assert_match "$output" "stdin=$(sha16 "$BATS_TEST_TMPDIR/pb") marker=False"
}

@test "a closed descriptor 0, 1 or 2: the real program runs at once, with the same descriptors closed" {
    devkit_playbook vm_list >"$BATS_TEST_TMPDIR/pb"
    local c redir fds
    for c in '<&-|0:closed,1:open,2:open' '>&-|0:open,1:closed,2:open' \
        '2>&-|0:open,1:open,2:closed' '<&- >&- 2>&-|0:closed,1:closed,2:closed'; do
        redir="${c%|*}" fds="${c#*|}"
        rm -f "$R42_CAP" "$R42_CAP.in"
        # the runner itself, not the counting script: bash would take a
        # closed descriptor for the script it reads
        R42INTERCEPT_RUNNER="$real_runner" PATH="$fakebin:$PATH" r42_run timeout 60 env LD_PRELOAD="$R42_SO" bash -c "ansible-playbook -i '$inv' --vault-password-file '$RANGE42_VAULT_PASSWORD_FILE' /dev/stdin $redir" <"$BATS_TEST_TMPDIR/pb"
        run cat "$R42_CAP"
        assert_eq "${#lines[@]}" 1 "[$redir] the real program ran once: $output"
        assert_match "$output" "fds=$fds " "[$redir] descriptors"
        [[ $fds == 0:closed* ]] || assert_match "$output" "stdin=$(sha16 "$BATS_TEST_TMPDIR/pb") " "[$redir] stdin"
    done
    # the trace line, when fd 2 is there to take it
    rm -f "$R42_CAP"
    R42INTERCEPT_RUNNER="$real_runner" PATH="$fakebin:$PATH" r42_run shim bash -c "ansible-playbook -i '$inv' /dev/stdin >&-" <"$BATS_TEST_TMPDIR/pb"
    assert_match "$stderr" "running the real ansible-playbook: file descriptor 1 is closed"
}

@test "the runner leaves no core dump, and the real program keeps the caller's core limit" {
    cd "$BATS_TEST_TMPDIR"
    # this system writes core files: a control process that crashes
    (ulimit -c unlimited && exec sleep 30) &
    local control=$!
    sleep 0.2
    kill -SEGV "$control"
    wait "$control" || true
    compgen -G 'core*' >/dev/null || fail "no core file from the control process: cannot test" || return 1
    rm -f core*
    # a runner in the middle of a call (the token read, the action sent)
    r42_sim POST /_sim/config '{"task_duration": 8}' >/dev/null
    printf '104\n' >in
    (ulimit -c unlimited && LD_PRELOAD="$R42_SO" exec proxmox_vm.vm_id.start.to.jsons.sh <in >out 2>err) &
    local job=$! i
    for i in $(seq 100); do
        [[ $(r42_sim_log_count POST '/qemu/104/status/start$') -ge 1 ]] && break
        sleep 0.1
    done
    [[ $(r42_sim_log_count POST '/qemu/104/status/start$') -ge 1 ]] || fail "the call did not start" || return 1
    local pid
    pid="$(cut -d' ' -f1 "$runs")"
    grep -q '^Max core file size *0 ' "/proc/$pid/limits" || fail "core limit: $(grep core "/proc/$pid/limits")"
    kill -SEGV "$pid"
    wait "$job" || true
    ! compgen -G 'core*' >/dev/null || fail "the runner left a core file" || return 1
    # a fall-back runs the real program with the caller's limit
    rm -f "$R42_CAP"
    printf '#!/bin/bash\nulimit -c >"$R42_CAP"\n' >"$fakebin/ansible-playbook"
    : >"$runs"
    PATH="$fakebin:$PATH" shim bash -c 'ulimit -c 12345 && exec ansible-playbook -v x' </dev/null 2>/dev/null
    assert_eq "$(wc -l <"$runs")" 1 "the runner ran"
    assert_eq "$(cat "$R42_CAP")" 12345
}

@test "make install: the installed library names the installed runner; another PREFIX rebuilds it; uninstall removes it all" {
    local dest="$BATS_TEST_TMPDIR/dest" f
    unset MAKEFLAGS MAKELEVEL MFLAGS
    run make -s -C "$R42_TOP" install DESTDIR="$dest" PREFIX=/opt/r42a
    assert_eq "$status" 0 "$output"
    for f in lib/r42intercept/libr42intercept.so lib/r42intercept/r42intercept-runner \
        lib/r42intercept/r42intercept-core.so bin/r42intercept share/doc/r42intercept/range42-context.sh \
        share/doc/r42intercept/README.md; do
        [[ -f "$dest/opt/r42a/$f" ]] || fail "not installed: $f" || return 1
    done
    grep -qaF /opt/r42a/lib/r42intercept/r42intercept-runner "$dest/opt/r42a/lib/r42intercept/libr42intercept.so"
    grep -qaF /opt/r42a/lib/r42intercept/libr42intercept.so "$dest/opt/r42a/bin/r42intercept"
    grep -qF "r42_lib='/opt/r42a/lib/r42intercept/libr42intercept.so'" "$dest/opt/r42a/share/doc/r42intercept/range42-context.sh"
    run make -s -C "$R42_TOP" install DESTDIR="$dest" PREFIX=/opt/r42b
    assert_eq "$status" 0 "$output"
    grep -qaF /opt/r42b/lib/r42intercept/r42intercept-runner "$dest/opt/r42b/lib/r42intercept/libr42intercept.so"
    ! grep -qaF /opt/r42a "$dest/opt/r42b/lib/r42intercept/libr42intercept.so" || fail "stale runner path"
    ! grep -qaF /opt/r42a "$dest/opt/r42b/bin/r42intercept" || fail "stale library path"
    run make -s -C "$R42_TOP" uninstall DESTDIR="$dest" PREFIX=/opt/r42a
    assert_eq "$status" 0 "$output"
    run make -s -C "$R42_TOP" uninstall DESTDIR="$dest" PREFIX=/opt/r42b
    assert_eq "$status" 0 "$output"
    run find "$dest" -mindepth 1 -not -type d
    assert_eq "$output" "" "files left after uninstall"
    run find "$dest/opt" -mindepth 1
    assert_eq "$output" "" "directories left after uninstall"
}
