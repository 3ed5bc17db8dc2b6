#!/usr/bin/env python3
"""The listening socket belongs to systemd: trackalert is started three times on the same
socket, the way systemd restarts it, and each time it must leave the socket usable when it
exits (libmicrohttpd's stop used to shutdown() it, which killed trackalert.socket). A
connection queued while no trackalert runs is served by the next one; the history grows."""

import os
import signal
import socket
import sqlite3
import subprocess
import sys

from harness import check, run_test, wait_until
from harness import _started
from ta_harness import basic

binary = sys.argv[1]


def rows(db):
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        return con.execute("SELECT count(*) FROM reports").fetchone()[0]
    except sqlite3.Error:
        return 0


def post(port, login, sock=None):
    s = sock or socket.create_connection(("127.0.0.1", port), timeout=20)
    body = f'{{"login":"{login}","remote":"192.0.2.1"}}'.encode()
    s.sendall(b"POST /command/report HTTP/1.1\r\nHost: x\r\nAuthorization: " + basic().encode() +
              b"\r\nConnection: close\r\nContent-Length: " + str(len(body)).encode() +
              b"\r\n\r\n" + body)
    data = b""
    while True:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    s.close()
    return data


def main(tmp):
    conf = os.path.join(tmp, "trackalert.conf")
    with open(conf, "w") as f:
        f.write('setWebserverPassword("super")\nsetNumWorkerThreads(2)\n')
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(64)
    port = lsock.getsockname()[1]
    os.set_inheritable(lsock.fileno(), True)
    log_path = os.path.join(tmp, "log")
    env = dict(os.environ, STATE_DIRECTORY=tmp, TRACKSUITE_LOG_TARGET="console",
               ASAN_OPTIONS="detect_leaks=0", LISTEN_FDS="1", LISTEN_FDNAMES="http")

    def start():
        log = open(log_path, "ab")
        # the socket as fd 3, LISTEN_PID set to the pid that exec()s trackalert
        fd = lsock.fileno()
        p = subprocess.Popen(["sh", "-c", 'LISTEN_PID=$$ exec "$@"', "sh", binary, "-s",
                              "-C", conf], stdout=log, stderr=subprocess.STDOUT, env=env,
                             pass_fds=(3,), preexec_fn=lambda: fd == 3 or os.dup2(fd, 3))
        _started.append(p)  # killed at exit if a check fails first
        return p

    queued = None
    for run in range(3):
        p = start()
        if queued:
            # connected while nothing ran: the new trackalert picks it up from the backlog
            r = post(port, f"queued{run}", sock=queued)
            check(r.startswith(b"HTTP/1.1 200") and b'{"status":"ok"}' in r,
                  f"run {run}: the connection queued in the socket meanwhile is served")
        r = post(port, f"run{run}")
        check(r.startswith(b"HTTP/1.1 200"), f"run {run}: a report on the inherited socket")
        p.send_signal(signal.SIGTERM)
        check(p.wait(15) == 0, f"run {run}: clean stop")
        # the socket must still accept: a client connects with nobody serving
        try:
            queued = socket.create_connection(("127.0.0.1", port), timeout=5)
        except OSError as e:
            queued = None
            check(False, f"run {run}: the socket still accepts connections ({e})")
        check(queued is not None,
              f"run {run}: the socket still accepts connections after trackalert exited")
    queued.close()
    check(rows(os.path.join(tmp, "trackalert.db")) == 5, "every report is in the history")
    lsock.close()


run_test(main)
