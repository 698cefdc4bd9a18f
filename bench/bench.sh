#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# bench/bench.sh (make bench): starts a 20-VM simulator and a test devkit,
# runs bench/bench.py against them, stops everything.
# R42_BENCH_RUNS (default 5) and R42_BENCH_EXECS (default 2000) size it.
set -euo pipefail
top="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=../test/lib/env.sh
source "$top/test/lib/env.sh"
dir="$(mktemp -d /tmp/r42-bench.XXXXXX)"
trap 'r42_env_down "$dir/env"; rm -rf "$dir"' EXIT
r42_env_up "$dir/env" --vms 21   # 20 VMs and one template
export XDG_RUNTIME_DIR="$dir/run"  # a probe cache of the benchmark's own
mkdir -m 0700 "$XDG_RUNTIME_DIR"
python3 "$top/bench/bench.py"
