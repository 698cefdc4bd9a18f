#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# contrib/demo.sh (make demo): one devkit-shaped scenario on the bundled
# Proxmox API simulator, run twice: through real ansible-playbook, then with
# libr42intercept.so preloaded.  Prints both times and the ratio.
set -euo pipefail
top="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=../test/lib/env.sh
source "$top/test/lib/env.sh"

dir="$(mktemp -d /tmp/r42-demo.XXXXXX)"
trap 'r42_env_down "$dir/env"; rm -rf "$dir"' EXIT
echo "r42intercept demo: starting the Proxmox API simulator and a test devkit in $dir"
r42_env_up "$dir/env"

vms="101 103 105"
scenario() {
    echo px-testing | proxmox_vm.list.to.jsons.sh | grep -c '"vm_id"' | sed 's/^/  listed VMs: /'
    printf '%s\n' $vms | proxmox_vm.vm_id.start.to.jsons.sh | jq -r '"  started \(.vm_id) \(.vm_name): \(.vm_status) (\(.source))"'
    printf '%s\n' $vms | proxmox_vm.vm_id.pause.to.jsons.sh | jq -r '"  paused  \(.vm_id)"'
    printf '%s\n' $vms | proxmox_vm.vm_id.resume.to.jsons.sh | jq -r '"  resumed \(.vm_id)"'
    printf '%s\n' $vms | proxmox_vm.vm_id.stop_force.to.jsons.sh | jq -r '"  stopped \(.vm_id) \(.vm_name): \(.vm_status) (\(.source))"'
}
calls=$((1 + 4 * 3))
export vms
export -f scenario

# Runs the scenario on a fresh simulator, with LD_PRELOAD=$1 when given;
# sets ELAPSED (seconds).
run_timed() {
    r42_sim POST /_sim/reset >/dev/null
    local t0 t1
    t0=$(date +%s.%N)
    # a child bash: the library must be in the process that execs the scripts
    LD_PRELOAD="$1" bash -c scenario 2>/dev/null
    t1=$(date +%s.%N)
    ELAPSED=$(echo "$t1 - $t0" | bc -l)
}

echo
echo "1) through real ansible-playbook ($calls ansible-playbook calls):"
run_timed ""
slow=$ELAPSED
echo
echo "2) with LD_PRELOAD=$top/build/libr42intercept.so:"
run_timed "$top/build/libr42intercept.so"
fast=$ELAPSED

# One ansible-playbook call exactly as the devkit makes it (vm_start),
# without the scripts around it.
one_call() {
    r42_sim POST /_sim/reset >/dev/null
    local pb t0 t1
    pb="$(printf '      - hosts: px-testing\n        gather_facts: false\n        vars_files:\n          - "%s"\n        tasks:\n          - name: RUN range42-ansible_roles-proxmox_controller WITH VARS\n            include_role:\n              name: range42-ansible_roles-proxmox_controller\n            vars:\n              proxmox_vm_action: "vm_start"\n\n              vm_id: "101"\n' \
        "$RANGE42_ANSIBLE_ROLES__DEVKITS_DIR/secrets/default_vault.yml")"
    t0=$(date +%s.%N)
    LD_PRELOAD="$1" bash -c 'ANSIBLE_CONFIG="$RANGE42_ANSIBLE_ROLES__DEVKITS_DIR/ansible_no_skipped_json.cfg" \
        ansible-playbook -i "$RANGE42_ANSIBLE_ROLES__INVENTORY_DIR/inventory_default.yml" \
        --vault-password-file "$RANGE42_VAULT_PASSWORD_FILE" /dev/stdin' <<<"$pb" >/dev/null 2>&1
    t1=$(date +%s.%N)
    ELAPSED=$(echo "$t1 - $t0" | bc -l)
}
# median of three calls each
median_call() {
    local runs=() i
    for i in 1 2 3; do one_call "$1"; runs+=("$ELAPSED"); done
    ELAPSED=$(printf '%s\n' "${runs[@]}" | sort -g | sed -n 2p)
}
median_call ""
call_slow=$ELAPSED
median_call "$top/build/libr42intercept.so"
call_fast=$ELAPSED

echo
echo "devkit scenario ($calls VM actions through the fixture devkit scripts):"
printf '  ansible-playbook: %6.2f s  (%.0f ms per call)\n' "$slow" "$(echo "$slow * 1000 / $calls" | bc -l)"
printf '  r42intercept:     %6.2f s  (%.0f ms per call)\n' "$fast" "$(echo "$fast * 1000 / $calls" | bc -l)"
printf '  ratio:            %6.1fx faster\n' "$(echo "$slow / $fast" | bc -l)"
echo "one ansible-playbook call (vm_start, the devkit's command line; median of 3):"
printf '  ansible-playbook: %8.1f ms\n' "$(echo "$call_slow * 1000" | bc -l)"
printf '  r42intercept:     %8.1f ms\n' "$(echo "$call_fast * 1000" | bc -l)"
printf '  ratio:            %6.1fx faster\n' "$(echo "$call_slow / $call_fast" | bc -l)"
