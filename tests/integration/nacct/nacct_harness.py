"""nacct_harness.py - running nacctd in tests: a naccttab in a temp dir, -r replays, live runs in
network namespaces, log and database checks."""

import os
import signal
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from harness import Failure, check, skip, wait_until  # noqa: E402,F401

from pcapgen import parse_log  # noqa: E402


class Nacct:
    def __init__(self, binary, tmp, name="nacct", extra="", flush=10, fdelay=5,
                 dumpfile=True):
        self.binary = binary
        self.dir = os.path.join(tmp, name)
        os.makedirs(self.dir, exist_ok=True)
        self.log = os.path.join(self.dir, "net-acct.log")
        self.dump = os.path.join(self.dir, "dump")
        self.db = os.path.join(self.dir, "nacct.db")
        self.tab = os.path.join(self.dir, "naccttab")
        self.out = os.path.join(self.dir, "nacctd.out")
        self.write_tab(extra, flush, fdelay, dumpfile)
        self.proc = None

    def write_tab(self, extra="", flush=10, fdelay=5, dumpfile=True, log=None):
        with open(self.tab, "w") as f:
            f.write(f"flush {flush}\nfdelay {fdelay}\nfile {log or self.log}\n")
            if dumpfile:
                f.write(f"dumpfile {self.dump}\n")
            f.write(extra)

    def env(self):
        return dict(os.environ, TRACKSUITE_LOG_TARGET="console", TRACKSUITE_LOG_FIELDS="1")

    def replay(self, pcap, interface=None, expect_rc=0, args=()):
        cmd = [self.binary, "-c", self.tab, "--db", self.db, "-r", pcap, *args]
        if interface:
            cmd += ["-i", interface]
        r = subprocess.run(cmd, capture_output=True, text=True, env=self.env(), timeout=300)
        if r.returncode != expect_rc:
            raise Failure(f"nacctd -r exited {r.returncode}, expected {expect_rc}:\n{r.stderr}")
        return r

    def lines(self):
        if not os.path.exists(self.log):
            return []
        return parse_log(self.log)

    def query(self, sql, args=()):
        con = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=5)
        try:
            return con.execute(sql, args).fetchall()
        finally:
            con.close()

    # ---- live ----
    def start(self, netns=None, args=()):
        cmd = [self.binary, "-c", self.tab, "--db", self.db, *args]
        if netns:
            cmd = ["ip", "netns", "exec", netns] + cmd
        self.outf = open(self.out, "ab")
        self.proc = subprocess.Popen(cmd, stdout=self.outf, stderr=subprocess.STDOUT,
                                     env=self.env())
        return self

    def output(self):
        with open(self.out, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def wait_output(self, text, timeout=10, count=1):
        def ok():
            if self.proc and self.proc.poll() is not None:
                raise Failure(f"nacctd exited early ({self.proc.returncode}):\n{self.output()}")
            return self.output().count(text) >= count
        wait_until(ok, f"nacctd to log {text!r}", timeout)

    def send(self, sig):
        self.proc.send_signal(sig)

    def stop(self, sig=signal.SIGTERM, timeout=20):
        if not self.proc or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise Failure(f"nacctd did not exit on {sig}:\n{self.output()}")

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def can_use_netns():
    if os.geteuid() != 0:
        return "needs root for network namespaces"
    for tool in ("ip", "unshare"):
        if subprocess.run(["which", tool], capture_output=True).returncode != 0:
            return f"{tool} not found"
    name = f"nacctprobe{os.getpid()}"
    r = subprocess.run(["ip", "netns", "add", name], capture_output=True, text=True)
    if r.returncode != 0:
        return f"cannot create a network namespace: {r.stderr.strip()}"
    subprocess.run(["ip", "netns", "del", name], capture_output=True)
    return None


class Netns:
    """Named network namespaces, removed at the end whatever happens."""

    def __init__(self):
        self.names = []

    def add(self, base):
        name = f"{base}{os.getpid()}"
        subprocess.run(["ip", "netns", "add", name], check=True)
        self.names.append(name)
        self.run(name, "ip link set lo up")
        return name

    def run(self, ns, cmd, check_rc=True):
        r = subprocess.run(["ip", "netns", "exec", ns, "sh", "-c", cmd], capture_output=True,
                           text=True)
        if check_rc and r.returncode != 0:
            raise Failure(f"in {ns}: {cmd}: {r.stderr.strip()}")
        return r

    def py(self, ns, code, timeout=60):
        r = subprocess.run(["ip", "netns", "exec", ns, sys.executable, "-c", code],
                           capture_output=True, text=True, timeout=timeout)
        if r.returncode != 0:
            raise Failure(f"in {ns}: python failed: {r.stderr.strip()}")
        return r.stdout

    def cleanup(self):
        for n in self.names:
            subprocess.run(["ip", "netns", "del", n], capture_output=True)
        self.names = []
