#!/usr/bin/env python3
"""nacctd's signals and files, live in a network namespace pair: Type=notify (READY, STATUS,
STOPPING), WINCH/USR1/USR2, TSTP/CONT suspending only the log, rotation by rename (+ HUP), a
broken configuration on HUP kept out, a good one taken, a log that cannot be written and then
can (nothing lost, nothing doubled), a stop while suspended, kill -9 and the dump recovered, a
second instance refused without touching the first one's dump. Needs root (exit 77 otherwise)."""

import os
import signal
import socket
import subprocess
import sys
import threading

sys.path.insert(0, os.path.dirname(__file__))
from harness import Failure, check, run_test, skip, wait_until  # noqa: E402
from nacct_harness import Nacct, Netns, can_use_netns  # noqa: E402
from pcapgen import parse_log  # noqa: E402

nacctd = sys.argv[1]
PORT = 7000

SEND = """
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('', int(sys.argv[2])))
for i in range(int(sys.argv[1])):
    s.sendto(b's' * 72, ('10.202.0.1', 9))
"""


class Sent:
    """What the test sent: datagrams per source port (each 100 IP bytes)."""

    def __init__(self):
        self.by_port = {}

    def add(self, port, n):
        self.by_port[port] = self.by_port.get(port, 0) + n


def send(ns, A, sent, n, port):
    r = subprocess.run(["ip", "netns", "exec", A, sys.executable, "-c", SEND, str(n), str(port)],
                       capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        raise Failure(f"sending failed: {r.stderr}")
    sent.add(port, n)


def counted(paths, port=None):
    """Packets of our test flow (A -> R:9 on eth0) in the given log files, by source port."""
    out = {}
    for p in paths:
        if not os.path.exists(p) or os.path.isdir(p):
            continue
        for t in parse_log(p):
            if len(t) >= 9 and t[1] == "17" and t[2] == "10.202.0.2" and t[4] == "10.202.0.1":
                sp = int(t[3])
                # With disable 7 (9 columns) field 7 is the bytes: 100 per datagram.
                out[sp] = out.get(sp, 0) + (int(t[6]) if len(t) == 10 else int(t[6]) // 100)
    return out if port is None else out.get(port, 0)


def proc_state(pid):
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0]


class Notify:
    """A NOTIFY_SOCKET read continuously, as the service manager does (sd_notify() blocks when
    nobody reads)."""

    def __init__(self, tmp):
        self.path = os.path.join(tmp, "notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.messages = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        while True:
            self.messages.append(self.sock.recv(4096).decode())

    def seen(self, text):
        return any(text in m for m in list(self.messages))


def main(tmp):
    why = can_use_netns()
    if why:
        skip(why)
    ns = Netns()
    n = n2 = None
    try:
        A, R = ns.add("nsgA"), ns.add("nsgR")
        subprocess.run(["ip", "link", "add", "eth0", "netns", A, "type", "veth", "peer", "name", "eth0",
                        "netns", R], check=True)
        ns.run(A, "ip addr add 10.202.0.2/24 dev eth0 && ip link set eth0 up")
        ns.run(R, "ip addr add 10.202.0.1/24 dev eth0 && ip link set eth0 up")
        sent = Sent()
        n = Nacct(nacctd, tmp, "sig", flush=1, fdelay=0, extra="errdelay 1\n")
        logs = [n.log]

        notify = Notify(tmp)
        os.environ["NOTIFY_SOCKET"] = notify.path
        try:
            n.start(netns=R)
        finally:
            del os.environ["NOTIFY_SOCKET"]
        wait_until(lambda: notify.seen("READY=1"), "READY=1 from nacctd")
        check(True, "Type=notify: READY=1 once capturing")
        wait_until(lambda: notify.seen("packets accounted"), "a STATUS= after a flush")
        check(True, "STATUS= tells what is accounted")

        send(ns, A, sent, 50, PORT)
        wait_until(lambda: counted(logs, PORT) == 50, "50 datagrams in the log")
        check(True, "traffic is logged")

        # WINCH, USR1, USR2
        n.send(signal.SIGWINCH)
        n.wait_output("nacctd (tracksuite)")
        n.send(signal.SIGUSR1)
        n.wait_output("Debug mask now 256")
        n.send(signal.SIGUSR1)
        n.wait_output("Debug mask now 384")
        n.send(signal.SIGUSR2)
        n.wait_output("Turning off debugging")
        check(True, "WINCH prints the version, USR1 adds debug categories, USR2 turns them off")

        # TSTP: the log is left alone (for archiving), the process keeps running.
        n.send(signal.SIGTSTP)
        n.wait_output("suspended (SIGTSTP)")
        check(proc_state(n.proc.pid) in ("S", "R"), "SIGTSTP does not stop the process")
        before = os.path.getsize(n.log)
        send(ns, A, sent, 30, PORT + 1)
        n.wait_output("NACCT_WRITING=no", count=3)
        check(os.path.getsize(n.log) == before, "while suspended nothing is written")
        # Rotation the Debian way: TSTP, mv, CONT.
        rotated = n.log + ".1"
        os.rename(n.log, rotated)
        logs.append(rotated)
        n.send(signal.SIGCONT)
        wait_until(lambda: counted(logs, PORT + 1) == 30, "the held lines after SIGCONT")
        check(os.path.exists(n.log) and counted([n.log], PORT + 1) == 30,
              "after SIGCONT the held lines go to a new log file")

        # Rotation by rename + HUP, no TSTP.
        rotated2 = n.log + ".2"
        os.rename(n.log, rotated2)
        logs.append(rotated2)
        n.send(signal.SIGHUP)
        n.wait_output("Reloaded")
        send(ns, A, sent, 20, PORT + 2)
        wait_until(lambda: counted([n.log], PORT + 2) == 20, "lines in the new log after rename + HUP")
        check(True, "rename + SIGHUP: later lines go to a new file")

        # A configuration that cannot be used on HUP (the dump file is the log) is reported
        # with file:line, the old one kept, nothing touched; visible in the status line.
        with open(n.tab, "a") as f:
            f.write(f"dumpfile {n.log}\n")
        log_before = open(n.log, "rb").read()
        n.send(signal.SIGHUP)
        n.wait_output("keeping the one in use")
        check(f"{n.tab}:6: dumpfile '{n.log}' is the log file named in line 3" in n.output(),
              "the broken line is reported as file:line")
        wait_until(lambda: notify.seen("Reloading '") and notify.seen("failed"),
                   "STATUS= saying the reload failed")
        check(notify.seen("RELOADING=1"), "RELOADING=1 is sent on SIGHUP")
        r = subprocess.run([nacctd, "--check-config", "-c", n.tab], capture_output=True, text=True)
        check(r.returncode == 1 and f"{n.tab}:6:" in r.stderr,
              "ExecReload's --check-config fails on it, so systemctl reload fails")
        send(ns, A, sent, 10, PORT + 3)
        wait_until(lambda: counted(logs, PORT + 3) == 10, "traffic after a broken reload")
        check(open(n.log, "rb").read().startswith(log_before), "the log is intact")
        check(n.proc.poll() is None, "nacctd keeps running with its old configuration")
        # A typo is warned about and ignored, the rest applied.
        n.write_tab(flush=1, fdelay=0, extra="errdelay 1\nbogus-keyword 1\n")
        n.send(signal.SIGHUP)
        n.wait_output("Reloaded", count=2)
        check(f"{n.tab}:6: unknown keyword 'bogus-keyword', ignoring the line." in n.output(),
              "a typo on HUP: warned about with file:line, the rest applied")
        # A new flush interval applies at once: from one hour to one second.
        n.write_tab(flush=3600, fdelay=0, extra="errdelay 1\n")
        n.send(signal.SIGHUP)
        n.wait_output("flushing every 3600 s")
        # The flush that was due under the old interval comes; the next one is an hour away.
        n.wait_output("Flush:", count=n.output().count("Flush:") + 1)
        send(ns, A, sent, 7, PORT + 8)
        n.write_tab(flush=1, fdelay=0, extra="errdelay 1\n")
        n.send(signal.SIGHUP)
        n.wait_output("flushing every 1 s")
        wait_until(lambda: counted(logs, PORT + 8) == 7, "lines within seconds after flush 1", 10)
        check(True, "a reloaded flush interval applies at once")
        # A good configuration is taken: disable 7 -> 9 columns.
        n.write_tab(flush=1, fdelay=0, extra="errdelay 1\ndisable 7\n")
        n.send(signal.SIGHUP)
        n.wait_output("Reloaded", count=5)
        send(ns, A, sent, 5, PORT + 4)

        def nine():
            return [t for t in parse_log(n.log) if len(t) == 9 and t[3] == str(PORT + 4)]
        wait_until(nine, "a 9-column line after the reload")
        check(nine()[0][6] == str(5 * 100), "after HUP with disable 7 the lines have 9 columns")
        n.write_tab(flush=1, fdelay=0, extra="errdelay 1\n")
        n.send(signal.SIGHUP)
        n.wait_output("Reloaded", count=6)

        # The log cannot be written (a directory in its place), then can again.
        rotated3 = n.log + ".3"
        os.rename(n.log, rotated3)
        logs.append(rotated3)
        os.mkdir(n.log)
        send(ns, A, sent, 40, PORT + 5)
        n.wait_output("Failed to append")
        check(counted(logs, PORT + 5) == 0, "a failed write writes nothing")
        os.rmdir(n.log)
        wait_until(lambda: counted(logs, PORT + 5) == 40, "the lines written after the failure", 15)
        check(True, "once the log can be written again, the held lines arrive, none lost")

        # Stop while suspended: everything is written anyway (the original lost it).
        send(ns, A, sent, 15, PORT + 6)
        n.send(signal.SIGTSTP)
        n.wait_output("suspended (SIGTSTP)", count=2)
        rc = n.stop()
        check(rc == 0, f"SIGTERM: exit status 0 ({rc})")
        wait_until(lambda: notify.seen("STOPPING=1"), "STOPPING=1")
        check(True, "STOPPING=1 is sent")
        check(counted(logs, PORT + 6) == 15, "a stop while suspended still writes everything")
        check(counted(logs) == sent.by_port, f"every datagram sent was logged exactly once ({counted(logs)} vs {sent.by_port})")
        check(not os.path.exists(n.dump), "a clean stop leaves no dump file")
        tot = n.query("SELECT sum(packets) FROM totals")[0][0]
        check(tot >= sum(sent.by_port.values()), "SQLite has counted them too")

        # kill -9 with records in the dump: the next start puts them into the log.
        n.write_tab(flush=1, fdelay=30, extra="activetimeout 0\n")
        n.start(netns=R)
        n.wait_output("accounting on 2 interfaces", count=2)
        send(ns, A, sent, 25, PORT + 7)
        wait_until(lambda: os.path.exists(n.dump) and str(PORT + 7) in open(n.dump).read(),
                   "the flow in the dump file")
        # A second instance on the same database refuses and leaves the dump alone.
        n2 = Nacct(nacctd, tmp, "sig2")
        r = subprocess.run(["ip", "netns", "exec", R, nacctd, "-c", n.tab, "--db", n.db],
                           capture_output=True, text=True, timeout=20,
                           env=dict(os.environ, TRACKSUITE_LOG_TARGET="console"))
        check(r.returncode == 1 and "Another nacctd is using" in r.stderr,
              "a second instance on the same database is refused")
        check(os.path.exists(n.dump) and not os.path.exists(n.dump + ".o"),
              "... without touching the running one's dump (the original renamed it)")
        n.proc.kill()
        n.proc.wait()
        check(counted(logs, PORT + 7) == 0, "killed before the flow was written")
        n.write_tab(flush=1, fdelay=0)
        n.start(netns=R)
        n.wait_output("Recovered")
        check(counted(logs, PORT + 7) == 25, "the restart recovered the dump into the log")
        rc = n.stop()
        check(rc == 0, "and stops cleanly")
    finally:
        for x in (n, n2):
            if x:
                x.kill()
        ns.cleanup()


run_test(main)
