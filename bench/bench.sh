#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# bench/bench.sh (make bench): runs bench/bench.py twice, each against a
# 20-VM simulator and a test devkit of its own: first the real-cluster
# profile (the simulator behind a 20 ms round-trip proxy, Proxmox-like task
# times), then the loopback sections; bench.py puts the first run's tables
# first in bench/results.md. Stops everything it started.
# R42_BENCH_RUNS (default 5) and R42_BENCH_EXECS (default 2000) size it;
# R42_BENCH_SECTIONS=1,6 runs only those loopback sections (no results.md,
# no real-cluster profile unless R42_BENCH_CLUSTER=1); with
# R42_BENCH_UPDATE=1, those sections of results.md are replaced by the run's.
set -euo pipefail
top="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=../test/lib/env.sh
source "$top/test/lib/env.sh"
dir="$(mktemp -d /tmp/r42-bench.XXXXXX)"
trap 'r42_env_down "$dir/cluster" 2>/dev/null || true; r42_env_down "$dir/env" 2>/dev/null || true; rm -rf "$dir"' EXIT
export XDG_RUNTIME_DIR="$dir/run"  # a probe cache of the benchmark's own
mkdir -m 0700 "$XDG_RUNTIME_DIR"
if [[ -z "${R42_BENCH_SECTIONS:-}" || "${R42_BENCH_CLUSTER:-}" == 1 ]]; then
    r42_env_up "$dir/cluster" --vms 21 --rtt-ms 20   # 20 VMs and one template
    R42_BENCH_PART=cluster R42_BENCH_CLUSTER_MD="$dir/cluster.md" python3 "$top/bench/bench.py"
    r42_env_down "$dir/cluster"
    rm -rf "$XDG_RUNTIME_DIR"/* 2>/dev/null || true
fi
r42_env_up "$dir/env" --vms 21   # 20 VMs and one template
R42_BENCH_CLUSTER_MD="$dir/cluster.md" python3 "$top/bench/bench.py"
