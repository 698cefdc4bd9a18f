# SPDX-License-Identifier: GPL-3.0-or-later
# shellcheck shell=bash
# test/lib/common.bash: what every bats file shares (sourced with `load`).
#
#   r42_file_env_up [--vms N] [--task-duration S]   in setup_file: one env per file
#   r42_file_env_down                               in teardown_file
#   r42_reset                                       in setup: fresh simulator state
#   r42_run CMD...        bats `run --separate-stderr`, plus: the output is kept
#                         under $R42_TEST_TMP/captured and checked for secrets
#   shim CMD...           CMD with libr42intercept.so preloaded
#   assert_eq GOT WANT [WHAT], assert_match TEXT REGEX [WHAT], fail MSG
#   sim_vm ID FIELD       a VM's field from the simulator's state
#   probes                number of probe requests in the simulator's log
#
# Binaries come from env vars with defaults: R42_SO, R42_RUNNER, R42_EXECER.
# R42_TEST_TMP (set by test/run-all.sh) keeps every run's files for the final
# secret sweep; R42_KEEP=1 keeps them afterwards.

bats_require_minimum_version 1.5.0

R42_TOP="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export R42_TOP
export R42_SO="${R42_SO:-$R42_TOP/build/libr42intercept.so}"
export R42_RUNNER="${R42_RUNNER:-$R42_TOP/build/r42intercept-runner}"
export R42_EXECER="${R42_EXECER:-$R42_TOP/build/progs/execer}"
export R42_TEST_TMP="${R42_TEST_TMP:-${BATS_RUN_TMPDIR:-/tmp}/r42-tests}"
mkdir -p "$R42_TEST_TMP/captured"

# shellcheck source=env.sh
source "$R42_TOP/test/lib/env.sh"

fail() {
    printf '%s\n' "$*" >&2
    return 1
}

assert_eq() {
    [[ "$1" == "$2" ]] && return 0
    printf '%s\n  got:  %q\n  want: %q\n' "${3:-values differ}" "$1" "$2" >&2
    return 1
}

assert_match() {
    [[ "$1" =~ $2 ]] && return 0
    printf '%s\n  text:  %s\n  regex: %s\n' "${3:-no match}" "$1" "$2" >&2
    return 1
}

# Fails if TEXT holds the env's token secret or vault password.
assert_no_secret() {
    local text="$1"
    [[ -z "${R42_TOKEN_SECRET:-}" || "$text" != *"$R42_TOKEN_SECRET"* ]] ||
        fail "the API token secret leaked into the output" || return 1
    [[ -z "${R42_VAULT_PASSWORD:-}" || "$text" != *"$R42_VAULT_PASSWORD"* ]] ||
        fail "the vault password leaked into the output" || return 1
}

r42_run() {
    run --separate-stderr "$@"
    {
        printf '### %s: %s\n' "${BATS_TEST_NAME:-?}" "$*"
        printf '%s\n' "$output" "$stderr"
    } >>"$R42_TEST_TMP/captured/${BATS_TEST_FILENAME##*/}.log"
    assert_no_secret "$output" && assert_no_secret "$stderr"
}

shim() {
    LD_PRELOAD="$R42_SO" "$@"
}

r42_file_env_up() {
    local dir="$R42_TEST_TMP/env-${BATS_TEST_FILENAME##*/}"
    rm -rf "$dir"
    r42_env_up "$dir" "$@"
}

r42_file_env_down() {
    r42_env_down "$R42_TEST_TMP/env-${BATS_TEST_FILENAME##*/}"
}

# Fresh simulator state, and a probe cache of this test's own.
r42_reset() {
    export XDG_RUNTIME_DIR="$BATS_TEST_TMPDIR/run"
    mkdir -p -m 0700 "$XDG_RUNTIME_DIR"
    r42_env_load "$R42_TEST_TMP/env-${BATS_TEST_FILENAME##*/}" &&
        r42_sim POST /_sim/reset >/dev/null
}

sim_vm() {
    r42_sim GET /_sim/state | jq -r --arg id "$1" --arg f "$2" '.vms[$id][$f]'
}

probes() {
    r42_sim_log_count GET '^/api2/json/nodes/[^/]+/qemu$'
}

# Lines of stdout that are JSON objects, with source normalised.
normalise_source() {
    sed 's/"source":"proxmox-api"/"source":"proxmox"/g'
}

# The devkit's inline playbook (docs/decision.md section 1) for ACTION with "key: value" vars.
devkit_playbook() {
    local action="$1" kv
    shift
    cat <<EOP
      - hosts: px-testing
        gather_facts: false
        vars_files:
          - "$RANGE42_ANSIBLE_ROLES__DEVKITS_DIR/secrets/default_vault.yml"
        tasks:
          - name: RUN range42-ansible_roles-proxmox_controller WITH VARS
            include_role:
              name: range42-ansible_roles-proxmox_controller
            vars:
              proxmox_vm_action: "$action"

EOP
    for kv in "$@"; do
        printf '              %s: "%s"\n' "${kv%%=*}" "${kv#*=}"
    done
}

# ansible-playbook exactly as the devkit calls it (stdin: the playbook).
devkit_ansible_playbook() {
    ANSIBLE_CONFIG="$RANGE42_ANSIBLE_ROLES__DEVKITS_DIR/ansible_no_skipped_json.cfg" \
        ansible-playbook -i "$RANGE42_ANSIBLE_ROLES__INVENTORY_DIR/inventory_default.yml" \
        --vault-password-file "$RANGE42_VAULT_PASSWORD_FILE" /dev/stdin
}
export -f devkit_ansible_playbook

# The devkit's jq filter over a json callback document on stdin.
devkit_jq() {
    jq -c --arg action "$1" '.plays[].tasks[] | .hosts[] | select(type=="object" and has($action)) | .[$action]'
}
