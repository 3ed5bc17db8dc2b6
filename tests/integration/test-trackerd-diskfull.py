#!/usr/bin/env python3
"""A write failure (the state directory's file system is full) loses nothing: trackerd
keeps the batch, pauses, retries, and stores everything once there is room again; what was
stored before stays intact. On a read-only file system it says so."""

import os
import socket
import subprocess
import sys

from harness import Trackerd, check, encode, run_test, skip, wait_until

trackerd_bin = sys.argv[2]


def main(tmp):
    if os.geteuid() != 0:
        skip("needs root to mount a small tmpfs as the state directory")
    d = Trackerd(trackerd_bin, tmp, config="[Collector]\nLogUses=no\n")
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m,mode=0755", "tracksuite-test", d.state],
                       capture_output=True, text=True)
    if r.returncode != 0:
        skip(f"cannot mount a tmpfs here: {r.stderr.strip()}")
    try:
        run(d)
        if d.alive():
            d.stop()
        read_only(d, tmp)
    finally:
        if d.alive():
            d.stop()
        subprocess.run(["umount", d.state])


def read_only(d, tmp):
    """On a read-only file system trackerd says so, whether the database exists or not (not
    "No such file or directory", SQLite's fallback guess)."""
    r = subprocess.run(["mount", "-o", "remount,ro", d.state], capture_output=True, text=True)
    check(r.returncode == 0, f"the state directory is now read-only ({r.stderr.strip()})")
    for db, what in ((d.db, "an existing database"), (os.path.join(d.state, "new.db"), "a new database")):
        r = subprocess.run([trackerd_bin, "--config", d.config, "--db", db, "--listen", "127.0.0.1:0"],
                           capture_output=True, text=True, timeout=30,
                           env=dict(os.environ, ASAN_OPTIONS="detect_leaks=0"))
        check(r.returncode == 1 and "Read-only file system" in r.stderr
              and "No such file" not in r.stderr, f"{what} on a read-only file system: {r.stderr.strip()}")


def run(d):
    d.start()
    addr = ("127.0.0.1", int(d.server.rsplit(":", 1)[1]))
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for i in range(100):
        s.sendto(encode("alice", "ws1", f"before{i % 5}"), addr)
    d.wait_uses(100)

    # Fill the file system.
    filler = os.path.join(d.state, "filler")
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError:
        pass
    os.close(fd)
    # Long names so the batch needs new pages that cannot be had.
    long = "p" * 200
    sent = 0
    for burst in range(6):
        for i in range(100):
            s.sendto(encode(f"user{i % 9}", "ws-full", f"{long}{i % 50}"), addr)
            sent += 1
    wait_until(lambda: "will retry" in d.logtext(), "trackerd to report the failed commit")
    check(d.alive(), "trackerd stays up when the disk is full")
    check(d.uses() == 100, f"nothing half-stored while full ({d.uses()} uses)")

    os.unlink(filler)
    d.wait_uses(100 + sent, timeout=15)
    # The rows are visible as soon as the writer commits; the loop logs right after.
    wait_until(lambda: "resuming" in d.logtext(), "trackerd to say it resumed")
    check(d.query("PRAGMA integrity_check") == [("ok",)], "the database is intact")
    runs = d.query("SELECT sum(runs) FROM daily WHERE host='ws-full'")[0][0]
    check(runs == sent, f"the aggregates have every use sent while full ({runs})")
    check(d.stop() == 0, "trackerd exits cleanly")
    s.close()


run_test(main)
