# SPDX-License-Identifier: GPL-3.0-or-later
"""Self-test of the simulator's per-request faults (test/sim/faults.py).

Run from the repository root:  python3 -m unittest test/sim/test_faults.py
It reuses test_pvesim.py's throw-away simulator and client; every wait is bounded.
"""

import http.client
import os
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from test_pvesim import AUTH, BASE, SimTestCase  # noqa: E402


class FaultTest(SimTestCase):

    def plan(self, *rules):
        return self.sim.config(faults=list(rules))["faults"]

    def faulted(self):
        """(method, fault, applied, status) of each logged request a fault answered."""
        return [(e["method"], e["fault"], e["applied"], e["status"])
                for e in self.sim.log() if "fault" in e]

    def curl(self, method, path):
        """curl's exit status and error message for one request (TLS unverified)."""
        url = f"https://{self.sim.host}:{self.sim.port}{BASE}{path}"
        done = subprocess.run(["curl", "-sSk", "-o", "/dev/null", "-X", method, "-H",
                               "Authorization: " + AUTH, url],
                              capture_output=True, text=True, timeout=20)
        return done.returncode, done.stderr.strip()

    def test_status_on_the_nth_match_only(self):
        self.plan({"path": "/qemu$", "nth": [2], "fault": "status",
                   "arg": [502, "Bad Gateway"]})
        self.assertEqual(self.api("GET", "/qemu")[0], 200)
        self.assert_error("GET", "/qemu", 502, "Bad Gateway")
        self.assertEqual(self.api("GET", "/qemu")[0], 200)
        self.assertEqual(self.faulted(), [("GET", "status", False, 502)])

    def test_method_filter_and_several_rules(self):
        self.plan({"method": "POST", "path": "/qemu/101/status/start$", "fault": "status",
                   "arg": [500, "first"], "nth": [1]},
                  {"path": "/qemu/101/status/", "fault": "status", "arg": [500, "second"],
                   "nth": [3]})
        self.assertEqual(self.api("GET", "/qemu/101/status/current")[0], 200)  # 2nd: 1
        self.assert_error("POST", "/qemu/101/status/start", 500, "first")  # both count
        self.assert_error("POST", "/qemu/101/status/start", 500, "second")
        self.assertEqual(self.current(101)["status"], "stopped")  # never carried out

    def test_upid_paths_match_decoded(self):
        upid = self.task("POST", "/qemu/101/status/start")
        self.plan({"path": "/tasks/.*:qmstart:101:.*/status$", "fault": "status",
                   "arg": [500, "no"]})
        status, _, _ = self.api("GET", "/tasks/" + upid.replace(":", "%3A") + "/status")
        self.assertEqual(status, 500)

    def test_badjson_not_carried_out_unless_apply(self):
        self.plan({"path": "/qemu/101/status/start$", "fault": "badjson"})
        conn = self.sim.connect()
        try:
            conn.request("POST", BASE + "/qemu/101/status/start",
                         headers={"Authorization": AUTH})
            resp = conn.getresponse()
            self.assertEqual((resp.status, resp.read()), (200, b'{"data":'))
        finally:
            conn.close()
        self.assertEqual(self.current(101)["status"], "stopped")
        self.plan({"path": "/qemu/101/status/start$", "fault": "badjson", "arg": "<html>",
                   "apply": True})
        with self.assertRaises(ValueError):
            self.api("POST", "/qemu/101/status/start")
        self.assertEqual(self.current(101)["status"], "running")
        self.assertEqual([f[:3] for f in self.faulted()],
                         [("POST", "badjson", False), ("POST", "badjson", True)])

    def test_truncated(self):
        self.plan({"path": "/qemu$", "fault": "truncated", "nth": [1]})
        conn = self.sim.connect()
        try:
            conn.request("GET", BASE + "/qemu", headers={"Authorization": AUTH})
            resp = conn.getresponse()
            self.assertEqual(resp.status, 200)
            with self.assertRaises(http.client.IncompleteRead):
                resp.read()
        finally:
            conn.close()
        self.assertEqual(self.api("GET", "/qemu")[0], 200)

    def test_reset_and_close(self):
        self.plan({"path": "/qemu$", "fault": "reset", "nth": [1]},
                  {"path": "/qemu$", "fault": "reset", "arg": 20, "nth": [2]},
                  {"method": "POST", "path": "/start$", "fault": "close", "apply": True})
        self.assertEqual(self.curl("GET", "/qemu"),
                         (56, "curl: (56) Recv failure: Connection reset by peer"))
        self.assertEqual(self.curl("GET", "/qemu"),
                         (56, "curl: (56) Recv failure: Connection reset by peer"))
        self.assertEqual(self.curl("POST", "/qemu/101/status/start"),
                         (52, "curl: (52) Empty reply from server"))
        self.assertEqual(self.current(101)["status"], "running")  # applied, then closed
        self.assertEqual(self.faulted(), [("GET", "reset", False, 0), ("GET", "reset", True, 200),
                                          ("POST", "close", True, 0)])

    def test_hang_holds_then_closes(self):
        self.plan({"path": "/qemu$", "fault": "hang", "arg": 0.6, "nth": [1]})
        conn = self.sim.connect()
        conn.timeout = 0.2
        try:
            conn.connect()
            conn.sock.settimeout(0.2)
            conn.request("GET", BASE + "/qemu", headers={"Authorization": AUTH})
            with self.assertRaises(TimeoutError):
                conn.getresponse()
            conn.sock.settimeout(5)
            with self.assertRaises((http.client.HTTPException, OSError)):
                conn.getresponse()  # closed after the hold, without an answer
        finally:
            conn.close()
        self.assertEqual(self.faulted(), [("GET", "hang", False, 0)])

    def test_drip_and_slow_answer_in_full(self):
        self.plan({"path": "/qemu/100/status/current$", "fault": "drip", "arg": 0.001},
                  {"path": "/qemu/101/status/current$", "fault": "slow", "arg": 0.3})
        self.assertEqual(self.current(100)["name"], "admin-wazuh")
        started = time.monotonic()
        self.assertEqual(self.current(101)["name"], "admin-builder-api")
        self.assertGreaterEqual(time.monotonic() - started, 0.3)
        self.assertEqual([f[:2] for f in self.faulted()], [("GET", "drip"), ("GET", "slow")])

    def test_keep_alive_goes_on_after_a_complete_fault_answer(self):
        self.plan({"path": "/qemu$", "fault": "status", "arg": [500, "x"], "nth": [1]})
        conn = self.sim.connect()
        try:
            self.assertEqual(self.api("GET", "/qemu", conn=conn)[0], 500)
            self.assertEqual(self.api("GET", "/qemu", conn=conn)[0], 200)
        finally:
            conn.close()
        self.assertEqual(len({e["conn"] for e in self.sim.log()}), 1)

    def test_reset_and_new_plan_clear_the_counts(self):
        rule = {"path": "/qemu$", "fault": "status", "arg": [500, "x"], "nth": [1]}
        self.plan(rule)
        self.assertEqual(self.api("GET", "/qemu")[0], 500)
        self.plan(rule)
        self.assertEqual(self.api("GET", "/qemu")[0], 500)
        self.sim.control("POST", "reset")
        self.assertEqual(self.sim.control("GET", "config")["faults"], [])
        self.assertEqual(self.api("GET", "/qemu")[0], 200)

    def test_bad_rules_are_refused(self):
        for bad in ([{"path": "(", "fault": "close"}], [{"path": "x", "fault": "boom"}],
                    [{"path": "x", "fault": "status"}], [{"path": "x", "fault": "close",
                                                         "nth": [0]}],
                    [{"path": "x", "fault": "hang", "arg": -1}], {"path": "x"},
                    [{"path": "x", "fault": "close", "when": 1}]):
            status, _, data = self.sim.request("POST", "/_sim/config", body={"faults": bad},
                                               auth=None)
            self.assertEqual(status, 400, bad)
            self.assertIn("fault", data["error"])
        self.assertEqual(self.sim.control("GET", "config")["faults"], [])


if __name__ == "__main__":
    unittest.main()
