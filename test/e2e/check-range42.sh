#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# test/e2e/check-range42.sh: range42's own client scripts, unchanged, against the Proxmox
# API simulator, each run twice: the slow path (real ansible) and the fast path
# (libr42intercept.so preloaded, RANGE42_PROXMOX_API_STRICT=1). It owns only its work
# directory and the simulator it starts. Not part of `make test`: it needs range42's
# repositories checked out, and the slow path takes many minutes.
#
# usage: make check-range42
#        test/e2e/check-range42.sh [--keep] [SCENARIO_REGEX]
#   R42_REF_DEVKIT     range42-ansible_roles-debug-devkit   (default /work/ref/devkit)
#   R42_REF_ROLES      the roles directory holding range42-ansible_roles-proxmox_controller
#                      (default /work/ref/role/roles)
#   R42_REF_PLAYBOOKS  range42-playbooks                    (default /work/ref/playbooks)
#   R42_E2E_TIMEOUT    seconds allowed to one run of one scenario (default 3600)
#
# Each scenario runs as the scripts are run by hand: `script` gives it a terminal on
# stdin (stdout and stderr go to files), `sleep` is a PATH shim that records its
# argument and returns at once, HOME is a throw-away directory (demo_lab removes
# known_hosts entries there), and the simulator is reseeded first. The devkit it uses
# is the real one (symlinked next to the environment's vault); the role is the real
# one. Shown per scenario: both exit statuses, whether stdout is identical once the
# "source" value and time-dependent values (snapshot date suffixes, UPID fields,
# snaptime, digests) are masked, and on the fast path the ansible-playbook and
# ansible-vault starts and every Python start (those two, yq, ansible's modules...:
# strace -f -e trace=execve, a program whose #! names python counts). The exit status is 0
# only when every scenario has identical stdout and no such start on the fast path.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=test/lib/env.sh
source "$here/../lib/env.sh"

REF_DEVKIT="${R42_REF_DEVKIT:-/work/ref/devkit}"
REF_ROLES="${R42_REF_ROLES:-/work/ref/role/roles}"
REF_PLAYBOOKS="${R42_REF_PLAYBOOKS:-/work/ref/playbooks}"
RUN_TIMEOUT="${R42_E2E_TIMEOUT:-3600}"
SO="$R42_TOP/build/libr42intercept.so"

keep=false
only=""
while [[ $# -gt 0 ]]; do
    case "$1" in
    --keep) keep=true; shift ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) only="$1"; shift ;;
    esac
done

need() { [[ -e "$1" ]] || { echo "check-range42: $2 not found: $1" >&2; exit 2; }; }
need "$REF_DEVKIT/proxmox__inc.warmup_checks.sh" "the devkit (R42_REF_DEVKIT)"
need "$REF_DEVKIT/_tests" "the devkit's _tests (R42_REF_DEVKIT)"
need "$REF_ROLES/range42-ansible_roles-proxmox_controller" "the role (R42_REF_ROLES)"
need "$REF_PLAYBOOKS/scenarios/demo_lab" "range42-playbooks (R42_REF_PLAYBOOKS)"
need "$SO" "the library (make all)"
for tool in script strace ansible-playbook jq; do
    command -v "$tool" >/dev/null || { echo "check-range42: $tool is needed" >&2; exit 2; }
done

WORK="$(mktemp -d "${TMPDIR:-/tmp}/r42-check-range42.XXXXXX")"
cleanup() {
    r42_env_down "$WORK/env" || true
    if [[ "$keep" == true ]]; then echo "work directory kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

#### the environment: simulator, vault, the real devkit beside it ################

r42_env_up "$WORK/env" >/dev/null
mkdir -p "$WORK/devkit" "$WORK/bin" "$WORK/runs"
for f in "$REF_DEVKIT"/*; do
    ln -s "$f" "$WORK/devkit/${f##*/}"
done
ln -s "$R42_ENV_DIR/devkit/secrets" "$WORK/devkit/secrets"
export RANGE42_ANSIBLE_ROLES__DEVKITS_DIR="$WORK/devkit"
export ANSIBLE_ROLES_PATH="$REF_ROLES"
PATH="$WORK/devkit:$(tr ':' '\n' <<<"$PATH" | grep -vxF "$R42_ENV_DIR/devkit" | paste -sd:)"
export PATH

cat >"$WORK/bin/sleep" <<'EOF'
#!/bin/bash
# check-range42: the scenario's sleeps are recorded, not slept
printf 'sleep %s\n' "$*" >>"$R42_E2E_SLEEPS"
EOF
chmod +x "$WORK/bin/sleep"

#### scenarios ###################################################################

# The VMs of 01_01 are picked by the names "group-01" and "group-02"; 02_01 starts and
# stops the containers named "test-..." (the default seed has running ones: the first
# start fails and the batch ends, which the second 02_01 scenario shows).
SEED_GROUPS='{"vms":[
  {"vmid":100,"name":"group-01-vm-01","status":"running"},
  {"vmid":101,"name":"group-01-vm-02"},
  {"vmid":102,"name":"group-02-vm-01"},
  {"vmid":103,"name":"group-02-vm-02","status":"running"},
  {"vmid":104,"name":"vuln-box-00","status":"running"},
  {"vmid":105,"name":"r42-template-debian","template":true}],"lxcs":0}'
SEED_CTS_STOPPED='{"lxcs":[
  {"vmid":200,"name":"test-lxc-web"},{"vmid":201,"name":"test-lxc-db"},
  {"vmid":202,"name":"admin-lxc-proxy","status":"running"}]}'
SEED_GROUPS="$(tr -d '\n' <<<"$SEED_GROUPS")"
SEED_CTS_STOPPED="$(tr -d '\n' <<<"$SEED_CTS_STOPPED")"
STUDENT="$REF_PLAYBOOKS/bundles/core/proxmox/configure/default/vms/create-vms-student/stage_01/student_box_01.devkit"

# name | seed (JSON, or - for the default) | directory | command
SCENARIOS=(
    "devkit.01_01_vm_operations|$SEED_GROUPS|$REF_DEVKIT/_tests|bash ./01_01_vm_operations_start-pause-resume-stop-start-stop_force.sh"
    "devkit.01_02_vm_snapshots|-|$REF_DEVKIT/_tests|bash ./01_02_vm_operations_create_delete_snapshots_revert.sh"
    "devkit.02_01_lxc_operations|$SEED_CTS_STOPPED|$REF_DEVKIT/_tests|bash ./02_01_lxc_operations_start-pause-stop-start-stop_force.sh"
    "devkit.02_01_lxc_first_failure|-|$REF_DEVKIT/_tests|bash ./02_01_lxc_operations_start-pause-stop-start-stop_force.sh"
    "devkit.02_02_lxc_snapshots|-|$REF_DEVKIT/_tests|bash ./02_02_lxc_operation_create_delete_snapshots_revert.sh"
    "playbooks.demo_lab.delete_vms_only|-|$REF_PLAYBOOKS/scenarios/demo_lab|bash ./demo_lab.delete_vms_only.sh"
    "playbooks.student_box_01.snapshot_revert|-|$STUDENT|bash ./demo_lab.student_box_01.snapshot.sh; bash ./demo_lab.student_box_01.revert.sh"
)

mask() {
    sed -E \
        -e 's/"source":"proxmox-api"/"source":"proxmox"/g' \
        -e 's/[0-9]{6}-[0-9]{6}/YYMMDD-HHMMSS/g' \
        -e 's/(UPID:[^:]*):[0-9A-F]{8}:[0-9A-F]{8}:[0-9A-F]{8}:/\1:PID:PSTART:START:/g' \
        -e 's/("(vm|lxc)_snapshot_time": ?)[0-9]+/\1SNAPTIME/g' \
        -e 's/("(vm|lxc)_snapshot_sha1": ?")[0-9a-f]{40}/\1SHA1/g'
}

# run_one NAME PATH_KIND(slow|fast) SEED DIR COMMAND: one run, outputs in $WORK/runs/NAME/KIND
run_one() {
    local name="$1" kind="$2" seed="$3" dir="$4" cmd="$5" out rc
    out="$WORK/runs/$name/$kind"
    mkdir -p "$out/home" "$out/xdg"
    chmod 700 "$out/xdg"
    if [[ "$seed" == - ]]; then r42_sim POST /_sim/reset >/dev/null; else r42_sim POST /_sim/reset "$seed" >/dev/null; fi
    : >"$out/sleeps"
    local -a run=(env PATH="$WORK/bin:$PATH" HOME="$out/home" XDG_RUNTIME_DIR="$out/xdg"
        R42_E2E_SLEEPS="$out/sleeps")
    if [[ "$kind" == fast ]]; then
        run+=(RANGE42_PROXMOX_API_STRICT=1 LD_PRELOAD="$SO"
            strace -f -qq -e trace=execve -e signal=none -o "$out/strace")
    fi
    set +e
    (cd "$dir" && timeout -k 5 "$RUN_TIMEOUT" "${run[@]}" \
        script -qec "{ $cmd; } >'$out/stdout' 2>'$out/stderr'" /dev/null </dev/null >/dev/null 2>&1)
    rc=$?
    set -e
    echo "$rc" >"$out/rc"
    r42_sim GET /_sim/log | jq -c '.[] | [.method, .path, .status]' >"$out/simlog"
    r42_sim GET /_sim/state | jq -S '{vms: (.vms | map_values({name, status, qmpstatus,
        snapshots: [.snapshots[].description]})), lxcs: (.lxcs | map_values({name, status,
        snapshots: [.snapshots[].description]}))}' | mask >"$out/state"
}

# exec_paths FILE: the program of every execve in the strace FILE, one per line
exec_paths() {
    [[ -s "$1" ]] || return 0
    grep -o 'execve("[^"]*"' "$1" | sed 's/execve("//; s/"$//'
}

# execs FILE PATTERN: how many execve calls in the strace FILE name a program whose
# file name matches PATTERN
execs() { exec_paths "$1" | sed 's|.*/||' | grep -cE "$2" || true; }

# python_starts FILE: how many execve calls start Python: python* itself, or a script
# whose #! line names it (ansible-playbook, ansible-vault, yq, ...); sets PY_PROGRAMS
python_starts() {
    local path n total=0
    PY_PROGRAMS=""
    while read -r n path; do
        if [[ "${path##*/}" == python* ]] || head -c 128 "$path" 2>/dev/null | head -n 1 | grep -q python; then
            total=$((total + n))
            PY_PROGRAMS+=" ${path##*/}:$n"
        fi
    done < <(exec_paths "$1" | sort | uniq -c)
    echo "$total"
}

#### run #########################################################################

printf '%-42s %-9s %-9s %-8s %-6s %-6s %-6s %s\n' scenario "slow rc" "fast rc" stdout \
    a-pb a-vault python "slow s / fast s"
failures=0
for entry in "${SCENARIOS[@]}"; do
    IFS='|' read -r name seed dir cmd <<<"$entry"
    [[ -z "$only" || "$name" =~ $only ]] || continue
    t0=$(date +%s)
    run_one "$name" slow "$seed" "$dir" "$cmd"
    t1=$(date +%s)
    run_one "$name" fast "$seed" "$dir" "$cmd"
    t2=$(date +%s)
    a="$WORK/runs/$name/slow" b="$WORK/runs/$name/fast"
    if cmp -s <(mask <"$a/stdout") <(mask <"$b/stdout"); then same=same; else same=DIFF; fi
    pb="$(execs "$b/strace" '^ansible-playbook$')"
    vault="$(execs "$b/strace" '^ansible-vault$')"
    python_starts "$b/strace" >"$b/python"
    py="$(cat "$b/python")"
    printf '%-42s %-9s %-9s %-8s %-6s %-6s %-6s %s\n' "$name" "$(cat "$a/rc")" "$(cat "$b/rc")" \
        "$same ($(wc -l <"$a/stdout"))" "$pb" "$vault" "$py" "$((t1 - t0)) / $((t2 - t1))"
    [[ -z "$PY_PROGRAMS" ]] || echo "      Python on the fast path:$PY_PROGRAMS"
    if [[ "$same" != same ]]; then
        diff <(mask <"$a/stdout") <(mask <"$b/stdout") | head -n 20 | sed 's/^/      /' || true
    fi
    if ! cmp -s "$a/state" "$b/state"; then
        echo "      (the simulator's final state differs: $a/state $b/state)"
    fi
    if [[ "$same" != same || "$pb$vault$py" != 000 ]]; then
        failures=$((failures + 1))
    fi
done
echo
echo "scenarios failing (stdout differs, or the fast path started ansible or Python): $failures"
[[ "$failures" -eq 0 ]]
