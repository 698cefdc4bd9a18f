#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""pvesim: a small Proxmox VE HTTPS API simulator for the r42intercept tests.

It answers the few /api2/json calls that range42's Proxmox role and r42intercept's
fast path make, keeps VM, container and snapshot state in memory, models Proxmox's two
error styles (an HTTP error at once, or a task that fails later) the way qemu-server
and pve-container choose them (docs/actions.md, section 3), records every API request
in a JSON-lines log, and offers fault knobs under /_sim/. It owns only its own process;
the harness (test/lib/env.sh) owns the certificate, the port file and the log file.
Python 3.11 standard library only; it listens on loopback only.

Command line
------------
    python3 test/sim/pvesim.py --cert CERT --key KEY \\
        --token 'root@pam!r42ci=SECRET' --node px-testing \\
        --port-file FILE --log FILE.jsonl \\
        [--bind 127.0.0.1] [--vms 8] [--lxcs 5] [--task-duration 0] [--port 0]
        [--task-durations pve|KIND=SECONDS,...] [--max-workers N]

--bind      127.0.0.1 (default), ::1 or localhost; any non-loopback address is refused
            (exit status 2).
--port      0 (default) picks an ephemeral port.
--port-file receives "<port>\\n" once the socket listens (written to a temporary file,
            then renamed, so a reader never sees a partial file).
--log       JSON lines, appended (see "Request log").
--vms N     number of seeded VMs (default 8).
--lxcs N    number of seeded containers (default 5).
--task-duration SECONDS  default task run time (default 0).
--task-durations KINDS   run time per kind of task (the task_durations knob's default):
            "pve" (times close to a real Proxmox VE host, see Tasks), or
            KIND=SECONDS,... (kinds: start shutdown stop suspend resume snapshot
            rollback delsnapshot destroy create), or both ("pve,start=2").
--max-workers N          the max_workers knob's default (GET /cluster/options).
SIGTERM or SIGINT: stop listening and exit with status 0 within a fraction of a second.
The token secret is never printed or logged; errors about the token do not echo it.

Transport: HTTPS (the certificate given), HTTP/1.1 with keep-alive, TCP_NODELAY (without
it every keep-alive response waits ~40 ms for a delayed ACK), one thread per connection,
a 30 s idle timeout per connection, the TLS handshake done in the connection's thread
(a client that never completes it cannot block the accept loop). Every response has a
Content-Length. Clients that disconnect mid-request are dropped silently.

Seed state
----------
VMs 100..107 are those of test/reference/slow-path-outputs.tsv:

    100 admin-wazuh          running  tags "r42;lab"
    101 admin-builder-api    stopped  tags "r42;lab"
    102 admin-deployer-ui    running  tags "r42;lab"
    103 student-box-01       stopped
    104 student-box-02       running
    105 vuln-box-00          stopped
    106 vuln-box-01          running
    107 r42-template-debian  stopped  template

With --vms N > 8, VMs 108.. are `lab-vm-<id>`, stopped, without tags; with N < 8 only
the first N above exist. No VM has snapshots at start.

Every VM reports cpus 2, maxmem 2147483648, maxdisk 34359738368, disk 0. A running VM
reports uptime 1234, cpu 0.0123, mem 1073741824, pid 10000+vmid and fixed non-zero
diskread/diskwrite/netin/netout; a stopped VM reports 0 for all of those and no pid.
`tags` is omitted when empty, `template` (value 1) is present only for templates.
A VM has `status` "running"|"stopped" and `qmpstatus` "running"|"paused"|"stopped";
a paused VM has status "running" and qmpstatus "paused", as Proxmox reports it.

Containers 200..204 (or, when the VMs reach 200, from the last VM's id + 1 on):

    200 test-lxc-web         running  tags "r42;lab"
    201 test-lxc-db          stopped  tags "r42;lab"
    202 test-lxc-cache       running
    203 admin-lxc-proxy      stopped
    204 r42-lxc-template     stopped  template

With --lxcs N > 5, the next ones are `lab-ct-<id>`, stopped; with N < 5 only the first
N. A container reports type "lxc", cpus 1, maxmem and maxswap 536870912, swap 0,
maxdisk 8589934592, disk 0, the same running/stopped counters as a VM, pid
20000+vmid when running; status "running"|"stopped" only (a suspended container is
stopped, with a checkpoint). VMs and containers share one id space.

POST /_sim/reset with a JSON body {"vms": SEED, "lxcs": SEED} seeds other guests (each
key optional, default the command line's count): SEED is a count, or a list of
{"vmid": int >= 100, "name": str, "status": "running"|"stopped"|"paused" (paused: VMs
only), "tags": str (default ""), "template": bool (default false, stopped only)}.
The seed applies to that reset only; a bad seed answers 400 and changes nothing.

Authentication
--------------
Every /api2 request needs `Authorization: PVEAPIToken=<user>!<tokenid>=<secret>`
equal to --token. No header: 401 "No ticket". Any other value: 401
"authentication failure".

Error style
-----------
An immediate error is the HTTP status with the message as the HTTP reason phrase
(UTF-8 bytes, line breaks replaced by spaces) and the body {"data":null}; a 400
parameter error adds "errors": {"<param>": "<message>"}. A success is 200 with body
{"data": ...}, Content-Type application/json;charset=UTF-8. A later error is a task
whose exitstatus is not "OK".

Checks, in this order, for every /api2 request:
  0. a rule of the faults knob (test/sim/faults.py) that applies answers instead,
  1. delay knob (sleep), 2. drop knob, 3. fail_5xx knob,
  4. apply the effects of tasks that have ended,
  5. probe_fail knob (GET /nodes/{node}/qemu only), 6. authentication,
  7. http_errors knob (paths /nodes/*/{qemu,lxc}/<vmid>/...), 8. the endpoint itself:
     unknown node: 500 "hostname lookup '<node>' failed - failed to get address info";
     vmid not an integer: 400 "Parameter verification failed." errors.vmid;
     unknown vmid where the API reads the config before any task (status/current,
     snapshot list, VM snapshot create, delete): 500 "Configuration file
     'nodes/<node>/qemu-server/<id>.conf' does not exist" ('nodes/<node>/lxc/<id>.conf'
     for a container); no such path or method: 501 "Method '<METHOD> <path>' not
     implemented".

Endpoints (under /api2/json; each path segment is percent-decoded, so UPIDs and
snapshot names may arrive encoded; parameters come from the query string and from a
form (application/x-www-form-urlencoded) or JSON (application/json) body)
--------------------------------------------------------------------------------
GET  /version                       {version, release, repoid}
GET  /cluster/options               {} or {"max_workers": N} (the max_workers knob)
GET  /nodes                         [{node, status:"online", type:"node"}]
GET  /nodes/{node}/qemu             VMs ordered by vmid: vmid (int), name, status, uptime,
                                    cpu, cpus, mem, maxmem, disk, maxdisk, diskread,
                                    diskwrite, netin, netout, pid (running only), tags (if
                                    any), template (templates only)
GET  /nodes/{node}/qemu/{id}/status/current
                                    the same fields plus qmpstatus and ha {managed:0}
POST /nodes/{node}/qemu/{id}/status/{start|shutdown|stop|suspend|resume}
                                    "UPID:..." (task types qmstart, qmshutdown, qmstop,
                                    qmpause, qmresume); parameters such as timeout=10
                                    are accepted and ignored (shutdown reads forceStop).
     at once (HTTP 500): suspend or resume of a VM that does not exist: "unable to find
     configuration file for VM <id> on node '<node>'"; suspend or resume of a VM not
     running: "VM <id> not running"; shutdown of a paused VM: "VM is paused - cannot
     shutdown" (with forceStop=1 it stops it, task qmshutdown).
     at task end: start fails "Configuration file ... does not exist" (no VM), "you
     can't start a vm if it's a template", "VM <id> already running" (running or
     paused), else running; shutdown and stop fail "unable to find configuration file
     for VM <id> on node '<node>'" (no VM), else stopped (OK on a stopped VM); suspend:
     qmpstatus paused (status stays running; OK on a paused VM); resume: qmpstatus
     running (OK on a running VM).
POST /nodes/{node}/qemu              vmid, name [, start] -> UPID (qmcreate); the VM
                                    exists (stopped) at once, runs at task end if start=1.
     id used: 500 "unable to create VM <id> - VM|CT <id> already exists on node '<node>'"
DELETE /nodes/{node}/qemu/{id}       -> UPID (qmdestroy); the VM and its snapshots go at
                                    task end. No VM: 500 "Configuration file ...";
                                    running or paused: 500 "VM <id> is running - destroy
                                    failed".
GET  /nodes/{node}/qemu/{id}/snapshot
     [{name, description, snaptime (epoch int), parent (omitted for a root),
       vmstate: 1 (only if taken with RAM)} ..., in creation order, then
      {name:"current", description:"You are here!", digest (40 hex: sha1 of the VM's
       name/tags/template/snapshot tree/current parent), running 0|1,
       parent (the snapshot the current state derives from; omitted when none)}]
POST /nodes/{node}/qemu/{id}/snapshot   snapname, description (default ""), vmstate 0|1
     snapname missing: 400 errors.snapname "property is missing and it is not optional";
     not matching ^[A-Za-z][A-Za-z0-9_-]+$: 400 errors.snapname
       "invalid format - invalid configuration ID '<name>'\\n"; longer than 40:
       400 errors.snapname "value may only be 40 characters long" (also for the
       {name} of rollback and delete);
     "current", or "pending" in any case: 500 "unable to use snapshot name '<name>'
     (reserved name)"; no VM: 500 "Configuration file ..."; vmstate not a boolean:
     400 errors.vmstate.
     -> UPID (qmsnapshot). At task end: a template fails "you can't take a snapshot if
     it's a template"; a name in use fails "snapshot name '<name>' already used";
     otherwise the snapshot is created with parent = current's parent, description
     byte-exact, and becomes current's parent.
POST /nodes/{node}/qemu/{id}/snapshot/{name}/rollback   [start 0|1]
     -> UPID (qmrollback). At task end: no VM fails "Configuration file ...", a
     template "you can't rollback if vm is a template", an unknown name "snapshot
     '<name>' does not exist"; otherwise current's parent becomes <name> and the VM ends
     running if the snapshot has vmstate (or start=1), stopped otherwise.
DELETE /nodes/{node}/qemu/{id}/snapshot/{name}
     -> UPID (qmdelsnapshot); nothing is checked before the task. At task end: no VM
     fails "Configuration file ...", an unknown name "snapshot '<name>' does not
     exist"; otherwise the snapshot goes; its children, and current if it derived from
     it, take its parent.
GET  /nodes/{node}/lxc              containers ordered by vmid (fields: Seed state)
GET  /nodes/{node}/lxc/{id}/status/current   the same fields plus ha {managed:0}
POST /nodes/{node}/lxc/{id}/status/{start|shutdown|stop|suspend|resume}
     -> UPID (vzstart, vzshutdown, vzstop, vzsuspend, vzresume).
     at once (HTTP 500): start or resume of a running container: "CT <id> already
     running"; shutdown, stop or suspend of a container not running (or missing): "CT
     <id> not running".
     at task end: start fails "Configuration file 'nodes/<node>/lxc/<id>.conf' does not
     exist" (no container), "you can't start a CT if it's a template", else running;
     shutdown, stop: stopped; suspend (lxc-checkpoint -s): stopped and checkpointed;
     resume: running if checkpointed, else fails "command 'lxc-checkpoint -n <id> -r
     --foreground -D /var/lib/vz/dump' failed: exit code 1".
POST /nodes/{node}/lxc               vmid, hostname [, start] -> UPID (vzcreate); the
                                    container exists (stopped) at once, runs at task end
                                    if start=1. Id used: 500 "VM|CT <id> already exists
                                    on node '<node>'".
DELETE /nodes/{node}/lxc/{id}        [force 0|1] -> UPID (vzdestroy). No container: 500
                                    "Configuration file ..."; running without force: 500
                                    "unable to destroy CT <id> - container is running".
GET/POST /nodes/{node}/lxc/{id}/snapshot, POST .../snapshot/{name}/rollback,
DELETE .../snapshot/{name}: as for VMs (task types vzsnapshot, vzrollback,
     vzdelsnapshot), except: the reserved names are "current" and "vzdump"; a create
     reads no config before its task (no container: the task fails "Configuration
     file ..."); no vmstate (list entries have none, a rollback leaves the container
     stopped unless start=1).
GET  /nodes/{node}/tasks/{upid}/status
     {upid, node, pid, pstart, starttime, type, id (vmid as a string), user, tokenid,
      status "running"|"stopped", exitstatus ("OK" or the error; only once stopped)}
     unknown UPID: 500 "no such task".

Tasks
-----
UPID format: UPID:{node}:{pid:08X}:{pstart:08X}:{starttime:08X}:{type}:{vmid}:{user}!{tokenid}:
A task ends at its start + its duration: task_durations[kind] when the knob names its
kind (start, shutdown, stop, suspend, resume, snapshot, rollback, delsnapshot, destroy,
create: the task type without its qm/vz prefix, qmpause being "suspend"), else
task_duration. The "pve" table (PVE_TASK_DURATIONS: start 1.5 s, shutdown 4 s, stop 1 s,
suspend and resume 0.3 s, snapshot 3 s, rollback 4 s, delsnapshot 1.5 s, destroy 1.5 s,
create 2 s) is close to a small real host; the default is none (every task instant, as
the tests want). There is no per-node limit on concurrent tasks. Nothing runs in the background: at the
start of every request (and of GET /_sim/state) the tasks that have ended are applied to
the state in order of end time, and only then. So a VM's state changes when its task
ends, not at POST time, and with task_duration 0 a task is already stopped when first
polled. The task's preconditions (already running, name already used, ...) are checked
when it ends, against the state at that moment.

Control endpoints (no authentication, not logged, not subject to knobs)
-----------------------------------------------------------------------
GET  /_sim/state   {"vms": {"<id>": {name, status, qmpstatus, uptime, template (0|1),
                   tags, snapshots: [{name, description, snaptime, parent, vmstate}],
                   current_parent}}, "lxcs": {"<id>": {name, status, suspended, uptime,
                   template, tags, snapshots, current_parent}},
                   "tasks": <number of tasks>, "config": <knobs>}
                   (ended tasks applied first; parent/current_parent null when none)
GET  /_sim/log     the request log entries as one JSON list
GET  /_sim/tasks   {"tasks": [{upid, type, vmid, start, end, exitstatus}] (start/end:
                   seconds since start or reset; end null for a task that never ends,
                   exitstatus null while running), "max_in_flight": the largest number
                   of tasks running at one time, "max_in_flight_per_guest": the same for
                   any one guest}
GET  /_sim/config  the knobs
POST /_sim/config  body: a JSON object of knobs, merged key by key (a knob given as
                   null returns to its default); answers the knobs. Unknown knobs or
                   bad values: 400 {"error": "..."} and nothing changes.
POST /_sim/reset   seed state again (body: an optional seed, see Seed state), default
                   knobs, no tasks, empty log (file and memory)

Knobs (defaults in brackets)
  probe_fail [false]   true: GET /nodes/{node}/qemu answers 503 "Service Unavailable"
  http_errors [{}]     {"<vmid>": [code, "reason"]}: every /nodes/*/{qemu,lxc}/<vmid>/... request
                       answers that status and reason
  task_errors [{}]     {"<vmid>": "text"}: tasks created on that VM end with that
                       exitstatus and change nothing
  task_duration [--task-duration]  seconds a task created from now on runs
  task_durations [--task-durations]  {"<kind>": seconds} per kind of task, overriding
                       task_duration; the string "pve" is the PVE_TASK_DURATIONS table
  max_workers [--max-workers, null]  what GET /cluster/options reports (1..64; null:
                       not set, {} answered)
  task_forever [[]]    ["<vmid>", ...]: tasks created on those VMs never end
  delay [0]            seconds to sleep before answering each /api2 request ...
  delay_match [null]   ... or only those whose path contains this substring
  drop [0]             the next N /api2 requests are read, logged, and answered by closing
                       the connection without a response
  fail_5xx [0]         the next N /api2 requests answer 500 "Internal Server Error"
  faults [[]]          per-request faults (status, invalid JSON, truncation, reset,
                       close, hang, drip, slow) matched by method, path regex and
                       occurrence: see test/sim/faults.py
task_errors, task_forever, task_duration and task_durations are read when a task is
created.

Request log
-----------
One JSON object per /api2 request (and per other non-/_sim/ request), appended to --log
and flushed before the response is sent, also kept in memory for GET /_sim/log:
  {"seq": n (1, 2, ... since start or reset), "conn": <TCP connection number, 1, 2, ...
   never reset>, "method", "path" (as received: percent-encoded, no query), "query",
   "content_type", "body" (raw request body, UTF-8 text), "auth": "ok"|"bad"|"missing",
   "status": <int>, "reason": <str>, "time": <seconds since start or reset, when the
   request arrived>, "done": <the same, when its answer was ready>}
A request that started a task also has "task": {upid, type, vmid, start, end} (end: null
when it never ends); a task status read answered 200 has "task_status": "running" or
"stopped" and "task_end" (the task's end, or null). From these the number of tasks in
flight at any time, and how late a client noticed a task's end, can be computed.
A dropped request is logged with status 0 and reason "dropped".
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import ipaddress
import json
import os
import re
import signal
import socket
import socketserver
import ssl
import sys
import threading
import time
import traceback
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable

import faults

API_PREFIX = "/api2/json"
SIM_PREFIX = "/_sim/"
MAX_BODY = 1 << 20
CONN_TIMEOUT = 30.0

# (vmid, name, running, tags, template): the reference `list` rows.
SEED_VMS = (
    (100, "admin-wazuh", True, "r42;lab", False),
    (101, "admin-builder-api", False, "r42;lab", False),
    (102, "admin-deployer-ui", True, "r42;lab", False),
    (103, "student-box-01", False, "", False),
    (104, "student-box-02", True, "", False),
    (105, "vuln-box-00", False, "", False),
    (106, "vuln-box-01", True, "", False),
    (107, "r42-template-debian", False, "", True),
)

# (name, running, tags, template): seeded containers, ids from lxc_first_id() on.
SEED_LXCS = (
    ("test-lxc-web", True, "r42;lab", False),
    ("test-lxc-db", False, "r42;lab", False),
    ("test-lxc-cache", True, "", False),
    ("admin-lxc-proxy", False, "", False),
    ("r42-lxc-template", False, "", True),
)
LXC_MAXMEM = 536870912
LXC_MAXDISK = 8589934592

RUNNING_UPTIME = 1234
RUNNING_COUNTERS = {"cpu": 0.0123, "mem": 1073741824, "diskread": 52428800,
                    "diskwrite": 10485760, "netin": 1234567, "netout": 7654321}
STOPPED_COUNTERS = {"cpu": 0, "mem": 0, "diskread": 0, "diskwrite": 0,
                    "netin": 0, "netout": 0}

TASK_TYPES = {"start": "qmstart", "shutdown": "qmshutdown", "stop": "qmstop",
              "suspend": "qmpause", "resume": "qmresume"}
LXC_TASK_TYPES = {"start": "vzstart", "shutdown": "vzshutdown", "stop": "vzstop",
                  "suspend": "vzsuspend", "resume": "vzresume"}

# The "pve" task_durations table: seconds per kind, close to a small real host.
PVE_TASK_DURATIONS = {"start": 1.5, "shutdown": 4.0, "stop": 1.0, "suspend": 0.3,
                      "resume": 0.3, "snapshot": 3.0, "rollback": 4.0,
                      "delsnapshot": 1.5, "destroy": 1.5, "create": 2.0}
MAX_WORKERS_LIMIT = 64

# pve-configid (pve-common JSONSchema $CONFIGID_RE), then maxLength 40
SNAPNAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9_\-]+", re.ASCII)
SNAPNAME_MAX = 40
TOKEN_RE = re.compile(r"([^!=\s]+@[^!=\s]+)!([^=\s]+)=(\S+)")

TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off")


def task_kind(task_type: str) -> str:
    """The kind of a task type: qmstart -> start, qmpause -> suspend, ..."""
    kind = task_type[2:]
    return "suspend" if kind == "pause" else kind


def parse_durations(spec: str) -> dict:
    """--task-durations: "pve" and/or KIND=SECONDS items, comma separated."""
    out: dict = {}
    for item in filter(None, (x.strip() for x in spec.split(","))):
        if item == "pve":
            out.update(PVE_TASK_DURATIONS)
            continue
        kind, sep, value = item.partition("=")
        try:
            seconds = float(value)
        except ValueError:
            seconds = -1.0
        if not sep or kind not in PVE_TASK_DURATIONS or seconds < 0:
            raise ValueError(f"--task-durations: bad item {item!r}")
        out[kind] = seconds
    return out


def default_knobs(task_duration: float, task_durations: dict | None = None,
                  max_workers: int | None = None) -> dict:
    """The knob values after start and after /_sim/reset."""
    return {"probe_fail": False, "http_errors": {}, "task_errors": {},
            "task_duration": task_duration, "task_forever": [],
            "task_durations": dict(task_durations or {}), "max_workers": max_workers,
            "delay": 0.0, "delay_match": None, "drop": 0, "fail_5xx": 0,
            "faults": []}


class ApiError(Exception):
    """An immediate Proxmox error: HTTP status, reason phrase, optional errors map."""

    def __init__(self, status: int, reason: str, errors: dict | None = None):
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.errors = errors


def param_error(name: str, message: str) -> ApiError:
    """A Proxmox 400 parameter error for one parameter."""
    return ApiError(400, "Parameter verification failed.", {name: message})


# ----------------------------------------------------------------------------
# The model: VMs, snapshots, tasks
# ----------------------------------------------------------------------------

@dataclass
class Snapshot:
    name: str
    description: str
    snaptime: int
    parent: str | None
    vmstate: bool


@dataclass
class Vm:
    vmid: int
    name: str
    status: str = "stopped"      # "running" | "stopped"
    qmpstatus: str = "stopped"   # "running" | "paused" | "stopped"
    tags: str = ""
    template: bool = False
    snapshots: dict[str, Snapshot] = field(default_factory=dict)  # creation order
    current_parent: str | None = None

    @property
    def running(self) -> bool:
        return self.status == "running"

    def set_running(self) -> None:
        self.status = "running"
        self.qmpstatus = "running"

    def set_stopped(self) -> None:
        self.status = "stopped"
        self.qmpstatus = "stopped"

    def api_fields(self) -> dict:
        """The fields GET /nodes/{node}/qemu gives for this VM."""
        out = {"vmid": self.vmid, "name": self.name, "status": self.status,
               "uptime": RUNNING_UPTIME if self.running else 0, "cpus": 2,
               "maxmem": 2147483648, "disk": 0, "maxdisk": 34359738368}
        out.update(RUNNING_COUNTERS if self.running else STOPPED_COUNTERS)
        if self.running:
            out["pid"] = 10000 + self.vmid
        if self.tags:
            out["tags"] = self.tags
        if self.template:
            out["template"] = 1
        return out

    def digest(self) -> str:
        """sha1 of the config-like state; changes whenever the snapshot tree does."""
        return guest_digest(self)

    def sim_view(self) -> dict:
        """This VM as GET /_sim/state shows it."""
        return {"name": self.name, "status": self.status, "qmpstatus": self.qmpstatus,
                "uptime": RUNNING_UPTIME if self.running else 0,
                "template": int(self.template), "tags": self.tags,
                "snapshots": snapshots_view(self), "current_parent": self.current_parent}


@dataclass
class Ct:
    """A container. `suspended` is set by a suspend (lxc-checkpoint, which also stops it)."""
    vmid: int
    name: str
    status: str = "stopped"      # "running" | "stopped"
    tags: str = ""
    template: bool = False
    suspended: bool = False
    snapshots: dict[str, Snapshot] = field(default_factory=dict)  # creation order
    current_parent: str | None = None

    @property
    def running(self) -> bool:
        return self.status == "running"

    def set_running(self) -> None:
        self.status = "running"
        self.suspended = False

    def set_stopped(self) -> None:
        self.status = "stopped"

    def api_fields(self) -> dict:
        """The fields GET /nodes/{node}/lxc gives for this container."""
        out = {"vmid": self.vmid, "name": self.name, "status": self.status, "type": "lxc",
               "uptime": RUNNING_UPTIME if self.running else 0, "cpus": 1,
               "maxmem": LXC_MAXMEM, "maxswap": LXC_MAXMEM, "swap": 0,
               "disk": 0, "maxdisk": LXC_MAXDISK}
        out.update(RUNNING_COUNTERS if self.running else STOPPED_COUNTERS)
        if self.running:
            out["pid"] = 20000 + self.vmid
        if self.tags:
            out["tags"] = self.tags
        if self.template:
            out["template"] = 1
        return out

    def digest(self) -> str:
        return guest_digest(self)

    def sim_view(self) -> dict:
        """This container as GET /_sim/state shows it."""
        return {"name": self.name, "status": self.status, "suspended": self.suspended,
                "uptime": RUNNING_UPTIME if self.running else 0,
                "template": int(self.template), "tags": self.tags,
                "snapshots": snapshots_view(self), "current_parent": self.current_parent}


def guest_digest(guest) -> str:
    """sha1 of a VM's or container's config-like state (name, tags, snapshot tree)."""
    tree = [[s.name, s.description, s.snaptime, s.parent, int(s.vmstate)]
            for s in guest.snapshots.values()]
    blob = json.dumps([guest.name, guest.tags, int(guest.template), tree,
                       guest.current_parent], ensure_ascii=False)
    return hashlib.sha1(blob.encode("utf-8")).hexdigest()


def snapshots_view(guest) -> list:
    return [{"name": s.name, "description": s.description, "snaptime": s.snaptime,
             "parent": s.parent, "vmstate": int(s.vmstate)}
            for s in guest.snapshots.values()]


def lxc_first_id(vms: dict) -> int:
    """The first seeded container id: 200, or right after the last VM when it is past it."""
    return max([200] + [vmid + 1 for vmid in vms])


def seed_lxcs(count: int, first_id: int) -> dict[int, Ct]:
    """The containers of a fresh simulator: SEED_LXCS, then lab-ct-NNN (stopped)."""
    lxcs = {}
    for index in range(count):
        vmid = first_id + index
        if index < len(SEED_LXCS):
            name, running, tags, template = SEED_LXCS[index]
        else:
            name, running, tags, template = f"lab-ct-{vmid}", False, "", False
        ct = Ct(vmid=vmid, name=name, tags=tags, template=template)
        if running:
            ct.set_running()
        lxcs[vmid] = ct
    return lxcs


def guest_from_spec(kind: str, item) -> Vm | Ct:
    """One VM ("qemu") or container ("lxc") of an explicit seed; ValueError if bad.
    item: {"vmid": int >= 100, "name": str, "status": "running"|"stopped"|"paused"
    (VMs only), "tags": str, "template": bool}."""
    if not isinstance(item, dict) or set(item) - {"vmid", "name", "status", "tags", "template"}:
        raise ValueError("a seed entry is an object with vmid, name, status, tags, template")
    vmid, name = item.get("vmid"), item.get("name")
    status, tags = item.get("status", "stopped"), item.get("tags", "")
    template = item.get("template", False)
    states = ("running", "stopped", "paused") if kind == "qemu" else ("running", "stopped")
    ok = (isinstance(vmid, int) and not isinstance(vmid, bool) and 100 <= vmid <= 999999999
          and isinstance(name, str) and name and status in states and isinstance(tags, str)
          and isinstance(template, (bool, int)) and not (template and status != "stopped"))
    if not ok:
        raise ValueError(f"bad {kind} seed entry: {json.dumps(item)}")
    guest = (Vm if kind == "qemu" else Ct)(vmid=vmid, name=name, tags=tags,
                                           template=bool(template))
    if status != "stopped":
        guest.set_running()
    if status == "paused":
        guest.qmpstatus = "paused"
    return guest


def seed_vms(count: int) -> dict[int, Vm]:
    """The VMs of a fresh simulator: the reference rows, then lab-vm-NNN."""
    vms = {}
    for index in range(count):
        if index < len(SEED_VMS):
            vmid, name, running, tags, template = SEED_VMS[index]
        else:
            vmid = 100 + index
            name, running, tags, template = f"lab-vm-{vmid}", False, "", False
        vm = Vm(vmid=vmid, name=name, tags=tags, template=template)
        if running:
            vm.set_running()
        vms[vmid] = vm
    return vms


@dataclass
class Task:
    seq: int
    upid: str
    node: str
    pid: int
    pstart: int
    starttime: int
    type: str
    vmid: int
    end: float | None              # time.monotonic() deadline; None = never ends
    effect: Callable[[], str]      # applies the change, returns the exitstatus
    start: float = 0.0             # time.monotonic() at creation
    forced_error: str | None = None
    exitstatus: str | None = None  # None while running

    def api_fields(self, user: str, tokenid: str) -> dict:
        out = {"upid": self.upid, "node": self.node, "pid": self.pid,
               "pstart": self.pstart, "starttime": self.starttime, "type": self.type,
               "id": str(self.vmid), "user": user, "tokenid": tokenid,
               "status": "running" if self.exitstatus is None else "stopped"}
        if self.exitstatus is not None:
            out["exitstatus"] = self.exitstatus
        return out


# ----------------------------------------------------------------------------
# Knob validation
# ----------------------------------------------------------------------------

def _number(key: str, value, integer: bool = False):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ValueError(f"knob '{key}' needs a number >= 0")
    if integer and value != int(value):
        raise ValueError(f"knob '{key}' needs an integer")
    return int(value) if integer else float(value)


def _vmid_map(key: str, value, check: Callable) -> dict:
    if not isinstance(value, dict):
        raise ValueError(f"knob '{key}' needs an object keyed by vmid")
    return {str(k): check(v) for k, v in value.items()}


def _http_error_value(value) -> list:
    ok = (isinstance(value, list) and len(value) == 2 and isinstance(value[0], int)
          and 100 <= value[0] <= 599 and isinstance(value[1], str))
    if not ok:
        raise ValueError("knob 'http_errors' values are [code, \"reason\"]")
    return [value[0], value[1]]


def _text_value(value) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError("knob 'task_errors' values are non-empty strings")
    return value


def normalize_knob(key: str, value):
    """Checks one knob value from POST /_sim/config; raises ValueError if bad."""
    if key == "probe_fail":
        if not isinstance(value, bool):
            raise ValueError("knob 'probe_fail' needs true or false")
        return value
    if key == "http_errors":
        return _vmid_map(key, value, _http_error_value)
    if key == "task_errors":
        return _vmid_map(key, value, _text_value)
    if key == "task_forever":
        if not isinstance(value, list):
            raise ValueError("knob 'task_forever' needs a list of vmids")
        return [str(v) for v in value]
    if key == "delay_match":
        if not isinstance(value, str):
            raise ValueError("knob 'delay_match' needs a string")
        return value
    if key in ("task_duration", "delay"):
        return _number(key, value)
    if key == "task_durations":
        if value == "pve":
            return dict(PVE_TASK_DURATIONS)
        if not isinstance(value, dict) or any(k not in PVE_TASK_DURATIONS for k in value):
            raise ValueError("knob 'task_durations' needs \"pve\" or an object keyed by "
                             "kind: " + " ".join(PVE_TASK_DURATIONS))
        return {k: _number(key, v) for k, v in value.items()}
    if key == "max_workers":
        number = _number(key, value, integer=True)
        if not 1 <= number <= MAX_WORKERS_LIMIT:
            raise ValueError(f"knob 'max_workers' needs 1..{MAX_WORKERS_LIMIT}")
        return number
    if key in ("drop", "fail_5xx"):
        return _number(key, value, integer=True)
    if key == "faults":
        return faults.normalize(value)
    raise ValueError(f"unknown knob '{key}'")


# ----------------------------------------------------------------------------
# State: everything mutable, behind one lock
# ----------------------------------------------------------------------------

class State:
    """All simulator state. Every method takes self.lock (re-entrant)."""

    def __init__(self, node: str, token: str, vm_count: int,
                 task_duration: float, log_path: str, lxc_count: int = len(SEED_LXCS),
                 task_durations: dict | None = None, max_workers: int | None = None):
        user, tokenid, _secret = TOKEN_RE.fullmatch(token).groups()
        self.lock = threading.RLock()
        self.node = node
        self.user = user
        self.tokenid = tokenid
        self._expected_auth = ("PVEAPIToken=" + token).encode("utf-8")
        self._vm_count = vm_count
        self._lxc_count = lxc_count
        self._task_duration = task_duration
        self._task_durations = dict(task_durations or {})
        self._max_workers = max_workers
        self.epoch = time.monotonic()
        self._log_file = open(log_path, "a", encoding="utf-8")
        self._conn_counter = 0
        self._pid_counter = 0x15B6A
        self.vms: dict[int, Vm] = {}
        self.lxcs: dict[int, Ct] = {}
        self.tasks: dict[str, Task] = {}
        self._pending: list[Task] = []
        self.knobs: dict = {}
        self.log: list[dict] = []
        self.fault_plan = faults.Plan()
        self._seed()

    # -- lifecycle --------------------------------------------------------

    def _seed(self, seed: dict | None = None) -> None:
        with self.lock:
            self.vms, self.lxcs = self._seed_guests(seed or {})
            self.tasks = {}
            self._pending = []
            self.knobs = self._default_knobs()
            self.fault_plan.set([])
            self.epoch = time.monotonic()
            self.log = []

    def _seed_guests(self, seed: dict) -> tuple[dict, dict]:
        """(vms, lxcs) for a seed {"vms": N | [entry...], "lxcs": N | [entry...]}, each
        defaulting to the command line's count; ValueError if bad or ids overlap."""
        if not isinstance(seed, dict) or set(seed) - {"vms", "lxcs"}:
            raise ValueError('a seed is an object with "vms" and/or "lxcs"')
        out = {}
        for kind, key, default in (("qemu", "vms", self._vm_count),
                                   ("lxc", "lxcs", self._lxc_count)):
            spec = seed.get(key, default)
            if isinstance(spec, list):
                out[key] = {g.vmid: g for g in (guest_from_spec(kind, i) for i in spec)}
                if len(out[key]) != len(spec):
                    raise ValueError(f"duplicate vmid in the {key} seed")
            elif isinstance(spec, int) and not isinstance(spec, bool) and 0 <= spec <= 10000:
                out[key] = (seed_vms(spec) if kind == "qemu"
                            else seed_lxcs(spec, lxc_first_id(out["vms"])))
            else:
                raise ValueError(f'seed "{key}" is a count (0..10000) or a list of entries')
        if set(out["vms"]) & set(out["lxcs"]):
            raise ValueError("a vmid is both a VM and a container")
        return out["vms"], out["lxcs"]

    def guest_kind(self, vmid: int) -> str | None:
        """'VM', 'CT' or None: what uses this id (VMs and containers share the ids)."""
        with self.lock:
            return "VM" if vmid in self.vms else "CT" if vmid in self.lxcs else None

    def reset(self, seed: dict | None = None) -> None:
        """Seed state (the given seed, else the command line's), default knobs, no
        tasks, empty log (file and memory). ValueError (and no change) if seed is bad."""
        with self.lock:
            self._seed_guests(seed or {})  # validate before changing anything
            self._seed(seed)
            if self._log_file is not None:
                self._log_file.seek(0)
                self._log_file.truncate()
                self._log_file.flush()

    def close(self) -> None:
        """Closes the log file; later requests are still kept in memory."""
        with self.lock:
            if self._log_file is not None:
                self._log_file.close()
                self._log_file = None

    def next_conn(self) -> int:
        with self.lock:
            self._conn_counter += 1
            return self._conn_counter

    # -- authentication ---------------------------------------------------

    def check_auth(self, header: str | None) -> str:
        """'ok', 'bad' or 'missing' for an Authorization header value."""
        if header is None:
            return "missing"
        given = header.strip().encode("utf-8", "replace")
        return "ok" if hmac.compare_digest(given, self._expected_auth) else "bad"

    # -- request log ------------------------------------------------------

    def record(self, fields: dict) -> None:
        """Numbers the entry, appends it to memory and to the file (flushed)."""
        with self.lock:
            entry = {"seq": len(self.log) + 1, **fields}
            self.log.append(entry)
            if self._log_file is not None:
                self._log_file.write(json.dumps(entry, ensure_ascii=False) + "\n")
                self._log_file.flush()

    # -- knobs ------------------------------------------------------------

    def merge_knobs(self, update: dict) -> dict:
        """Validates every key first, then merges; null restores a default."""
        with self.lock:
            defaults = self._default_knobs()
            merged = {}
            for key, value in update.items():
                if key not in defaults:
                    raise ValueError(f"unknown knob '{key}'")
                merged[key] = defaults[key] if value is None else normalize_knob(key, value)
            self.knobs.update(merged)
            if "faults" in merged:
                self.fault_plan.set(merged["faults"])
            return json.loads(json.dumps(self.knobs))

    def _default_knobs(self) -> dict:
        return default_knobs(self._task_duration, self._task_durations, self._max_workers)

    def since_epoch(self, when: float | None = None) -> float:
        """Seconds from the start or last reset to WHEN (default: now), rounded."""
        return round((time.monotonic() if when is None else when) - self.epoch, 6)

    def delay_for(self, path: str) -> float:
        with self.lock:
            match = self.knobs["delay_match"]
            if match is not None and match not in path:
                return 0.0
            return self.knobs["delay"]

    def take_fault(self) -> str | None:
        """Consumes one 'drop' or 'fail_5xx' credit: 'drop', 'fail' or None."""
        with self.lock:
            for knob, fault in (("drop", "drop"), ("fail_5xx", "fail")):
                if self.knobs[knob] > 0:
                    self.knobs[knob] -= 1
                    return fault
            return None

    # -- tasks ------------------------------------------------------------

    def new_task(self, vmid: int, task_type: str, effect: Callable[[], str]) -> str:
        """Starts a task on guest vmid whose effect runs when it ends; returns its UPID."""
        with self.lock:
            self._pid_counter += 1
            now = time.monotonic()
            key = str(vmid)
            duration = self.knobs["task_durations"].get(task_kind(task_type),
                                                        self.knobs["task_duration"])
            end = None if key in self.knobs["task_forever"] else now + duration
            pid, starttime = self._pid_counter, int(time.time())
            pstart = int(now * 100) & 0xFFFFFFFF
            upid = (f"UPID:{self.node}:{pid:08X}:{pstart:08X}:{starttime:08X}:"
                    f"{task_type}:{vmid}:{self.user}!{self.tokenid}:")
            task = Task(seq=len(self.tasks), upid=upid, node=self.node, pid=pid,
                        pstart=pstart, starttime=starttime, type=task_type,
                        vmid=vmid, end=end, effect=effect, start=now,
                        forced_error=self.knobs["task_errors"].get(key))
            self.tasks[upid] = task
            if end is not None:
                self._pending.append(task)
            return upid

    def apply_due_tasks(self) -> None:
        """Ends, in order of end time, every task whose end time has passed."""
        with self.lock:
            now = time.monotonic()
            due = sorted((t for t in self._pending if t.end <= now),
                         key=lambda t: (t.end, t.seq))
            if not due:
                return
            self._pending = [t for t in self._pending if t.end > now]
            for task in due:
                if task.forced_error is not None:
                    task.exitstatus = task.forced_error
                else:
                    task.exitstatus = task.effect()

    # -- views ------------------------------------------------------------

    def sim_view(self) -> dict:
        with self.lock:
            self.apply_due_tasks()
            return {"vms": {str(i): vm.sim_view() for i, vm in sorted(self.vms.items())},
                    "lxcs": {str(i): ct.sim_view() for i, ct in sorted(self.lxcs.items())},
                    "tasks": len(self.tasks),
                    "config": json.loads(json.dumps(self.knobs))}

    def log_view(self) -> list:
        with self.lock:
            return list(self.log)

    def task_times(self, upid: str) -> dict | None:
        """{upid, type, vmid, start, end} of a task (times since the epoch), or None."""
        with self.lock:
            task = self.tasks.get(upid)
            if task is None:
                return None
            end = None if task.end is None else self.since_epoch(task.end)
            return {"upid": upid, "type": task.type, "vmid": task.vmid,
                    "start": self.since_epoch(task.start), "end": end}

    def tasks_view(self) -> dict:
        """Every task with its times, and the most that ran at once (all, per guest)."""
        with self.lock:
            self.apply_due_tasks()
            now = time.monotonic()
            tasks = []
            for task in sorted(self.tasks.values(), key=lambda t: t.seq):
                item = self.task_times(task.upid)
                item["exitstatus"] = task.exitstatus
                tasks.append(item)
            spans = [(t.start, now if t.end is None else t.end, t.vmid)
                     for t in self.tasks.values()]
            return {"tasks": tasks, "max_in_flight": max_overlap(spans),
                    "max_in_flight_per_guest": max(
                        (max_overlap([s for s in spans if s[2] == vmid])
                         for vmid in {s[2] for s in spans}), default=0)}


def max_overlap(spans: list) -> int:
    """The most of the [start, end) spans that cover one instant."""
    events = sorted([(s, 1) for s, e, *_ in spans if e > s] +
                    [(e, -1) for s, e, *_ in spans if e > s])
    best = count = 0
    for _, step in events:  # an end sorts before a start at the same time
        count += step
        best = max(best, count)
    return best


# ----------------------------------------------------------------------------
# The Proxmox API: routing and endpoint semantics (all called under state.lock)
# ----------------------------------------------------------------------------

def parse_bool(params: dict, name: str, default: bool = False) -> bool:
    """A Proxmox boolean parameter (1/0, true/false, yes/no, on/off)."""
    value = params.get(name)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise param_error(name, f"type check ('boolean') failed - got '{value}'")


def text_param(params: dict, name: str) -> str | None:
    """A string parameter; JSON numbers are taken as their text."""
    value = params.get(name)
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise param_error(name, "type check ('string') failed")


def snapname_param(name: str | None) -> str:
    """A pve-snapshot-name parameter (pve-configid, at most 40 characters)."""
    if name is None:
        raise param_error("snapname", "property is missing and it is not optional")
    if not SNAPNAME_RE.fullmatch(name):
        raise param_error("snapname", f"invalid format - invalid configuration ID '{name}'\n")
    if len(name) > SNAPNAME_MAX:
        raise param_error("snapname", f"value may only be {SNAPNAME_MAX} characters long")
    return name


class PveApi:
    """Proxmox semantics on top of a State. handle() is the single entry point."""

    # (method, path pattern, handler name); "{x}" segments are captured.
    ROUTES = (
        ("GET", "version", "get_version"),
        ("GET", "cluster/options", "get_cluster_options"),
        ("GET", "nodes", "get_nodes"),
        ("GET", "nodes/{node}/qemu", "get_vm_list"),
        ("GET", "nodes/{node}/qemu/{vmid}/status/current", "get_vm_current"),
        ("POST", "nodes/{node}/qemu/{vmid}/status/{action}", "post_vm_action"),
        ("POST", "nodes/{node}/qemu", "post_vm_create"),
        ("DELETE", "nodes/{node}/qemu/{vmid}", "delete_vm"),
        ("GET", "nodes/{node}/qemu/{vmid}/snapshot", "get_snapshots"),
        ("POST", "nodes/{node}/qemu/{vmid}/snapshot", "post_snapshot"),
        ("POST", "nodes/{node}/qemu/{vmid}/snapshot/{snapname}/rollback", "post_rollback"),
        ("DELETE", "nodes/{node}/qemu/{vmid}/snapshot/{snapname}", "delete_snapshot"),
        ("GET", "nodes/{node}/lxc", "get_lxc_list"),
        ("POST", "nodes/{node}/lxc", "post_lxc_create"),
        ("GET", "nodes/{node}/lxc/{vmid}/status/current", "get_lxc_current"),
        ("POST", "nodes/{node}/lxc/{vmid}/status/{action}", "post_lxc_action"),
        ("DELETE", "nodes/{node}/lxc/{vmid}", "delete_lxc"),
        ("GET", "nodes/{node}/lxc/{vmid}/snapshot", "get_lxc_snapshots"),
        ("POST", "nodes/{node}/lxc/{vmid}/snapshot", "post_lxc_snapshot"),
        ("POST", "nodes/{node}/lxc/{vmid}/snapshot/{snapname}/rollback", "post_lxc_rollback"),
        ("DELETE", "nodes/{node}/lxc/{vmid}/snapshot/{snapname}", "delete_lxc_snapshot"),
        ("GET", "nodes/{node}/tasks/{upid}/status", "get_task_status"),
    )

    def __init__(self, state: State):
        self.state = state

    def handle(self, method: str, raw_path: str, query: str, body: bytes,
               content_type: str, auth: str):
        """Runs one /api2 request; returns the "data" value or raises ApiError."""
        st = self.state
        with st.lock:
            st.apply_due_tasks()
            segments = split_api_path(raw_path)
            if st.knobs["probe_fail"] and method == "GET" and is_vm_list_path(segments):
                raise ApiError(503, "Service Unavailable")
            if auth == "missing":
                raise ApiError(401, "No ticket")
            if auth != "ok":
                raise ApiError(401, "authentication failure")
            self._check_http_error_knob(segments)
            handler, captured = self._route(method, raw_path, segments)
            params = parse_params(query, body, content_type, method)
            return handler(params=params, **captured)

    # -- routing ----------------------------------------------------------

    def _route(self, method: str, raw_path: str, segments: list | None):
        if segments is not None:
            for route_method, pattern, name in self.ROUTES:
                captured = match_route(pattern, segments)
                if captured is not None and route_method == method:
                    return getattr(self, name), captured
        shown = raw_path[len(API_PREFIX):] if segments is not None else raw_path
        raise ApiError(501, f"Method '{method} {shown or '/'}' not implemented")

    def _check_http_error_knob(self, segments: list | None) -> None:
        if (not segments or len(segments) < 4 or segments[0] != "nodes"
                or segments[2] not in ("qemu", "lxc")):
            return
        forced = self.state.knobs["http_errors"].get(segments[3])
        if forced is not None:
            raise ApiError(forced[0], forced[1])

    def _check_node(self, node: str) -> None:
        if node != self.state.node:
            raise ApiError(500, f"hostname lookup '{node}' failed - failed to get address info")

    def _vmid(self, node: str, vmid: str) -> int:
        """The vmid path parameter as an integer (the node checked first)."""
        self._check_node(node)
        if not vmid.isascii() or not vmid.isdigit():
            raise param_error("vmid", f"type check ('integer') failed - got '{vmid}'")
        return int(vmid)

    def _missing(self, kind: str, vmid: int) -> str:
        """load_config's message for a VM ("qemu") or container ("lxc") that does not exist."""
        folder = "qemu-server" if kind == "qemu" else "lxc"
        return f"Configuration file 'nodes/{self.state.node}/{folder}/{vmid}.conf' does not exist"

    def _not_on_node(self, vmid: int) -> str:
        """qemu-server's check_running message for a VM that does not exist."""
        return f"unable to find configuration file for VM {vmid} on node '{self.state.node}'"

    def _guests(self, kind: str) -> dict:
        return self.state.vms if kind == "qemu" else self.state.lxcs

    def _guest(self, kind: str, node: str, vmid: str) -> Vm | Ct:
        """The VM or container, else the HTTP 500 load_config answers."""
        number = self._vmid(node, vmid)
        guest = self._guests(kind).get(number)
        if guest is None:
            raise ApiError(500, self._missing(kind, number))
        return guest

    def _vm(self, node: str, vmid: str) -> Vm:
        return self._guest("qemu", node, vmid)

    # -- cluster-level ----------------------------------------------------

    def get_version(self, params: dict) -> dict:
        return {"version": "8.2.4", "release": "8.2", "repoid": "faa83925c9641325"}

    def get_cluster_options(self, params: dict) -> dict:
        workers = self.state.knobs["max_workers"]
        return {} if workers is None else {"max_workers": workers}

    def get_nodes(self, params: dict) -> list:
        return [{"node": self.state.node, "status": "online", "type": "node"}]

    # -- VMs (qemu-server: PVE/API2/Qemu.pm, PVE/QemuServer.pm) ----------------

    def get_vm_list(self, params: dict, node: str) -> list:
        self._check_node(node)
        return [vm.api_fields() for _, vm in sorted(self.state.vms.items())]

    def get_vm_current(self, params: dict, node: str, vmid: str) -> dict:
        vm = self._vm(node, vmid)
        out = vm.api_fields()
        out["qmpstatus"] = vm.qmpstatus
        out["ha"] = {"managed": 0}
        return out

    def post_vm_action(self, params: dict, node: str, vmid: str, action: str) -> str:
        number = self._vmid(node, vmid)
        if action not in TASK_TYPES:
            raise ApiError(501, f"Method 'POST /nodes/{node}/qemu/{vmid}/status/{action}'"
                                " not implemented")
        vm = self.state.vms.get(number)
        task_type = TASK_TYPES[action]
        if action == "shutdown" and vm is not None and vm.qmpstatus == "paused":
            if not parse_bool(params, "forceStop"):
                raise ApiError(500, "VM is paused - cannot shutdown")
            action = "stop"  # "VM is paused - stop instead of shutdown"
        if action in ("suspend", "resume"):
            if vm is None:
                raise ApiError(500, self._not_on_node(number))
            if not vm.running:
                raise ApiError(500, f"VM {number} not running")
        effect = getattr(self, "_effect_" + action)
        return self.state.new_task(number, task_type, lambda: effect(number))

    def _effect_start(self, vmid: int) -> str:
        vm = self.state.vms.get(vmid)
        if vm is None:
            return self._missing("qemu", vmid)
        if vm.template:
            return "you can't start a vm if it's a template"
        if vm.running:
            return f"VM {vmid} already running"
        vm.set_running()
        return "OK"

    def _effect_shutdown(self, vmid: int) -> str:
        return self._effect_stop(vmid)

    def _effect_stop(self, vmid: int) -> str:
        vm = self.state.vms.get(vmid)
        if vm is None:
            return self._not_on_node(vmid)
        vm.set_stopped()  # a stopped VM: nothing to do, OK
        return "OK"

    def _effect_suspend(self, vmid: int) -> str:
        vm = self.state.vms.get(vmid)
        if vm is None:
            return self._missing("qemu", vmid)
        if not vm.running:
            return f"VM {vmid} not running"
        vm.qmpstatus = "paused"
        return "OK"

    def _effect_resume(self, vmid: int) -> str:
        vm = self.state.vms.get(vmid)
        if vm is None:
            return self._missing("qemu", vmid)
        if vm.qmpstatus == "paused":
            vm.qmpstatus = "running"
        return "OK"

    def post_vm_create(self, params: dict, node: str) -> str:
        number = self._create_vmid(params, node)
        if self.state.guest_kind(number) is not None:
            raise ApiError(500, f"unable to create VM {number} - "
                                f"{self.state.guest_kind(number)} {number} already exists"
                                f" on node '{node}'")
        vm = Vm(vmid=number, name=text_param(params, "name") or f"VM{number}")
        self.state.vms[number] = vm  # create_and_lock_config runs before the task
        start = parse_bool(params, "start")

        def effect() -> str:
            if start and number in self.state.vms:
                self.state.vms[number].set_running()
            return "OK"

        return self.state.new_task(number, "qmcreate", effect)

    def _create_vmid(self, params: dict, node: str) -> int:
        """The vmid parameter of a create (node checked first)."""
        self._check_node(node)
        value = text_param(params, "vmid")
        if value is None:
            raise param_error("vmid", "property is missing and it is not optional")
        if not value.isascii() or not value.isdigit():
            raise param_error("vmid", f"type check ('integer') failed - got '{value}'")
        if int(value) < 100:
            raise param_error("vmid", "invalid format - value does not look like a valid VM ID\n")
        return int(value)

    def delete_vm(self, params: dict, node: str, vmid: str) -> str:
        vm = self._vm(node, vmid)
        if vm.running:
            raise ApiError(500, f"VM {vm.vmid} is running - destroy failed")

        def effect() -> str:
            now = self.state.vms.get(vm.vmid)
            if now is None:
                return self._missing("qemu", vm.vmid)
            if now.running:
                return f"VM {vm.vmid} is running - destroy failed"
            del self.state.vms[vm.vmid]
            return "OK"

        return self.state.new_task(vm.vmid, "qmdestroy", effect)

    # -- containers (pve-container: src/PVE/API2/LXC.pm, LXC/Status.pm) ----

    def get_lxc_list(self, params: dict, node: str) -> list:
        self._check_node(node)
        return [ct.api_fields() for _, ct in sorted(self.state.lxcs.items())]

    def get_lxc_current(self, params: dict, node: str, vmid: str) -> dict:
        ct = self._guest("lxc", node, vmid)
        out = ct.api_fields()
        out["ha"] = {"managed": 0}
        return out

    def post_lxc_action(self, params: dict, node: str, vmid: str, action: str) -> str:
        number = self._vmid(node, vmid)
        if action not in LXC_TASK_TYPES:
            raise ApiError(501, f"Method 'POST /nodes/{node}/lxc/{vmid}/status/{action}'"
                                " not implemented")
        ct = self.state.lxcs.get(number)
        running = ct is not None and ct.running
        if action in ("start", "resume") and running:
            raise ApiError(500, f"CT {number} already running")
        if action in ("stop", "shutdown", "suspend") and not running:
            raise ApiError(500, f"CT {number} not running")
        effect = getattr(self, "_lxc_effect_" + action)
        return self.state.new_task(number, LXC_TASK_TYPES[action], lambda: effect(number))

    def _lxc_effect_start(self, vmid: int) -> str:
        ct = self.state.lxcs.get(vmid)
        if ct is None:
            return self._missing("lxc", vmid)
        if ct.template:
            return "you can't start a CT if it's a template"
        if ct.running:
            return f"CT {vmid} already running"
        ct.set_running()
        return "OK"

    def _lxc_effect_shutdown(self, vmid: int) -> str:
        return self._lxc_effect_stop(vmid)

    def _lxc_effect_stop(self, vmid: int) -> str:
        ct = self.state.lxcs.get(vmid)
        if ct is None:
            return self._missing("lxc", vmid)
        ct.set_stopped()
        return "OK"

    def _lxc_effect_suspend(self, vmid: int) -> str:
        ct = self.state.lxcs.get(vmid)
        if ct is None:
            return self._missing("lxc", vmid)
        if not ct.running:
            return f"CT {vmid} not running"
        ct.set_stopped()  # lxc-checkpoint -s: checkpoint, then stop
        ct.suspended = True
        return "OK"

    def _lxc_effect_resume(self, vmid: int) -> str:
        ct = self.state.lxcs.get(vmid)
        if ct is None or not ct.suspended or ct.running:
            return (f"command 'lxc-checkpoint -n {vmid} -r --foreground -D /var/lib/vz/dump'"
                    " failed: exit code 1")
        ct.set_running()
        return "OK"

    def post_lxc_create(self, params: dict, node: str) -> str:
        number = self._create_vmid(params, node)
        kind = self.state.guest_kind(number)
        if kind is not None:
            raise ApiError(500, f"{kind} {number} already exists on node '{node}'")
        ct = Ct(vmid=number, name=text_param(params, "hostname") or f"CT{number}")
        self.state.lxcs[number] = ct  # create_and_lock_config runs before the task
        start = parse_bool(params, "start")

        def effect() -> str:
            if start and number in self.state.lxcs:
                self.state.lxcs[number].set_running()
            return "OK"

        return self.state.new_task(number, "vzcreate", effect)

    def delete_lxc(self, params: dict, node: str, vmid: str) -> str:
        ct = self._guest("lxc", node, vmid)
        force = parse_bool(params, "force")
        if ct.running and not force:
            raise ApiError(500, f"unable to destroy CT {ct.vmid} - container is running")

        def effect() -> str:
            now = self.state.lxcs.get(ct.vmid)
            if now is None:
                return self._missing("lxc", ct.vmid)
            if now.running and not force:
                return f"unable to destroy CT {ct.vmid} - container is running"
            del self.state.lxcs[ct.vmid]
            return "OK"

        return self.state.new_task(ct.vmid, "vzdestroy", effect)

    # -- snapshots (both kinds; pve-guest-common: src/PVE/AbstractConfig.pm) --

    def get_snapshots(self, params: dict, node: str, vmid: str) -> list:
        return self._snapshot_list("qemu", node, vmid)

    def get_lxc_snapshots(self, params: dict, node: str, vmid: str) -> list:
        return self._snapshot_list("lxc", node, vmid)

    def _snapshot_list(self, kind: str, node: str, vmid: str) -> list:
        guest = self._guest(kind, node, vmid)
        out = []
        for snap in guest.snapshots.values():
            entry = {"name": snap.name, "description": snap.description,
                     "snaptime": snap.snaptime}
            if snap.parent is not None:
                entry["parent"] = snap.parent
            if snap.vmstate:
                entry["vmstate"] = 1
            out.append(entry)
        current = {"name": "current", "description": "You are here!",
                   "digest": guest.digest(), "running": int(guest.running)}
        if guest.current_parent is not None:
            current["parent"] = guest.current_parent
        out.append(current)
        return out

    def post_snapshot(self, params: dict, node: str, vmid: str) -> str:
        return self._snapshot_create("qemu", params, node, vmid)

    def post_lxc_snapshot(self, params: dict, node: str, vmid: str) -> str:
        return self._snapshot_create("lxc", params, node, vmid)

    def _snapshot_create(self, kind: str, params: dict, node: str, vmid: str) -> str:
        number = self._vmid(node, vmid)
        name = snapname_param(text_param(params, "snapname"))
        reserved = ("current", "vzdump") if kind == "lxc" else ("current",)
        if name in reserved or (kind == "qemu" and name.lower() == "pending"):
            raise ApiError(500, f"unable to use snapshot name '{name}' (reserved name)")
        description = text_param(params, "description") or ""
        vmstate = parse_bool(params, "vmstate") if kind == "qemu" else False
        if kind == "qemu":
            self._guest(kind, node, vmid)  # the VM's config is read before the task

        def effect() -> str:
            guest = self._guests(kind).get(number)
            if guest is None:
                return self._missing(kind, number)
            if guest.template:
                return "you can't take a snapshot if it's a template"
            if name in guest.snapshots:
                return f"snapshot name '{name}' already used"
            guest.snapshots[name] = Snapshot(name=name, description=description,
                                             snaptime=int(time.time()),
                                             parent=guest.current_parent, vmstate=vmstate)
            guest.current_parent = name
            return "OK"

        return self.state.new_task(number, "qmsnapshot" if kind == "qemu" else "vzsnapshot",
                                   effect)

    def post_rollback(self, params: dict, node: str, vmid: str, snapname: str) -> str:
        return self._snapshot_rollback("qemu", params, node, vmid, snapname)

    def post_lxc_rollback(self, params: dict, node: str, vmid: str, snapname: str) -> str:
        return self._snapshot_rollback("lxc", params, node, vmid, snapname)

    def _snapshot_rollback(self, kind: str, params: dict, node: str, vmid: str,
                           snapname: str) -> str:
        number = self._vmid(node, vmid)
        snapname_param(snapname)
        start_after = parse_bool(params, "start")

        def effect() -> str:
            guest = self._guests(kind).get(number)
            if guest is None:
                return self._missing(kind, number)
            if guest.template:
                return "you can't rollback if vm is a template"
            snap = guest.snapshots.get(snapname)
            if snap is None:
                return f"snapshot '{snapname}' does not exist"
            guest.current_parent = snapname
            if snap.vmstate or start_after:  # stopped first, started again
                guest.set_running()
            else:
                guest.set_stopped()
            return "OK"

        return self.state.new_task(number, "qmrollback" if kind == "qemu" else "vzrollback",
                                   effect)

    def delete_snapshot(self, params: dict, node: str, vmid: str, snapname: str) -> str:
        return self._snapshot_delete("qemu", node, vmid, snapname)

    def delete_lxc_snapshot(self, params: dict, node: str, vmid: str, snapname: str) -> str:
        return self._snapshot_delete("lxc", node, vmid, snapname)

    def _snapshot_delete(self, kind: str, node: str, vmid: str, snapname: str) -> str:
        number = self._vmid(node, vmid)
        snapname_param(snapname)

        def effect() -> str:
            guest = self._guests(kind).get(number)
            if guest is None:
                return self._missing(kind, number)
            snap = guest.snapshots.get(snapname)
            if snap is None:
                return f"snapshot '{snapname}' does not exist"
            if guest.template:
                return "you can't delete a snapshot if vm is a template"
            del guest.snapshots[snapname]
            for other in guest.snapshots.values():
                if other.parent == snapname:
                    other.parent = snap.parent
            if guest.current_parent == snapname:
                guest.current_parent = snap.parent
            return "OK"

        return self.state.new_task(number,
                                   "qmdelsnapshot" if kind == "qemu" else "vzdelsnapshot",
                                   effect)

    # -- tasks ------------------------------------------------------------

    def get_task_status(self, params: dict, node: str, upid: str) -> dict:
        self._check_node(node)
        task = self.state.tasks.get(upid)
        if task is None:
            raise ApiError(500, "no such task")
        return task.api_fields(self.state.user, self.state.tokenid)


def split_api_path(raw_path: str) -> list | None:
    """Decoded segments after /api2/json, or None for a path outside it."""
    if raw_path != API_PREFIX and not raw_path.startswith(API_PREFIX + "/"):
        return None
    rest = raw_path[len(API_PREFIX):].strip("/")
    return [urllib.parse.unquote(s) for s in rest.split("/")] if rest else []


def is_vm_list_path(segments: list | None) -> bool:
    return segments is not None and len(segments) == 3 and \
        segments[0] == "nodes" and segments[2] == "qemu"


def match_route(pattern: str, segments: list) -> dict | None:
    """Captured "{name}" segments if segments fit pattern, else None."""
    parts = pattern.split("/")
    if len(parts) != len(segments):
        return None
    captured = {}
    for part, seg in zip(parts, segments):
        if part.startswith("{"):
            if not seg:
                return None
            captured[part[1:-1]] = seg
        elif part != seg:
            return None
    return captured


# ----------------------------------------------------------------------------
# HTTP
# ----------------------------------------------------------------------------

class BodyError(Exception):
    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = reason


def wire_reason(reason: str) -> str:
    """A reason phrase safe for the status line: no control characters, UTF-8 bytes."""
    clean = "".join(" " if ord(c) < 32 or ord(c) == 127 else c for c in reason).strip()
    return clean.encode("utf-8").decode("latin-1")


def parse_params(query: str, body: bytes, content_type: str, method: str) -> dict:
    """Query parameters, then body parameters (form or JSON object) on top."""
    params = {k: v[-1] for k, v in urllib.parse.parse_qs(query, keep_blank_values=True).items()}
    if method == "GET" or not body:
        return params
    text = body.decode("utf-8", "replace")
    if "json" in content_type.lower():
        try:
            obj = json.loads(text)
        except ValueError as exc:
            raise ApiError(400, f"malformed JSON body: {exc}") from None
        if not isinstance(obj, dict):
            raise ApiError(400, "JSON body must be an object")
        params.update(obj)
    else:
        form = urllib.parse.parse_qs(text, keep_blank_values=True)
        params.update({k: v[-1] for k, v in form.items()})
    return params


class Handler(BaseHTTPRequestHandler):
    """One instance per TCP connection; serves its keep-alive requests in turn."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    timeout = CONN_TIMEOUT
    server_version = "pve-api-daemon/3.0"

    def setup(self) -> None:
        super().setup()  # socket timeout, TCP_NODELAY, rfile/wfile
        self.conn_id = self.server.state.next_conn()
        self.request.do_handshake()

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format, *args) -> None:  # quiet
        pass

    def send_error(self, code, message=None, explain=None) -> None:
        """Malformed requests (bad request line, unknown method): JSON, then close."""
        reason = message or self.responses.get(code, ("Error",))[0]
        self._send(code, reason, {"data": None}, close=True)

    # -- plumbing ----------------------------------------------------------

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        length_text = self.headers.get("Content-Length", "0").strip() or "0"
        if not length_text.isdigit():
            raise BodyError(400, "bad Content-Length")
        length = int(length_text)
        if length > MAX_BODY:
            raise BodyError(413, "Request Entity Too Large")
        body = self.rfile.read(length) if length else b""
        if len(body) < length:  # the client hung up mid-body: not a request
            raise ConnectionAbortedError("client closed the connection mid-body")
        return body

    def _read_chunked(self) -> bytes:
        chunks, total = [], 0
        while True:
            size_line = self.rfile.readline(1024).split(b";")[0].strip()
            try:
                size = int(size_line, 16)
            except ValueError:
                raise BodyError(400, "bad chunk size") from None
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(chunks)
            total += size
            if total > MAX_BODY:
                raise BodyError(413, "Request Entity Too Large")
            chunks.append(self.rfile.read(size))
            if len(chunks[-1]) < size:
                raise ConnectionAbortedError("client closed the connection mid-body")
            self.rfile.readline(1024)

    def _send(self, status: int, reason: str, payload, close: bool = False) -> None:
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        self.send_response(status, wire_reason(reason))
        self.send_header("Content-Type", "application/json;charset=UTF-8")
        self.send_header("Content-Length", str(len(body)))
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(body)

    # -- dispatch ----------------------------------------------------------

    def _dispatch(self) -> None:
        raw_path, _, query = self.path.partition("?")
        try:
            body = self._read_body()
        except BodyError as exc:
            self._send(exc.status, exc.reason, {"data": None}, close=True)
            return
        if raw_path.startswith(SIM_PREFIX):
            self._control(raw_path, body)
        else:
            self._api(raw_path, query, body)

    do_GET = do_POST = do_PUT = do_DELETE = _dispatch

    def _api(self, raw_path: str, query: str, body: bytes) -> None:
        st = self.server.state
        content_type = self.headers.get("Content-Type", "")
        auth = st.check_auth(self.headers.get("Authorization"))
        entry = {"conn": self.conn_id, "method": self.command, "path": raw_path,
                 "query": query, "content_type": content_type,
                 "body": body.decode("utf-8", "replace"), "auth": auth,
                 "time": st.since_epoch()}
        rule = st.fault_plan.pick(self.command, raw_path)
        if rule is not None:  # faults.py answers (see its docstring)
            faults.serve(self, rule, entry, st.record, lambda: self._api_result(
                None, raw_path, query, body, content_type, auth))
            return
        pause = st.delay_for(raw_path)
        if pause > 0:
            time.sleep(pause)
        fault = st.take_fault()
        if fault == "drop":
            st.record({**entry, "status": 0, "reason": "dropped"})
            self.close_connection = True
            return
        status, reason, payload = self._api_result(fault, raw_path, query, body,
                                                   content_type, auth)
        st.record({**entry, "status": status, "reason": reason,
                   "done": st.since_epoch(), **task_fields(st, status, payload)})
        self._send(status, reason, payload)

    def _api_result(self, fault, raw_path, query, body, content_type, auth):
        """(status, reason, payload) for one /api2 request."""
        if fault == "fail":
            return 500, "Internal Server Error", {"data": None}
        try:
            data = self.server.api.handle(self.command, raw_path, query, body,
                                          content_type, auth)
            return 200, "OK", {"data": data}
        except ApiError as exc:
            payload = {"data": None}
            if exc.errors:
                payload["errors"] = exc.errors
            return exc.status, exc.reason, payload
        except Exception:  # a simulator bug: say so loudly, answer 500
            traceback.print_exc()
            return 500, "simulator internal error", {"data": None}

    def _control(self, raw_path: str, body: bytes) -> None:
        st = self.server.state
        route = (self.command, raw_path.rstrip("/"))
        try:
            if route == ("GET", "/_sim/state"):
                self._send(200, "OK", st.sim_view())
            elif route == ("GET", "/_sim/log"):
                self._send(200, "OK", st.log_view())
            elif route == ("GET", "/_sim/tasks"):
                self._send(200, "OK", st.tasks_view())
            elif route == ("GET", "/_sim/config"):
                self._send(200, "OK", st.merge_knobs({}))
            elif route == ("POST", "/_sim/config"):
                update = json.loads(body.decode("utf-8") or "{}")
                if not isinstance(update, dict):
                    raise ValueError("POST /_sim/config needs a JSON object")
                self._send(200, "OK", st.merge_knobs(update))
            elif route == ("POST", "/_sim/reset"):
                seed = json.loads(body.decode("utf-8") or "{}")
                st.reset(seed)
                self._send(200, "OK", {"reset": True})
            else:
                message = f"no control endpoint {route[0]} {route[1]}"
                self._send(404, "Not Found", {"error": message})
        except ValueError as exc:
            self._send(400, "Bad Request", {"error": str(exc)})


def task_fields(st: State, status: int, payload) -> dict:
    """The request log's task fields for an answer: the task it started, or
    the state of the task it read."""
    data = payload.get("data") if isinstance(payload, dict) else None
    if status != 200:
        return {}
    if isinstance(data, str) and data.startswith("UPID:"):
        times = st.task_times(data)
        return {"task": times} if times else {}
    if isinstance(data, dict) and "upid" in data and data.get("status") in ("running",
                                                                            "stopped"):
        times = st.task_times(data["upid"])
        return {"task_status": data["status"], "task_end": times and times["end"]}
    return {}


class SimServer(ThreadingHTTPServer):
    """Threaded HTTPS server; the TLS handshake runs in each connection's thread."""

    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple, family: int, context: ssl.SSLContext, state: State):
        self.address_family = family
        self.state = state
        self.api = PveApi(state)
        super().__init__(address, Handler, bind_and_activate=False)
        try:
            self.server_bind()
            self.server_activate()
        except OSError:
            self.server_close()
            raise
        self.socket = context.wrap_socket(self.socket, server_side=True,
                                          do_handshake_on_connect=False)

    def server_bind(self) -> None:
        # HTTPServer.server_bind would do a (possibly slow) reverse DNS lookup.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def handle_error(self, request, client_address) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, OSError):  # disconnects, TLS failures, timeouts
            return
        traceback.print_exc()


# ----------------------------------------------------------------------------
# Command line
# ----------------------------------------------------------------------------

def die(message: str) -> None:
    print(f"pvesim: {message}", file=sys.stderr)
    sys.exit(2)


def parse_args(argv: list | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Proxmox VE API simulator (see module docstring)")
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--token", required=True, help="user@realm!tokenid=secret")
    parser.add_argument("--node", required=True)
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--bind", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--vms", type=int, default=8)
    parser.add_argument("--lxcs", type=int, default=len(SEED_LXCS))
    parser.add_argument("--task-duration", type=float, default=0.0)
    parser.add_argument("--task-durations", default="")
    parser.add_argument("--max-workers", type=int, default=None)
    args = parser.parse_args(argv)
    try:
        args.task_durations = parse_durations(args.task_durations)
    except ValueError as exc:
        die(str(exc))
    if args.max_workers is not None and not 1 <= args.max_workers <= MAX_WORKERS_LIMIT:
        die(f"--max-workers must be 1..{MAX_WORKERS_LIMIT}")
    if not TOKEN_RE.fullmatch(args.token):
        die("--token must look like user@realm!tokenid=secret")
    if (args.vms < 0 or args.lxcs < 0 or not 0 <= args.port <= 65535
            or args.task_duration < 0):
        die("--vms, --lxcs, --port and --task-duration must be >= 0 (port <= 65535)")
    return args


def loopback_address(bind: str) -> tuple[str, int]:
    """(address, family) for a loopback --bind value; dies otherwise."""
    text = "127.0.0.1" if bind == "localhost" else bind.strip("[]")
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        die(f"--bind {bind!r} is not an IP address")
    if not ip.is_loopback:
        die(f"--bind {bind!r} refused: only loopback addresses are allowed")
    return str(ip), socket.AF_INET6 if ip.version == 6 else socket.AF_INET


def tls_context(cert: str, key: str) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        die(f"cannot load --cert/--key: {exc}")
    return context


def write_port_file(path: str, port: int) -> None:
    tmp = f"{path}.tmp.{os.getpid()}"
    with open(tmp, "w", encoding="ascii") as f:
        f.write(f"{port}\n")
    os.rename(tmp, path)


def serve_until_signal(server: SimServer, port_file: str) -> None:
    """Serves in a thread; returns after SIGTERM or SIGINT, server closed."""
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    loop = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                            name="pvesim-accept", daemon=True)
    loop.start()
    write_port_file(port_file, server.server_address[1])
    while not stop.wait(0.2):
        pass
    server.shutdown()
    server.server_close()


def main(argv: list | None = None) -> int:
    args = parse_args(argv)
    host, family = loopback_address(args.bind)
    context = tls_context(args.cert, args.key)
    try:
        state = State(args.node, args.token, args.vms, args.task_duration, args.log,
                      lxc_count=args.lxcs, task_durations=args.task_durations,
                      max_workers=args.max_workers)
    except OSError as exc:
        die(f"cannot open --log: {exc}")
    try:
        server = SimServer((host, args.port), family, context, state)
    except OSError as exc:
        die(f"cannot listen on {host} port {args.port}: {exc}")
    serve_until_signal(server, args.port_file)
    state.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
