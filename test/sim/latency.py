#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""A delaying TCP proxy for the simulator: network latency on loopback.

    python3 test/sim/latency.py --target 127.0.0.1:PORT --rtt-ms 20 \\
        --port-file FILE [--port 0] [--max-conns 64]

Listens on 127.0.0.1 (loopback only; the target must be a loopback address
too) and forwards every connection to the target, each chunk of bytes in
each direction delivered one-way delay (half the round trip) after it was
received, in order.  A connection's first client bytes also wait for the
TCP handshake a real network would have cost (one round trip from the
accept), so a TCP + TLS 1.3 handshake and one request pay three round
trips, as they would.  An end of stream travels with the same delay.

Bounds: --rtt-ms at most 10000; at most --max-conns connections at once
(more wait in the listen backlog); at most 1 MiB queued per direction (the
reader waits: back-pressure, as a full window would); a connection idle
(nothing received either way) for --idle-s seconds (default 60) is closed.
Standard library only.  Writes its port to --port-file once listening; ends
on SIGTERM or SIGINT.  Self-test: test/sim/test_latency.py.
"""

import argparse
import ipaddress
import os
import signal
import socket
import sys
import threading
import time
from collections import deque

CHUNK = 65536
QUEUE_MAX = 1 << 20


class Pipe:
    """One direction of a connection: a reader thread takes bytes from SRC
    and stamps them; a writer thread sends each chunk to DST when due."""

    def __init__(self, conn, src, dst, delay, hold_until):
        self.conn, self.src, self.dst = conn, src, dst
        self.delay, self.hold_until = delay, hold_until
        self.queue = deque()  # (due, bytes); b"" is the end of stream
        self.queued = 0
        self.cond = threading.Condition()

    def read_loop(self):
        try:
            while True:
                try:
                    data = self.src.recv(CHUNK)
                except socket.timeout:
                    if self.conn.idle():
                        data = b""
                    else:
                        continue
                except OSError:
                    data = b""
                self.conn.touch()
                due = max(time.monotonic(), self.hold_until) + self.delay
                with self.cond:
                    while self.queued >= QUEUE_MAX and not self.conn.closed:
                        self.cond.wait(1.0)
                    self.queue.append((due, data))
                    self.queued += len(data)
                    self.cond.notify_all()
                if not data:
                    return
        finally:
            with self.cond:
                self.cond.notify_all()

    def write_loop(self):
        while True:
            with self.cond:
                while not self.queue:
                    self.cond.wait()
                due, data = self.queue[0]
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            with self.cond:
                self.queue.popleft()
                self.queued -= len(data)
                self.cond.notify_all()
            try:
                if not data:
                    self.dst.shutdown(socket.SHUT_WR)
                    break
                self.dst.sendall(data)
            except OSError:
                self.conn.abort()  # a peer is gone: end both directions
                break
        self.conn.half_done()


class Connection:
    def __init__(self, client, upstream, delay, idle_s, on_close):
        self.client, self.upstream = client, upstream
        self.idle_s, self.on_close = idle_s, on_close
        self.last = time.monotonic()
        self.lock = threading.Lock()
        self.halves = 0
        self.closed = False
        # the client's first bytes leave once the TCP handshake is done
        hold = time.monotonic() + 2 * delay
        self.pipes = [Pipe(self, client, upstream, delay, hold),
                      Pipe(self, upstream, client, delay, 0.0)]
        for sock in (client, upstream):
            sock.settimeout(1.0)

    def touch(self):
        self.last = time.monotonic()

    def idle(self):
        return time.monotonic() - self.last > self.idle_s

    def start(self):
        for pipe in self.pipes:
            for target in (pipe.read_loop, pipe.write_loop):
                threading.Thread(target=target, daemon=True).start()

    def abort(self):
        self.closed = True
        for sock in (self.client, self.upstream):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def half_done(self):
        with self.lock:
            self.halves += 1
            if self.halves < 2:
                return
            self.closed = True
        for sock in (self.client, self.upstream):
            try:
                sock.close()
            except OSError:
                pass
        self.on_close()


def loopback_target(text):
    host, _, port = text.rpartition(":")
    host = host.strip("[]")
    if not ipaddress.ip_address(host).is_loopback:
        raise argparse.ArgumentTypeError(f"{host} is not a loopback address")
    return host, int(port)


def rtt(text):
    value = float(text)
    if not 0 <= value <= 10000:
        raise argparse.ArgumentTypeError("--rtt-ms must be within 0..10000")
    return value


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--target", required=True, type=loopback_target,
                   help="HOST:PORT of the simulator (loopback)")
    p.add_argument("--rtt-ms", required=True, type=rtt, help="round trip added, ms")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file")
    p.add_argument("--max-conns", type=int, default=64)
    p.add_argument("--idle-s", type=float, default=60.0)
    return p.parse_args(argv)


def serve(args, ready=None, stop=None):
    """Runs the proxy until STOP (a threading.Event) is set or a signal
    ends the process.  READY(port) is called once listening."""
    delay = args.rtt_ms / 2000.0
    slots = threading.BoundedSemaphore(args.max_conns)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", args.port))
    listener.listen(128)
    listener.settimeout(0.2)
    port = listener.getsockname()[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(f"{port}\n")
        os.replace(tmp, args.port_file)
    if ready:
        ready(port)
    try:
        while not (stop and stop.is_set()):
            if not slots.acquire(timeout=0.2):
                continue
            try:
                client, _ = listener.accept()
            except socket.timeout:
                slots.release()
                continue
            try:
                upstream = socket.create_connection(args.target, timeout=5)
            except OSError:
                client.close()
                slots.release()
                continue
            for sock in (client, upstream):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            Connection(client, upstream, delay, args.idle_s, slots.release).start()
    finally:
        listener.close()


def main(argv=None):
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        serve(args)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
