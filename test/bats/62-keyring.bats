#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-3.0-or-later
# The vault's plaintext kept in the session keyring between calls
# (fastpath/keyring.c): a second call does not run PBKDF2, a changed vault
# or password misses, RANGE42_PROXMOX_API_CACHE=off makes no keyring call,
# the cache TTL is honoured, the key is possessor-only, and a process that
# may not use keyrings decrypts as before.  Each test runs in a session
# keyring of its own (test/progs/keytool.c: `session` joins it, a holder
# process keeps it alive), so that nothing else shares its keys.

load ../lib/common

setup_file() { r42_file_env_up; }
teardown_file() { r42_file_env_down; }

setup() {
    r42_reset
    KT="$R42_TOP/build/progs/keytool"
    ring="r42test-$$-$BATS_TEST_NUMBER"
    "$KT" session "$ring" sleep 300 </dev/null >/dev/null 2>&1 3>&- &
    holder=$!
    local i
    for ((i = 0; i < 100; i++)); do # 5 s
        grep -q "keyring *$ring:" /proc/keys && break
        sleep 0.05
    done
    grep -q "keyring *$ring:" /proc/keys || fail "no session keyring $ring"
    devkit_playbook vm_list >"$BATS_TEST_TMPDIR/pb"
}

teardown() {
    [[ -n "${holder:-}" ]] && kill "$holder" 2>/dev/null
    wait "${holder:-}" 2>/dev/null || true
}

# CMD in this test's session keyring.
ks() { "$KT" session "$ring" "$@"; }

# One vm_list ansible-playbook call (stdin: playbook file $1, default the
# test's), profiled, in this test's session keyring, with the library.
call() {
    ks env LD_PRELOAD="$R42_SO" R42INTERCEPT_PROFILE=1 \
        bash -c devkit_ansible_playbook <"${1:-$BATS_TEST_TMPDIR/pb}"
}

# The profile line of the vault phase.
vault_line() {
    grep -o 'profile vault ([^)]*)' <<<"$1" || echo "no vault line"
}

# The r42intercept keys of this test's session keyring ("ID PERM DESC").
keys() { ks "$KT" list; }

@test "keyring: the second call takes the vault from the session keyring, not PBKDF2" {
    r42_run call
    assert_eq "$status" 0
    local first
    first="$(devkit_jq vm_list <<<"$output")"
    assert_eq "$(vault_line "$stderr")" "profile vault (PBKDF2, AES; keyring miss)"
    r42_run call
    assert_eq "$status" 0
    assert_eq "$(vault_line "$stderr")" "profile vault (keyring)" "second call"
    assert_eq "$(devkit_jq vm_list <<<"$output")" "$first" "the same VMs"
    assert_match "$first" '"vm_id":101' "a list of the VMs"
    # the script level reads the same vault through the same code
    r42_run ks env LD_PRELOAD="$R42_SO" R42INTERCEPT_PROFILE=1 \
        bash -c 'echo px-testing | proxmox_vm.list.to.jsons.sh'
    assert_eq "$status" 0
    assert_eq "$(vault_line "$stderr")" "profile vault (keyring)" "script level"
    assert_eq "$(keys | wc -l)" 1 "one key for one vault and password"
}

@test "keyring: a changed vault file or password misses the cache" {
    r42_run call
    assert_eq "$(vault_line "$stderr")" "profile vault (PBKDF2, AES; keyring miss)"
    # the same plaintext and password, encrypted again (a new salt)
    local vault="$RANGE42_ANSIBLE_ROLES__DEVKITS_DIR/secrets/default_vault.yml"
    shim ansible-vault view --vault-password-file "$RANGE42_VAULT_PASSWORD_FILE" "$vault" |
        ansible-vault encrypt --vault-password-file "$RANGE42_VAULT_PASSWORD_FILE" \
            --output "$BATS_TEST_TMPDIR/vault2.yml" - >/dev/null 2>&1
    sed "s|$vault|$BATS_TEST_TMPDIR/vault2.yml|" "$BATS_TEST_TMPDIR/pb" >"$BATS_TEST_TMPDIR/pb2"
    r42_run call "$BATS_TEST_TMPDIR/pb2"
    assert_eq "$status" 0
    assert_eq "$(vault_line "$stderr")" "profile vault (PBKDF2, AES; keyring miss)" "new file"
    r42_run call "$BATS_TEST_TMPDIR/pb2"
    assert_eq "$(vault_line "$stderr")" "profile vault (keyring)" "new file, again"
    # the first vault with a second password file beside the right one
    printf 'another-password\n' >"$BATS_TEST_TMPDIR/pw2"
    r42_run ks env LD_PRELOAD="$R42_SO" R42INTERCEPT_PROFILE=1 \
        ANSIBLE_VAULT_PASSWORD_FILE="$BATS_TEST_TMPDIR/pw2" \
        bash -c devkit_ansible_playbook <"$BATS_TEST_TMPDIR/pb"
    assert_eq "$status" 0
    assert_eq "$(vault_line "$stderr")" "profile vault (PBKDF2, AES; keyring miss)" "other passwords"
    # a wrong password never gets the kept plaintext: the real program runs
    r42_run call
    assert_eq "$(vault_line "$stderr")" "profile vault (keyring)"
    r42_run ks env LD_PRELOAD="$R42_SO" \
        RANGE42_VAULT_PASSWORD_FILE="$BATS_TEST_TMPDIR/pw2" \
        bash -c devkit_ansible_playbook <"$BATS_TEST_TMPDIR/pb"
    assert_match "$stderr" "running the real ansible-playbook: no vault password opens the vault"
    [[ "$status" -ne 0 ]] || fail "ansible-playbook opened the vault with a wrong password"
}

@test "keyring: RANGE42_PROXMOX_API_CACHE=off makes no keyring call; the cache on does" {
    local calls='add_key|keyctl|request_key'
    ks env LD_PRELOAD="$R42_SO" RANGE42_PROXMOX_API_CACHE=off \
        strace -f -qq -e trace=add_key,keyctl,request_key -o "$BATS_TEST_TMPDIR/off" \
        bash -c devkit_ansible_playbook <"$BATS_TEST_TMPDIR/pb" >/dev/null 2>&1
    ! grep -qE "$calls" "$BATS_TEST_TMPDIR/off" ||
        fail "keyring calls with the cache off: $(cat "$BATS_TEST_TMPDIR/off")"
    assert_eq "$(keys | wc -l)" 0 "no key with the cache off"
    r42_run ks env LD_PRELOAD="$R42_SO" RANGE42_PROXMOX_API_CACHE=off R42INTERCEPT_PROFILE=1 \
        bash -c devkit_ansible_playbook <"$BATS_TEST_TMPDIR/pb"
    assert_eq "$(vault_line "$stderr")" "profile vault (PBKDF2, AES; keyring off)"
    # with the cache on, the same call searches and adds the key
    ks env LD_PRELOAD="$R42_SO" \
        strace -f -qq -e trace=add_key,keyctl,request_key -o "$BATS_TEST_TMPDIR/on" \
        bash -c devkit_ansible_playbook <"$BATS_TEST_TMPDIR/pb" >/dev/null 2>&1
    grep -q 'KEYCTL_SEARCH' "$BATS_TEST_TMPDIR/on" || fail "no keyring search with the cache on"
    grep -q '^[0-9]* *add_key("user", "r42intercept:vault:' "$BATS_TEST_TMPDIR/on" ||
        fail "no key added with the cache on"
    assert_eq "$(keys | wc -l)" 1 "the key with the cache on"
}

@test "keyring: the key expires after the cache TTL, and an older one is not used" {
    # kept for 3 s (long enough to see it on a loaded machine): the kernel
    # expires it
    RANGE42_PROXMOX_API_CACHE_TTL=3 r42_run call
    assert_eq "$(vault_line "$stderr")" "profile vault (PBKDF2, AES; keyring miss)"
    local id i
    id="$(keys | cut -d' ' -f1)"
    [[ -n "$id" ]] || fail "no key"
    for ((i = 0; i < 100; i++)); do # 10 s
        [[ "$(ks "$KT" read "$id")" == errno=* ]] && break
        sleep 0.1
    done
    assert_match "$(ks "$KT" read "$id")" "^errno=(EKEYEXPIRED|ENOKEY)$" "the key after its timeout"
    r42_run call
    assert_eq "$(vault_line "$stderr")" "profile vault (PBKDF2, AES; keyring miss)" "after the timeout"
    # kept for the default 30 s; a lookup with a 1 s TTL a second later
    # does not use it (the payload's time stamp)
    r42_run call
    assert_eq "$(vault_line "$stderr")" "profile vault (keyring)"
    sleep 1.1
    RANGE42_PROXMOX_API_CACHE_TTL=1 r42_run call
    assert_eq "$(vault_line "$stderr")" "profile vault (PBKDF2, AES; keyring miss)" "older than the TTL"
    # TTL 0: no keyring
    RANGE42_PROXMOX_API_CACHE_TTL=0 r42_run call
    assert_eq "$(vault_line "$stderr")" "profile vault (PBKDF2, AES; keyring off)"
}

@test "keyring: the key is possessor-only: another session, another user cannot read it; no secret in its name" {
    r42_run call
    assert_eq "$status" 0
    r42_run keys
    assert_eq "${#lines[@]}" 1
    local id perm desc
    read -r id perm desc <<<"${lines[0]}"
    assert_eq "$perm" 2f000000 "possessor: view, read, write, search, setattr; nothing else"
    assert_match "$desc" '^r42intercept:vault:[0-9a-f]{64}$'
    # the session that holds it reads it (the runner's next calls)...
    assert_match "$(ks "$KT" read "$id")" '^read [0-9]+$'
    # ...no other session of this user, nor a process without one...
    assert_eq "$("$KT" session "other-$ring" "$KT" read "$id")" "errno=EACCES"
    assert_eq "$("$KT" read "$id")" "errno=EACCES"
    # ...nor another user
    if command -v setpriv >/dev/null && [[ "$(id -u)" == 0 ]]; then
        assert_eq "$(setpriv --reuid=65534 --regid=65534 --clear-groups "$KT" read "$id")" "errno=EACCES"
    fi
    # not in /proc/keys for others either
    run "$KT" session "other-$ring" grep -c "$desc" /proc/keys
    assert_eq "$output" 0
}

@test "keyring: no usable keyring (EPERM, ENOSYS, EACCES, EDQUOT): decrypted as before, silently" {
    r42_run ks env LD_PRELOAD="$R42_SO" bash -c devkit_ansible_playbook <"$BATS_TEST_TMPDIR/pb"
    assert_eq "$status" 0
    local want_out want_err="$stderr" err
    want_out="$(devkit_jq vm_list <<<"$output")"
    for err in EPERM ENOSYS EACCES EDQUOT; do
        r42_run ks "$KT" deny "$err" env LD_PRELOAD="$R42_SO" \
            bash -c devkit_ansible_playbook <"$BATS_TEST_TMPDIR/pb"
        assert_eq "$status" 0 "$err"
        assert_eq "$(devkit_jq vm_list <<<"$output")" "$want_out" "$err: the same VMs"
        assert_eq "$stderr" "$want_err" "$err: the same trace lines, nothing more"
        r42_run ks "$KT" deny "$err" env LD_PRELOAD="$R42_SO" R42INTERCEPT_PROFILE=1 \
            bash -c devkit_ansible_playbook <"$BATS_TEST_TMPDIR/pb"
        assert_eq "$status" 0 "$err"
        assert_eq "$(grep -c keyring <<<"$stderr")" 1 "$err: one profile line says it"
        assert_match "$(vault_line "$stderr")" "^profile vault \(PBKDF2, AES; keyring unusable: .+\)$" "$err"
    done
}
