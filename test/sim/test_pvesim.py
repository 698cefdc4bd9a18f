# SPDX-License-Identifier: GPL-3.0-or-later
"""Self-test of the Proxmox VE API simulator (test/sim/pvesim.py).

Run from the repository root:  python3 -m unittest test/sim/test_pvesim.py
Standard library only (plus the openssl and, optionally, curl commands). It makes a
throw-away certificate, starts the simulator on loopback as a subprocess and talks to
it with http.client over unverified TLS. Every wait is bounded.
"""

import http.client
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse

SIM = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pvesim.py")
sys.path.insert(0, os.path.dirname(SIM))
import pvesim  # noqa: E402  (max_overlap)
NODE = "px-testing"
SECRET = "7f3c9e2a-pvesim-selftest-secret"
TOKEN = f"root@pam!r42ci={SECRET}"
AUTH = "PVEAPIToken=" + TOKEN
BASE = f"/api2/json/nodes/{NODE}"
UPID_RE = re.compile(r"UPID:px-testing:[0-9A-F]{8}:[0-9A-F]{8}:[0-9A-F]{8}:"
                     r"([a-z]+):(\d+):root@pam!r42ci:")

# The reference `list` rows: vmid -> (name, status, tags, template)
REFERENCE_VMS = {
    100: ("admin-wazuh", "running", "r42;lab", 0),
    101: ("admin-builder-api", "stopped", "r42;lab", 0),
    102: ("admin-deployer-ui", "running", "r42;lab", 0),
    103: ("student-box-01", "stopped", "", 0),
    104: ("student-box-02", "running", "", 0),
    105: ("vuln-box-00", "stopped", "", 0),
    106: ("vuln-box-01", "running", "", 0),
    107: ("r42-template-debian", "stopped", "", 1),
}


def client_context() -> ssl.SSLContext:
    """Unverified TLS, like the role's validate_certs: no (and no CA store to load)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


CLIENT_TLS = client_context()


def make_cert(directory: str) -> tuple[str, str]:
    cert, key = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                    "-subj", "/CN=localhost", "-days", "2", "-keyout", key, "-out", cert],
                   check=True, capture_output=True, timeout=60)
    return cert, key


class Sim:
    """One simulator subprocess and a small HTTPS client for it."""

    def __init__(self, directory: str, cert: str, key: str, *extra: str,
                 bind: str = "127.0.0.1"):
        self.dir = directory
        self.host = bind
        self.port_file = os.path.join(directory, "port")
        self.log_file = os.path.join(directory, "log.jsonl")
        self.err_file = os.path.join(directory, "stderr.txt")
        self.argv = [sys.executable, SIM, "--cert", cert, "--key", key, "--token", TOKEN,
                     "--node", NODE, "--port-file", self.port_file, "--log", self.log_file,
                     "--bind", bind, *extra]
        self.proc = None
        self.port = None

    def start(self) -> "Sim":
        with open(self.err_file, "wb") as err:
            self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=err)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if os.path.exists(self.port_file):
                with open(self.port_file, encoding="ascii") as f:
                    self.port = int(f.read())
                return self
            if self.proc.poll() is not None:
                raise RuntimeError(f"pvesim exited: {self.stderr()}")
            time.sleep(0.02)
        self.proc.kill()
        raise RuntimeError("pvesim did not write its port file within 10 s")

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)
            raise

    def stderr(self) -> str:
        with open(self.err_file, encoding="utf-8", errors="replace") as f:
            return f.read()

    def connect(self) -> http.client.HTTPSConnection:
        return http.client.HTTPSConnection(self.host, self.port, timeout=10,
                                           context=CLIENT_TLS)

    def request(self, method: str, path: str, body=None, content_type=None,
                auth=AUTH, conn=None):
        """(status, reason, decoded JSON body); a new connection unless conn is given."""
        own = conn is None
        conn = conn or self.connect()
        headers = {}
        if auth is not None:
            headers["Authorization"] = auth
        if isinstance(body, dict):
            body = json.dumps(body).encode("utf-8")
            content_type = content_type or "application/json"
        elif isinstance(body, str):
            body = body.encode("utf-8")
            content_type = content_type or "application/x-www-form-urlencoded"
        if content_type:
            headers["Content-Type"] = content_type
        try:
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            raw = resp.read()
            assert resp.getheader("Content-Length") is not None, "no Content-Length"
            return resp.status, resp.reason, json.loads(raw) if raw else None
        finally:
            if own:
                conn.close()

    def control(self, method: str, what: str, payload=None):
        status, _, data = self.request(method, "/_sim/" + what, body=payload, auth=None)
        assert status == 200, (status, data)
        return data

    def config(self, **knobs):
        return self.control("POST", "config", knobs)

    def log(self) -> list:
        return self.control("GET", "log")


class SimTestCase(unittest.TestCase):
    """Shared simulator for the whole class; state and log reset before each test."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="pvesim-test-")
        cls.cert, cls.key = make_cert(cls.tmp)
        cls.sim = Sim(cls.tmp, cls.cert, cls.key).start()

    @classmethod
    def tearDownClass(cls):
        try:
            rc = cls.sim.stop()
            stderr = cls.sim.stderr()
        finally:
            shutil.rmtree(cls.tmp, ignore_errors=True)
        if rc != 0 or stderr:
            raise AssertionError(f"pvesim exit status {rc}, stderr: {stderr!r}")

    def setUp(self):
        self.sim.control("POST", "reset")

    # -- helpers -------------------------------------------------------------

    def api(self, method, path, body=None, **kw):
        return self.sim.request(method, BASE + path, body=body, **kw)

    def ok(self, method, path, body=None, **kw):
        status, reason, data = self.api(method, path, body, **kw)
        self.assertEqual((status, reason), (200, "OK"), data)
        return data["data"]

    def assert_error(self, method, path, status, reason, body=None):
        got = self.api(method, path, body)
        self.assertEqual(got[:2], (status, reason))
        self.assertIsNone(got[2]["data"])
        return got[2]

    def task(self, method, path, body=None, task_type=None):
        upid = self.ok(method, path, body)
        match = UPID_RE.fullmatch(upid)
        self.assertIsNotNone(match, upid)
        if task_type:
            self.assertEqual(match.group(1), task_type)
        return upid

    def task_status(self, upid):
        return self.ok("GET", "/tasks/" + urllib.parse.quote(upid, safe="") + "/status")

    def wait_task(self, upid, timeout=5.0):
        deadline = time.monotonic() + timeout
        while True:
            status = self.task_status(upid)
            if status["status"] != "running":
                return status
            if time.monotonic() > deadline:
                self.fail(f"task {upid} still running after {timeout} s")
            time.sleep(0.02)

    def run_task(self, method, path, body=None, task_type=None):
        return self.wait_task(self.task(method, path, body, task_type))["exitstatus"]

    def current(self, vmid):
        return self.ok("GET", f"/qemu/{vmid}/status/current")

    def snapshots(self, vmid):
        return self.ok("GET", f"/qemu/{vmid}/snapshot")


class ApiTest(SimTestCase):

    def test_auth(self):
        self.assertEqual(self.api("GET", "/qemu")[:2], (200, "OK"))
        self.assertEqual(self.api("GET", "/qemu", auth=AUTH + "x")[:2],
                         (401, "authentication failure"))
        self.assertEqual(self.api("GET", "/qemu", auth=None)[:2], (401, "No ticket"))
        self.assertEqual(self.api("POST", "/qemu/100/snapshot", "{not json",
                                  content_type="application/json", auth=None)[:2],
                         (401, "No ticket"))
        self.assertEqual([e["auth"] for e in self.sim.log()], ["ok", "bad", "missing", "missing"])

    def test_list_is_the_reference(self):
        vms = self.ok("GET", "/qemu")
        self.assertEqual([vm["vmid"] for vm in vms], list(range(100, 108)))
        for vm in vms:
            name, status, tags, template = REFERENCE_VMS[vm["vmid"]]
            self.assertEqual((vm["name"], vm["status"], vm.get("tags", ""),
                              vm.get("template", 0)), (name, status, tags, template))
            running = status == "running"
            self.assertEqual(vm["uptime"], 1234 if running else 0)
            self.assertEqual("pid" in vm, running)
            self.assertEqual(vm["cpus"], 2)
            self.assertEqual(vm["maxmem"], 2147483648)
            for key in ("cpu", "mem", "disk", "maxdisk", "diskread", "diskwrite",
                        "netin", "netout"):
                self.assertIn(key, vm)
        self.assertNotIn("tags", vms[3])
        self.assertNotIn("template", vms[0])

    def test_start_applies_at_task_end(self):
        self.sim.config(task_duration=0.3)
        upid = self.task("POST", "/qemu/101/status/start", task_type="qmstart")
        self.assertEqual(self.task_status(upid)["status"], "running")
        self.assertNotIn("exitstatus", self.task_status(upid))
        self.assertEqual(self.current(101)["status"], "stopped")
        done = self.wait_task(upid)
        self.assertEqual((done["status"], done["exitstatus"]), ("stopped", "OK"))
        self.assertEqual((done["type"], done["id"], done["node"], done["upid"]),
                         ("qmstart", "101", NODE, upid))
        self.assertEqual((done["user"], done["tokenid"]), ("root@pam", "r42ci"))
        cur = self.current(101)
        self.assertEqual((cur["status"], cur["qmpstatus"], cur["uptime"]),
                         ("running", "running", 1234))

    def test_zero_duration_task_is_done_when_first_polled(self):
        upid = self.task("POST", "/qemu/101/status/start")
        self.assertEqual(self.task_status(upid)["exitstatus"], "OK")

    def test_stop_shutdown_and_form_body(self):
        self.assertEqual(self.run_task("POST", "/qemu/104/status/stop", "timeout=10",
                                       task_type="qmstop"), "OK")
        self.assertEqual(self.current(104)["status"], "stopped")
        self.assertEqual(self.run_task("POST", "/qemu/104/status/stop"), "OK")
        self.assertEqual(self.run_task("POST", "/qemu/102/status/shutdown",
                                       task_type="qmshutdown"), "OK")
        self.assertEqual(self.current(102)["status"], "stopped")
        entry = [e for e in self.sim.log() if e["method"] == "POST"][0]
        self.assertEqual((entry["body"], entry["content_type"]),
                         ("timeout=10", "application/x-www-form-urlencoded"))

    def test_pause_resume(self):
        self.assertEqual(self.run_task("POST", "/qemu/100/status/suspend",
                                       task_type="qmpause"), "OK")
        cur = self.current(100)
        self.assertEqual((cur["status"], cur["qmpstatus"]), ("running", "paused"))
        self.assertEqual(self.ok("GET", "/qemu")[0]["status"], "running")
        self.assertEqual(self.run_task("POST", "/qemu/100/status/resume",
                                       task_type="qmresume"), "OK")
        self.assertEqual(self.current(100)["qmpstatus"], "running")
        self.assertEqual(self.run_task("POST", "/qemu/100/status/resume"), "OK")
        self.assertEqual(self.current(100)["qmpstatus"], "running")

    def test_immediate_errors(self):
        status, reason, _ = self.sim.request("GET", "/api2/json/nodes/nope/qemu")
        self.assertEqual((status, reason),
                         (500, "hostname lookup 'nope' failed - failed to get address info"))
        self.assert_error("GET", "/qemu/999/status/current", 500,
                          "Configuration file 'nodes/px-testing/qemu-server/999.conf' does not exist")
        self.assert_error("GET", "/frobnicate", 501,
                          "Method 'GET /nodes/px-testing/frobnicate' not implemented")
        self.assert_error("POST", "/qemu/101/status/suspend", 500, "VM 101 not running")
        self.assert_error("GET", "/tasks/UPID%3Apx-testing%3Anope/status", 500, "no such task")
        body = self.assert_error("GET", "/qemu/abc/status/current", 400,
                                 "Parameter verification failed.")
        self.assertIn("vmid", body["errors"])
        log = self.sim.log()
        self.assertEqual(log[1]["reason"],
                         "Configuration file 'nodes/px-testing/qemu-server/999.conf' does not exist")

    def test_failed_tasks(self):
        self.assertEqual(self.run_task("POST", "/qemu/100/status/start"),
                         "VM 100 already running")
        # qemu-server checks a template inside the task (QemuServer::vm_start)
        self.assertEqual(self.run_task("POST", "/qemu/107/status/start", task_type="qmstart"),
                         "you can't start a vm if it's a template")
        # _do_vm_stop returns at once for a VM that is not running: the task is OK
        self.assertEqual(self.run_task("POST", "/qemu/101/status/shutdown"), "OK")
        self.sim.config(task_errors={"104": "boom: storage gone"})
        self.assertEqual(self.run_task("POST", "/qemu/104/status/stop"), "boom: storage gone")
        self.assertEqual(self.current(104)["status"], "running")

    def test_percent_encoded_and_plain_upid(self):
        upid = self.task("POST", "/qemu/101/status/start")
        plain = self.ok("GET", f"/tasks/{upid}/status")
        self.assertEqual(plain["upid"], upid)
        logged = self.sim.log()[-1]["path"]
        self.assertIn(upid, logged)


class SnapshotTest(SimTestCase):

    def test_snapshot_chain_rollback_delete(self):
        only = self.snapshots(100)
        self.assertEqual(len(only), 1)
        self.assertEqual((only[0]["name"], only[0]["description"], only[0]["running"]),
                         ("current", "You are here!", 1))
        self.assertNotIn("parent", only[0])
        digest0 = only[0]["digest"]
        self.assertRegex(digest0, r"^[0-9a-f]{40}$")

        self.assertEqual(self.run_task("POST", "/qemu/100/snapshot",
                                       "snapname=s1&description=first+one&vmstate=0",
                                       task_type="qmsnapshot"), "OK")
        desc = 'it\'s "quoted"  é ✓'
        self.assertEqual(self.run_task("POST", "/qemu/100/snapshot",
                                       {"snapname": "s2", "description": desc, "vmstate": 1}), "OK")
        s1, s2, cur = self.snapshots(100)
        self.assertEqual((s1["name"], s1["description"]), ("s1", "first one"))
        self.assertNotIn("parent", s1)
        self.assertNotIn("vmstate", s1)
        self.assertIsInstance(s1["snaptime"], int)
        self.assertEqual((s2["name"], s2["description"], s2["parent"], s2["vmstate"]),
                         ("s2", desc, "s1", 1))
        self.assertEqual((cur["name"], cur["parent"]), ("current", "s2"))
        self.assertNotEqual(cur["digest"], digest0)

        self.assertEqual(self.run_task("POST", "/qemu/100/snapshot", {"snapname": "s1"}),
                         "snapshot name 's1' already used")

        self.assertEqual(self.run_task("POST", "/qemu/100/snapshot/s1/rollback",
                                       task_type="qmrollback"), "OK")
        self.assertEqual(self.current(100)["status"], "stopped")
        cur = self.snapshots(100)[-1]
        self.assertEqual((cur["parent"], cur["running"]), ("s1", 0))

        self.assertEqual(self.run_task("POST", "/qemu/100/snapshot", {"snapname": "s3"}), "OK")
        self.assertEqual(self.snapshots(100)[2]["parent"], "s1")

        self.assertEqual(self.run_task("POST", "/qemu/100/snapshot/s2/rollback"), "OK")
        self.assertEqual(self.current(100)["status"], "running")  # s2 has vmstate

        self.assertEqual(self.run_task("DELETE", "/qemu/100/snapshot/s1",
                                       task_type="qmdelsnapshot"), "OK")
        s2, s3, cur = self.snapshots(100)
        self.assertNotIn("parent", s2)
        self.assertNotIn("parent", s3)
        self.assertEqual(cur["parent"], "s2")
        self.assertEqual(self.run_task("DELETE", "/qemu/100/snapshot/s2"), "OK")
        self.assertNotIn("parent", self.snapshots(100)[-1])

        # delsnapshot checks nothing before its task (API2/Qemu.pm)
        self.assertEqual(self.run_task("DELETE", "/qemu/100/snapshot/nope"),
                         "snapshot 'nope' does not exist")
        self.assertEqual(self.run_task("POST", "/qemu/100/snapshot/nope/rollback"),
                         "snapshot 'nope' does not exist")
        state = self.sim.control("GET", "state")["vms"]["100"]
        self.assertEqual([s["name"] for s in state["snapshots"]], ["s3"])
        self.assertIsNone(state["current_parent"])

    def test_snapshot_parameter_errors(self):
        body = self.assert_error("POST", "/qemu/100/snapshot", 400,
                                 "Parameter verification failed.", {"snapname": "1bad"})
        self.assertEqual(body["errors"],
                         {"snapname": "invalid format - invalid configuration ID '1bad'\n"})
        body = self.assert_error("POST", "/qemu/100/snapshot", 400,
                                 "Parameter verification failed.", {"description": "x"})
        self.assertEqual(body["errors"],
                         {"snapname": "property is missing and it is not optional"})
        self.assert_error("POST", "/qemu/100/snapshot", 400, "Parameter verification failed.",
                          "snapname=" + "a" * 41)
        self.assert_error("POST", "/qemu/100/snapshot", 400, "Parameter verification failed.",
                          "snapname=has%20space")
        self.assert_error("POST", "/qemu/100/snapshot", 500,
                          "unable to use snapshot name 'current' (reserved name)",
                          {"snapname": "current"})
        self.assertEqual(self.run_task("POST", "/qemu/100/snapshot", "snapname=" + "a" * 40), "OK")

    def test_snapshot_names_are_percent_decoded(self):
        self.assertEqual(self.run_task("POST", "/qemu/101/snapshot", {"snapname": "a-b_c"}), "OK")
        self.assertEqual(self.run_task("DELETE", "/qemu/101/snapshot/a%2Db%5Fc"), "OK")


MISSING_VM = "Configuration file 'nodes/px-testing/qemu-server/999.conf' does not exist"
VM_NOT_ON_NODE = "unable to find configuration file for VM 999 on node 'px-testing'"
MISSING_CT = "Configuration file 'nodes/px-testing/lxc/999.conf' does not exist"

# The seeded containers: vmid -> (name, status, tags, template)
REFERENCE_LXCS = {
    200: ("test-lxc-web", "running", "r42;lab", 0),
    201: ("test-lxc-db", "stopped", "r42;lab", 0),
    202: ("test-lxc-cache", "running", "", 0),
    203: ("admin-lxc-proxy", "stopped", "", 0),
    204: ("r42-lxc-template", "stopped", "", 1),
}


class VmOutcomeTest(SimTestCase):
    """What qemu-server answers in each error case: HTTP error or failed task."""

    def test_missing_vm(self):
        self.assertEqual(self.run_task("POST", "/qemu/999/status/start", task_type="qmstart"),
                         MISSING_VM)
        for action in ("stop", "shutdown"):
            self.assertEqual(self.run_task("POST", f"/qemu/999/status/{action}"),
                             VM_NOT_ON_NODE)
        for action in ("suspend", "resume"):
            self.assert_error("POST", f"/qemu/999/status/{action}", 500, VM_NOT_ON_NODE)
        self.assert_error("DELETE", "/qemu/999", 500, MISSING_VM)
        self.assert_error("GET", "/qemu/999/snapshot", 500, MISSING_VM)
        self.assert_error("POST", "/qemu/999/snapshot", 500, MISSING_VM, {"snapname": "s1"})
        self.assertEqual(self.run_task("POST", "/qemu/999/snapshot/s1/rollback"), MISSING_VM)
        self.assertEqual(self.run_task("DELETE", "/qemu/999/snapshot/s1"), MISSING_VM)

    def test_stopped_vm(self):
        for action in ("suspend", "resume"):
            self.assert_error("POST", f"/qemu/101/status/{action}", 500, "VM 101 not running")
        self.assertEqual(self.run_task("POST", "/qemu/101/status/stop", task_type="qmstop"), "OK")
        self.assertEqual(self.run_task("POST", "/qemu/101/status/shutdown",
                                       task_type="qmshutdown"), "OK")
        self.assertEqual(self.current(101)["status"], "stopped")
        self.assert_error("POST", "/qemu/107/status/resume", 500, "VM 107 not running")

    def test_paused_vm(self):
        self.assertEqual(self.run_task("POST", "/qemu/100/status/suspend"), "OK")
        self.assertEqual(self.run_task("POST", "/qemu/100/status/suspend"), "OK")
        self.assertEqual(self.run_task("POST", "/qemu/100/status/start"),
                         "VM 100 already running")
        self.assert_error("POST", "/qemu/100/status/shutdown", 500,
                          "VM is paused - cannot shutdown")
        self.assert_error("DELETE", "/qemu/100", 500, "VM 100 is running - destroy failed")
        self.assertEqual(self.current(100)["qmpstatus"], "paused")
        self.assertEqual(self.run_task("POST", "/qemu/100/status/shutdown", "forceStop=1",
                                       task_type="qmshutdown"), "OK")
        self.assertEqual(self.current(100)["qmpstatus"], "stopped")

    def test_delete_vm(self):
        self.assert_error("DELETE", "/qemu/100", 500, "VM 100 is running - destroy failed")
        self.run_task("POST", "/qemu/101/snapshot", {"snapname": "s1"})
        self.assertEqual(self.run_task("DELETE", "/qemu/101", task_type="qmdestroy"), "OK")
        self.assertEqual(self.run_task("DELETE", "/qemu/107"), "OK")  # a template goes too
        self.assertEqual([vm["vmid"] for vm in self.ok("GET", "/qemu")],
                         [100, 102, 103, 104, 105, 106])
        self.assert_error("GET", "/qemu/101/status/current", 500,
                          "Configuration file 'nodes/px-testing/qemu-server/101.conf' does not exist")
        self.assertNotIn("101", self.sim.control("GET", "state")["vms"])

    def test_snapshot_names_and_template(self):
        for name in ("current", "pending", "PenDing"):
            self.assert_error("POST", "/qemu/100/snapshot", 500,
                              f"unable to use snapshot name '{name}' (reserved name)",
                              {"snapname": name})
        self.assertEqual(self.run_task("POST", "/qemu/100/snapshot", {"snapname": "vzdump"}), "OK")
        body = self.assert_error("POST", "/qemu/100/snapshot", 400,
                                 "Parameter verification failed.", {"snapname": "a" * 41})
        self.assertEqual(body["errors"], {"snapname": "value may only be 40 characters long"})
        body = self.assert_error("DELETE", "/qemu/100/snapshot/x", 400,
                                 "Parameter verification failed.")
        self.assertIn("invalid configuration ID 'x'", body["errors"]["snapname"])
        self.assertEqual(self.run_task("POST", "/qemu/107/snapshot", {"snapname": "s1"}),
                         "you can't take a snapshot if it's a template")
        self.assertEqual(self.run_task("POST", "/qemu/107/snapshot/s1/rollback"),
                         "you can't rollback if vm is a template")

    def test_create_vm(self):
        self.assertEqual(self.run_task("POST", "/qemu", "vmid=42421&name=test-vm-01&cores=1",
                                       task_type="qmcreate"), "OK")
        vm = self.current(42421)
        self.assertEqual((vm["name"], vm["status"]), ("test-vm-01", "stopped"))
        self.assert_error("POST", "/qemu", 500, "unable to create VM 42421 - VM 42421 already"
                          " exists on node 'px-testing'", "vmid=42421&name=again")
        self.assert_error("POST", "/qemu", 500, "unable to create VM 200 - CT 200 already"
                          " exists on node 'px-testing'", "vmid=200")
        body = self.assert_error("POST", "/qemu", 400, "Parameter verification failed.",
                                 "name=x")
        self.assertIn("vmid", body["errors"])


class LxcTest(SimTestCase):
    """Containers: /nodes/{node}/lxc/..., as pve-container answers."""

    def lxc(self, vmid):
        return self.ok("GET", f"/lxc/{vmid}/status/current")

    def test_list_is_the_seed(self):
        cts = self.ok("GET", "/lxc")
        self.assertEqual([ct["vmid"] for ct in cts], list(REFERENCE_LXCS))
        for ct in cts:
            name, status, tags, template = REFERENCE_LXCS[ct["vmid"]]
            self.assertEqual((ct["name"], ct["status"], ct.get("tags", ""),
                              ct.get("template", 0), ct["type"]),
                             (name, status, tags, template, "lxc"))
            self.assertEqual("pid" in ct, status == "running")
            for key in ("cpu", "cpus", "mem", "maxmem", "disk", "maxdisk", "diskread",
                        "diskwrite", "netin", "netout", "uptime", "swap", "maxswap"):
                self.assertIn(key, ct)
        cur = self.lxc(200)
        self.assertEqual((cur["name"], cur["status"], cur["ha"]), ("test-lxc-web", "running",
                                                                   {"managed": 0}))
        self.assert_error("GET", "/lxc/999/status/current", 500, MISSING_CT)
        self.assert_error("GET", "/lxc/100/status/current", 500,  # a VM is not a container
                          "Configuration file 'nodes/px-testing/lxc/100.conf' does not exist")
        self.assert_error("GET", "/qemu/200/status/current", 500,
                          "Configuration file 'nodes/px-testing/qemu-server/200.conf' does not exist")

    def test_start_stop_shutdown(self):
        self.assertEqual(self.run_task("POST", "/lxc/201/status/start", task_type="vzstart"), "OK")
        self.assertEqual(self.lxc(201)["status"], "running")
        self.assert_error("POST", "/lxc/201/status/start", 500, "CT 201 already running")
        self.assertEqual(self.run_task("POST", "/lxc/201/status/shutdown",
                                       task_type="vzshutdown"), "OK")
        self.assertEqual(self.lxc(201)["status"], "stopped")
        for action in ("shutdown", "stop", "suspend"):
            self.assert_error("POST", f"/lxc/201/status/{action}", 500, "CT 201 not running")
        self.assertEqual(self.run_task("POST", "/lxc/202/status/stop", "timeout=10",
                                       task_type="vzstop"), "OK")
        self.assertEqual(self.lxc(202)["status"], "stopped")

    def test_suspend_resume(self):
        self.assert_error("POST", "/lxc/200/status/resume", 500, "CT 200 already running")
        self.assertEqual(self.run_task("POST", "/lxc/200/status/suspend", task_type="vzsuspend"),
                         "OK")
        self.assertEqual(self.lxc(200)["status"], "stopped")
        self.assertTrue(self.sim.control("GET", "state")["lxcs"]["200"]["suspended"])
        self.assertEqual(self.run_task("POST", "/lxc/200/status/resume", task_type="vzresume"),
                         "OK")
        self.assertEqual(self.lxc(200)["status"], "running")
        self.assertEqual(self.run_task("POST", "/lxc/201/status/resume"),
                         "command 'lxc-checkpoint -n 201 -r --foreground -D /var/lib/vz/dump'"
                         " failed: exit code 1")
        self.assertEqual(self.lxc(201)["status"], "stopped")

    def test_missing_and_template(self):
        self.assertEqual(self.run_task("POST", "/lxc/999/status/start"), MISSING_CT)
        for action in ("stop", "shutdown", "suspend"):
            self.assert_error("POST", f"/lxc/999/status/{action}", 500, "CT 999 not running")
        self.assertEqual(self.run_task("POST", "/lxc/204/status/start"),
                         "you can't start a CT if it's a template")
        self.assert_error("DELETE", "/lxc/999", 500, MISSING_CT)

    def test_delete(self):
        self.assert_error("DELETE", "/lxc/200", 500,
                          "unable to destroy CT 200 - container is running")
        self.assertEqual(self.run_task("DELETE", "/lxc/201", task_type="vzdestroy"), "OK")
        self.assertEqual(self.run_task("DELETE", "/lxc/202", "force=1"), "OK")
        self.assertEqual([ct["vmid"] for ct in self.ok("GET", "/lxc")], [200, 203, 204])

    def test_snapshots(self):
        self.assertEqual(self.run_task("POST", "/lxc/200/snapshot",
                                       {"snapname": "s1", "description": "first"},
                                       task_type="vzsnapshot"), "OK")
        self.assertEqual(self.run_task("POST", "/lxc/200/snapshot", {"snapname": "s1"}),
                         "snapshot name 's1' already used")
        self.run_task("POST", "/lxc/200/snapshot", {"snapname": "s2"})
        s1, s2, cur = self.ok("GET", "/lxc/200/snapshot")
        self.assertEqual((s1["name"], s1["description"], s2["parent"]), ("s1", "first", "s1"))
        self.assertNotIn("vmstate", s1)
        self.assertEqual((cur["name"], cur["parent"], cur["running"], cur["description"]),
                         ("current", "s2", 1, "You are here!"))
        for name in ("current", "vzdump"):
            self.assert_error("POST", "/lxc/200/snapshot", 500,
                              f"unable to use snapshot name '{name}' (reserved name)",
                              {"snapname": name})
        self.assertEqual(self.run_task("POST", "/lxc/999/snapshot", {"snapname": "s1"}),
                         MISSING_CT)
        self.assertEqual(self.run_task("POST", "/lxc/204/snapshot", {"snapname": "s1"}),
                         "you can't take a snapshot if it's a template")
        self.assertEqual(self.run_task("POST", "/lxc/200/snapshot/s1/rollback",
                                       task_type="vzrollback"), "OK")
        self.assertEqual(self.lxc(200)["status"], "stopped")
        self.assertEqual(self.ok("GET", "/lxc/200/snapshot")[-1]["parent"], "s1")
        self.assertEqual(self.run_task("POST", "/lxc/200/snapshot/nope/rollback"),
                         "snapshot 'nope' does not exist")
        self.assertEqual(self.run_task("DELETE", "/lxc/200/snapshot/nope"),
                         "snapshot 'nope' does not exist")
        self.assertEqual(self.run_task("DELETE", "/lxc/200/snapshot/s1",
                                       task_type="vzdelsnapshot"), "OK")
        self.assertEqual([s["name"] for s in self.ok("GET", "/lxc/200/snapshot")],
                         ["s2", "current"])
        self.assert_error("GET", "/lxc/999/snapshot", 500, MISSING_CT)

    def test_create(self):
        self.assertEqual(self.run_task("POST", "/lxc", "vmid=9000&hostname=test-lxc-00&start=1",
                                       task_type="vzcreate"), "OK")
        self.assertEqual((self.lxc(9000)["name"], self.lxc(9000)["status"]),
                         ("test-lxc-00", "running"))
        self.assert_error("POST", "/lxc", 500, "CT 9000 already exists on node 'px-testing'",
                          "vmid=9000&hostname=again")
        self.assert_error("POST", "/lxc", 500, "VM 100 already exists on node 'px-testing'",
                          "vmid=100&hostname=x")

    def test_knobs_reach_containers(self):
        self.sim.config(http_errors={"200": [500, "CT 200 is locked (backup)"]},
                        task_errors={"201": "boom"})
        self.assert_error("GET", "/lxc/200/status/current", 500, "CT 200 is locked (backup)")
        self.assertEqual(self.run_task("POST", "/lxc/201/status/start"), "boom")
        self.assertEqual(self.lxc(201)["status"], "stopped")


class SeedTest(SimTestCase):

    def test_reset_with_a_seed(self):
        self.sim.control("POST", "reset", {
            "vms": [{"vmid": 300, "name": "p", "status": "paused"},
                    {"vmid": 301, "name": "t", "template": True}],
            "lxcs": [{"vmid": 9000, "name": "test-lxc-00", "status": "running", "tags": "x"}]})
        state = self.sim.control("GET", "state")
        self.assertEqual(sorted(state["vms"]), ["300", "301"])
        self.assertEqual((state["vms"]["300"]["status"], state["vms"]["300"]["qmpstatus"]),
                         ("running", "paused"))
        self.assertEqual(state["vms"]["301"]["template"], 1)
        self.assertEqual(state["lxcs"]["9000"]["status"], "running")
        self.sim.control("POST", "reset", {"vms": 2, "lxcs": 0})
        state = self.sim.control("GET", "state")
        self.assertEqual((sorted(state["vms"]), state["lxcs"]), (["100", "101"], {}))
        self.sim.control("POST", "reset")
        state = self.sim.control("GET", "state")
        self.assertEqual((len(state["vms"]), sorted(state["lxcs"])),
                         (8, [str(i) for i in REFERENCE_LXCS]))

    def test_bad_seed_is_refused(self):
        self.run_task("POST", "/qemu/101/status/start")
        for bad in ({"vms": [{"vmid": 300, "name": "x"}], "lxcs": [{"vmid": 300, "name": "y"}]},
                    {"lxcs": [{"vmid": 300, "name": "x", "status": "paused"}]},
                    {"vms": [{"vmid": 300, "name": "x"}, {"vmid": 300, "name": "y"}]},
                    {"vms": -1}, {"cts": 1}, [1]):
            status, _, data = self.sim.request("POST", "/_sim/reset", body=json.dumps(bad),
                                               content_type="application/json", auth=None)
            self.assertEqual(status, 400, bad)
            self.assertIn("error", data)
        self.assertEqual(self.current(101)["status"], "running")  # nothing changed


class KnobTest(SimTestCase):

    def test_probe_fail(self):
        self.sim.config(probe_fail=True)
        self.assert_error("GET", "/qemu", 503, "Service Unavailable")
        self.assertEqual(self.api("GET", "/qemu/100/status/current")[0], 200)
        self.sim.config(probe_fail=None)
        self.assertEqual(self.api("GET", "/qemu")[0], 200)

    def test_drop(self):
        self.sim.config(drop=1)
        with self.assertRaises((http.client.HTTPException, OSError)):
            self.api("GET", "/qemu")
        self.assertEqual(self.api("GET", "/qemu")[0], 200)
        self.assertEqual([(e["status"], e["reason"]) for e in self.sim.log()],
                         [(0, "dropped"), (200, "OK")])

    def test_fail_5xx(self):
        self.sim.config(fail_5xx=2)
        for _ in range(2):
            self.assert_error("GET", "/qemu", 500, "Internal Server Error")
        self.assertEqual(self.api("GET", "/qemu")[0], 200)
        self.assertEqual(self.sim.control("GET", "config")["fail_5xx"], 0)

    def test_delay(self):
        self.sim.config(delay=0.3, delay_match="/status/current")
        started = time.monotonic()
        self.current(100)
        self.assertGreaterEqual(time.monotonic() - started, 0.3)
        started = time.monotonic()
        self.ok("GET", "/qemu")
        self.assertLess(time.monotonic() - started, 0.3)

    def test_task_forever(self):
        self.sim.config(task_forever=["101"])
        upid = self.task("POST", "/qemu/101/status/start")
        time.sleep(0.2)
        self.assertEqual(self.task_status(upid)["status"], "running")
        self.assertEqual(self.current(101)["status"], "stopped")
        self.assertEqual(self.run_task("POST", "/qemu/103/status/start"), "OK")
        self.assertEqual(self.sim.control("GET", "state")["tasks"], 2)

    def test_http_errors(self):
        self.sim.config(http_errors={"105": [596, "Connection timed out"]})
        self.assert_error("GET", "/qemu/105/status/current", 596, "Connection timed out")
        self.assert_error("POST", "/qemu/105/status/start", 596, "Connection timed out")
        self.assertEqual(self.api("GET", "/qemu/106/status/current")[0], 200)

    def test_bad_knob_is_refused(self):
        status, _, data = self.sim.request("POST", "/_sim/config", body={"dorp": 1}, auth=None)
        self.assertEqual(status, 400)
        self.assertIn("dorp", data["error"])
        status, _, _ = self.sim.request("POST", "/_sim/config", body={"drop": "x"}, auth=None)
        self.assertEqual(status, 400)
        self.assertEqual(self.sim.control("GET", "config")["drop"], 0)


class TaskTimesTest(SimTestCase):
    """Per-kind task durations, /cluster/options, and the log's task times."""

    def test_durations_per_kind_override_task_duration(self):
        self.sim.config(task_duration=5, task_durations={"suspend": 0.2, "start": 0})
        upid = self.task("POST", "/qemu/101/status/start")
        self.assertEqual(self.task_status(upid)["exitstatus"], "OK")
        upid = self.task("POST", "/qemu/100/status/suspend", task_type="qmpause")
        self.assertEqual(self.task_status(upid)["status"], "running")
        self.assertEqual(self.wait_task(upid, timeout=2)["exitstatus"], "OK")
        upid = self.task("POST", "/lxc/200/status/suspend", task_type="vzsuspend")
        self.assertEqual(self.wait_task(upid, timeout=2)["exitstatus"], "OK")
        upid = self.task("POST", "/qemu/104/status/stop", task_type="qmstop")
        self.assertEqual(self.task_status(upid)["status"], "running")  # task_duration 5

    def test_pve_table_and_bad_values(self):
        knobs = self.sim.config(task_durations="pve")
        self.assertEqual(knobs["task_durations"]["start"], 1.5)
        self.assertEqual(knobs["task_durations"]["suspend"], 0.3)
        for bad in ({"begin": 1}, {"start": -1}, "fast", [1]):
            status, _, data = self.sim.request("POST", "/_sim/config",
                                               body={"task_durations": bad}, auth=None)
            self.assertEqual(status, 400, bad)
        self.assertEqual(self.sim.config(task_durations=None)["task_durations"], {})

    def test_cluster_options_max_workers(self):
        status, _, data = self.sim.request("GET", "/api2/json/cluster/options")
        self.assertEqual((status, data["data"]), (200, {}))
        self.sim.config(max_workers=2)
        status, _, data = self.sim.request("GET", "/api2/json/cluster/options")
        self.assertEqual(data["data"], {"max_workers": 2})
        for bad in (0, 65, 1.5, "4"):
            status, _, _ = self.sim.request("POST", "/_sim/config",
                                            body={"max_workers": bad}, auth=None)
            self.assertEqual(status, 400, bad)

    def test_log_and_tasks_view_give_tasks_in_flight(self):
        self.sim.config(task_durations={"start": 0.3})
        upids = [self.task("POST", f"/qemu/{vmid}/status/start") for vmid in (101, 103)]
        first = self.wait_task(upids[0])
        self.wait_task(upids[1])
        upid3 = self.task("POST", "/qemu/105/status/start")
        self.wait_task(upid3)
        log = self.sim.log()
        posts = [e for e in log if e["method"] == "POST"]
        self.assertEqual([e["task"]["vmid"] for e in posts], [101, 103, 105])
        for e in posts:
            self.assertAlmostEqual(e["task"]["end"] - e["task"]["start"], 0.3, places=3)
            self.assertLessEqual(e["time"], e["done"])
        polls = [e for e in log if "task_status" in e]
        self.assertIn("running", [e["task_status"] for e in polls])
        stopped = [e for e in polls if e["task_status"] == "stopped"]
        self.assertTrue(all(e["time"] >= e["task_end"] for e in stopped))
        view = self.sim.control("GET", "tasks")
        self.assertEqual(view["max_in_flight"], 2)
        self.assertEqual(view["max_in_flight_per_guest"], 1)
        self.assertEqual([t["vmid"] for t in view["tasks"]], [101, 103, 105])
        self.assertEqual(view["tasks"][0]["exitstatus"], "OK")
        self.assertEqual(first["exitstatus"], "OK")

    def test_max_overlap(self):
        self.assertEqual(pvesim.max_overlap([]), 0)
        self.assertEqual(pvesim.max_overlap([(0, 1), (1, 2)]), 1)  # end before start
        self.assertEqual(pvesim.max_overlap([(0, 3), (1, 2), (1.5, 4), (3, 5)]), 3)
        self.assertEqual(pvesim.max_overlap([(0, 0), (0, 0)]), 0)  # instant tasks


class ConnectionTest(SimTestCase):

    def test_keep_alive_reuses_one_connection(self):
        conn = self.sim.connect()
        try:
            self.api("GET", "/qemu", conn=conn)
            self.api("GET", "/qemu/100/status/current", conn=conn)
        finally:
            conn.close()
        self.api("GET", "/qemu")
        conns = [e["conn"] for e in self.sim.log()]
        self.assertEqual(conns[0], conns[1])
        self.assertNotEqual(conns[1], conns[2])

    def test_reset(self):
        self.run_task("POST", "/qemu/101/status/start")
        self.run_task("POST", "/qemu/100/snapshot", {"snapname": "snap"})
        self.sim.config(probe_fail=True, task_duration=5)
        self.sim.control("POST", "reset")
        state = self.sim.control("GET", "state")
        self.assertEqual(state["vms"]["101"]["status"], "stopped")
        self.assertEqual(state["vms"]["100"]["snapshots"], [])
        self.assertEqual(state["tasks"], 0)
        self.assertEqual((state["config"]["probe_fail"], state["config"]["task_duration"]),
                         (False, 0.0))
        self.assertEqual(self.sim.log(), [])
        self.assertEqual(os.path.getsize(self.sim.log_file), 0)

    def test_log_file_and_secret(self):
        self.api("GET", "/qemu")
        self.api("GET", "/qemu", auth=f"PVEAPIToken=root@pam!r42ci={SECRET}-wrong")
        self.api("POST", "/qemu/100/snapshot", {"snapname": "x1", "description": "d"})
        with open(self.sim.log_file, encoding="utf-8") as f:
            text = f.read()
        self.assertNotIn(SECRET, text)
        self.assertNotIn(SECRET, json.dumps(self.sim.log()))
        entries = [json.loads(line) for line in text.splitlines()]
        self.assertEqual(entries, self.sim.log())
        self.assertEqual(set(entries[2]), {"seq", "conn", "method", "path", "query",
                                           "content_type", "body", "auth", "status", "reason",
                                           "time", "done", "task"})
        self.assertEqual(json.loads(entries[2]["body"]), {"snapname": "x1", "description": "d"})

    def test_broken_clients_leave_no_traces(self):
        with socket.create_connection((self.sim.host, self.sim.port), timeout=5):
            pass  # TCP only, no TLS handshake
        with socket.create_connection((self.sim.host, self.sim.port), timeout=5) as raw:
            raw.sendall(b"GET / HTTP/1.1\r\n\r\n")  # plain HTTP on the TLS port
        raw = socket.create_connection((self.sim.host, self.sim.port), timeout=5)
        with CLIENT_TLS.wrap_socket(raw) as tls:
            tls.sendall(b"POST /api2/json/nodes/px-testing/qemu/100/snapshot HTTP/1.1\r\n"
                        b"Content-Length: 100\r\n\r\n{\"snap")  # then hang up
        time.sleep(0.2)
        self.assertEqual(self.api("GET", "/qemu")[0], 200)
        self.assertEqual([e["path"] for e in self.sim.log()], [BASE + "/qemu"])
        self.assertEqual(self.sim.stderr(), "")

    @unittest.skipUnless(shutil.which("curl"), "curl not installed")
    def test_curl_four_keep_alive_requests(self):
        url = f"https://{self.sim.host}:{self.sim.port}{BASE}/qemu"
        started = time.monotonic()
        subprocess.run(["curl", "-sk", "-o", "/dev/null", "-o", "/dev/null", "-o", "/dev/null",
                        "-o", "/dev/null", "-H", "Authorization: " + AUTH, url, url, url, url],
                       check=True, timeout=20)
        elapsed = time.monotonic() - started
        print(f"\n  curl, 4 keep-alive requests on one connection: {elapsed * 1000:.1f} ms",
              file=sys.stderr)
        log = self.sim.log()
        self.assertEqual(len(log), 4)
        self.assertEqual(len({e["conn"] for e in log}), 1)


class CommandLineTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="pvesim-cli-")
        cls.cert, cls.key = make_cert(cls.tmp)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def workdir(self, name):
        path = os.path.join(self.tmp, name)
        os.mkdir(path)
        return path

    def test_refuses_non_loopback_bind(self):
        sim = Sim(self.workdir("bind"), self.cert, self.key, bind="0.0.0.0")
        result = subprocess.run(sim.argv, capture_output=True, text=True, timeout=10)
        self.assertEqual(result.returncode, 2)
        self.assertIn("loopback", result.stderr)
        self.assertNotIn(SECRET, result.stderr)
        self.assertFalse(os.path.exists(sim.port_file))

    def test_vms_option_ipv6_and_sigterm(self):
        try:
            with socket.socket(socket.AF_INET6) as probe:
                probe.bind(("::1", 0))
            bind = "::1"
        except OSError:
            bind = "127.0.0.1"
        sim = Sim(self.workdir("vms"), self.cert, self.key, "--vms", "10",
                  "--task-duration", "0.2", bind=bind).start()
        try:
            status, _, data = sim.request("GET", BASE + "/qemu")
            self.assertEqual(status, 200)
            vms = data["data"]
            self.assertEqual([vm["vmid"] for vm in vms], list(range(100, 110)))
            self.assertEqual((vms[9]["name"], vms[9]["status"]), ("lab-vm-109", "stopped"))
            self.assertNotIn("tags", vms[8])
            self.assertEqual(sim.control("GET", "config")["task_duration"], 0.2)
            status, _, data = sim.request("GET", BASE + "/lxc")
            self.assertEqual([ct["vmid"] for ct in data["data"]], list(REFERENCE_LXCS))
        finally:
            started = time.monotonic()
            rc = sim.stop()
        self.assertEqual(rc, 0)
        self.assertLess(time.monotonic() - started, 2.0)
        self.assertEqual(sim.stderr(), "")


    def test_task_durations_and_max_workers_options(self):
        sim = Sim(self.workdir("durations"), self.cert, self.key,
                  "--task-durations", "pve,start=0.25", "--max-workers", "3").start()
        try:
            knobs = sim.control("GET", "config")
            self.assertEqual(knobs["task_durations"]["start"], 0.25)
            self.assertEqual(knobs["task_durations"]["shutdown"], 4.0)
            self.assertEqual(knobs["max_workers"], 3)
            sim.control("POST", "reset")  # the command line's values stay the defaults
            self.assertEqual(sim.control("GET", "config")["task_durations"]["start"], 0.25)
        finally:
            self.assertEqual(sim.stop(), 0)
        bad = Sim(self.workdir("bad-durations"), self.cert, self.key,
                  "--task-durations", "begin=1")
        result = subprocess.run(bad.argv, capture_output=True, text=True, timeout=10)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("--task-durations", result.stderr)

    def test_lxcs_option(self):
        sim = Sim(self.workdir("lxcs"), self.cert, self.key, "--vms", "150", "--lxcs", "7").start()
        try:
            status, _, data = sim.request("GET", BASE + "/lxc")
            self.assertEqual(status, 200)
            cts = data["data"]
            self.assertEqual([ct["vmid"] for ct in cts], list(range(250, 257)))
            self.assertEqual((cts[6]["name"], cts[6]["status"]), ("lab-ct-256", "stopped"))
            self.assertEqual(cts[0]["name"], "test-lxc-web")
        finally:
            rc = sim.stop()
        self.assertEqual(rc, 0)


if __name__ == "__main__":
    unittest.main()
