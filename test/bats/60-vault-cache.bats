#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-3.0-or-later
# No Python on the way: ansible-vault view answered natively (compared with
# Debian's ansible-vault), the probe verdict cached per burst, and a fast
# devkit scenario that execs no Python at all (strace).

load ../lib/common

setup_file() { r42_file_env_up; }
teardown_file() { r42_file_env_down; }
setup() {
    r42_reset
    data="$R42_TOP/test/unit/data"
}

# Programs a command line execs (basenames), with the shim, via strace.
execs_of() {
    strace -f -qq -e trace=execve -e signal=none -o "$BATS_TEST_TMPDIR/strace" env LD_PRELOAD="$R42_SO" "$@" >/dev/null 2>&1 || true
    grep -o 'execve("[^"]*"' "$BATS_TEST_TMPDIR/strace" | sed 's/execve("//; s/"$//; s|.*/||' | sort -u
}

@test "ansible-vault view: byte-identical to ansible-vault on 1.1, 1.2, several files, empty, non-ASCII" {
    for files in vault-1.1.yml vault-1.2.yml empty.yml vault-block.yml "vault-1.1.yml empty.yml vault-1.2.yml"; do
        # shellcheck disable=SC2086
        (cd "$data" && ansible-vault view --vault-password-file vault_pass.txt $files) >"$BATS_TEST_TMPDIR/real"
        r42_run shim bash -c "cd '$data' && ansible-vault view --vault-password-file vault_pass.txt $files"
        assert_eq "$status" 0
        printf '%s' "$output" >"$BATS_TEST_TMPDIR/ours"
        run cmp <(cat "$BATS_TEST_TMPDIR/real") <(cd "$data" && LD_PRELOAD="$R42_SO" bash -c "ansible-vault view --vault-password-file vault_pass.txt $files")
        assert_eq "$status" 0 "bytes differ for: $files ($output)"
        assert_eq "$stderr" "" "nothing on stderr for: $files"
    done
    # the other password forms
    for opt in "--vault-id lab@vault_pass.txt" "--vault-id vault_pass_script.sh" "--vault-pass-file=vault_pass_spaces.txt"; do
        # shellcheck disable=SC2086
        run cmp <(cd "$data" && ansible-vault view $opt vault-1.2.yml) <(cd "$data" && LD_PRELOAD="$R42_SO" bash -c "ansible-vault view $opt vault-1.2.yml")
        assert_eq "$status" 0 "bytes differ for: $opt"
    done
    (cd "$data" && ANSIBLE_VAULT_PASSWORD_FILE=vault_pass.txt ansible-vault view vault-1.1.yml) >"$BATS_TEST_TMPDIR/real"
    run cmp "$BATS_TEST_TMPDIR/real" <(cd "$data" && ANSIBLE_VAULT_PASSWORD_FILE=vault_pass.txt LD_PRELOAD="$R42_SO" bash -c "ansible-vault view vault-1.1.yml")
    assert_eq "$status" 0 "ANSIBLE_VAULT_PASSWORD_FILE"
}

@test "ansible-vault view starts no Python" {
    run execs_of bash -c "cd '$data' && ansible-vault view --vault-password-file vault_pass.txt vault-1.1.yml"
    [[ "$output" == *r42intercept-runner* ]] || fail "the runner did not run: $output"
    [[ "$output" != *python* ]] || fail "Python started: $output"
}

@test "ansible-vault view: errors and what we do not reproduce go to the real command" {
    for case in "--vault-password-file vault_pass.txt plain.yml" \
                "--vault-password-file vault_pass_script_space.sh vault-1.1.yml" \
                "--vault-password-file vault_pass.txt no-such-file.yml" \
                "--vault-password-file vault_pass_empty.txt vault-1.1.yml"; do
        # shellcheck disable=SC2086
        run --separate-stderr bash -c "cd '$data' && ansible-vault view $case"
        local want_out="$output" want_rc="$status" want_err="$stderr"
        r42_run shim bash -c "cd '$data' && ansible-vault view $case"
        assert_eq "$status:$output" "$want_rc:$want_out" "$case"
        assert_match "$stderr" "running the real ansible-vault"
        assert_eq "$(grep -v r42intercept <<<"$stderr")" "$want_err" "ansible's own message for: $case"
    done
    # a tampered file
    sed '3s/3/4/' "$data/vault-1.1.yml" >"$BATS_TEST_TMPDIR/tampered.yml"
    run --separate-stderr ansible-vault view --vault-password-file "$data/vault_pass.txt" "$BATS_TEST_TMPDIR/tampered.yml"
    local want="$status:$output"
    r42_run shim bash -c "ansible-vault view --vault-password-file '$data/vault_pass.txt' '$BATS_TEST_TMPDIR/tampered.yml'"
    assert_eq "$status:$output" "$want"
    assert_match "$stderr" "running the real ansible-vault: no vault password opens the vault"
    # another option, and a terminal (ansible-vault pages it)
    r42_run shim bash -c "cd '$data' && ansible-vault view --ask-vault-pass vault-1.1.yml </dev/null"
    assert_match "$stderr" "running the real ansible-vault: ansible-vault option --ask-vault-pass is not supported"
    r42_run shim script -qec "cd '$data' && PAGER=cat ansible-vault view --vault-password-file vault_pass.txt vault-1.1.yml" /dev/null
    assert_match "$output" "running the real ansible-vault: stdout is a terminal"
}

@test "probe cache: one probe for a 10-VM batch within the TTL, a new one after it" {
    r42_run shim bash -c 'printf "%s\n" 100 101 102 103 104 105 106 100 101 102 | proxmox_vm.vm_id.stop_force.to.jsons.sh'
    assert_eq "$status" 0
    assert_eq "$(grep -c '"vm_stop_force"' <<<"$output")" 10
    assert_eq "$(probes)" 1 "probes for the batch"
    # playbook level: 10 separate ansible-playbook calls share the verdict
    r42_sim POST /_sim/reset >/dev/null
    RANGE42_PROXMOX_API_SCRIPTS=off r42_run shim bash -c 'printf "%s\n" 100 101 102 103 104 105 106 100 101 102 | proxmox_vm.vm_id.stop_force.to.jsons.sh'
    assert_eq "$(grep -c '"vm_stop_force"' <<<"$output")" 10
    assert_eq "$(grep -c 'fast path: vm_stop_force' <<<"$stderr")" 10
    assert_eq "$(probes)" 0 "the cached verdict is still fresh"
    # past the TTL
    sleep 1.1
    RANGE42_PROXMOX_API_CACHE_TTL=1 r42_run shim bash -c 'echo 101 | proxmox_vm.vm_id.start.to.jsons.sh'
    assert_eq "$(probes)" 1 "a new probe after the TTL"
    # the switch
    RANGE42_PROXMOX_API_CACHE=off r42_run shim bash -c 'printf "%s\n" 101 101 | RANGE42_PROXMOX_API_SCRIPTS=off proxmox_vm.vm_id.stop.to.jsons.sh'
    assert_eq "$(probes)" 3 "no cache: one probe per call"
}

@test "negative cache: the second call does not wait for the probe timeout again" {
    fakebin="$BATS_TEST_TMPDIR/fakebin"
    mkdir -p "$fakebin"
    printf '#!/bin/sh\ncat >/dev/null\necho FAKE\n' >"$fakebin/ansible-playbook"
    chmod +x "$fakebin/ansible-playbook"
    r42_sim POST /_sim/config '{"delay": 3, "delay_match": "/qemu"}' >/dev/null
    devkit_playbook vm_start vm_id=101 >"$BATS_TEST_TMPDIR/pb"
    PATH="$fakebin:$PATH" r42_run shim bash -c devkit_ansible_playbook <"$BATS_TEST_TMPDIR/pb"
    assert_match "$stderr" "running the real ansible-playbook: API probe failed: .*(timed out|Timeout)"
    PATH="$fakebin:$PATH" r42_run shim bash -c devkit_ansible_playbook <"$BATS_TEST_TMPDIR/pb"
    assert_eq "$output" FAKE
    assert_match "$stderr" "running the real ansible-playbook: the API probe failed less than a few seconds ago \(cached verdict\)"
    # the simulator logs a request once it has answered it (3 s): wait for both
    sleep 3.5
    assert_eq "$(r42_sim_log_count GET '/qemu$')" 1 "one probe, none on the second call"
}

@test "a failed request on the fast path forgets the positive verdict" {
    r42_run shim bash -c 'echo 101 | proxmox_vm.vm_id.start.to.jsons.sh'
    assert_eq "$(probes)" 1
    r42_sim POST /_sim/config '{"fail_5xx": 1}' >/dev/null
    r42_run shim bash -c 'echo 102 | proxmox_vm.vm_id.stop.to.jsons.sh'
    assert_match "$stderr" "vm_stop vm 102 failed: Status code was 500"
    assert_eq "$(probes)" 1 "the cached verdict was used"
    r42_run shim bash -c 'echo 102 | proxmox_vm.vm_id.stop.to.jsons.sh'
    assert_eq "$(probes)" 2 "the verdict was forgotten: probed again"
}

@test "the cache directory: private, refused otherwise, no secret in it, corrupt entries ignored" {
    dir="$XDG_RUNTIME_DIR/r42intercept"
    r42_run shim bash -c 'echo 101 | proxmox_vm.vm_id.start.to.jsons.sh'
    assert_eq "$(stat -c %a "$dir")" 700
    # the probe cache's one entry (and the resident runner's socket and lock)
    assert_eq "$(ls "$dir" | grep -v '^resident-' | wc -l)" 1
    assert_match "$(ls "$dir" | grep -v '^resident-')" '^[0-9a-f]{64}$'
    run grep -rlF -e "$R42_TOKEN_SECRET" -e "$R42_VAULT_PASSWORD" -e root@pam -e r42ci "$dir"
    assert_eq "$output" "" "a secret or credential in the cache"
    assert_match "$(cat "$dir"/[0-9a-f]*)" '^r42intercept-probe 1 up [0-9]+$'
    # corrupt: ignored, probed again, rewritten
    printf 'garbage' >"$dir"/[0-9a-f]*
    r42_run shim bash -c 'echo 101 | proxmox_vm.vm_id.stop.to.jsons.sh'
    assert_eq "$status" 0
    assert_eq "$(probes)" 2
    assert_match "$(cat "$dir"/[0-9a-f]*)" '^r42intercept-probe 1 up'
    # group/other access, another owner, a symlink: refused (a trace), still answered, nothing written
    for spoil in 'chmod 0755 "$dir"' 'chown 65534 "$dir"' 'mv "$dir" "$dir.real" && ln -s "$dir.real" "$dir"'; do
        rm -rf "$dir" "$dir.real"
        mkdir -m 0700 "$dir"
        eval "$spoil"
        r42_sim POST /_sim/reset >/dev/null
        r42_run shim bash -c 'printf "%s\n" 101 102 | RANGE42_PROXMOX_API_SCRIPTS=off proxmox_vm.vm_id.stop_force.to.jsons.sh'
        assert_match "$stderr" "probe cache $dir refused: not a private directory" "$spoil"
        assert_eq "$(grep -c '"vm_stop_force"' <<<"$output")" 2 "$spoil"
        assert_eq "$(probes)" 2 "$spoil: no cache, one probe per call"
        assert_eq "$(ls -A "$dir/" | wc -l)" 0 "$spoil: nothing written"
    done
}

@test "a fast-path devkit scenario starts no Python at all" {
    run execs_of bash -c 'echo px-testing | proxmox_vm.list.to.jsons.sh | jq -r "select(.vm_template == 0) | .vm_id" | proxmox_vm.vm_id.stop_force.to.jsons.sh
        echo 101 | proxmox_snapshot_vm.vm_id.create_snapshot.to.jsons.sh; echo 101 | proxmox_snapshot_vm.vm_id.revert_snapshot.to.jsons.sh'
    [[ "$output" == *r42intercept-runner* ]] || fail "the runner did not run: $output"
    [[ "$output" != *python* && "$output" != *ansible* ]] || fail "Python or ansible started: $output"
    assert_eq "$(sim_vm 106 status)" stopped
    r42_sim GET /_sim/state | jq -e '.vms["101"].snapshots | length == 1' >/dev/null
}
