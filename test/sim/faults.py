# SPDX-License-Identifier: GPL-3.0-or-later
"""faults: per-request faults for the Proxmox VE API simulator (pvesim.py).

pvesim asks this module, for every /api2 request it has read, whether a fault plan
rule applies to it; when one does, the fault answers the request instead of the
simulator (or garbles the simulator's answer). Standard library only.

Plan
----
Set with POST /_sim/config {"faults": [RULE, ...]}; null or [] clears it, and so does
POST /_sim/reset. Setting a plan restarts its counts. RULE is an object:

    {"path": REGEX,          re.search() on the percent-decoded path, e.g.
                             "/qemu/102/status/start$" or "/tasks/.*:qmstart:102:"
     "method": "POST",       optional: any method
     "nth": [1, 3],          optional: every matching request
     "fault": NAME, "arg": ARG (optional, see below),
     "apply": false}         optional, see below

Every rule whose method and path match a request counts it (1, 2, ... since the plan
was set); the first rule whose count is in its "nth" list answers it.

Faults (ARG and its default)
----------------------------
status     [code, "reason"] (required): that status line, body {"data":null}
badjson    "text" ('{"data":'): 200 OK, a JSON content type, that body (not JSON)
truncated  -: the normal answer's status line and headers (its full Content-Length),
           half of its body, then the connection is closed
reset      bytes (0): the first bytes of the normal answer, then a TCP reset
close      -: the connection is closed (FIN) without an answer
hang       seconds (120): no answer; the connection is held that long, or until the
           client closes it or sends anything, then closed
drip       seconds (0.005): the normal answer, one byte at a time, that far apart
slow       seconds (1): the normal answer, that much later

"The normal answer" is the simulator's: the request is carried out. status, badjson,
close, hang and reset with no bytes do not carry it out unless "apply" is true (the
server did the work and the answer was lost).

Log
---
A request a fault answered is logged like any other (pvesim's request log), with
"fault": NAME, "applied": true|false, "reason": "fault NAME" and "status": the status
line sent (0 when none was).
"""

from __future__ import annotations

import json
import os
import re
import select
import socket
import struct
import threading
import time
import urllib.parse
from typing import Callable

RULE_KEYS = {"path", "method", "nth", "fault", "arg", "apply"}
# fault name -> (default arg, whether the normal answer is always needed)
FAULTS = {
    "status": (None, False),
    "badjson": ('{"data":', False),
    "truncated": (None, True),
    "reset": (0, False),
    "close": (None, False),
    "hang": (120.0, False),
    "drip": (0.005, True),
    "slow": (1.0, True),
}
MAX_HOLD = 600.0


# ----------------------------------------------------------------------------
# Validation
# ----------------------------------------------------------------------------

def _status_arg(arg) -> list:
    ok = (isinstance(arg, list) and len(arg) == 2 and isinstance(arg[0], int)
          and not isinstance(arg[0], bool) and 100 <= arg[0] <= 599
          and isinstance(arg[1], str))
    if not ok:
        raise ValueError("fault 'status' needs \"arg\": [code, \"reason\"]")
    return [arg[0], arg[1]]


def _seconds_arg(name: str, arg) -> float:
    if isinstance(arg, bool) or not isinstance(arg, (int, float)) \
            or not 0 <= arg <= MAX_HOLD:
        raise ValueError(f"fault '{name}' needs \"arg\": seconds, 0..{MAX_HOLD:g}")
    return float(arg)


def _arg(name: str, arg):
    """The checked arg of fault NAME (its default when None)."""
    default, _ = FAULTS[name]
    if name == "status":
        return _status_arg(arg)
    if arg is None:
        return default
    if name == "badjson":
        if not isinstance(arg, str):
            raise ValueError("fault 'badjson' needs \"arg\": a string")
        return arg
    if name == "reset":
        if isinstance(arg, bool) or not isinstance(arg, int) or arg < 0:
            raise ValueError("fault 'reset' needs \"arg\": a byte count >= 0")
        return arg
    if name in ("hang", "drip", "slow"):
        return _seconds_arg(name, arg)
    raise ValueError(f"fault '{name}' takes no \"arg\"")


def _rule(rule) -> dict:
    if not isinstance(rule, dict):
        raise ValueError("each fault rule is an object")
    unknown = set(rule) - RULE_KEYS
    if unknown:
        raise ValueError(f"unknown fault rule key(s): {', '.join(sorted(unknown))}")
    path, name = rule.get("path"), rule.get("fault")
    if not isinstance(path, str):
        raise ValueError("a fault rule needs \"path\": a regular expression")
    try:
        re.compile(path)
    except re.error as exc:
        raise ValueError(f"fault rule path {path!r}: {exc}") from None
    if name not in FAULTS:
        raise ValueError(f"fault must be one of {', '.join(FAULTS)}")
    method, nth, apply = rule.get("method"), rule.get("nth"), rule.get("apply", False)
    if method is not None and not isinstance(method, str):
        raise ValueError("fault rule \"method\" must be a string")
    if nth is not None and not (isinstance(nth, list) and all(
            isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in nth)):
        raise ValueError("fault rule \"nth\" must be a list of integers >= 1")
    if not isinstance(apply, bool):
        raise ValueError("fault rule \"apply\" must be true or false")
    return {"path": path, "method": method, "nth": nth, "fault": name,
            "arg": _arg(name, rule.get("arg")), "apply": apply}


def normalize(value) -> list:
    """The checked rule list of the 'faults' knob; raises ValueError if bad."""
    if not isinstance(value, list):
        raise ValueError("knob 'faults' needs a list of rules")
    return [_rule(r) for r in value]


# ----------------------------------------------------------------------------
# The plan: which request gets which fault
# ----------------------------------------------------------------------------

class Plan:
    """The rules in force and their counts; thread-safe."""

    def __init__(self):
        self._lock = threading.Lock()
        self._rules: list = []
        self._counts: list = []

    def set(self, rules: list) -> None:
        """Installs checked RULES (from normalize()) and restarts the counts."""
        with self._lock:
            self._rules = [dict(r, regex=re.compile(r["path"])) for r in rules]
            self._counts = [0] * len(rules)

    def pick(self, method: str, raw_path: str) -> dict | None:
        """Counts the request for every matching rule; the rule that applies, if any."""
        path = urllib.parse.unquote(raw_path)
        chosen = None
        with self._lock:
            for i, rule in enumerate(self._rules):
                if rule["method"] not in (None, method) or not rule["regex"].search(path):
                    continue
                self._counts[i] += 1
                if chosen is None and (rule["nth"] is None or self._counts[i] in rule["nth"]):
                    chosen = rule
        return chosen


# ----------------------------------------------------------------------------
# Serving a fault
# ----------------------------------------------------------------------------

def _status_line(status: int, reason: str) -> str:
    clean = "".join(" " if ord(c) < 32 or ord(c) == 127 else c for c in reason).strip()
    return f"HTTP/1.1 {status} {clean.encode('utf-8').decode('latin-1')}\r\n"


def render(status: int, reason: str, body: bytes, server: str) -> tuple[bytes, bytes]:
    """(status line and headers, body) of an answer with a JSON content type."""
    head = (_status_line(status, reason) + f"Server: {server}\r\n"
            "Content-Type: application/json;charset=UTF-8\r\n"
            f"Content-Length: {len(body)}\r\n\r\n")
    return head.encode("latin-1"), body


def _json_body(payload) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _hold(sock, seconds: float) -> None:
    """Waits SECONDS, or until SOCK is readable (the client closed or spoke)."""
    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        readable, _, _ = select.select([sock], [], [], min(left, 0.2))
        if readable:
            return


def _reset(handler) -> None:
    """Closes the handler's connection with a TCP reset (SO_LINGER 0)."""
    sock = handler.request
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    os.close(sock.detach())  # now, whatever still refers to the socket object


def _planned(rule: dict, answer: Callable[[], tuple], server: str) -> tuple:
    """(status line sent or 0, head, body, applied): the answer RULE's fault sends
    (part of), carrying the request out with ANSWER() when it must."""
    name, arg = rule["fault"], rule["arg"]
    applied = FAULTS[name][1] or rule["apply"] or (name == "reset" and arg > 0)
    status, head, body = 0, b"", b""
    if applied:
        status, reason, payload = answer()
        head, body = render(status, reason, _json_body(payload), server)
    if name == "status":
        status = arg[0]
        head, body = render(arg[0], arg[1], _json_body({"data": None}), server)
    elif name == "badjson":
        status = 200
        head, body = render(200, "OK", arg.encode("utf-8"), server)
    elif name in ("close", "hang") or (name == "reset" and arg == 0):
        status = 0
    return status, head, body, applied


def _send(handler, name: str, arg, head: bytes, body: bytes) -> None:
    """Sends what fault NAME sends of HEAD + BODY, then closes, resets or holds the
    connection as it says."""
    out = handler.wfile
    if name in ("status", "badjson", "slow"):
        time.sleep(arg if name == "slow" else 0)
        out.write(head + body)
        return
    if name == "drip":
        data = head + body
        for i in range(len(data)):
            out.write(data[i:i + 1])
            time.sleep(arg)
        return
    if name == "truncated":
        out.write(head + body[:len(body) // 2])
    elif name == "reset":
        out.write((head + body)[:arg])
        _reset(handler)
    elif name == "hang":
        _hold(handler.request, arg)
    handler.close_connection = True


def serve(handler, rule: dict, entry: dict, record: Callable[[dict], None],
          answer: Callable[[], tuple]) -> None:
    """Answers HANDLER's request as RULE says. ENTRY is the request's log entry,
    RECORD logs it, ANSWER() carries the request out and gives the simulator's
    (status, reason, payload)."""
    status, head, body, applied = _planned(rule, answer, handler.version_string())
    record({**entry, "status": status, "reason": f"fault {rule['fault']}",
            "fault": rule["fault"], "applied": applied})
    _send(handler, rule["fault"], rule["arg"], head, body)
