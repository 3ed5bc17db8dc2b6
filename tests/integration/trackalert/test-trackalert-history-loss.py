#!/usr/bin/env python3
"""A report answered 200 is in the history: on a full disk (a size-limited tmpfs in a private
mount namespace) the batch is kept and retried; on a full queue (the database locked by
someone else) new reports wait and are then refused with 503, never acknowledged and dropped;
after kill -9 at most the queue's worth of acknowledged reports (one commit interval) is
missing."""

import errno
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time

import harness
from harness import check, run_test, skip, wait_until
from ta_harness import Trackalert, basic

binary = sys.argv[1]
QUEUE = 16


class NsTrackalert(Trackalert):
    """trackalert whose state directory is a small tmpfs of its own mount namespace."""

    def start(self, wait_ready=True):
        inner = ["systemd-socket-activate", f"--fdname={self.fdname}"]
        for l in self.listen:
            inner += ["-l", l]
        inner += ["-E", f"STATE_DIRECTORY={self.state}", "-E", "TRACKSUITE_LOG_FIELDS=1",
                  "-E", "TRACKSUITE_LOG_TARGET=console", "-E", "ASAN_OPTIONS=detect_leaks=0"]
        cmd = ["unshare", "--mount", "--propagation", "private", "sh", "-c",
               'mount -t tmpfs -o size=4m tmpfs "$0" && exec "$@"', self.state] + inner + self.command()
        self.log = open(self.log_path, "ab")
        self.log_start = self.log.tell()
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT)
        harness._started.append(self.proc)
        wait_until(self._bound, "systemd-socket-activate to bind its socket")
        wait_until(lambda: self.request("GET", "/command/livez", auth=None)[0] == 200,
                   "trackalert to answer livez", timeout=20)
        return self

    def inside(self, path):
        return f"/proc/{self.proc.pid}/root{path}"


def blast(d, prefix, seconds, threads=6):
    """Reports from several connections for a while; returns [(login, status, time)]."""
    out, lock = [], threading.Lock()
    end = time.monotonic() + seconds

    def worker(k):
        conn = d.connection(timeout=30)
        i = 0
        while time.monotonic() < end:
            login = f"{prefix}-{k}-{i}"
            st, _, _ = d.request("POST", "/command/report",
                                 body=json.dumps({"login": login, "remote": "192.0.2.7", "success": False}),
                                 conn=conn)
            if st == 0:
                conn.close()
                conn = d.connection(timeout=30)
            with lock:
                out.append((login, st, time.monotonic()))
            i += 1
        conn.close()

    ts = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return out


def stored(db, prefix):
    c = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        return {r[0] for r in c.execute("SELECT login FROM reports WHERE login LIKE ?", (prefix + "-%",))}
    finally:
        c.close()


def metric(d, name):
    st, _, body = d.request("GET", "/metrics")
    m = re.search(r"^" + re.escape(name) + r" (\d+)", body, re.M)
    return int(m.group(1)) if m else None


CONFIG = f"""
setWebserverPassword("super")
setHistoryQueueSize({QUEUE})
setReport(function(lt) end)
"""


def full_disk(tmp):
    if os.geteuid() != 0 or not shutil.which("unshare"):
        skip("needs root and unshare(1) for a tmpfs in a private mount namespace")
    d = NsTrackalert(binary, tmp, CONFIG, name="fulldisk").start()
    check(d.request("POST", "/command/report", body=json.dumps({"login": "first", "remote": "192.0.2.1"}))[0] == 200,
          "a report before the disk is full")
    filler = d.inside(os.path.join(d.state, "filler"))
    with open(filler, "wb") as f:
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        except OSError as e:
            check(e.errno == errno.ENOSPC, f"the tmpfs fills up ({e})")
    res = blast(d, "disk", 3.0)
    ok = {l for l, st, _ in res if st == 200}
    statuses = {st for _, st, _ in res}
    check(ok and statuses <= {200, 503}, f"reports are answered 200 or 503 ({statuses}, {len(ok)} ok)")
    wait_until(lambda: (metric(d, "trackalert_history_write_errors_total") or 0) > 0, "write errors to be counted")
    check("keeping them and retrying" in d.logtext(), "the write error is logged")
    os.unlink(filler)
    wait_until(lambda: "works again" in d.logtext(), "storing to work again", timeout=20)
    wait_until(lambda: metric(d, "trackalert_history_queue_size") == 0, "the queue to drain", timeout=20)
    # SQLite resolves /proc/PID/root to "/": read a copy of the idle database instead
    copy = os.path.join(tmp, "copy.db")
    for suffix in ("", "-wal"):
        if os.path.exists(d.inside(d.db + suffix)):
            shutil.copyfile(d.inside(d.db + suffix), copy + suffix)
    have = stored(copy, "disk")
    check(ok <= have, f"every report answered 200 is stored after the disk had room again "
                      f"({len(ok - have)} of {len(ok)} missing)")
    check(d.stop() == 0, "clean stop")


def full_queue_and_kill(tmp):
    d = Trackalert(binary, tmp, CONFIG, name="queue").start()
    check(d.request("POST", "/command/report", body=json.dumps({"login": "first", "remote": "192.0.2.1"}))[0] == 200,
          "a report")
    wait_until(lambda: os.path.exists(d.db), "the database")
    # someone else holds the write lock: the writer cannot commit, the queue fills
    locker = sqlite3.connect(d.db, timeout=30, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")
    res = blast(d, "queue", 3.0)
    ok = {l for l, st, _ in res if st == 200}
    refused = [l for l, st, _ in res if st == 503]
    check(len(ok) > 0 and len(refused) > 0, f"some reports queued, then 503 ({len(ok)} ok, {len(refused)} refused)")
    check(metric(d, 'trackalert_history_reports_total{status="refused"}') == len(refused),
          "refused reports are counted")
    check(len(ok) <= QUEUE + 12, f"a full queue is not acknowledged beyond its bound ({len(ok)})")
    locker.execute("ROLLBACK")
    wait_until(lambda: metric(d, "trackalert_history_queue_size") == 0, "the queue to drain", timeout=20)
    have = stored(d.db, "queue")
    check(ok <= have, f"every report answered 200 is stored ({len(ok - have)} of {len(ok)} missing)")

    # kill -9 while the writer cannot commit: at most the queue's worth is lost
    locker.execute("BEGIN EXCLUSIVE")
    res = blast(d, "kill", 2.5)
    d.proc.send_signal(signal.SIGKILL)
    d.proc.wait()
    locker.execute("ROLLBACK")
    locker.close()
    ok = [(l, t) for l, st, t in res if st == 200]
    have = stored(d.db, "kill")
    lost = [t for l, t in ok if l not in have]
    check(len(lost) <= QUEUE + 12, f"kill -9 loses at most the queue's worth ({len(lost)} of {len(ok)})")
    if lost:
        check(max(lost) - min(lost) < 2.0, "and only reports acknowledged within one commit interval")


def main(tmp):
    full_queue_and_kill(tmp)
    full_disk(tmp)


run_test(main)
