#!/usr/bin/env python3
"""trackerd's life: configuration errors with file:line, sockets by name or --listen, a
restart that keeps the counts, SIGTERM that stores everything queued, exit when idle."""

import os
import signal
import socket
import subprocess
import sys
import time

from harness import Trackerd, check, encode, free_port, run_test, wait_until

trackerd_bin = sys.argv[2]


def kernel_drops(port):
    total = 0
    with open("/proc/net/udp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if int(fields[1].split(":")[1], 16) == port:
                total += int(fields[-1])
    return total


def port_of(d):
    return int(d.server.rsplit(":", 1)[1])


def main(tmp):
    # Configuration problems are reported as file:line, all of them, by --check-config
    # (which fails); the daemon warns about them, ignores them and collects (see
    # test-trackerd-config for the rest).
    bad = os.path.join(tmp, "bad.conf")
    with open(bad, "w") as f:
        f.write("[Collector]\nLogUses=yes\n\nRetention=forever\nRetentoin=3d\n")
    r = subprocess.run([trackerd_bin, "--config", bad, "--check-config"], capture_output=True, text=True)
    check(r.returncode == 1 and f"{bad}:4: " in r.stderr and "Retention=" in r.stderr
          and f"{bad}:5: " in r.stderr, f"--check-config reports every problem as file:line ({r.stderr.strip()})")
    good = os.path.join(tmp, "good.conf")
    with open(good, "w") as f:
        f.write("[Collector]\nLogUses=no\nRetention=30d\n")
    r = subprocess.run([trackerd_bin, "--config", good, "--check-config"], capture_output=True, text=True)
    check(r.returncode == 0 and "OK" in r.stdout, "--check-config accepts a good file")
    r = subprocess.run([trackerd_bin, "--config", good, "--db", os.path.join(tmp, "y.db")],
                       capture_output=True, text=True, timeout=10)
    check(r.returncode == 1 and "No socket passed" in r.stderr,
          f"without a socket or --listen trackerd says so ({r.stderr.strip()})")
    r = subprocess.run([trackerd_bin, "--help"], capture_output=True, text=True)
    check(r.returncode == 0 and "--listen" in r.stdout, "--help describes the options")

    # --listen: trackerd binds by itself.
    port = free_port()
    db = os.path.join(tmp, "listen.db")
    p = subprocess.Popen([trackerd_bin, "--config", good, "--db", db, "--listen", f"127.0.0.1:{port}"],
                         stderr=subprocess.PIPE)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

    def stored(path):
        import sqlite3
        try:
            con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            return con.execute("SELECT count(*) FROM uses").fetchone()[0]
        except sqlite3.Error:
            return 0
    # Until the socket is bound datagrams are refused; keep sending until one is stored.
    wait_until(lambda: s.sendto(encode("u", "h", "listen"), ("127.0.0.1", port)) and stored(db) > 0,
               "trackerd --listen to store a datagram")
    p.send_signal(signal.SIGTERM)
    check(p.wait(10) == 0, "trackerd --listen exits 0 on SIGTERM")

    # A restart keeps what was counted and adds to it.
    d = Trackerd(trackerd_bin, tmp, config="[Collector]\nLogUses=no\n").start()
    for i in range(5):
        s.sendto(encode("alice", "ws1", "vim"), ("127.0.0.1", port_of(d)))
    d.wait_uses(5)
    check(d.stop() == 0, "trackerd stops cleanly")
    d2 = Trackerd(trackerd_bin, tmp, config="[Collector]\nLogUses=no\n")
    d2.start()
    for i in range(3):
        s.sendto(encode("alice", "ws1", "vim"), ("127.0.0.1", port_of(d2)))
    d2.wait_uses(8)
    runs = d2.query("SELECT sum(runs) FROM daily WHERE program='vim'")[0][0]
    check(runs == 8, f"the daily aggregate continues across the restart ({runs})")

    # SIGTERM with a burst queued: everything the kernel queued is stored before exiting.
    # SIGSTOP holds trackerd so the burst and the SIGTERM are both pending when it runs on.
    base = d2.uses()
    d2.proc.send_signal(signal.SIGSTOP)
    for i in range(3000):
        s.sendto(encode(f"u{i % 10}", "burst", f"p{i % 20}"), ("127.0.0.1", port_of(d2)))
    d2.proc.send_signal(signal.SIGTERM)
    d2.proc.send_signal(signal.SIGCONT)
    rc = d2.proc.wait(10)
    drops = kernel_drops(port_of(d2))
    got = d2.uses() - base
    check(rc == 0, "trackerd exits 0 after the burst")
    check(got == 3000 - drops, f"every queued datagram was stored before exit ({got} = 3000 - {drops} dropped by the kernel)")

    # Exit when idle.
    d3 = Trackerd(trackerd_bin, tmp, config="[Collector]\nIdleExitSec=1\n", name="idle").start()
    s.sendto(encode("bob", "ws2", "ed"), ("127.0.0.1", port_of(d3)))
    d3.wait_uses(1)
    wait_until(lambda: not d3.alive(), "trackerd to exit when idle", timeout=15)
    check(d3.proc.returncode == 0, "an idle exit is a clean exit")
    check("No datagram for 1 s, exiting" in d3.logtext(), "the idle exit is logged")
    s.close()


run_test(main)
