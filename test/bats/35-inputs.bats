#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-3.0-or-later
# What the runner reads of its caller's inputs, and what it leaves to the
# real program: files given as paths that are not regular files (a
# process substitution, a named FIFO), stdin that is a device or a regular
# file shared with the next reader, a real program without a #! line, and
# a playbook path that is not UTF-8.  Every call that may block is bounded
# with `timeout`.

load ../lib/common

setup_file() { r42_file_env_up; }
teardown_file() { r42_file_env_down; }
setup() {
    r42_reset
    # stand-ins for ansible-playbook and ansible-vault: they record their
    # argv, what their stdin is, and (unless R42_NOREAD is set) the sha256
    # of each file they read: the --vault-password-file, the last argument
    # (playbook or vault) and $R42_VARS (the play's vars file)
    fakebin="$BATS_TEST_TMPDIR/fakebin"
    mkdir -p "$fakebin"
    cat >"$fakebin/ansible-playbook" <<'EOS'
#!/bin/bash
printf '%s\n' "$@" >"$R42_CAP.argv"
stat -L -c '%F %t:%T' /dev/stdin >"$R42_CAP.stdin" 2>&1
[[ -n ${R42_NOREAD:-} ]] || {
    prev=
    for a in "$@"; do
        [[ $prev == --vault-password-file ]] && sha256sum <"$a"
        prev=$a
    done
    sha256sum <"${!#}"
    [[ -z ${R42_VARS:-} ]] || sha256sum <"$R42_VARS"
} | cut -c1-64 >"$R42_CAP.read"
echo "FAKE ${0##*/}"
EOS
    chmod +x "$fakebin/ansible-playbook"
    cp "$fakebin/ansible-playbook" "$fakebin/ansible-vault"
    export ANSIBLE_CONFIG="$RANGE42_ANSIBLE_ROLES__DEVKITS_DIR/ansible_no_skipped_json.cfg"
    inv="$RANGE42_ANSIBLE_ROLES__INVENTORY_DIR/inventory_default.yml"
    vpf="$RANGE42_VAULT_PASSWORD_FILE"
    vault="$RANGE42_ANSIBLE_ROLES__DEVKITS_DIR/secrets/default_vault.yml"
    pb="$BATS_TEST_TMPDIR/pb.yml"
    devkit_playbook vm_list >"$pb"
    export inv vpf vault pb
    export -f devkit_jq
}

sha() { sha256sum <"$1" | cut -c1-64; }

# fifo NAME SOURCE: $f, a named FIFO with a writer that copies SOURCE into
# it (bounded: it gives up after 40 s without a reader).
fifo() {
    f="$BATS_TEST_TMPDIR/$1"
    mkfifo "$f"
    timeout 40 bash -c 'cat "$0" >"$1"' "$2" "$f" </dev/null >/dev/null 2>&1 &
}

# fake_run WHAT CMD: CMD with the shim and the stand-ins first in PATH,
# bounded; the stand-in must have run and read, in order, the files whose
# copies are the rest of the arguments after "--".
fake_run() {
    local cmd="$1"
    shift
    R42_CAP="$BATS_TEST_TMPDIR/cap" PATH="$fakebin:$PATH" r42_run timeout 30 \
        env LD_PRELOAD="$R42_SO" bash -c "$cmd"
    assert_eq "$status" 0 "exit status (124: it hung)" || return 1
    assert_match "$output" '^FAKE ansible-(playbook|vault)$' || return 1
    local want="" f
    for f in "$@"; do want+="$(sha "$f")"$'\n'; done
    assert_eq "$(cat "$BATS_TEST_TMPDIR/cap.read")"$'\n' "$want" \
        "the real program got other bytes" || return 1
}

probe_down() {
    r42_sim POST /_sim/config '{"probe_fail": true}' >/dev/null
}

# ---- files given as paths ------------------------------------------------

@test "a playbook given as <(...) or a named FIFO is left for the real ansible-playbook" {
    probe_down # the runner would read the playbook, then fall back
    fake_run 'ansible-playbook -i "$inv" --vault-password-file "$vpf" <(cat "$pb")' "$vpf" "$pb"
    assert_match "$stderr" "running the real ansible-playbook: playbook /dev/fd/[0-9]+: not a regular file"
    fifo pb.fifo "$pb"
    fake_run "ansible-playbook -i \"\$inv\" --vault-password-file \"\$vpf\" $f" "$vpf" "$pb"
    assert_match "$stderr" "playbook $f: not a regular file"
}

@test "a vault password file given as <(...) or a named FIFO is left for the real program" {
    probe_down
    fake_run 'ansible-playbook -i "$inv" --vault-password-file <(cat "$vpf") "$pb"' "$vpf" "$pb"
    assert_match "$stderr" "vault password file /dev/fd/[0-9]+: not a regular file"
    fifo pw.fifo "$vpf"
    fake_run "ansible-playbook -i \"\$inv\" --vault-password-file $f \"\$pb\"" "$vpf" "$pb"
    # ansible-vault view reads its password files first
    fifo pw2.fifo "$vpf"
    fake_run "ansible-vault view --vault-password-file $f \"\$vault\" | cat" "$vpf" "$vault"
    assert_match "$stderr" "vault password file $f: not a regular file"
}

@test "a vault given as <(...) or a named FIFO is left for the real program" {
    # a wrong password: the runner would read the vault, then fall back
    printf 'wrong\n' >"$BATS_TEST_TMPDIR/wrong"
    wrong="$BATS_TEST_TMPDIR/wrong"
    fake_run "ansible-vault view --vault-password-file $wrong <(cat \"\$vault\") | cat" "$wrong" "$vault"
    assert_match "$stderr" "/dev/fd/[0-9]+: not a regular file"
    fifo vault.fifo "$vault"
    fake_run "ansible-vault view --vault-password-file $wrong $f | cat" "$wrong" "$vault"
    # the play's vars file
    probe_down
    fifo vars.fifo "$vault"
    sed "s|\"$vault\"|\"$f\"|" "$pb" >"$BATS_TEST_TMPDIR/pb-fifo.yml"
    grep -q "$f" "$BATS_TEST_TMPDIR/pb-fifo.yml"
    R42_VARS="$f" fake_run 'ansible-playbook -i "$inv" --vault-password-file "$vpf" "$BATS_TEST_TMPDIR/pb-fifo.yml"' \
        "$vpf" "$BATS_TEST_TMPDIR/pb-fifo.yml" "$vault"
    assert_match "$stderr" "vars file $f: not a regular file"
}

@test "an ansible.cfg given as a pipe is left for the real ansible-playbook" {
    probe_down
    cfg="$ANSIBLE_CONFIG"
    export cfg
    R42_VARS=/dev/fd/3 fake_run 'exec 3< <(cat "$cfg"); ANSIBLE_CONFIG=/dev/fd/3 ansible-playbook -i "$inv" --vault-password-file "$vpf" "$pb"' \
        "$vpf" "$pb" "$cfg"
    assert_match "$stderr" "running the real ansible-playbook: cannot read /dev/fd/3"
}

@test "the real ansible-playbook runs a playbook given as <(...) that has two plays" {
    # read and parsed by the runner before the fix: the second play sent it
    # back to ansible, which found the pipe empty
    printf '      - hosts: other\n        tasks: []\n' >>"$pb"
    # (real ansible's document holds the token: only the devkit's jq of it is
    # kept)
    r42_run timeout 60 env LD_PRELOAD="$R42_SO" bash -c \
        'set -o pipefail; ansible-playbook -i "$inv" --vault-password-file "$vpf" <(cat "$pb") | devkit_jq vm_list'
    assert_eq "$status" 0
    assert_match "$stderr" "not a regular file"
    assert_eq "$(jq -c '.[0].vm_id' <<<"$output")" 100
}

# ---- stdin ----------------------------------------------------------------

# A character device on stdin is never read: the real program gets it, as
# it was, with its own message and status.
@test "stdin /dev/null or /dev/zero reaches the real ansible-playbook as the device" {
    for dev in /dev/null /dev/zero; do
        r42_run timeout 60 bash -c devkit_ansible_playbook <"$dev"
        local want_out="$output" want_err="$stderr" want_rc="$status"
        r42_run timeout 60 env LD_PRELOAD="$R42_SO" bash -c devkit_ansible_playbook <"$dev"
        assert_eq "$status" "$want_rc" "$dev: exit status"
        assert_eq "$output" "$want_out" "$dev: stdout"
        assert_eq "$(grep -v r42intercept <<<"$stderr")" "$want_err" "$dev: stderr"
        R42_NOREAD=1 R42_CAP="$BATS_TEST_TMPDIR/cap" PATH="$fakebin:$PATH" r42_run timeout 30 \
            env LD_PRELOAD="$R42_SO" bash -c devkit_ansible_playbook <"$dev"
        assert_eq "$output" "FAKE ansible-playbook" "$dev: $stderr"
        assert_eq "$(cat "$BATS_TEST_TMPDIR/cap.stdin")" "$(stat -L -c '%F %t:%T' "$dev")" "$dev: what stdin is"
    done
    assert_match "$stderr" "running the real ansible-playbook: .*stdin is a character device"
}

@test "script level: stdin /dev/null reads as empty and stays /dev/null" {
    r42_run shim bash -c 'proxmox_vm.vm_id.start.to.jsons.sh; stat -L -c "%F %t:%T" /dev/stdin' </dev/null
    assert_eq "$status" 0
    assert_eq "$output" "character special file 1:3"
    assert_match "$stderr" "fast path: proxmox_vm.vm_id.start.to.jsons.sh"
}

# The devkit scripts read all of stdin (cat); what a second reader of the
# same open file sees must not depend on the library.
second_reader() {
    local cmd="$1" ids="$BATS_TEST_TMPDIR/ids"
    RANGE42_PROXMOX_API_SCRIPTS=off r42_run shim bash -c "$cmd" <"$ids"
    local want="$output" want_rc="$status"
    assert_match "$stderr" "RANGE42_PROXMOX_API_SCRIPTS=off" || return 1
    r42_sim POST /_sim/reset >/dev/null
    r42_run shim bash -c "$cmd" <"$ids"
    assert_eq "$status" "$want_rc" "exit status of: $cmd" || return 1
    assert_eq "$output" "$want" "stdout of: $cmd" || return 1
    assert_match "$stderr" "fast path: proxmox_vm.vm_id" || return 1
}

@test "script level: a regular-file stdin is consumed as the script consumes it" {
    printf '100\n102\n' >"$BATS_TEST_TMPDIR/ids"
    second_reader 'proxmox_vm.vm_id.start.to.jsons.sh; echo "rest: [$(cat)]"'
    assert_match "$output" "rest: \[\]$"
    # started at an offset, by a reader before it
    second_reader 'read -r first; proxmox_vm.vm_id.stop.to.jsons.sh; echo "first $first, rest: [$(cat)]"'
    assert_match "$output" '"vm_id":"102"'
    [[ "$output" != *'"vm_id":"100"'* ]]
    # a fall-back part way (line 2 is not reproduced): the real script reads
    # the rest, from line 2
    printf '100\n{"vm_id":"abc"}\n102\n' >"$BATS_TEST_TMPDIR/ids"
    second_reader 'proxmox_vm.vm_id.stop_force.to.jsons.sh; echo "rc $?, rest: [$(cat)]"'
    assert_match "$stderr" "from stdin line 2 on"
    # a fall-back before any line (line 2 is not read like jq reads it): the
    # real script reads all of it
    printf '100\n{"vm_id":[1]}\n' >"$BATS_TEST_TMPDIR/ids"
    cmd='proxmox_vm.vm_id.stop_force.to.jsons.sh; echo "rc $?, rest: [$(cat)]"'
    RANGE42_PROXMOX_API_SCRIPTS=off r42_run shim bash -c "$cmd" <"$BATS_TEST_TMPDIR/ids"
    want="$output"
    r42_sim POST /_sim/reset >/dev/null
    r42_run shim bash -c "$cmd" <"$BATS_TEST_TMPDIR/ids"
    assert_match "$stderr" "running the real proxmox_vm.vm_id.stop_force.to.jsons.sh: a stdin line"
    assert_eq "$output" "$want"
    assert_match "$output" "rest: \[\]$"
    # two scripts in a row: the second one gets end of file and does nothing
    printf '100\n102\n' >"$BATS_TEST_TMPDIR/ids"
    r42_run shim bash -c '{ proxmox_vm.vm_id.stop_force.to.jsons.sh; proxmox_vm.vm_id.start.to.jsons.sh; }' \
        <"$BATS_TEST_TMPDIR/ids"
    assert_eq "$status" 0
    assert_eq "$(sim_vm 100 status) $(sim_vm 102 status)" "stopped stopped"
}

@test "playbook level: /dev/stdin on a regular file is read like ansible-playbook reads it" {
    devkit_playbook vm_list >"$BATS_TEST_TMPDIR/pb"
    # ansible opens /dev/stdin anew: the shared offset does not move
    r42_run bash -c 'devkit_ansible_playbook >/dev/null; cat' <"$BATS_TEST_TMPDIR/pb"
    want="$output"
    assert_eq "$want" "$(cat "$BATS_TEST_TMPDIR/pb")"
    r42_run shim bash -c 'devkit_ansible_playbook >/dev/null; cat' <"$BATS_TEST_TMPDIR/pb"
    assert_match "$stderr" "fast path: vm_list"
    assert_eq "$output" "$want"
}

# ---- the real program -----------------------------------------------------

@test "a real program without a #! line runs with /bin/sh, as execvp runs it" {
    nosb="$BATS_TEST_TMPDIR/nosb"
    mkdir -p "$nosb"
    printf 'echo "fake $0 $#: $*"\n' >"$nosb/ansible-playbook"
    chmod +x "$nosb/ansible-playbook"
    PATH="$nosb:$PATH" r42_run env ansible-playbook -v "a b" c
    local want="$output" want_rc="$status"
    assert_eq "$want_rc" 0
    PATH="$nosb:$PATH" r42_run shim env ansible-playbook -v "a b" c
    assert_eq "$status" "$want_rc"
    assert_eq "$output" "$want"
    assert_match "$stderr" "running the real ansible-playbook"
}

# ---- what is printed --------------------------------------------------------

@test "a playbook path that is not UTF-8 prints as Python prints it" {
    f="$BATS_TEST_TMPDIR/pb"$'\xff\xfe\xe2\x82'"ok.yml"
    cp "$pb" "$f"
    # (real ansible's document holds the token: not kept, only its paths)
    run --separate-stderr timeout 60 ansible-playbook -i "$inv" --vault-password-file "$vpf" "$f"
    assert_eq "$status" 0
    want="$(grep -a '"path": ".*ok\.yml' <<<"$output")"
    assert_match "$want" 'pb\\udcff\\udcfe\\udce2\\udc82ok\.yml:1"'
    r42_run shim bash -c 'exec ansible-playbook -i "$inv" --vault-password-file "$vpf" "$0"' "$f"
    assert_eq "$status" 0
    assert_match "$stderr" "fast path: vm_list"
    assert_eq "$(grep -a '"path": ".*ok\.yml' <<<"$output")" "$want"
}

@test "a relative playbook path prints as Ansible prints it: absolute, normalised" {
    mkdir -p "$BATS_TEST_TMPDIR/sub"
    cp "$pb" "$BATS_TEST_TMPDIR/sub/pb.yml"
    cd "$BATS_TEST_TMPDIR"
    # (real ansible's document holds the token: not kept, only its paths)
    run --separate-stderr timeout 60 ansible-playbook -i "$inv" --vault-password-file "$vpf" .//sub/./pb.yml
    assert_eq "$status" 0
    want="$(grep -a '"path": ".*pb\.yml' <<<"$output")"
    assert_match "$want" "\"$BATS_TEST_TMPDIR/sub/pb\.yml:1\""
    r42_run shim bash -c 'exec ansible-playbook -i "$inv" --vault-password-file "$vpf" .//sub/./pb.yml'
    assert_match "$stderr" "fast path: vm_list"
    assert_eq "$(grep -a '"path": ".*pb\.yml' <<<"$output")" "$want"
    # names Ansible rewrites (variables, "..", a home, quotes) go to Ansible
    mkdir -p "$BATS_TEST_TMPDIR/x\$HOME"
    cp "$pb" "$BATS_TEST_TMPDIR/x\$HOME/pb.yml"
    for p in 'x$HOME/pb.yml' sub/../pb.yml "~pb.yml" "'pb.yml'"; do
        R42_NOREAD=1 R42_CAP="$BATS_TEST_TMPDIR/cap" PATH="$fakebin:$PATH" r42_run shim \
            bash -c 'exec ansible-playbook -i "$inv" --vault-password-file "$vpf" "$0"' "$p"
        assert_eq "$output" "FAKE ansible-playbook" "$p"
        assert_match "$stderr" "playbook path .*: Ansible rewrites it" "$p"
    done
}
