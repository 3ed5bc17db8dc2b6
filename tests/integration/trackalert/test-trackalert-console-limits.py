#!/usr/bin/env python3
"""The console under idle and unauthenticated connections: they cannot lock the administrator
out, they are closed after a time limit, and what they cause is logged at a bounded rate."""

import os
import socket
import sys
import time

from harness import check, run_test, wait_until
from ta_harness import KEY, Console, Trackalert, free_tcp_port

binary = sys.argv[1]
WRONG = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="


def main(tmp):
    cport = free_tcp_port()
    config = f"""
setWebserverPassword("super")
controlSocket("127.0.0.1:{cport}")
setKey("{KEY}")
"""
    d = Trackalert(binary, tmp, config).start()
    wait_until(lambda: "Console listening" in d.logtext(), "the console to listen")

    # idle connections, some that sent half a nonce, some a nonce and half a frame
    idle = []
    for i in range(48):
        s = socket.create_connection(("127.0.0.1", cport), timeout=30)
        if i % 3 == 1:
            s.sendall(os.urandom(10))
        elif i % 3 == 2:
            s.sendall(os.urandom(24) + b"\x00\x40" + os.urandom(5))
        idle.append(s)
    begin = time.monotonic()
    c = Console(cport)
    check(c.command("stats()") == "0 reports\n", "the administrator gets in past 48 idle connections")
    check(time.monotonic() - begin < 5, "promptly")

    # many connections with the wrong key: each is refused, the log does not grow with them
    before = d.logtext().count("Console connection from")
    for i in range(150):
        w = Console(cport, key=WRONG)
        try:
            w.command("stats()")
            check(False, "a wrong key is refused")
        except (ConnectionError, OSError):
            pass
        w.close()
    lines = d.logtext().count("Console connection from") - before
    check(lines <= 12, f"unauthenticated connections are logged at a bounded rate ({lines} lines for 150)")
    check(c.command("stats()") == "0 reports\n", "the administrator's session is still there")

    # the idle connections are closed by the server after its time limit
    def closed(s):
        s.settimeout(0.05)
        try:
            return s.recv(4096) == b""
        except socket.timeout:
            return False
        except OSError:
            return True
    wait_until(lambda: all(closed(s) for s in idle[-16:]), "idle connections to be closed", timeout=25)
    for s in idle:
        s.close()

    # sessions are capped; one more is told so and the others keep working
    sessions = [Console(cport) for _ in range(15)]
    for s in sessions:
        s.command("return 1")
    extra = Console(cport)
    out = extra.command("return 1")
    check(out.startswith("Error: too many console sessions"), f"the 17th session is refused ({out!r})")
    check(c.command("stats()") == "0 reports\n", "the first session still works")
    for s in sessions:
        s.close()
    c.close()
    wait_until(lambda: Console(cport).command("return 2") == "2\n", "sessions to be freed when closed")
    d.stop()


run_test(main)
