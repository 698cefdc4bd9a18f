# SPDX-License-Identifier: GPL-3.0-or-later
"""Self-test of the delaying proxy (test/sim/latency.py).

Run from the repository root:  python3 -m unittest test/sim/test_latency.py
Checks only lower bounds of time (a delay cannot be shorter than asked:
never flaky), bytes and their order, end of stream, the bounds of the
options.  Every wait is bounded.
"""

import contextlib
import io
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import latency  # noqa: E402


def echo_server():
    """A loopback echo server (one thread per connection); its port."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)

    def handle(conn):
        with conn:
            conn.settimeout(10)
            try:
                while True:
                    data = conn.recv(65536)
                    if not data:
                        return
                    conn.sendall(data)
            except OSError:
                return

    def loop():
        while True:
            try:
                conn, _ = srv.accept()
            except OSError:
                return
            threading.Thread(target=handle, args=(conn,), daemon=True).start()

    threading.Thread(target=loop, daemon=True).start()
    return srv


class LatencyTest(unittest.TestCase):
    RTT_MS = 100

    def setUp(self):
        self.echo = echo_server()
        self.stop = threading.Event()
        ready = threading.Event()
        self.port = None

        def on_ready(port):
            self.port = port
            ready.set()

        args = latency.parse_args(["--target", f"127.0.0.1:{self.echo.getsockname()[1]}",
                                   "--rtt-ms", str(self.RTT_MS)])
        self.thread = threading.Thread(target=latency.serve, args=(args, on_ready, self.stop),
                                       daemon=True)
        self.thread.start()
        self.assertTrue(ready.wait(5), "the proxy did not start")

    def tearDown(self):
        self.stop.set()
        self.thread.join(5)
        self.echo.close()

    def connect(self):
        s = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        self.addCleanup(s.close)
        return s

    def exchange(self, s, data):
        t0 = time.monotonic()
        s.sendall(data)
        got = b""
        while len(got) < len(data):
            chunk = s.recv(65536)
            self.assertTrue(chunk, "early end of stream")
            got += chunk
        return time.monotonic() - t0, got

    def test_round_trips(self):
        # The first exchange pays the TCP handshake's round trip too.
        rtt = self.RTT_MS / 1000
        s = self.connect()
        first, got = self.exchange(s, b"ping")
        self.assertEqual(got, b"ping")
        self.assertGreaterEqual(first, 2 * rtt * 0.98)
        second, got = self.exchange(s, b"pong")
        self.assertEqual(got, b"pong")
        self.assertGreaterEqual(second, rtt * 0.98)

    def test_bytes_in_order(self):
        # 3 MiB through the proxy and back, written while read: the same bytes.
        data = os.urandom(3 << 20)
        s = self.connect()
        writer = threading.Thread(target=s.sendall, args=(data,), daemon=True)
        writer.start()
        got = bytearray()
        while len(got) < len(data):
            chunk = s.recv(65536)
            self.assertTrue(chunk, "early end of stream")
            got += chunk
        writer.join(10)
        self.assertEqual(bytes(got), data)

    def test_end_of_stream(self):
        # A client's shutdown reaches the server, whose close comes back.
        s = self.connect()
        s.sendall(b"last")
        s.shutdown(socket.SHUT_WR)
        got = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
        self.assertEqual(got, b"last")

    def test_many_connections(self):
        # Twenty connections at once, each its own bytes.
        socks = [self.connect() for _ in range(20)]
        for i, s in enumerate(socks):
            s.sendall(b"conn %d" % i)
        for i, s in enumerate(socks):
            want = b"conn %d" % i
            got = b""
            while len(got) < len(want):
                got += s.recv(64)
            self.assertEqual(got, want)


class OptionsTest(unittest.TestCase):
    def test_loopback_only(self):
        with self.assertRaises(SystemExit), contextlib.redirect_stderr(io.StringIO()):
            latency.parse_args(["--target", "10.0.0.1:8006", "--rtt-ms", "20"])
        self.assertEqual(latency.parse_args(["--target", "[::1]:8006", "--rtt-ms", "1"]).target,
                         ("::1", 8006))

    def test_rtt_bounded(self):
        for bad in ("-1", "10001"):
            with self.assertRaises(SystemExit), contextlib.redirect_stderr(io.StringIO()):
                latency.parse_args(["--target", "127.0.0.1:1", "--rtt-ms", bad])

    def test_process_port_file_and_sigterm(self):
        with tempfile.TemporaryDirectory() as d:
            port_file = os.path.join(d, "port")
            proc = subprocess.Popen([sys.executable, latency.__file__, "--target", "127.0.0.1:1",
                                     "--rtt-ms", "20", "--port-file", port_file],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            try:
                for _ in range(100):
                    if os.path.exists(port_file):
                        break
                    time.sleep(0.05)
                with open(port_file) as f:
                    self.assertTrue(int(f.read()) > 0)
            finally:
                proc.send_signal(signal.SIGTERM)
                self.assertEqual(proc.wait(10), 0)
                proc.stderr.close()


if __name__ == "__main__":
    unittest.main()
