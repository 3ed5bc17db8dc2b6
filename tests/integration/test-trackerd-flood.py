#!/usr/bin/env python3
"""trackerd under a flood of bad datagrams of every kind: it counts and rate-limits them,
stays up, keeps the database intact and counts every valid datagram that follows; and it
stops on SIGTERM while a flood goes on."""

import os
import random
import signal
import socket
import subprocess
import sys
import time

from harness import Trackerd, check, encode, run_test, wait_until

trackerd_bin = sys.argv[2]


def garbage(rng):
    """One bad datagram of a random kind, with the reason trackerd should give."""
    good = encode("alice", "ws1", "vim")
    kind = rng.randrange(9)
    if kind == 0:
        return good[:rng.randrange(len(good))], None           # truncated at any point
    if kind == 1:
        return good + b"x" * rng.randrange(1, 40), "oversized"  # trailing junk
    if kind == 2:
        return bytes(rng.getrandbits(8) for _ in range(rng.randrange(600, 2000))), "oversized"
    if kind == 3:
        return b"XX" + good[2:], "bad-magic"
    if kind == 4:
        return encode("alice", "ws1", "vim", version=rng.choice([0, 2, 255])), "bad-version"
    if kind == 5:
        return encode("alice", "ws1", "vim", flags=rng.randrange(1, 256)), "bad-flags"
    if kind == 6:
        return encode("al\0ce", "ws1", "vim"), "bad-text"
    if kind == 7:
        return encode("alice", "ws1", b"vi\xffm"), "bad-text"
    return encode("a" * 32, "ws1", "vim"), "bad-length"


def kernel_drops(port):
    """Datagrams the kernel dropped on our socket (socket buffer full), from /proc/net/udp."""
    total = 0
    with open("/proc/net/udp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if int(fields[1].split(":")[1], 16) == port:
                total += int(fields[-1])
    return total


def main(tmp):
    d = Trackerd(trackerd_bin, tmp, config="[Collector]\nLogUses=no\n").start()
    addr = ("127.0.0.1", int(d.server.rsplit(":", 1)[1]))
    rng = random.Random(1738)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

    # Wake it up with one valid use so the schema exists, then flood.
    s.sendto(encode("root", "h", "wake"), addr)
    d.wait_uses(1)
    sent_bad = 0
    expected = {}
    for _ in range(20000):
        data, reason = garbage(rng)
        s.sendto(data, addr)
        sent_bad += 1
        if reason:
            expected[reason] = expected.get(reason, 0) + 1
    s.sendto(b"", addr)  # an empty datagram is a bad one too
    sent_bad += 1

    # The kernel may drop part of a flood when the socket buffer is full; trackerd must count
    # every bad datagram that reached it.
    def rejected():
        r = d.query("SELECT coalesce(sum(count), 0) FROM rejects")
        return r[0][0] if r else 0
    wait_until(lambda: rejected() + kernel_drops(addr[1]) >= sent_bad, "every bad datagram counted")
    drops = kernel_drops(addr[1])
    check(rejected() == sent_bad - drops,
          f"rejects = bad datagrams sent - kernel drops ({rejected()} = {sent_bad} - {drops})")
    reasons = dict(d.query("SELECT reason, count FROM rejects"))
    for reason in expected:
        check(reasons.get(reason, 0) > 0, f"'{reason}' datagrams are counted as such ({reasons.get(reason)})")
    check(d.alive(), "trackerd survived the flood")

    # Then valid datagrams from several users, in bursts small enough for any socket buffer:
    # every one must be counted.
    total = 0
    for burst in range(20):
        for i in range(50):
            s.sendto(encode(f"user{i % 7}", f"host{burst % 3}", f"prog{i % 5}", uid=1000 + i % 7), addr)
        total += 50
        d.wait_uses(total, "program LIKE 'prog%'")
    runs = d.query("SELECT sum(runs) FROM daily WHERE program LIKE 'prog%'")[0][0]
    check(runs == total, f"daily aggregates add up to every valid datagram ({runs})")

    # Bad datagram messages were rate-limited: at most 10 per 10 s plus summaries.
    log = d.logtext()
    bad_lines = log.count("Ignoring bad datagram")
    check(0 < bad_lines <= 20, f"bad datagrams are logged rate-limited ({bad_lines} lines for {sent_bad})")
    check("TRACKER_REJECT=" in log, "bad datagram messages carry TRACKER_REJECT=")

    integrity = d.query("PRAGMA integrity_check")
    check(integrity == [("ok",)], f"the database is intact ({integrity})")
    check(d.stop() == 0, "trackerd exits cleanly after the flood")
    s.close()
    sigterm_during_flood(tmp)


def sigterm_during_flood(tmp):
    """SIGTERM while a flood goes on: trackerd stores what was queued and exits promptly,
    whoever keeps sending (else anyone who reaches the port holds systemctl stop)."""
    for kind, payload in (("valid", encode("alice", "ws1", "vim")), ("bad", b"TK\x09junk")):
        d = Trackerd(trackerd_bin, tmp, config="[Collector]\nLogUses=no\n", name=f"term-{kind}").start()
        host, port = d.server.rsplit(":", 1)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.sendto(encode("root", "h", "wake"), (host, int(port)))
        d.wait_uses(1)
        flood = subprocess.Popen([sys.executable, "-c", FLOOD, host, port, payload.hex()])
        try:
            def busy():
                r = d.query("SELECT (SELECT count(*) FROM uses) + "
                            "(SELECT coalesce(sum(count), 0) FROM rejects)")
                return r and r[0][0] > 5000
            wait_until(busy, f"a {kind} flood arriving at trackerd", timeout=30)
            d.proc.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + 20
            while d.alive() and time.monotonic() < deadline:
                time.sleep(0.05)
            check(not d.alive(), f"trackerd exits on SIGTERM while a {kind} flood goes on")
            check(d.proc.returncode == 0, f"and its exit status is 0 ({d.proc.returncode})")
            check(flood.poll() is None, "the flood was still going when it exited")
        finally:
            flood.kill()
            flood.wait()
            if d.alive():
                d.proc.kill()
                d.proc.wait()
        check(d.query("PRAGMA integrity_check") == [("ok",)], "the database is intact")


FLOOD = """
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
addr, data = (sys.argv[1], int(sys.argv[2])), bytes.fromhex(sys.argv[3])
while True:
    try:
        s.sendto(data, addr)
    except OSError:
        pass
"""


run_test(main)
