#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# bench/seed_twin.sh VM_ID: vm_start done the way a curl + jq script would
# (the simplest way to use the API), for comparison with the runner: the vault through
# ansible-vault view and yq, then probe, POST, task poll and status GET with
# curl -sk, the devkit's result object built with jq.  Benchmark only.
set -euo pipefail
vm="$1"
vault="$RANGE42_ANSIBLE_ROLES__DEVKITS_DIR/secrets/default_vault.yml"
plain="$(ansible-vault view --vault-password-file "$RANGE42_VAULT_PASSWORD_FILE" "$vault")"
field() { printf '%s\n' "$plain" | yq -r ".$1"; }
host="$(field proxmox_api_host)"
node="$(field proxmox_node)"
auth="Authorization: PVEAPIToken=$(field proxmox_api_user)!$(field proxmox_api_token_id)=$(field proxmox_api_token_secret)"
api="https://$host/api2/json"
curl -sk --max-time 2 -o /dev/null -f -H "$auth" "$api/nodes/$node/qemu"
upid="$(curl -sk -f -X POST -H "$auth" "$api/nodes/$node/qemu/$vm/status/start" | jq -r .data)"
upid_enc="$(jq -rn --arg u "$upid" '$u | @uri')"
for _ in $(seq 300); do
    status="$(curl -sk -f -H "$auth" "$api/nodes/$node/tasks/$upid_enc/status")"
    [[ "$(jq -r .data.status <<<"$status")" == running ]] || break
    sleep 0.05
done
[[ "$(jq -r .data.exitstatus <<<"$status")" == OK ]]
curl -sk -f -H "$auth" "$api/nodes/$node/qemu/$vm/status/current" |
    jq -c --arg node "$node" --arg vm "$vm" \
        '{action: "vm_start", proxmox_node: $node, source: "proxmox-api", vm_id: $vm, vm_name: .data.name, vm_status: .data.status}'
