#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# test/fuzz/make-corpus.sh: writes the starting corpus of the fuzz targets,
# test/fuzz/corpus/<target>/ (committed; run this again only to change it).
# Everything is made up here: devkit-shaped playbooks, stdin lines,
# ansible.cfg files, inventories, vars files, and vaults encrypted by
# ansible-vault with the throw-away password of fuzz-vault.c.  No secret:
# the token secrets are dummies.  Needs ansible-vault and python3.
set -euo pipefail
cd "$(dirname "$0")"
out=corpus
rm -rf "$out"
mkdir -p "$out"/{playbook,vault,acfg,inventory,devkit,jout}

# seed TARGET NAME: stdin into corpus/TARGET/NAME
seed() { cat >"$out/$1/$2"; }

# ---- playbook: the devkit's inline playbook and its neighbours ----------
# devkit_play ACTION HOST [key=value...]: the playbook the devkit writes
devkit_play() {
    local action="$1" host="$2" kv
    shift 2
    printf '      - hosts: %s\n        gather_facts: false\n' "$host"
    printf '        vars_files:\n          - "/devkit/secrets/default_vault.yml"\n'
    printf '        tasks:\n'
    printf '          - name: RUN range42-ansible_roles-proxmox_controller WITH VARS\n'
    printf '            include_role:\n'
    printf '              name: range42-ansible_roles-proxmox_controller\n'
    printf '            vars:\n              proxmox_vm_action: "%s"\n' "$action"
    for kv in "$@"; do
        printf '              %s: "%s"\n' "${kv%%=*}" "${kv#*=}"
    done
}
for a in vm_start vm_stop vm_stop_force vm_pause vm_resume; do
    devkit_play "$a" px-testing action="$a" vm_id=101 proxmox_node=px-testing |
        seed playbook "devkit-$a.yml"
done
devkit_play vm_list px-testing action=vm_list proxmox_node=px-testing |
    seed playbook devkit-vm_list.yml
devkit_play snapshot_vm_create px-testing action=snapshot_vm_create \
    vm_id=101 proxmox_node=px-testing vm_snapshot_name=before-upgrade \
    'vm_snapshot_description=a \"quoted\" note' |
    seed playbook devkit-snapshot_create.yml
devkit_play snapshot_vm_delete px-testing vm_id=007 vm_snapshot_name=s1 |
    seed playbook devkit-snapshot_delete.yml
devkit_play vm_start px-testing 'vm_id={{ lookup("env", "X") }}' |
    seed playbook jinja.yml
devkit_play vm_start px-testing vm_name='caf\u00e9 \x41\t' |
    seed playbook escapes.yml
seed playbook builtin-include.yml <<'EOF'
- hosts: px-testing
  gather_facts: no
  vars_files: [/devkit/secrets/default_vault.yml]
  tasks:
    - ansible.builtin.include_role: {name: range42-ansible_roles-proxmox_controller}
      vars: {proxmox_vm_action: vm_stop, vm_id: 101, note: 'single ''q'''}
EOF
seed playbook typed-values.yml <<'EOF'
- hosts: px-testing
  gather_facts: off
  vars_files:
    - vault.yml
  tasks:
    - name: typed
      include_role:
        name: range42-ansible_roles-proxmox_controller
      vars:
        proxmox_vm_action: vm_start
        a: yes
        b: ~
        c: 1.5e3
        d: 0x1F
        e: 2001-12-14
        f: 0777
        g: 1_000
        h: .inf
        i: !!str 12
        j: |
          block
          text
        k: >-
          folded
          text
EOF
seed playbook anchors.yml <<'EOF'
- hosts: &h px-testing
  gather_facts: false
  vars_files: ["v.yml"]
  tasks:
    - include_role: {name: range42-ansible_roles-proxmox_controller}
      vars: {<<: {a: 1}, b: *h}
EOF
seed playbook two-plays.yml <<'EOF'
---
- hosts: a
  gather_facts: false
- hosts: b
  tasks: []
...
EOF
printf -- '- hosts: px-testing\r\n  gather_facts: false\r\n  tasks: []\r\n' |
    seed playbook crlf.yml
printf '\xef\xbb\xbf- hosts: "px-testing"\n  "gather_facts": "false"\n' |
    seed playbook bom.yml

# ---- vault: vaults made by ansible-vault, and plaintexts ----------------
vault_vars() {
    printf 'proxmox_api_host: "127.0.0.1:8006"\n'
    printf 'proxmox_api_user: "root@pam"\n'
    printf 'proxmox_api_token_id: "r42ci"\n'
    printf 'proxmox_api_token_secret: "00000000-1111-2222-3333-444444444444"\n'
    printf 'proxmox_node: "px-testing"\n'
}
vault_vars | seed vault plain-devkit.yml
seed vault plain-typed.yml <<'EOF'
proxmox_node: px-testing
port: 8006
verify: no
nested: {a: [1, 2], b: null}
note: "caf\u00e9 \U0001F600"
EOF
printf 'just a string\n' | seed vault plain-scalar.yml
printf -- '- a\n- b\n' | seed vault plain-list.yml
printf 'a: 1\na: 2\n' | seed vault plain-duplicate.yml
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
printf 'fuzz-throwaway-password\n' >"$tmp/pw"
# encrypt NAME [ansible-vault options]: stdin encrypted into corpus/vault/NAME
encrypt() {
    local name="$1"
    shift
    ANSIBLE_HOME="$tmp/home" ANSIBLE_LOCAL_TEMP="$tmp/local" \
        ansible-vault encrypt "$@" --output "$out/vault/$name" - >/dev/null
}
vault_vars | encrypt vault-1.1-devkit.yml --vault-password-file "$tmp/pw"
vault_vars | encrypt vault-1.2-label.yml --vault-id "dev@$tmp/pw"
printf 'x: ""\n' | encrypt vault-1.1-short.yml --vault-password-file "$tmp/pw"
printf '' | encrypt vault-1.1-empty.yml --vault-password-file "$tmp/pw"

# ---- acfg: ansible.cfg files ---------------------------------------------
seed acfg devkit-json.cfg <<'EOF'
# the devkit's JSON calls
[defaults]
stdout_callback = json
display_skipped_hosts = False
EOF
seed acfg devkit-text.cfg <<'EOF'
[defaults]
deprecation_warnings = False
command_warnings = False
force_valid_group_names = ignore
host_key_checking = False
EOF
seed acfg json-indent.cfg <<'EOF'
[defaults]
STDOUT_CALLBACK: ansible.posix.json ; inline comment
json_indent = 2
callbacks_enabled =
roles_path = ./roles:/etc/ansible/roles
EOF
seed acfg sections.cfg <<'EOF'
[DEFAULT]
stdout_callback = yaml

[defaults]
stdout_callback = json
callbacks_enabled = timer,
  profile_tasks
[ssh_connection]
pipelining = True
[defaults]
json_indent = 8
EOF
seed acfg odd.cfg <<'EOF'
; comment
  [defaults]
key without value
stdout_callback=json;not a comment
retry_files_save_path = %(here)s/retry
EOF
printf '[defaults]\r\nstdout_callback = json\r\n\tjson_indent = 4\r\n' |
    seed acfg crlf.cfg

# ---- inventory: YAML and INI ---------------------------------------------
seed inventory devkit.yml <<'EOF'
all:
  hosts:
    px-testing:
      ansible_connection: local
      ansible_python_interpreter: /usr/bin/python3
EOF
seed inventory children.yml <<'EOF'
all:
  children:
    proxmox:
      hosts:
        px-testing: {ansible_connection: local}
      children:
        nested:
          hosts:
            pve-child:
              ansible_host: 10.0.0.2
              ansible_port: 22
  vars:
    ansible_user: root
EOF
seed inventory ssh.yml <<'EOF'
ungrouped:
  hosts:
    px-testing:
      ansible_connection: ssh
      ansible_host: 192.0.2.1
EOF
seed inventory devkit.ini <<'EOF'
# INI inventory
px-testing ansible_connection=local

[proxmox]
px-testing ansible_connection=local ansible_python_interpreter=/usr/bin/python3

[proxmox:vars]
pve-child=1

[all:children]
pve-child
EOF
seed inventory plugin.yml <<'EOF'
plugin: community.general.proxmox
url: https://127.0.0.1:8006
EOF
printf '[g]\r\npx-testing\r\n  pve-child  \r\n[g:vars]\r\nx=1\r\n' |
    seed inventory crlf.ini

# ---- devkit: stdin lines of the scripts ----------------------------------
printf '101\n' | seed devkit id.txt
printf '101\n102\n103\n' | seed devkit ids.txt
printf '007\n -1 \n' | seed devkit odd-ids.txt
printf 'px-testing\n' | seed devkit node.txt
printf '{"vm_id":"101"}\n' | seed devkit object.jsonl
printf '{"vm_id":101,"proxmox_node":"px-testing","action":"x"}\n' |
    seed devkit object-node.jsonl
printf '{"proxmox_node":null,"vm_id":"101","vm_snapshot_name":"s1","vm_snapshot_description":"a \\"b\\" \\\\ \\u00e9"}\n' |
    seed devkit snapshot.jsonl
printf '{"vm_id":"1","vm_id":"2"}\n{"a":{"b":1}}\n' | seed devkit refused.jsonl
printf 'true\nnull\n"str"\n1e5\nnan\n' | seed devkit values.txt
printf '{"vm_id":"101"}\n102\npx-testing\n' | seed devkit mixed.txt
printf '{"vm_name":"x\\\\","vm_id":"1\\n  proxmox_vm_action: y"}\n' |
    seed devkit injection.jsonl

# ---- jout: recipes for JSON trees (see fuzz-jout.c) ----------------------
python3 - "$out/jout" <<'EOF'
import struct, sys
d = sys.argv[1]
def s(b): return bytes([len(b)]) + b
num = lambda x: b"\x02" + struct.pack("<d", x)
obj = lambda kids: b"\x07" + bytes([len(kids)]) + b"".join(s(k) + v for k, v in kids)
arr = lambda kids: b"\x06" + bytes([len(kids)]) + b"".join(kids)
string = lambda b: b"\x04" + s(b)
seeds = {
    "scalars": b"\x04" + struct.pack("<d", 0.1) + arr([b"\x00", b"\x01", b"\x09", num(-0.0), num(1e16), num(123.456), b"\x03\x80\x00\x00\x00"]),
    "object": b"\x05" + struct.pack("<d", 1e300) + obj([(b"b", string(b"caf\xc3\xa9 \xf0\x9f\x98\x80")), (b"a", num(5e-324)), (b"\x7f", b"\x00")]),
    "nested": b"\x13" + struct.pack("<d", float("nan")) + obj([(b"vm", arr([obj([(b"vmid", num(101.0)), (b"name", string(b"x\n\"\\\x01"))])]))]),
    "invalid-utf8": b"\x02" + struct.pack("<d", float("-inf")) + obj([(b"\xff\xfe", string(b"\xc0\xaf\xed\xa0\x80"))]),
    "small-max": b"\x81\x04" + struct.pack("<d", 2.5) + arr([string(b"a" * 40)] * 4),
}
for name, data in seeds.items():
    open(f"{d}/{name}.bin", "wb").write(data)
EOF
echo "corpus written to $PWD/$out"
