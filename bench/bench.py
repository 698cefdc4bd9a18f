#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""bench/bench.py: the r42intercept benchmarks (run by `make bench` through
bench/bench.sh, which starts the simulator and exports its environment).

Everything is measured side by side in one run, A B A B, on the bundled
simulator (task duration 0), and reported as medians and ratios.  Nothing
here fails on a number: the targets are printed next to what was measured.
Writes the tables to stdout and to bench/results.md.
"""

import http.client
import json
import os
import re
import resource
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(TOP, "build")
SO = os.path.join(BUILD, "libr42intercept.so")
RUNNER = os.path.join(BUILD, "r42intercept-runner")
WRAPPER = os.path.join(BUILD, "r42intercept")
SNIPPET = os.path.join(BUILD, "range42-context.sh")
EXECER = os.path.join(BUILD, "progs", "execer")
KEYTOOL = os.path.join(BUILD, "progs", "keytool")
EXECBENCH = os.path.join(BUILD, "bench", "execbench")
EMPTY_SO = os.path.join(BUILD, "bench", "empty.so")
RUNS = int(os.environ.get("R42_BENCH_RUNS", "5"))
# R42_BENCH_SECTIONS=1,6 runs only those sections (development); results.md
# is written only by a full run.
ENV = os.environ
NODE = "px-testing"

out_lines = []


def say(line=""):
    print(line, flush=True)
    out_lines.append(line)


def progress(text):
    print(f"  ... {text}", file=sys.stderr, flush=True)


# ---- the simulator's API, for preparing state (not timed) ----------------

class Api:
    def __init__(self):
        self.port = int(ENV["R42_SIM_PORT"])
        self.ctx = ssl._create_unverified_context()
        self.auth = f"PVEAPIToken=root@pam!r42ci={ENV['R42_TOKEN_SECRET']}"

    def call(self, method, path, body=None, auth=True):
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.ctx, timeout=10)
        headers = {"Authorization": self.auth} if auth else {}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        conn.request(method, path, body=data, headers=headers)
        resp = conn.getresponse()
        text = resp.read()
        conn.close()
        return resp.status, (json.loads(text) if text else None)

    def reset(self, seed=None):
        self.call("POST", "/_sim/reset", seed, auth=False)

    def config(self, knobs):
        self.call("POST", "/_sim/config", knobs, auth=False)

    def api(self, method, path, body=None):
        return self.call(method, "/api2/json" + path, body)

    def log(self):
        return self.call("GET", "/_sim/log", auth=False)[1]


API = None


# ---- running things --------------------------------------------------------

def timed(cmd, stdin=b"", env=None, shell=False):
    """Runs CMD; returns (seconds, stdout, stderr, returncode)."""
    t0 = time.perf_counter()
    p = subprocess.run(cmd, input=stdin, capture_output=True, env=env, shell=shell)
    return time.perf_counter() - t0, p.stdout, p.stderr, p.returncode


def env_with(**extra):
    e = dict(ENV)
    for k, v in extra.items():
        if v is None:
            e.pop(k, None)
        else:
            e[k] = v
    return e


def devkit_playbook(action, variables):
    vault = os.path.join(ENV["RANGE42_ANSIBLE_ROLES__DEVKITS_DIR"], "secrets", "default_vault.yml")
    text = (f"      - hosts: {NODE}\n"
            "        gather_facts: false\n"
            "        vars_files:\n"
            f"          - \"{vault}\"\n"
            "        tasks:\n"
            "          - name: RUN range42-ansible_roles-proxmox_controller WITH VARS\n"
            "            include_role:\n"
            "              name: range42-ansible_roles-proxmox_controller\n"
            "            vars:\n"
            f"              proxmox_vm_action: \"{action}\"\n\n")
    for k, v in variables.items():
        text += f"              {k}: \"{v}\"\n"
    return text.encode()


def ansible_playbook_cmd():
    return [EXECER, "execv", "/usr/bin/ansible-playbook",
            "-i", os.path.join(ENV["RANGE42_ANSIBLE_ROLES__INVENTORY_DIR"], "inventory_default.yml"),
            "--vault-password-file", ENV["RANGE42_VAULT_PASSWORD_FILE"], "/dev/stdin"]


def result_of(doc_bytes, action):
    """The devkit's jq filter: the ACTION key of any host result."""
    try:
        doc = json.loads(doc_bytes)
    except ValueError:
        return None
    for play in doc.get("plays", []):
        for task in play.get("tasks", []):
            for host in task.get("hosts", {}).values():
                if isinstance(host, dict) and action in host:
                    return host[action]
    return None


def ms(seconds):
    return f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def ratio(a, b):
    return f"{a / b:.1f}x" if b > 0 else "n/a"


# ---- 1. per call -------------------------------------------------------------

def snap(name):
    return {"vm_id": "100", "vm_name": "admin-wazuh", "vm_snapshot_name": name}


def prep_reset():
    API.reset()


def prep_paused():
    API.reset()
    API.api("POST", f"/nodes/{NODE}/qemu/100/status/suspend")


def prep_snapshot():
    API.reset()
    API.api("POST", f"/nodes/{NODE}/qemu/100/snapshot", {"snapname": "bench0", "description": "b"})


ACTIONS = [
    ("vm_list", {"proxmox_node": NODE}, prep_reset),
    ("vm_start", {"vm_id": "101"}, prep_reset),
    ("vm_stop", {"vm_id": "102"}, prep_reset),
    ("vm_stop_force", {"vm_id": "104"}, prep_reset),
    ("vm_pause", {"vm_id": "100"}, prep_reset),
    ("vm_resume", {"vm_id": "100"}, prep_paused),
    ("snapshot_vm_create", dict(snap("bench1"), vm_snapshot_description="bench"), prep_reset),
    ("snapshot_vm_list", {"vm_id": "100"}, prep_snapshot),
    ("snapshot_vm_revert", snap("bench0"), prep_snapshot),
    ("snapshot_vm_delete", snap("bench0"), prep_snapshot),
]


def one_call(action, variables, prep, preload):
    prep()
    env = env_with(LD_PRELOAD=SO if preload else None, RANGE42_PROXMOX_API_CACHE="off",
                   ANSIBLE_CONFIG=os.path.join(ENV["RANGE42_ANSIBLE_ROLES__DEVKITS_DIR"],
                                               "ansible_no_skipped_json.cfg"))
    secs, out, err, rc = timed(ansible_playbook_cmd(), devkit_playbook(action, variables), env)
    res = result_of(out, action)
    source = None
    if isinstance(res, list) and res:
        source = res[0].get("source")
    elif isinstance(res, dict):
        source = res.get("source")
    want = "proxmox-api" if preload else "proxmox"
    if rc != 0 or source != want:
        raise SystemExit(f"bench: {action} (preload={preload}) gave no {want} result: rc={rc}\n"
                         f"{err.decode(errors='replace')[-2000:]}")
    return secs


def bench_per_call():
    say("## 1. One ansible-playbook call: the runner vs real ansible-playbook")
    say()
    say(f"Median of {RUNS} runs each, alternating; exec of `ansible-playbook` (the devkit's command "
        "line, through `execer execv`) to its exit; the simulator's tasks end at once; the probe "
        "cache is off, so every call probes.")
    say()
    say("| action | ansible-playbook | r42intercept | ratio |")
    say("|---|---:|---:|---:|")
    fast_all, slow_all = [], []
    for action, variables, prep in ACTIONS:
        progress(f"per call: {action}")
        fast, slow = [], []
        for _ in range(RUNS):
            fast.append(one_call(action, variables, prep, True))
            slow.append(one_call(action, variables, prep, False))
        f, s = statistics.median(fast), statistics.median(slow)
        fast_all += fast
        slow_all += slow
        say(f"| {action} | {ms(s)} | {ms(f)} | {ratio(s, f)} |")
    f, s = statistics.median(fast_all), statistics.median(slow_all)
    say(f"| **all** | **{ms(s)}** | **{ms(f)}** | **{ratio(s, f)}** |")
    say()
    say(f"Targets: >= 150x faster than ansible: {'met' if s / f >= 150 else 'NOT met'} "
        f"({ratio(s, f)}); <= 20 ms median: {'met' if f <= 0.020 else 'NOT met'} ({ms(f)}).")
    say()
    return f, s


# ---- 2. breakdown ----------------------------------------------------------

PROFILE_RE = re.compile(r"^r42intercept: profile (.*?)\s+([0-9.]+) ms$")


# Each way of running the call of section 2: (column, extra environment,
# keytool wrapper: "session" runs it in the bench's own session keyring,
# "deny" with the keyring syscalls refused, as under a container's seccomp).
# The last column is the default: a later call of a burst, answered by the
# resident runner from the keyring.
BREAKDOWN_MODES = [
    ("cache off: probe + PBKDF2 + loading the core every call (RANGE42_PROXMOX_API_CACHE=off)",
     {"RANGE42_PROXMOX_API_CACHE": "off"}, "session"),
    ("no keyring, no resident: PBKDF2 + loading the core every call (as before both)",
     {"RANGE42_PROXMOX_API_RESIDENT": "off"}, "deny"),
    ("keyring hit, no resident: loading the core every call (RANGE42_PROXMOX_API_RESIDENT=off)",
     {"RANGE42_PROXMOX_API_RESIDENT": "off"}, "session"),
    ("keyring hit, resident runner (the default for the 2nd and later calls of a burst)",
     {}, "session"),
]
RESIDENT_COLUMN = len(BREAKDOWN_MODES) - 1
TARGET_CALL_MS = 12.0


def profile_phases(err):
    """The profile lines of one call: [(row, ms, tag)], the TLS handshake
    as its own row; the vault row tagged with how it was opened."""
    rows = []
    for line in err.decode().splitlines():
        m = PROFILE_RE.match(line)
        if not m:
            continue
        name, value, tag = m.group(1), float(m.group(2)), None
        name = re.sub(r"UPID%3A[^/]*", "{upid}", name)
        tls = re.search(r"TLS ([0-9.]+) ms", name)
        name = re.sub(r" \(TCP ([0-9.]+) \+ TLS ([0-9.]+) ms of it\)", "", name)
        if name.startswith("vault ("):
            tag = "keyring" if name == "vault (keyring)" else "PBKDF2"
            name = "vault: PBKDF2 + AES, or the keyring"
        rows.append((name, value, tag))
        if tls:
            rows.append(("  of which the TCP + TLS handshake", float(tls.group(1)), None))
    return rows


def resident_children_cpu_ms():
    """CPU time (user + system, ms) of the ended calls of this bench's
    resident runners: their children's times (/proc/PID/stat).  Read from
    /proc directly: a pgrep would add its own time to the bench's children."""
    total = 0.0
    pattern = f"--resident\0{ENV['XDG_RUNTIME_DIR']}/r42intercept\0".encode()
    pids = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if pattern in f.read():
                    pids.append(pid)
        except OSError:
            continue
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # after "(comm)": state is field 3; cutime, cstime are fields 16, 17
        total += (int(fields[13]) + int(fields[14])) * 1000 / os.sysconf("SC_CLK_TCK")
    return total


def server_floor(runs):
    """(handshake ms, handshake + 3 requests ms): medians of one curl
    process's own timings against the simulator, its start not counted."""
    url = f"https://127.0.0.1:{ENV['R42_SIM_PORT']}/api2/json/nodes/{NODE}/qemu/101/status/current"
    tls, total = [], []
    with tempfile.NamedTemporaryFile("w") as header:  # mode 0600: the token
        header.write(f"Authorization: {API.auth}\n")
        header.flush()
        for _ in range(runs):
            out = subprocess.run(["curl", "-sk", "-H", f"@{header.name}"]
                                 + ["-o", "/dev/null"] * 3
                                 + ["-w", "%{time_connect} %{time_appconnect} %{time_total}\n"]
                                 + [url] * 3, capture_output=True, text=True).stdout.split("\n")
            rows = [list(map(float, line.split())) for line in out if line.strip()]
            if len(rows) != 3:
                raise SystemExit("bench: curl against the simulator failed")
            tls.append((rows[0][1] - rows[0][0]) * 1000)
            total.append(sum(r[2] for r in rows) * 1000)
    return statistics.median(tls), statistics.median(total)


def bench_breakdown():
    say("## 2. Where one fast call spends its time (vm_start): the vault keyring, the resident runner")
    say()
    progress("breakdown")
    lines = subprocess.run([EXECBENCH, "200", ":", RUNNER, "--check"],
                           capture_output=True, text=True, check=True).stdout.split()
    startup_ms = float(lines[0]) / 1000
    cg = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
                         RUNNER, "--check"], capture_output=True, text=True)
    m = re.search(r"refs:\s+([0-9,]+)", cg.stderr)
    load_instr = int(m.group(1).replace(",", "")) if m else None
    ring = f"r42bench-{os.getpid()}"
    holder = subprocess.Popen([KEYTOOL, "session", ring, "sleep", "3600"],
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    try:
        for _ in range(100):
            with open("/proc/keys") as f:
                if re.search(rf"keyring +{ring}:", f.read()):
                    break
            time.sleep(0.05)
        wrap = {"session": [KEYTOOL, "session", ring], "deny": [KEYTOOL, "deny", "EPERM"]}
        pb = devkit_playbook("vm_start", {"vm_id": "101"})
        cfg = os.path.join(ENV["RANGE42_ANSIBLE_ROLES__DEVKITS_DIR"], "ansible_no_skipped_json.cfg")
        phases = [{} for _ in BREAKDOWN_MODES]
        tags = [set() for _ in BREAKDOWN_MODES]
        totals = [[] for _ in BREAKDOWN_MODES]
        cpu = [[] for _ in BREAKDOWN_MODES]
        resident_cpu = 0.0  # the resident column's calls, in the resident's forks
        instr = []
        order = []
        runs = max(RUNS, 15)
        for i in range(runs + 1):  # the first round warms the probe cache and the keyring
            for k, (_, extra, how) in enumerate(BREAKDOWN_MODES):
                prep_reset()
                env = env_with(LD_PRELOAD=SO, R42INTERCEPT_PROFILE="1", ANSIBLE_CONFIG=cfg, **extra)
                ticks = resident_children_cpu_ms() if k == RESIDENT_COLUMN else 0
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                secs, out, err, rc = timed(wrap[how] + ansible_playbook_cmd(), pb, env)
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                if i > 0 and k == RESIDENT_COLUMN:
                    time.sleep(0.05)  # the call's process reaped by the resident
                    resident_cpu += resident_children_cpu_ms() - ticks
                if rc != 0 or b'"proxmox-api"' not in out:
                    raise SystemExit(f"bench: breakdown call failed: rc={rc}\n"
                                     f"{err.decode(errors='replace')[-2000:]}")
                if i == 0:
                    continue
                totals[k].append(secs * 1000)
                cpu[k].append((after.ru_utime - before.ru_utime
                               + after.ru_stime - before.ru_stime) * 1000)
                for name, value, tag in profile_phases(err):
                    if name not in order:
                        order.append(name)
                    phases[k].setdefault(name, []).append(value)
                    if tag:
                        tags[k].add(tag)
        # one more call per column with the runner under callgrind: its
        # instructions, which the load of the machine does not change
        with tempfile.TemporaryDirectory() as d:
            cg_runner = os.path.join(d, "runner.sh")
            with open(cg_runner, "w") as f:
                f.write(f"#!/bin/sh\nexec valgrind --tool=callgrind --callgrind-out-file={d}/cg.out "
                        f"{RUNNER} \"$@\"\n")
            os.chmod(cg_runner, 0o755)
            for _, extra, how in BREAKDOWN_MODES:
                prep_reset()  # and a call first: the keyring's entry may have expired
                timed(wrap[how] + ansible_playbook_cmd(), pb,
                      env_with(LD_PRELOAD=SO, ANSIBLE_CONFIG=cfg, **extra))
                prep_reset()
                env = env_with(LD_PRELOAD=SO, ANSIBLE_CONFIG=cfg, R42INTERCEPT_RUNNER=cg_runner,
                               **extra)
                _, _, err, rc = timed(wrap[how] + ansible_playbook_cmd(), pb, env)
                m = re.search(r"refs:\s+([0-9,]+)", err.decode(errors="replace"))
                instr.append(int(m.group(1).replace(",", "")) if rc == 0 and m else None)
    finally:
        holder.terminate()
        holder.wait(10)
    say(f"Median of {runs} calls per column, the columns alternating, after one warm-up round "
        "(the probe cache and the keyring filled); the simulator reset before each call (not "
        f"timed); load average {os.getloadavg()[0]:.1f} at the end.")
    say()
    say("| phase | " + " | ".join(name for name, _, _ in BREAKDOWN_MODES) + " |")
    say("|---|" + "---:|" * len(BREAKDOWN_MODES))
    say(f"| exec of the runner's front + loading of its core (`r42intercept-runner --check`, "
        f"execbench) | {startup_ms:.2f} ms" + " | same" * (len(BREAKDOWN_MODES) - 2)
        + " | not paid: the resident has it loaded |")
    if load_instr:
        say(f"|   instructions of that (callgrind) | {load_instr / 1e6:.1f} M"
            + " | same" * (len(BREAKDOWN_MODES) - 2) + " | - |")
    for name in order:
        cells = []
        for k in range(len(BREAKDOWN_MODES)):
            values = phases[k].get(name)
            if not values:
                cells.append("-")
                continue
            tag = f" ({'/'.join(sorted(tags[k]))})" if name.startswith("vault:") else ""
            # a phase seen in only some calls: the median of those, and how many
            seen = f" ({len(values)}/{runs} calls)" if len(values) < runs else ""
            cells.append(f"{statistics.median(values):.2f} ms{tag}{seen}")
        say(f"| {name} | " + " | ".join(cells) + " |")
    medians = [statistics.median(t) for t in totals]
    say("| **whole call, end to end** | " + " | ".join(f"**{v:.2f} ms**" for v in medians) + " |")
    say("| fastest of those calls (the least disturbed by other jobs) | "
        + " | ".join(f"{min(t):.2f} ms" for t in totals) + " |")
    cpu_cells = [f"{statistics.median(c):.2f} ms" for c in cpu]
    cpu_cells[RESIDENT_COLUMN] = (f"{statistics.median(cpu[RESIDENT_COLUMN]):.2f} ms + "
                                  f"{resident_cpu / runs:.2f} ms in the resident's fork (mean)")
    say("| CPU time of the call (user + system) | " + " | ".join(cpu_cells) + " |")
    instr_cells = [f"{v / 1e6:.1f} M" if v else "?" for v in instr]
    instr_cells[RESIDENT_COLUMN] += " (the front only; the call runs in the resident's fork)"
    say("| instructions of the runner's process (callgrind, one call) | "
        + " | ".join(instr_cells) + " |")
    say()
    say("Phases come from the runner's own clock (`R42INTERCEPT_PROFILE=1`); each request line "
        "is the time since the previous mark, the first one including the TCP and TLS handshakes. "
        "The keyring columns run in a session keyring of the benchmark's own "
        "(`build/progs/keytool session`); \"no keyring\" runs with the keyring syscalls refused "
        "(`keytool deny EPERM`, as a container's seccomp profile does). The resident column's "
        "call runs in a fork of the resident runner (docs/resident.md), started by the warm-up "
        "round's call; its CPU time there is read from the resident's children times "
        "(`/proc/PID/stat`, clock ticks: a mean over the calls).")
    say()
    tls_ms, exchange_ms = server_floor(max(RUNS, 15))
    say(f"The server's share, for comparison: one `curl` process already running, the same TCP "
        f"+ TLS handshake and three requests to the simulator (GETs of the VM's status; curl's "
        f"own timings, median of {max(RUNS, 15)}): {exchange_ms:.2f} ms, of which the handshake "
        f"{tls_ms:.2f} ms.")
    say()
    hit = medians[RESIDENT_COLUMN]
    say(f"Target: a median intercepted `ansible-playbook` call <= {TARGET_CALL_MS:.0f} ms (keyring "
        f"hit, resident runner: the default): {'met' if hit <= TARGET_CALL_MS else 'NOT met'} "
        f"({hit:.2f} ms, fastest {min(totals[RESIDENT_COLUMN]):.2f} ms; without the resident "
        f"{medians[2]:.2f} ms, without either {medians[1]:.2f} ms, cache off {medians[0]:.2f} ms).")
    say()


# ---- 3. preload overhead ---------------------------------------------------

def callgrind(preload, cmd):
    env = env_with(LD_PRELOAD=preload)
    p = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"] + cmd,
                       capture_output=True, text=True, env=env)
    m = re.search(r"Collected : (\d+)", p.stderr)
    return int(m.group(1)) if m else None


def bench_preload():
    total = int(os.environ.get("R42_BENCH_EXECS", "2000"))
    n = max(1, total // 3)
    say("## 3. Cost of being preloaded into programs that are not ours")
    say()
    say(f"{total} runs of each program, alternating the three settings (none, empty library, "
        f"r42intercept: {n} each); wall time per exec (fork+exec+wait, median), then instruction "
        "counts (callgrind, repeatable).")
    say()
    say("| program | none | empty .so | r42intercept | our overhead / empty's (wall) | instructions: none / empty / ours | our overhead / empty's (instructions) |")
    say("|---|---:|---:|---:|---:|---:|---:|")
    verdicts = []
    for cmd in (["/bin/true"], ["jq", "-n", "1"]):
        progress(f"preload overhead: {' '.join(cmd)}")
        res = subprocess.run([EXECBENCH, str(n), f":,{EMPTY_SO},{SO}"] + cmd,
                             capture_output=True, text=True, check=True).stdout.split("\n")
        med = [float(r.split()[0]) for r in res if r.strip()]
        wall = (f"{(med[2] - med[0]) / (med[1] - med[0]):.2f}x" if med[1] - med[0] > 1
                else "noise")
        ins = [callgrind(None, cmd), callgrind(EMPTY_SO, cmd), callgrind(SO, cmd)]
        ins_ratio = (ins[2] - ins[0]) / (ins[1] - ins[0])
        verdicts.append(ins_ratio)
        say(f"| `{' '.join(cmd)}` | {med[0]:.0f} us | {med[1]:.0f} us | {med[2]:.0f} us | {wall} | "
            f"{ins[0] / 1000:.1f} k / {ins[1] / 1000:.1f} k / {ins[2] / 1000:.1f} k | {ins_ratio:.2f}x |")
    say()
    worst = max(verdicts)
    say(f"Target: our preload overhead <= 1.25x the empty library's: {'met' if worst <= 1.25 else 'NOT met'} "
        f"(instructions, worst {worst:.2f}x; wall time at this scale is noise-bound).")
    say()


# ---- 4. scenario -------------------------------------------------------------

# The VM scenario ends as demo_lab.delete_vms_only does: stop_force, then
# delete.  Its LXC twin acts on containers by state, since a container start,
# stop or pause in the wrong state is an HTTP error that stops the devkit's
# script (as it stops ansible).
SCENARIO = r"""
set -eo pipefail
ids() { echo px-testing | proxmox_vm.list.to.jsons.sh | jq -r 'select(.vm_template == 0) | .vm_id'; }
echo px-testing | proxmox_vm.list.to.jsons.sh > /dev/null
ids | proxmox_vm.vm_id.stop_force.to.jsons.sh > /dev/null
ids | proxmox_vm.vm_id.start.to.jsons.sh > /dev/null
ids | proxmox_vm.vm_id.pause.to.jsons.sh > /dev/null
ids | proxmox_vm.vm_id.resume.to.jsons.sh > /dev/null
ids | proxmox_vm.vm_id.stop_force.to.jsons.sh > /dev/null
ids | proxmox_vm.vm_id.delete.to.jsons.sh > /dev/null
"""

LXC_SCENARIO = r"""
set -eo pipefail
ids() { echo px-testing | proxmox_lxc.list.to.jsons.sh | jq -r --arg s "$1" 'select(.lxc_status == $s) | .vm_id'; }
ids stopped | proxmox_lxc.vm_id.start.to.jsons.sh > /dev/null
ids running | proxmox_lxc.vm_id.pause.to.jsons.sh > /dev/null
ids stopped | proxmox_lxc.vm_id.resume.to.jsons.sh > /dev/null
ids running | proxmox_lxc.vm_id.stop_force.to.jsons.sh > /dev/null
ids stopped | proxmox_lxc.vm_id.delete.to.jsons.sh > /dev/null
"""

LXC_COUNT = 20


def scenario_once(script, extra_env, seed=None):
    API.reset(seed)
    secs, out, err, rc = timed(["bash", "-c", script], b"", env_with(**extra_env))
    if rc != 0:
        raise SystemExit(f"bench: scenario failed ({extra_env}):\n{err.decode(errors='replace')[-3000:]}")
    return secs


SCENARIO_MODES = [
    ("real ansible-playbook (slow path)", {"LD_PRELOAD": None}),
    ("r42intercept, playbook level only (RANGE42_PROXMOX_API_SCRIPTS=off)",
     {"LD_PRELOAD": SO, "RANGE42_PROXMOX_API_SCRIPTS": "off"}),
    ("r42intercept (script level)", {"LD_PRELOAD": SO}),
]


def scenario_table(script, actions, seed=None):
    say("| mode | total | per action | vs slow path |")
    say("|---|---:|---:|---:|")
    times = []
    for label, extra in SCENARIO_MODES:
        progress(f"scenario: {label}")
        secs = scenario_once(script, extra, seed)
        times.append(secs)
        say(f"| {label} | {secs:.2f} s | {ms(secs / actions)} | {ratio(times[0], secs)} |")
    say()
    return times


def bench_scenario():
    API.reset()
    vms = len([v for v in API.api("GET", f"/nodes/{NODE}/qemu")[1]["data"] if not v.get("template")])
    say(f"## 4. A {vms}-VM scenario through the fixture devkit scripts, and its LXC twin")
    say()
    say(f"VMs: `list; stop_force all; start all; pause all; resume all; stop_force all; "
        f"delete all` ({1 + 6 * vms} VM actions, plus the list calls that pick the VMs and "
        "the name look-ups of the delete script), once per mode.")
    say()
    times = scenario_table(SCENARIO, 1 + 6 * vms)
    say(f"Target: the scenario >= 25x faster than the slow path: "
        f"{'met' if times[0] / times[-1] >= 25 else 'NOT met'} ({ratio(times[0], times[-1])}).")
    say()
    seed = {"vms": 1, "lxcs": LXC_COUNT}
    API.reset(seed)
    running = len([c for c in API.api("GET", f"/nodes/{NODE}/lxc")[1]["data"]
                   if c.get("status") == "running"])
    acts = (LXC_COUNT - running) + 3 * LXC_COUNT + LXC_COUNT
    say(f"Containers ({LXC_COUNT}, {running} running at first): `start the stopped ones; "
        f"pause all; resume all; stop_force all; delete all` ({acts} container actions, plus "
        "the list calls that pick them), once per mode.")
    say()
    times = scenario_table(LXC_SCENARIO, acts, seed)
    say(f"The LXC twin, fast path vs slow path: {ratio(times[0], times[-1])}.")
    say()
    return times


# ---- 9. the *_all_vms scripts (defined here, beside the scenario) ---------------------------------------------

def all_vms_prep(status):
    """Every VM (not the template) put in STATUS through the API (not timed)."""
    API.reset()
    path = "start" if status == "running" else "stop"
    for vm in API.api("GET", f"/nodes/{NODE}/qemu")[1]["data"]:
        if not vm.get("template") and vm.get("status") != status:
            API.api("POST", f"/nodes/{NODE}/qemu/{vm['vmid']}/status/{path}")


def bench_all_vms():
    say("## 9. The `*_all_vms` scripts on 20 VMs")
    say()
    say("`echo px-testing | proxmox_vm.start_all_vms.to.jsons.sh` with every VM stopped, and "
        "`proxmox_vm.stop_force_all_vms.to.jsons.sh` with every VM running; once each. The "
        "devkit's script sleeps 3 s after each VM on top of its ansible-playbook run; the fast "
        "path waits for each task instead.")
    say()
    say("| script | real ansible-playbook (slow path) | r42intercept | vs slow path |")
    say("|---|---:|---:|---:|")
    for script, status in (("proxmox_vm.start_all_vms.to.jsons.sh", "stopped"),
                           ("proxmox_vm.stop_force_all_vms.to.jsons.sh", "running")):
        times = []
        for extra in ({"LD_PRELOAD": None}, {"LD_PRELOAD": SO}):
            progress(f"{script} {extra}")
            all_vms_prep(status)
            secs, out, err, rc = timed(["bash", "-c", f"echo {NODE} | {script}"], b"",
                                       env_with(**extra))
            if rc != 0 or out.count(b"\n") < 20:
                raise SystemExit(f"bench: {script} failed ({extra}):\n"
                                 f"{err.decode(errors='replace')[-3000:]}")
            times.append(secs)
        say(f"| `{script}` | {times[0]:.2f} s | {times[1]:.2f} s | {ratio(times[0], times[1])} |")
    say()


# ---- 5. a curl + jq twin -------------------------------------------------

def bench_seed_twin():
    say("## 5. A curl + jq twin of one action")
    say()
    say("`bench/seed_twin.sh`: vault through `ansible-vault view` + `yq`, then probe, POST, task "
        "poll and status GET with `curl -sk`, result built with `jq`: vm_start of one VM.")
    say()
    twin, ours = [], []
    for _ in range(RUNS):
        prep_reset()
        secs, out, err, rc = timed(["bash", os.path.join(TOP, "bench", "seed_twin.sh"), "101"])
        if rc != 0 or b'"vm_status":"running"' not in out:
            raise SystemExit(f"bench: seed twin failed: {err.decode(errors='replace')}")
        twin.append(secs)
        ours.append(one_call("vm_start", {"vm_id": "101"}, prep_reset, True))
    t, o = statistics.median(twin), statistics.median(ours)
    say("| implementation | median |")
    say("|---|---:|")
    say(f"| curl + jq twin | {ms(t)} |")
    say(f"| r42intercept runner | {ms(o)} |")
    say(f"| ratio | {ratio(t, o)} |")
    say()


# ---- 6. one devkit script -------------------------------------------------

def bench_one_script():
    say("## 6. One devkit script on one VM: `echo 101 | proxmox_vm.vm_id.start.to.jsons.sh`")
    say()
    say(f"Median of {RUNS} runs each, alternating, simulator reset between runs (not timed); the "
        "probe cache is kept between runs, as in a batch.")
    say()
    modes = [("real ansible-playbook", {"LD_PRELOAD": None}),
             ("playbook level only", {"LD_PRELOAD": SO, "RANGE42_PROXMOX_API_SCRIPTS": "off"}),
             ("script level", {"LD_PRELOAD": SO})]
    times = {label: [] for label, _ in modes}
    for _ in range(RUNS):
        for label, extra in modes:
            API.reset()
            secs, out, err, rc = timed(["bash", "-c", "echo 101 | proxmox_vm.vm_id.start.to.jsons.sh"],
                                       b"", env_with(**extra))
            if rc != 0 or b'"vm_status":"running"' not in out:
                raise SystemExit(f"bench: one script ({label}) failed: {err.decode(errors='replace')[-2000:]}")
            times[label].append(secs)
    say("| mode | median | vs real ansible |")
    say("|---|---:|---:|")
    slow = statistics.median(times[modes[0][0]])
    for label, _ in modes:
        m = statistics.median(times[label])
        say(f"| {label} | {ms(m)} | {ratio(slow, m)} |")
    fast = statistics.median(times["script level"])
    say()
    say(f"Target: one devkit script on 1 VM <= 60 ms plus task time: {'met' if fast <= 0.060 else 'NOT met'} "
        f"({ms(fast)}; the simulator's task time is 0).")
    say()
    bench_many_keys()


def bench_many_keys():
    """One stdin JSON line of 80 000 keys: the script level's duplicate-key
    check sorts the keys (it was quadratic: 17.5 s)."""
    line = json.dumps({"proxmox_node": NODE, "vm_id": 100,
                       **{f"k{i}": i for i in range(80000)}}).encode() + b"\n"
    cmd = ["bash", "-c", "proxmox_vm.vm_id.resume.to.jsons.sh"]
    modes = [("real ansible-playbook", {"LD_PRELOAD": None}), ("script level", {"LD_PRELOAD": SO})]
    times = {label: [] for label, _ in modes}
    for _ in range(RUNS):
        for label, extra in modes:
            prep_paused()  # VM 100 paused: Proxmox resumes only a paused VM
            secs, out, err, rc = timed(cmd, line, env_with(**extra))
            if rc != 0 or b'"vm_id":"100"' not in out:
                raise SystemExit(f"bench: 80 000 keys ({label}) failed: {err.decode(errors='replace')[-2000:]}")
            times[label].append(secs)
    real, ours = (statistics.median(times[label]) for label, _ in modes)
    say("| one stdin line of 80 000 keys (`proxmox_vm.vm_id.resume`) | real ansible-playbook | script level | ratio |")
    say("|---|---:|---:|---:|")
    say(f"| median of {RUNS} ({len(line) // 1024} KiB) | {ms(real)} | {ms(ours)} | {ratio(real, ours)} |")
    say()


# ---- 7. ansible-vault view, and the probe cache --------------------------

def bench_vault_and_cache():
    say("## 7. `ansible-vault view`, and one probe per burst")
    say()
    vault = os.path.join(ENV["RANGE42_ANSIBLE_ROLES__DEVKITS_DIR"], "secrets", "default_vault.yml")
    view = ["bash", "-c", 'ansible-vault view --vault-password-file "$RANGE42_VAULT_PASSWORD_FILE" "$1" >/dev/null',
            "_", vault]
    real, ours = [], []
    for _ in range(RUNS):
        real.append(timed(view, b"", env_with(LD_PRELOAD=None))[0])
        ours.append(timed(view, b"", env_with(LD_PRELOAD=SO))[0])
    r, o = statistics.median(real), statistics.median(ours)
    say("| what | without r42intercept | with | ratio |")
    say("|---|---:|---:|---:|")
    say(f"| `ansible-vault view` of the devkit vault (median of {RUNS}) | {ms(r)} | {ms(o)} | {ratio(r, o)} |")
    burst = ["bash", "-c", 'for i in $(seq 10); do printf "%s" "$PB" | '
             'ANSIBLE_CONFIG="$RANGE42_ANSIBLE_ROLES__DEVKITS_DIR/ansible_no_skipped_json.cfg" '
             'ansible-playbook -i "$RANGE42_ANSIBLE_ROLES__INVENTORY_DIR/inventory_default.yml" '
             '--vault-password-file "$RANGE42_VAULT_PASSWORD_FILE" /dev/stdin >/dev/null; done']
    pb = devkit_playbook("vm_stop_force", {"vm_id": "101"}).decode()
    cached, uncached, probes = [], [], {}
    for _ in range(RUNS):
        for label, extra in (("off", {"RANGE42_PROXMOX_API_CACHE": "off"}), ("on", {})):
            API.reset()
            with tempfile.TemporaryDirectory() as run_dir:
                env = env_with(LD_PRELOAD=SO, PB=pb, XDG_RUNTIME_DIR=run_dir, **extra)
                secs = timed(burst, b"", env)[0]
            (cached if label == "on" else uncached).append(secs)
            probes[label] = sum(1 for e in API.log()
                                if e["method"] == "GET" and e["path"].endswith("/qemu"))
    u, c = statistics.median(uncached), statistics.median(cached)
    say(f"| 10 ansible-playbook calls in a burst (vm_stop_force), probe cache off vs on | {ms(u)} "
        f"({probes['off']} probes) | {ms(c)} ({probes['on']} probe) | {ratio(u, c)} |")
    say()


# ---- 8. how it was started -------------------------------------------------

# Each way of starting, as a shell line: {cmd} is the command, run in a
# bash that stamps $EPOCHREALTIME around it (only the command is timed).
START_WAYS = [
    ("caller preloaded (the shell that runs the command has the library)", "caller"),
    ("the wrapper: `r42intercept COMMAND`", "wrapper"),
    ("`LD_PRELOAD=lib COMMAND`", "preload"),
    ("the range42-context snippet, typed at an interactive bash", "snippet"),
]
STAMP = ('times >"$R42_STAMP"; T0=$EPOCHREALTIME; {cmd}; T1=$EPOCHREALTIME; '
         '{{ times; echo "$T0 $T1"; }} >>"$R42_STAMP"')
TIMES_RE = re.compile(r"(\d+)m([\d.]+)s")


def children_cpu(times_lines):
    """User + system seconds of the shell's children, from `times`."""
    return sum(int(m) * 60 + float(s) for m, s in TIMES_RE.findall(times_lines[1]))


def start_once(way, cmd, stamp):
    """Runs CMD (a shell line, {run} where a wrapper or LD_PRELOAD goes)
    started WAY's way; returns the seconds the command took, wall and CPU
    (user + system of its processes)."""
    prefix = {"wrapper": WRAPPER + " ", "preload": f"LD_PRELOAD={SO} "}.get(way, "")
    line = STAMP.format(cmd=cmd.replace("{run}", prefix))
    if way == "snippet":
        p = subprocess.run(["bash", "--norc", "--noprofile", "-i"], input=f". {SNIPPET}\n{line}\nexit\n".encode(),
                           capture_output=True,
                           env=env_with(LD_PRELOAD=None, R42_STAMP=stamp, PS1="", PS2="", HISTFILE="/dev/null"))
    else:
        p = subprocess.run(["bash", "--norc", "-c", line], capture_output=True,
                           env=env_with(LD_PRELOAD=SO if way == "caller" else None, R42_STAMP=stamp))
    if p.returncode != 0 or not os.path.exists(stamp):
        raise SystemExit(f"bench: {way} failed: {p.stderr.decode(errors='replace')[-2000:]}")
    with open(stamp) as f:
        lines = f.read().splitlines()
    os.unlink(stamp)
    t0, t1 = (float(x) for x in lines[4].split())
    return t1 - t0, children_cpu(lines[2:4]) - children_cpu(lines[0:2])


def bench_start_ways():
    say("## 8. How it was started")
    say()
    say(f"Median of {max(RUNS, 7)} runs each, the ways alternating, simulator reset between runs (not "
        "timed); only the command itself is timed (`$EPOCHREALTIME` in the shell that starts it); "
        "the probe cache is kept between runs. Devkit script: `proxmox_vm.vm_id.start.to.jsons.sh` "
        "with `101` on stdin; ansible-playbook: the devkit's command line with the vm_start "
        "playbook of VM 101 on stdin.")
    say()
    cfg = os.path.join(ENV["RANGE42_ANSIBLE_ROLES__DEVKITS_DIR"], "ansible_no_skipped_json.cfg")
    inv = os.path.join(ENV["RANGE42_ANSIBLE_ROLES__INVENTORY_DIR"], "inventory_default.yml")
    with tempfile.TemporaryDirectory() as tmp:
        ids = os.path.join(tmp, "ids")
        pb = os.path.join(tmp, "pb.yml")
        with open(ids, "w") as f:
            f.write("101\n")
        with open(pb, "wb") as f:
            f.write(devkit_playbook("vm_start", {"vm_id": "101"}))
        # {run} is where the wrapper or LD_PRELOAD goes (nothing otherwise)
        cmds = {
            "script": f"{{run}}proxmox_vm.vm_id.start.to.jsons.sh <{ids} >/dev/null",
            "playbook": (f"ANSIBLE_CONFIG={cfg} {{run}}ansible-playbook -i {inv} "
                         f"--vault-password-file {ENV['RANGE42_VAULT_PASSWORD_FILE']} /dev/stdin <{pb} >/dev/null"),
        }
        times = {(way, what): [] for _, way in START_WAYS for what in cmds}
        cpu = {(way, what): [] for _, way in START_WAYS for what in cmds}
        stamp = os.path.join(tmp, "stamp")
        for _ in range(max(RUNS, 7)):
            for what, cmd in cmds.items():
                for label, way in START_WAYS:
                    progress(f"start ways: {what}, {way}")
                    API.reset()
                    wall, used = start_once(way, cmd, stamp)
                    times[(way, what)].append(wall)
                    cpu[(way, what)].append(used)
    worst = 0
    for what, title in (("script", "A devkit script on 1 VM"), ("playbook", "One ansible-playbook call")):
        say(f"{title}:")
        say()
        say("| how it was started | median | vs caller | fastest run | vs caller | CPU (median) |")
        say("|---|---:|---:|---:|---:|---:|")
        base_med = statistics.median(times[("caller", what)])
        base_min = min(times[("caller", what)])
        for label, way in START_WAYS:
            m, f = statistics.median(times[(way, what)]), min(times[(way, what)])
            worst = max(worst, m / base_med)
            say(f"| {label} | {ms(m)} | {m / base_med:.2f}x | {ms(f)} | {f / base_min:.2f}x | "
                f"{ms(statistics.median(cpu[(way, what)]))} |")
        say()
    say(f"Target: every way within 1.5x of the caller-preloaded time (medians): "
        f"{'met' if worst <= 1.5 else 'NOT met'} (worst {worst:.2f}x). CPU: user + system time of the "
        "command's processes (`times` in the shell), which a loaded machine inflates less than wall "
        "time.")
    say()
    say("| preload overhead, callgrind instructions | none | empty .so | r42intercept | ours / empty's overhead |")
    say("|---|---:|---:|---:|---:|")
    worst = 0
    for cmd in (["/bin/true"], ["jq", "-n", "1"]):
        progress(f"start ways: callgrind {' '.join(cmd)}")
        ins = [callgrind(None, cmd), callgrind(EMPTY_SO, cmd), callgrind(SO, cmd)]
        r = (ins[2] - ins[0]) / (ins[1] - ins[0])
        worst = max(worst, r)
        say(f"| `{' '.join(cmd)}` | {ins[0] / 1000:.1f} k | {ins[1] / 1000:.1f} k | {ins[2] / 1000:.1f} k | {r:.2f}x |")
    say()
    say(f"Target: <= 1.25x the empty library's overhead, with the constructor: "
        f"{'met' if worst <= 1.25 else 'NOT met'} (worst {worst:.2f}x).")
    say()


# ---- the real-cluster profile -------------------------------------------------
#
# Run by bench.sh against a second simulator behind test/sim/latency.py (20 ms
# round trip: TCP and TLS handshakes pay it too) with Proxmox-like task times
# (the simulator's "pve" table).  Its tables come first in results.md: it is
# what users see on a real cluster.

CLUSTER_RTT_MS = 20


def cluster_reset(seed=None):
    API.reset(seed)
    API.config({"task_durations": "pve"})


def profile_requests(stderr):
    """{action: [requests per call]} from the runner's profile lines."""
    per = {}
    for m in re.finditer(rb"action (\w+)(?: vm \d+)?: (\d+) requests", stderr):
        per.setdefault(m.group(1).decode(), []).append(int(m.group(2)))
    return per


CLUSTER_MODES = [
    ("real ansible-playbook (slow path)", {"LD_PRELOAD": None}),
    ("r42intercept, one task at a time (RANGE42_PROXMOX_API_PARALLEL=1)",
     {"LD_PRELOAD": SO, "RANGE42_PROXMOX_API_PARALLEL": "1"}),
    ("r42intercept, max_workers tasks in flight (default: 4)", {"LD_PRELOAD": SO}),
]


def cluster_run(script, extra, prep):
    prep()
    secs, out, err, rc = timed(["bash", "-c", script], b"",
                               env_with(R42INTERCEPT_PROFILE="1", **extra))
    if rc != 0:
        raise SystemExit(f"bench: real-cluster run failed ({extra}):\n"
                         f"{err.decode(errors='replace')[-3000:]}")
    return secs, err


def bench_cluster():
    say(f"## Real-cluster profile: tasks of a real host, {CLUSTER_RTT_MS} ms round trip")
    say()
    say("A simulator behind a delaying proxy (`test/sim/latency.py`, "
        f"{CLUSTER_RTT_MS} ms round trip, paid by the TCP and TLS handshakes too), with task "
        "times close to a small real Proxmox VE host (the simulator's `pve` table: start "
        "1.5 s, stop 1 s, suspend/resume 0.3 s, destroy 1.5 s, ...). The slow path does "
        "not wait for tasks (the role reads the state at once); the fast path waits for "
        "each, and keeps up to `max_workers` in flight in a batch.")
    say()
    cluster_reset()
    vms = len([v for v in API.api("GET", f"/nodes/{NODE}/qemu")[1]["data"] if not v.get("template")])
    actions = 1 + 6 * vms
    say(f"### The {vms}-VM scenario (section 4's: list, stop_force, start, pause, resume, "
        f"stop_force, delete; {actions} VM actions)")
    say()
    say("| mode | total | per action | vs slow path |")
    say("|---|---:|---:|---:|")
    times, profile = [], {}
    for label, extra in CLUSTER_MODES:
        progress(f"real-cluster scenario: {label}")
        secs, err = cluster_run(SCENARIO, extra, cluster_reset)
        times.append(secs)
        if extra.get("LD_PRELOAD") and "RANGE42_PROXMOX_API_PARALLEL" not in extra:
            profile = profile_requests(err)
        say(f"| {label} | {secs:.2f} s | {ms(secs / actions)} | {ratio(times[0], secs)} |")
    say()
    say(f"Targets: max_workers in flight >= 3x one at a time: "
        f"{'met' if times[1] / times[2] >= 3 else 'NOT met'} ({ratio(times[1], times[2])}); "
        f"fast path >= 10x the slow path: {'met' if times[0] / times[2] >= 10 else 'NOT met'} "
        f"({ratio(times[0], times[2])}).")
    say()
    say("Requests per action on the fast path (each is one round trip on the kept-alive "
        "connection; add about 2 round trips per runner call for the TCP and TLS "
        "handshakes):")
    say()
    say("| action | calls | requests per call (median) | min-max |")
    say("|---|---:|---:|---:|")
    for action, counts in sorted(profile.items()):
        say(f"| {action} | {len(counts)} | {statistics.median(counts):g} | "
            f"{min(counts)}-{max(counts)} |")
    say()

    def all_stopped():
        API.reset()  # instant tasks while preparing
        for vm in API.api("GET", f"/nodes/{NODE}/qemu")[1]["data"]:
            if not vm.get("template") and vm.get("status") != "stopped":
                API.api("POST", f"/nodes/{NODE}/qemu/{vm['vmid']}/status/stop")
        API.config({"task_durations": "pve"})

    say(f"### `proxmox_vm.start_all_vms.to.jsons.sh` on {vms} stopped VMs")
    say()
    say("The devkit's script sleeps 3 s after each VM; the fast path waits for each task "
        "instead.")
    say()
    say("| mode | total | vs slow path |")
    say("|---|---:|---:|")
    times = []
    for label, extra in CLUSTER_MODES:
        progress(f"real-cluster start_all_vms: {label}")
        secs, _ = cluster_run(f"echo {NODE} | proxmox_vm.start_all_vms.to.jsons.sh > /dev/null",
                              extra, all_stopped)
        times.append(secs)
        say(f"| {label} | {secs:.2f} s | {ratio(times[0], secs)} |")
    say()


def main():
    global API
    API = Api()
    if os.environ.get("R42_BENCH_PART") == "cluster":
        # Written to R42_BENCH_CLUSTER_MD; the main run puts it first.
        API.reset()
        t0 = time.time()
        bench_cluster()
        say(f"Real-cluster profile run time: {time.time() - t0:.0f} s.")
        say()
        with open(os.environ["R42_BENCH_CLUSTER_MD"], "w") as f:
            f.write("\n".join(out_lines) + "\n")
        return
    API.reset()
    say("# r42intercept benchmarks")
    say()
    commit = subprocess.run(["git", "-C", TOP, "describe", "--always", "--dirty"],
                            capture_output=True, text=True).stdout.strip() or "?"
    say(f"Machine: {os.cpu_count()} CPUs; {time.strftime('%Y-%m-%d %H:%M %Z')}; commit {commit}.")
    say()
    cluster_md = os.environ.get("R42_BENCH_CLUSTER_MD")
    if cluster_md and os.path.exists(cluster_md):
        with open(cluster_md) as f:
            for line in f.read().rstrip("\n").split("\n"):
                out_lines.append(line)
    say("## On loopback, tasks that end at once")
    say()
    say("The sections below use a simulator on loopback whose tasks end at once: they "
        "show the runner's own costs.")
    say()
    t0 = time.time()
    sections = [bench_per_call, bench_breakdown, bench_preload, bench_scenario,
                bench_seed_twin, bench_one_script, bench_vault_and_cache, bench_start_ways,
                bench_all_vms]
    only = os.environ.get("R42_BENCH_SECTIONS")  # e.g. "1,6": a partial run
    ran = {}
    for number, section in enumerate(sections, 1):
        if not only or str(number) in only.split(","):
            start = len(out_lines)
            section()
            ran[number] = out_lines[start:]
    say(f"Benchmark run time: {time.time() - t0:.0f} s.")
    results = os.path.join(TOP, "bench", "results.md")
    if not only:
        with open(results, "w") as f:
            f.write("\n".join(out_lines) + "\n")
    elif os.environ.get("R42_BENCH_UPDATE") == "1":
        update_results(results, ran)


def update_results(path, ran):
    """R42_BENCH_UPDATE=1 with R42_BENCH_SECTIONS: replaces those sections
    of an existing results.md by this run's, each saying when and from
    which commit it was rerun."""
    with open(path) as f:
        lines = f.read().rstrip("\n").split("\n")
    commit = subprocess.run(["git", "-C", TOP, "describe", "--always", "--dirty"],
                            capture_output=True, text=True).stdout.strip() or "?"
    for number, new in ran.items():
        head = next((i for i, line in enumerate(lines) if line.startswith(f"## {number}. ")), None)
        if head is None:
            raise SystemExit(f"bench: no section {number} in {path} to replace")
        end = next((i for i in range(head + 1, len(lines))
                    if lines[i].startswith("## ") or lines[i].startswith("Benchmark run time")),
                   len(lines))
        note = [f"(Section rerun on its own, {time.strftime('%Y-%m-%d %H:%M %Z')}, commit {commit}, "
                f"load average {os.getloadavg()[0]:.1f}; the other sections are from the full run "
                "named at the top.)", ""]
        lines[head:end] = new[:2] + note + new[2:]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
