#!/usr/bin/env python3
"""Stopping while Lua runs everywhere: SIGTERM during a long console command, a long background
function and long reports. Every thread is stopped and joined before the Lua states are freed
(under ASan a use-after-free aborts the daemon), and the stop is prompt. Repeated, because the
race it guards against does not show every time."""

import json
import signal
import socket
import sys
import threading
import time

from harness import check, run_test, wait_until
from ta_harness import KEY, Console, Trackalert, free_tcp_port

binary = sys.argv[1]
ROUNDS = 8


def spin_console(port, started):
    try:
        c = Console(port)
        started.set()
        c.command('infoLog("console spinning", {}) while true do end')
    except (ConnectionError, OSError):
        pass


def main(tmp):
    for rnd in range(ROUNDS):
        cport = free_tcp_port()
        config = f"""
setWebserverPassword("super")
controlSocket("127.0.0.1:{cport}")
setKey("{KEY}")
setLuaInstructionLimit(1000000000000000)
setLuaTimeLimit(0)
setNumSchedulerThreads(2)
setBackground("spin", function() infoLog("background spinning", {{}}) while true do end end)
intervalScheduleBackgroundFunc("00:00:01", "spin")
setReport(function(lt) if lt.login == "spin" then infoLog("report spinning", {{}}) while true do end end end)
"""
        d = Trackalert(binary, tmp, config, name=f"stop{rnd}").start()
        started = threading.Event()
        t = threading.Thread(target=spin_console, args=(cport, started), daemon=True)
        t.start()
        wait_until(lambda: "console spinning" in d.logtext(), "the console command to run")
        # a report that spins too (it waits for a Lua state the console does not hold)
        conn = socket.create_connection(("127.0.0.1", d.port), timeout=30)
        body = json.dumps({"login": "spin", "remote": "192.0.2.1"}).encode()
        conn.sendall(b"POST /command/report HTTP/1.1\r\nHost: x\r\nAuthorization: Basic YTpzdXBlcg==\r\n"
                     b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
        if rnd % 2:
            wait_until(lambda: "background spinning" in d.logtext(), "the background function to run")
        begin = time.monotonic()
        rc = d.stop(signal.SIGTERM, timeout=20)
        took = time.monotonic() - begin
        conn.close()
        log = d.logtext()
        check("AddressSanitizer" not in log and "runtime error" not in log,
              f"round {rnd}: no memory error at stop ({log[-3000:]})")
        check(rc == 0, f"round {rnd}: SIGTERM is a clean exit ({rc}, {log[-2000:]})")
        check("stopping after" in log, f"round {rnd}: the stop was orderly")
        print(f"round {rnd}: stopped in {took:.2f} s")


run_test(main)
