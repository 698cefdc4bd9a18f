# SPDX-License-Identifier: GPL-3.0-or-later
# shellcheck shell=bash
# test/lib/env.sh: throw-away test environment for r42intercept (sourced, never run).
#
# Builds, in one directory: a throw-away CA (ca.crt) and the TLS cert it signed, the
# Proxmox API simulator (test/sim/pvesim.py), an Ansible Vault with the API
# credentials, a YAML inventory, and a devkit directory made of symlinks to
# test/fixtures/devkit/. Then exports what the devkit scripts, the
# fixture role and the tests need. Everything stays inside that directory: ansible's
# home and temp dirs too (nothing is written to ~/.ansible).
#
#   r42_env_up DIR [--vms N] [--lxcs N] [--task-duration S] [--rtt-ms MS]
#                                                  build DIR (empty or absent), start the simulator;
#                                                  --rtt-ms: the API (the vault's proxmox_api_host)
#                                                  is reached through test/sim/latency.py, MS of
#                                                  round trip (R42_API_PORT; R42_SIM_URL, the
#                                                  control API, stays direct)
#   r42_env_load DIR                               re-export the variables of a DIR built earlier
#   r42_env_down [DIR]                             stop the simulator of DIR (default: $R42_ENV_DIR)
#   r42_sim GET|POST PATH [JSON]                   call the simulator (control API), print the body
#                                                  (status 22 on an HTTP error, 28 on timeout);
#                                                  r42_sim POST /_sim/reset '{"vms":[...],"lxcs":3}'
#                                                  reseeds (test/sim/pvesim.py: Seed state)
#   r42_sim_log_count METHOD PATH_REGEX            count requests in the simulator's log
#
# Functions are `set -u` safe, print nothing on success (r42_sim prints the body) and
# return non-zero with a message on stderr on failure.

R42_TOP="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export R42_TOP

R42_ENV_NODE="px-testing"
R42_ENV_TOKEN_USER="root@pam"
R42_ENV_TOKEN_ID="r42ci"

_r42_err() { printf 'r42 env: %s\n' "$*" >&2; }

# _r42_exports DIR: export every variable derived from DIR (its port file must exist).
_r42_exports() {
    local dir="$1" port secret password
    port="$(cat "$dir/sim.port" 2>/dev/null)" || { _r42_err "no $dir/sim.port"; return 1; }
    secret="$(cat "$dir/token_secret" 2>/dev/null)" || { _r42_err "no $dir/token_secret"; return 1; }
    password="$(cat "$dir/vault_pass.txt" 2>/dev/null)" || { _r42_err "no $dir/vault_pass.txt"; return 1; }

    export R42_ENV_DIR="$dir"
    export R42_SIM_PORT="$port"
    export R42_SIM_URL="https://127.0.0.1:$port"
    # the port the runner reaches the API on: the latency proxy's, if any
    R42_API_PORT="$(cat "$dir/proxy.port" 2>/dev/null)" || R42_API_PORT="$port"
    export R42_API_PORT
    export R42_SIM_LOG="$dir/sim.log"
    export R42_TOKEN_SECRET="$secret"
    export R42_VAULT_PASSWORD="$password"

    export RANGE42_ANSIBLE_ROLES__DEVKITS_DIR="$dir/devkit"
    export RANGE42_ANSIBLE_ROLES__INVENTORY_DIR="$dir/inventory"
    export RANGE42_VAULT_PASSWORD_FILE="$dir/vault_pass.txt"
    export ANSIBLE_ROLES_PATH="$R42_TOP/test/fixtures/roles"

    # ansible-core 2.14 honours ANSIBLE_HOME (its default for every other ~/.ansible path)
    export ANSIBLE_HOME="$dir/ansible-tmp/home"
    export ANSIBLE_LOCAL_TEMP="$dir/ansible-tmp/local"
    export ANSIBLE_REMOTE_TEMP="$dir/ansible-tmp/remote"
    export ANSIBLE_PYTHON_INTERPRETER=/usr/bin/python3
    export ANSIBLE_NOCOLOR=1
    # the runner answers our fixture devkit scripts (test/fixtures/devkit)
    # only when told so: they are not the range42 devkit's text
    export R42INTERCEPT_TEST_FIXTURE_DEVKIT=1

    case ":$PATH:" in
    *":$dir/devkit:"*) ;;
    *) export PATH="$dir/devkit:$PATH" ;;
    esac
}

# _r42_sim_pid DIR: print the simulator's pid if it is still running.
_r42_sim_pid() {
    local dir="$1" pid state
    pid="$(cat "$dir/sim.pid" 2>/dev/null)" || return 1
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    # a recycled pid is not ours: the command line must name the simulator
    tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -q 'pvesim\.py' || return 1
    # a zombie (our own exited child, not yet reaped) is not running
    state="$(sed -n 's/^[0-9]* (.*) \([A-Za-z]\) .*/\1/p' 2>/dev/null <"/proc/$pid/stat")"
    [[ -n "$state" && "$state" != Z ]] || return 1
    printf '%s\n' "$pid"
}

r42_env_up() {
    local dir="${1:-}" vms="" lxcs="" task_duration="" rtt_ms=""
    if [[ -z "$dir" ]]; then
        _r42_err "usage: r42_env_up DIR [--vms N] [--lxcs N] [--task-duration S] [--rtt-ms MS]"
        return 2
    fi
    shift
    while [[ $# -gt 0 ]]; do
        case "$1" in
        --vms) vms="${2:-}"; shift 2 || { _r42_err "--vms needs a value"; return 2; } ;;
        --lxcs) lxcs="${2:-}"; shift 2 || { _r42_err "--lxcs needs a value"; return 2; } ;;
        --task-duration) task_duration="${2:-}"; shift 2 || { _r42_err "--task-duration needs a value"; return 2; } ;;
        --rtt-ms) rtt_ms="${2:-}"; shift 2 || { _r42_err "--rtt-ms needs a value"; return 2; } ;;
        *) _r42_err "unknown option: $1"; return 2 ;;
        esac
    done
    if [[ -e "$dir" && -n "$(ls -A "$dir" 2>/dev/null)" ]]; then
        _r42_err "$dir exists and is not empty"
        return 1
    fi
    mkdir -p "$dir" || return 1
    dir="$(cd "$dir" && pwd)" || return 1

    # TLS: a throw-away CA (ca.crt) and the simulator's certificate, signed by it,
    # for 127.0.0.1 and ::1 only (its CN is no host name: "localhost" does not match)
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
        -subj "/CN=r42intercept test CA" -keyout "$dir/ca.key" -out "$dir/ca.crt" \
        >/dev/null 2>&1 &&
        openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=pvesim -days 2 \
            -CA "$dir/ca.crt" -CAkey "$dir/ca.key" \
            -addext "basicConstraints=critical,CA:FALSE" \
            -addext "subjectAltName=IP:127.0.0.1,IP:::1" \
            -keyout "$dir/tls.key" -out "$dir/tls.crt" >/dev/null 2>&1 ||
        { _r42_err "openssl failed"; return 1; }

    # secrets (files written with mode 600)
    local secret password
    secret="$(cat /proc/sys/kernel/random/uuid)"
    password="$(od -An -N18 -tx1 /dev/urandom | tr -d ' \n')"
    (
        umask 077
        printf '%s\n' "$secret" >"$dir/token_secret"
        printf '%s\n' "$password" >"$dir/vault_pass.txt"
    ) || return 1

    # simulator: fds 0,1 and any inherited fd 3 (bats) closed, so nobody waits on it
    local -a sim_args=(
        --cert "$dir/tls.crt" --key "$dir/tls.key"
        --token "$R42_ENV_TOKEN_USER!$R42_ENV_TOKEN_ID=$secret"
        --node "$R42_ENV_NODE"
        --port-file "$dir/sim.port" --log "$dir/sim.log"
    )
    [[ -n "$vms" ]] && sim_args+=(--vms "$vms")
    [[ -n "$lxcs" ]] && sim_args+=(--lxcs "$lxcs")
    [[ -n "$task_duration" ]] && sim_args+=(--task-duration "$task_duration")
    python3 "$R42_TOP/test/sim/pvesim.py" "${sim_args[@]}" \
        </dev/null >/dev/null 2>"$dir/sim.stderr" 3>&- &
    printf '%s\n' "$!" >"$dir/sim.pid"

    local i
    for ((i = 0; i < 200; i++)); do # 200 x 0.05 s = 10 s
        [[ -s "$dir/sim.port" ]] && break
        if ! kill -0 "$(cat "$dir/sim.pid")" 2>/dev/null; then
            break
        fi
        sleep 0.05
    done
    if [[ ! -s "$dir/sim.port" ]]; then
        _r42_err "simulator did not start; its stderr:"
        sed 's/^/    /' "$dir/sim.stderr" >&2
        r42_env_down "$dir"
        return 1
    fi
    local port
    port="$(cat "$dir/sim.port")"
    if [[ -n "$rtt_ms" ]]; then
        _r42_proxy_up "$dir" "$port" "$rtt_ms" || { r42_env_down "$dir"; return 1; }
        port="$(cat "$dir/proxy.port")"
    fi

    # ansible's private dirs
    mkdir -p "$dir/ansible-tmp/home" "$dir/ansible-tmp/local" "$dir/ansible-tmp/remote" || return 1

    # devkit dir: symlinks to the fixture devkit + the vault (encrypted from stdin:
    # the plaintext never touches the disk)
    local f
    mkdir -p "$dir/devkit/secrets" || return 1
    for f in "$R42_TOP"/test/fixtures/devkit/*; do
        [[ -f "$f" ]] && ln -s "$f" "$dir/devkit/${f##*/}"
    done
    printf '%s\n' \
        "proxmox_api_host: \"127.0.0.1:$port\"" \
        "proxmox_api_user: \"$R42_ENV_TOKEN_USER\"" \
        "proxmox_api_token_id: \"$R42_ENV_TOKEN_ID\"" \
        "proxmox_api_token_secret: \"$secret\"" \
        "proxmox_node: \"$R42_ENV_NODE\"" |
        ANSIBLE_HOME="$dir/ansible-tmp/home" ANSIBLE_LOCAL_TEMP="$dir/ansible-tmp/local" \
            ansible-vault encrypt --vault-password-file "$dir/vault_pass.txt" \
            --output "$dir/devkit/secrets/default_vault.yml" - >/dev/null 2>"$dir/vault.stderr" ||
        { _r42_err "ansible-vault encrypt failed:"; cat "$dir/vault.stderr" >&2; return 1; }
    rm -f "$dir/vault.stderr"
    chmod 600 "$dir/devkit/secrets/default_vault.yml"

    # inventory
    mkdir -p "$dir/inventory" || return 1
    cat >"$dir/inventory/inventory_default.yml" <<EOF
all:
  hosts:
    $R42_ENV_NODE:
      ansible_connection: local
      ansible_python_interpreter: /usr/bin/python3
EOF

    _r42_exports "$dir"
}

# _r42_proxy_up DIR SIM_PORT RTT_MS: the latency proxy in front of the simulator.
_r42_proxy_up() {
    local dir="$1" i
    python3 "$R42_TOP/test/sim/latency.py" --target "127.0.0.1:$2" --rtt-ms "$3" \
        --port-file "$dir/proxy.port" </dev/null >/dev/null 2>"$dir/proxy.stderr" 3>&- &
    printf '%s\n' "$!" >"$dir/proxy.pid"
    for ((i = 0; i < 200; i++)); do # 10 s
        [[ -s "$dir/proxy.port" ]] && return 0
        kill -0 "$(cat "$dir/proxy.pid")" 2>/dev/null || break
        sleep 0.05
    done
    _r42_err "latency proxy did not start; its stderr:"
    sed 's/^/    /' "$dir/proxy.stderr" >&2
    return 1
}

r42_env_load() {
    local dir="${1:-}"
    [[ -n "$dir" && -d "$dir" ]] || { _r42_err "usage: r42_env_load DIR"; return 2; }
    dir="$(cd "$dir" && pwd)" || return 1
    _r42_exports "$dir"
}

r42_env_down() {
    local dir="${1:-${R42_ENV_DIR:-}}" pid i
    [[ -n "$dir" ]] || { _r42_err "usage: r42_env_down [DIR]"; return 2; }
    pid="$(cat "$dir/proxy.pid" 2>/dev/null)" || pid=""
    if [[ "$pid" =~ ^[0-9]+$ ]] &&
        tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -q 'latency\.py'; then
        kill -TERM "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    fi
    pid="$(_r42_sim_pid "$dir")" || return 0
    kill -TERM "$pid" 2>/dev/null
    for ((i = 0; i < 100; i++)); do # 5 s
        _r42_sim_pid "$dir" >/dev/null || break
        sleep 0.05
    done
    if _r42_sim_pid "$dir" >/dev/null; then
        kill -KILL "$pid" 2>/dev/null
        sleep 0.05
    fi
    wait "$pid" 2>/dev/null # reap it when it is our child; harmless otherwise
    return 0
}

r42_sim() {
    local method="${1:-}" path="${2:-}" json="${3:-}"
    if [[ -z "$method" || -z "$path" ]]; then
        _r42_err "usage: r42_sim GET|POST PATH [JSON]"
        return 2
    fi
    [[ -n "${R42_SIM_URL:-}" ]] || { _r42_err "no environment (r42_env_up first)"; return 1; }
    local -a args=(-sk --max-time 5 --fail-with-body -X "$method")
    if [[ -n "$json" ]]; then
        args+=(-H 'Content-Type: application/json' --data-binary "$json")
    fi
    curl "${args[@]}" "$R42_SIM_URL$path"
}

r42_sim_log_count() {
    local method="${1:-}" regex="${2:-}"
    if [[ -z "$method" || -z "$regex" ]]; then
        _r42_err "usage: r42_sim_log_count METHOD PATH_REGEX"
        return 2
    fi
    [[ -n "${R42_SIM_LOG:-}" ]] || { _r42_err "no environment (r42_env_up first)"; return 1; }
    [[ -s "$R42_SIM_LOG" ]] || { echo 0; return 0; }
    jq -n --arg m "$method" --arg re "$regex" \
        '[inputs | select(.method == $m and (.path | test($re)))] | length' "$R42_SIM_LOG"
}
