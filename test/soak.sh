#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# test/soak.sh (make soak): the runner, called many times in a row and fed a
# long batch, must neither fail nor grow.  Against a throw-away simulator
# (test/lib/env.sh), with the shim preloaded:
#
#   1. R42_SOAK_CALLS (1000) playbook-level calls: ansible-playbook as the
#      devkit calls it, vm_start and vm_stop of one VM in turn;
#   2. R42_SOAK_CALLS script-level calls: proxmox_vm.vm_id.{start,stop}
#      .to.jsons.sh of another VM in turn;
#   3. one batch of R42_SOAK_LINES (20 000) VM ids on the stdin of
#      proxmox_snapshot_vm.vm_id.list_snapshot.to.jsons.sh, the runner's
#      open descriptors and RSS read from /proc/PID every 0.25 s.
#
# It passes when every call answers on the fast path with the expected
# result (and the VMs end as the last calls left them), no call leaves a
# file in TMPDIR or the probe cache, the batch prints one line per id, and
# the batch's samples are flat: from the 10th sample to the last, the
# descriptor count never exceeds the 10th sample's, and RSS never exceeds
# the 10th sample's by more than 10 % (at least 20 samples needed, i.e. a
# batch of 5 s or more).  Every call is bounded (60 s, the batch 900 s) and
# the whole soak by R42_SOAK_MAX_SECONDS (2400).  Prints one line per
# check, then the figures; exits 0 only if every check passed.
set -uo pipefail
top="$(cd "$(dirname "$0")/.." && pwd)"
cd "$top" || exit 1
# shellcheck source-path=SCRIPTDIR source=lib/env.sh
source "$top/test/lib/env.sh"

calls="${R42_SOAK_CALLS:-1000}"
lines="${R42_SOAK_LINES:-20000}"
max_seconds="${R42_SOAK_MAX_SECONDS:-2400}"
so="${R42_SO:-$top/build/libr42intercept.so}"
runner="${R42_RUNNER:-$top/build/r42intercept-runner}"
[[ -f "$so" && -x "$runner" ]] || { echo "soak: build first (make all)" >&2; exit 2; }
runner="$(readlink -f "$runner")"

dir="$(mktemp -d /tmp/r42-soak.XXXXXX)" || exit 1
batch_pid=""
# shellcheck disable=SC2317 # called by the trap
cleanup() {
    [[ -n "$batch_pid" ]] && kill -KILL "$batch_pid" 2>/dev/null
    r42_env_down "$dir/env"
    rm -rf "$dir"
}
trap cleanup EXIT
r42_env_up "$dir/env" || exit 1
export XDG_RUNTIME_DIR="$dir/run" TMPDIR="$dir/tmp"
mkdir -m 0700 "$XDG_RUNTIME_DIR" "$TMPDIR"
export R42INTERCEPT_RUNNER="$runner"

failed=0
check() { # OK WHAT: one result line
    if [[ "$1" == 0 ]]; then
        echo "ok - $2"
    else
        echo "not ok - $2"
        failed=1
    fi
}
over_time() { ((SECONDS > max_seconds)); }
files_left() { find "$TMPDIR" "$XDG_RUNTIME_DIR" -type f | sort; }
vm_status() { r42_sim GET /_sim/state | jq -r --arg id "$1" '.vms[$id].status'; }

# The devkit's inline playbook for ACTION on VM_ID.
playbook() {
    printf '      - hosts: %s\n        gather_facts: false\n' "$R42_ENV_NODE"
    printf '        vars_files:\n          - "%s/secrets/default_vault.yml"\n' \
        "$RANGE42_ANSIBLE_ROLES__DEVKITS_DIR"
    printf '        tasks:\n'
    printf '          - name: RUN range42-ansible_roles-proxmox_controller WITH VARS\n'
    printf '            include_role:\n'
    printf '              name: range42-ansible_roles-proxmox_controller\n'
    printf '            vars:\n              proxmox_vm_action: "%s"\n' "$1"
    printf '              vm_id: "%s"\n              proxmox_node: "%s"\n' "$2" \
        "$R42_ENV_NODE"
}

# ansible-playbook as the devkit runs it, exec'd by a preloaded bash.
playbook_call() {
    playbook "$1" "$2" | ANSIBLE_CONFIG="$RANGE42_ANSIBLE_ROLES__DEVKITS_DIR/ansible_no_skipped_json.cfg" \
        LD_PRELOAD="$so" timeout -k 5 60 bash -c 'exec ansible-playbook "$@"' ansible-playbook \
        -i "$RANGE42_ANSIBLE_ROLES__INVENTORY_DIR/inventory_default.yml" \
        --vault-password-file "$RANGE42_VAULT_PASSWORD_FILE" /dev/stdin
}

script_call() { # SCRIPT VM_ID
    # shellcheck disable=SC2016 # $0 is bash -c's, on purpose
    printf '%s\n' "$2" | LD_PRELOAD="$so" timeout -k 5 60 bash -c 'exec "$0"' "$1"
}

# run_calls LEVEL VM: CALLS calls starting and stopping VM in turn.
run_calls() {
    local level="$1" vm="$2" i action want out ok=0 start=$SECONDS first=""
    local state
    state="$(vm_status "$vm")"
    for ((i = 0; i < calls; i++)); do
        over_time && break
        if [[ "$state" == stopped ]]; then action=start want=running; else action=stop want=stopped; fi
        # (bash matches only: a jq or grep per call would double the time)
        if [[ "$level" == playbook ]]; then
            out="$(playbook_call "vm_$action" "$vm" 2>"$dir/err")" &&
                [[ "$out" == *"\"vm_status\": \"$want\""* ]] &&
                [[ "$(<"$dir/err")" == *"fast path: vm_$action vm $vm "* ]] &&
                ok=$((ok + 1))
        else
            out="$(script_call "proxmox_vm.vm_id.$action.to.jsons.sh" "$vm" 2>"$dir/err")" &&
                [[ "$out" == "{\"action\":\"vm_$action\","*"\"vm_id\":\"$vm\","*"\"vm_status\":\"$want\"}" ]] &&
                [[ "$(<"$dir/err")" == *"fast path: proxmox_vm.vm_id.$action.to.jsons.sh"* ]] &&
                ok=$((ok + 1))
        fi
        state="$want"
        [[ $i -eq 0 ]] && first="$(files_left)"
    done
    local took=$((SECONDS - start)) probes
    probes="$(r42_sim_log_count GET '^/api2/json/nodes/[^/]+/qemu$')"
    check $((ok != calls)) "$calls $level-level calls in a row: $ok answered as expected, in $took s ($probes probes so far)"
    [[ "$(vm_status "$vm")" == "$state" ]]
    check $? "$level level: VM $vm ends $state, as its last call left it"
    [[ "$(files_left)" == "$first" ]]
    check $? "$level level: no file left behind ($(files_left | wc -l) files in TMPDIR and the probe cache, as after the first call)"
}

run_calls playbook 101
run_calls script 103

# ---- the batch -------------------------------------------------------------
ids=(100 101 102 103 104 105 106 107)
for ((i = 0; i < lines; i++)); do
    printf '%s\n' "${ids[i % 8]}"
done >"$dir/batch.in"
# shellcheck disable=SC2016 # $0 is bash -c's, on purpose
LD_PRELOAD="$so" timeout -k 5 900 bash -c 'exec "$0"' \
    proxmox_snapshot_vm.vm_id.list_snapshot.to.jsons.sh \
    <"$dir/batch.in" >"$dir/batch.out" 2>"$dir/batch.err" &
batch_pid=$!
# timeout(1) runs the call as its child: sample that child once it is the runner
samples=()
start=$SECONDS
while kill -0 "$batch_pid" 2>/dev/null && ! over_time; do
    pid="$(pgrep -P "$batch_pid" | head -1)"
    if [[ -n "$pid" && "$(readlink "/proc/$pid/exe" 2>/dev/null)" == "$runner" ]]; then
        fds="$(find "/proc/$pid/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)"
        rss="$(awk '$1 == "VmRSS:" {print $2}' "/proc/$pid/status" 2>/dev/null)"
        [[ -n "$rss" && "$fds" -gt 0 ]] && samples+=("$fds $rss")
    fi
    sleep 0.25
done
wait "$batch_pid"
rc=$?
batch_pid=""
took=$((SECONDS - start))
got_lines="$(grep -c '"action":"snapshot_vm_list"' "$dir/batch.out")"
check $((rc != 0 || got_lines != lines)) \
    "a $lines-line batch: exit $rc, $got_lines result lines in $took s"
grep -q 'fast path: proxmox_snapshot_vm.vm_id.list_snapshot' "$dir/batch.err" &&
    ! grep -q 'running the real' "$dir/batch.err"
check $? "the batch took the fast path"

n=${#samples[@]}
if ((n < 20)); then
    check 1 "batch samples: only $n (20 needed: a longer batch, R42_SOAK_LINES)"
else
    read -r fds10 rss10 <<<"${samples[9]}"
    read -r fds_last rss_last <<<"${samples[n - 1]}"
    max_fds=0 max_rss=0
    for s in "${samples[@]:9}"; do
        read -r f r <<<"$s"
        ((f > max_fds)) && max_fds=$f
        ((r > max_rss)) && max_rss=$r
    done
    read -r fds1 rss1 <<<"${samples[0]}"
    check $((max_fds > fds10)) \
        "batch fds flat: $fds1 at the 1st sample, $fds10 at the 10th, $fds_last at the last ($n samples), at most $max_fds from the 10th on"
    limit=$((rss10 + rss10 / 10))
    check $((max_rss > limit)) \
        "batch RSS flat: $rss1 kB at the 1st sample, $rss10 kB at the 10th, $rss_last kB at the last, at most $max_rss kB from the 10th on (limit $limit kB)"
fi
over_time && check 1 "the soak went over R42_SOAK_MAX_SECONDS=$max_seconds"
echo "soak: $SECONDS s in all; $([[ $failed -eq 0 ]] && echo passed || echo FAILED)"
exit $failed
