#!/usr/bin/env python3
"""Slowloris against trackalert (issue 13 item 5): many half-open connections that trickle a
byte of their request head now and then, from one address and from many, must neither keep a
normal report unanswered nor stay open: a per-address cap closes the excess at once, the
head deadline closes the rest however steadily they trickle. (Issue 13 saw 10,100 such
connections hold reports for 54 s; here the numbers are scaled to the connection limit set in
the test so that a CI machine runs it in seconds.)"""

import resource
import socket
import sys
import threading
import time

from harness import check, run_test, wait_until
from ta_harness import Trackalert

binary = sys.argv[1]

MAX_CONNS = 600            # setMaxWebserverConns(): a tenth (60) per client address
PER_CLIENT = MAX_CONNS // 10
ONE_ADDRESS = 300          # from 127.0.0.2: all but PER_CLIENT are closed at once
MANY = 30                  # addresses 127.0.1.1..30, 30 connections each: 900, over the limit
EACH = 30
HEAD_TIMEOUT = 10          # TA_HTTP_HEAD_TIMEOUT_SEC

CONFIG = f"""
setWebserverPassword("super")
setACL({{"127.0.0.0/8"}})
setMaxWebserverConns({MAX_CONNS})
setReport(function(lt) end)
"""


class Attack:
    """Half-open connections that send their head one byte at a time, so that an inactivity
    timeout never fires."""

    def __init__(self, port):
        self.port = port
        self.socks = []       # (socket, time opened)
        self.closed = {}      # index -> seconds from open to close
        self.lock = threading.Lock()
        self.stop = threading.Event()

    def open(self, source, n):
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind((source, 0))
            s.setblocking(False)
            s.connect_ex(("127.0.0.1", self.port))
            with self.lock:
                self.socks.append((s, time.monotonic()))

    def poll(self):
        """Note which connections the server closed; returns how many are still open."""
        with self.lock:
            for i, (s, t0) in enumerate(self.socks):
                if i in self.closed:
                    continue
                try:
                    if s.recv(4096) == b"":
                        self.closed[i] = time.monotonic() - t0
                except BlockingIOError:
                    pass
                except OSError:
                    self.closed[i] = time.monotonic() - t0
            return len(self.socks) - len(self.closed)

    def trickle(self):
        head = b"POST /command/report HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 10000
        pos = 0
        while not self.stop.wait(0.5):
            with self.lock:
                for i, (s, _) in enumerate(self.socks):
                    if i in self.closed:
                        continue
                    try:
                        s.send(head[pos:pos + 1])
                    except (BlockingIOError, OSError):
                        pass
            pos = (pos + 1) % len(head)

    def close(self):
        self.stop.set()
        with self.lock:
            for s, _ in self.socks:
                s.close()


def main(tmp):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 4096
    if hard != resource.RLIM_INFINITY and hard < want:
        check(False, f"RLIMIT_NOFILE hard limit {hard} allows the test's {want} sockets")
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))   # trackalert inherits it

    d = Trackalert(binary, tmp, CONFIG).start()
    a = Attack(d.port)
    trickler = threading.Thread(target=a.trickle, daemon=True)
    trickler.start()
    try:
        # One address: the per-client cap closes everything over it at once (well before the
        # head deadline).
        a.open("127.0.0.2", ONE_ADDRESS)
        wait_until(lambda: a.poll() <= PER_CLIENT, f"all but {PER_CLIENT} of {ONE_ADDRESS} "
                   "connections from one address to be closed", timeout=HEAD_TIMEOUT / 2)
        check(a.poll() >= PER_CLIENT - 5,
              f"about {PER_CLIENT} connections from one address stay ({a.poll()})")

        # Many addresses, more connections than the limit: the daemon is full.
        for i in range(1, MANY + 1):
            a.open(f"127.0.1.{i}", EACH)
        a.poll()

        # A normal report is still answered: at once if a slot is free, else as soon as the
        # head deadline frees them (the original never answered while the trickle went on).
        t0 = time.monotonic()
        doc = {"login": "alice", "remote": "192.0.2.1", "success": True, "pwhash": "x", "t": 1.0}
        # A full daemon may close a new connection at once: the client tries again, as any
        # wforce client does.
        st = wait_until(lambda: d.report(doc)[0] == 200 and 200, "a report to be answered",
                        timeout=HEAD_TIMEOUT * 3)
        waited = time.monotonic() - t0
        check(st == 200, f"a report is answered under the attack (after {waited:.1f}s)")

        # Every attacking connection is closed by the head deadline although it never idled.
        wait_until(lambda: a.poll() == 0, "every trickling connection to be closed",
                   timeout=HEAD_TIMEOUT * 3 + 10)
        early = [t for t in a.closed.values() if t < HEAD_TIMEOUT - 1]
        check(len(a.closed) == ONE_ADDRESS + MANY * EACH,
              f"all {len(a.closed)} attacking connections were closed")
        print(f"closed before the head deadline: {len(early)}, slowest close "
              f"{max(a.closed.values()):.1f}s", flush=True)
    finally:
        a.close()

    # And the daemon is as good as new.
    st, _, _ = d.report({"login": "bob", "remote": "192.0.2.2", "success": True,
                         "pwhash": "x", "t": 1.0})
    check(st == 200, "a report after the attack is answered")
    check(d.alive(), "trackalert survived the attack")
    check(d.stop() == 0, "SIGTERM exits 0")


run_test(main)
