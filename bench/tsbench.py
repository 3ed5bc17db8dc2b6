"""tsbench.py - shared plumbing of the bench/run-* scripts: prerequisites, helper builds,
processes we start (and only those), trackerd under systemd-socket-activate, /proc counters."""

import os
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.dirname(BENCH_DIR)
DEFAULT_BUILD = os.path.join(SOURCE_DIR, "build-bench")

CFLAGS = ["-O2", "-std=gnu11", "-D_GNU_SOURCE", "-Wall", "-Wextra", "-Wno-unused-parameter"]

INSTALL_HINT = {
    "gcc": "apt-get install -y gcc libc6-dev",
    "systemd-socket-activate": "apt-get install -y systemd",
    "sqlite3": "apt-get install -y sqlite3",
    "hyperfine": "apt-get install -y hyperfine",
    "perf": "apt-get install -y linux-perf",
    "ss": "apt-get install -y iproute2",
}


def die(msg, code=1):
    print(f"{os.path.basename(sys.argv[0])}: {msg}", file=sys.stderr)
    sys.exit(code)


def check_prereqs(build, tools, binaries):
    """Exit with a list of what to install or build when something is missing."""
    missing = [t for t in tools if shutil.which(t) is None]
    if not os.path.exists("/usr/lib/x86_64-linux-gnu/libc.a") and \
            not any(os.path.exists(p) for p in ("/usr/lib/libc.a", "/usr/lib64/libc.a")):
        missing.append("libc.a (static glibc)")
    problems = [f"'{t}' not found: {INSTALL_HINT.get(t, 'apt-get install -y libc6-dev')}"
                for t in missing]
    for b in binaries:
        if not os.path.isfile(os.path.join(build, b)):
            problems.append(f"'{os.path.join(build, b)}' not built: meson setup {build} "
                            f"{SOURCE_DIR} --buildtype=release && ninja -C {build}")
    if problems:
        die("missing prerequisites:\n  " + "\n  ".join(problems), 2)
    if os.geteuid() != 0:
        print("warning: not root: socket buffers beyond net.core.rmem_max cannot be forced",
              file=sys.stderr)


def build_type(build):
    try:
        with open(os.path.join(build, "meson-info", "intro-buildoptions.json")) as f:
            import json
            for o in json.load(f):
                if o["name"] == "buildtype":
                    return o["value"]
    except (OSError, ValueError, KeyError):
        pass
    return "unknown"


def compile_helper(tmp, build, source, output, extra=(), static=False, with_lib=False):
    cmd = ["gcc"] + CFLAGS + (["-static"] if static else []) + list(extra)
    cmd += ["-I", os.path.join(SOURCE_DIR, "lib"), "-o", os.path.join(tmp, output),
            os.path.join(BENCH_DIR, source)]
    if with_lib:
        cmd.append(os.path.join(build, "lib", "libtracksuite-basic.a"))
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        die(f"compiling {source} failed:\n{r.stderr}")
    return os.path.join(tmp, output)


def machine():
    model = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} CPUs, {model}, Linux {os.uname().release}"


def parse_kv(line):
    return {k: v for k, v in re.findall(r"(\w+)=(\S+)", line)}


def result_line(text, prefix="RESULT"):
    for line in text.splitlines():
        if line.startswith(prefix + " "):
            return parse_kv(line)
    return None


class Session:
    """A temp dir and the processes this script started; cleans both up on every exit path."""

    def __init__(self, keep=False):
        self.tmp = tempfile.mkdtemp(prefix="tracksuite-bench.")
        self.keep = keep
        self.procs = []
        self.restore = []  # callables run at exit (sysctl values)
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGHUP, self._on_signal)

    def _on_signal(self, signum, frame):
        raise KeyboardInterrupt

    def start(self, argv, **kw):
        p = subprocess.Popen(argv, **kw)
        self.procs.append(p)
        return p

    def stop(self, p, sig=signal.SIGTERM, timeout=10):
        """Signal one process we started, by its PID, and reap it."""
        if p.poll() is None:
            try:
                os.kill(p.pid, sig)
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                os.kill(p.pid, signal.SIGKILL)
                p.wait()
            except ProcessLookupError:
                pass
        if p in self.procs:
            self.procs.remove(p)
        return p.returncode

    def close(self):
        for p in list(self.procs):
            self.stop(p, timeout=5)
        for f in reversed(self.restore):
            try:
                f()
            except OSError as e:
                print(f"warning: restoring failed: {e}", file=sys.stderr)
        if self.keep:
            print(f"kept {self.tmp}", file=sys.stderr)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def udp_socket_stats(port, inode=None):
    """(rx_queue bytes, drops) of the IPv4 UDP socket bound to 127.0.0.1:port, or None."""
    want = f"0100007F:{port:04X}"
    with open("/proc/net/udp") as f:
        next(f)
        for line in f:
            t = line.split()
            if t[1] == want and (inode is None or int(t[9]) == inode):
                return int(t[4].split(":")[1], 16), int(t[12])
    return None


def snmp_udp():
    with open("/proc/net/snmp") as f:
        lines = [l.split() for l in f if l.startswith("Udp:")]
    return dict(zip(lines[0][1:], map(int, lines[1][1:])))


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_io(pid):
    """/proc/PID/io counters: rchar, wchar (bytes through read/write calls), syscr, syscw."""
    with open(f"/proc/{pid}/io") as f:
        return {k: int(v) for k, v in (l.split(":") for l in f)}


def sysctl_read(name):
    with open("/proc/sys/" + name.replace(".", "/")) as f:
        return int(f.read().split()[0])


def sysctl_raise(session, name, value):
    """Raise a sysctl to at least value if we may; restore it at exit. Returns what is in force."""
    old = sysctl_read(name)
    if old >= value:
        return old, False
    try:
        with open("/proc/sys/" + name.replace(".", "/"), "w") as f:
            f.write(str(value))
    except OSError:
        return old, False

    def restore():
        with open("/proc/sys/" + name.replace(".", "/"), "w") as f:
            f.write(str(old))
    session.restore.append(restore)
    return sysctl_read(name), True


class Trackerd:
    """trackerd under systemd-socket-activate, with a notification socket of our own so we see
    READY=1 and every STATUS= (which trackerd sends after each committed batch)."""

    STATUS_RE = re.compile(rb"STATUS=(\d+) uses stored")

    def __init__(self, session, build, conf_text, notify=True, name="trackerd", binary=None):
        self.session = session
        self.dir = os.path.join(session.tmp, name)
        os.makedirs(self.dir)
        self.state = os.path.join(self.dir, "state")
        os.makedirs(self.state)
        self.conf = os.path.join(self.dir, "trackerd.conf")
        with open(self.conf, "w") as f:
            f.write(conf_text)
        self.db = os.path.join(self.state, "tracker.db")
        self.binary = binary or os.path.join(build, "services", "trackerd", "trackerd")
        self.port = free_udp_port()
        self.notify = notify
        self.ready = threading.Event()
        self.stored = 0          # last STATUS count
        self.stored_at = 0       # time.monotonic_ns() when it arrived
        self.events = 0
        self.cond = threading.Condition()
        self.proc = None
        self.nsock = None

    def start(self):
        argv = ["systemd-socket-activate", "--datagram", "-l", f"127.0.0.1:{self.port}",
                "--fdname=tracker", "-E", f"STATE_DIRECTORY={self.state}"]
        if self.notify:
            path = os.path.join(self.dir, "notify")
            self.nsock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            self.nsock.bind(path)
            self.nsock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
            argv += ["-E", f"NOTIFY_SOCKET={path}"]
            threading.Thread(target=self._reader, daemon=True).start()
        argv += [self.binary, "-c", self.conf]
        self.log = open(os.path.join(self.dir, "log"), "w+")
        self.proc = self.session.start(argv, stdout=self.log, stderr=subprocess.STDOUT)
        # The socket exists once systemd-socket-activate listens; trackerd itself only starts
        # at the first datagram. Wait for the socket, with a deadline.
        deadline = time.monotonic() + 10
        while udp_socket_stats(self.port) is None:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"systemd-socket-activate did not listen: {self.logtext()}")
            time.sleep(0.01)

    def _reader(self):
        while True:
            try:
                data = self.nsock.recv(4096)
            except OSError:
                return
            t = time.monotonic_ns()
            if b"READY=1" in data:
                self.ready.set()
            m = self.STATUS_RE.search(data)
            if m:
                with self.cond:
                    self.stored = int(m.group(1))
                    self.stored_at = t
                    self.events += 1
                    self.cond.notify_all()

    def wait_stored(self, target, stall_s=10.0, deadline_s=600.0):
        """Wait until trackerd reports target uses stored; give up when nothing progresses for
        stall_s or at the deadline. Returns (stored, monotonic ns it was reported)."""
        end = time.monotonic() + deadline_s
        with self.cond:
            last, last_change = self.stored, time.monotonic()
            while self.stored < target:
                now = time.monotonic()
                if now > end or now - last_change > stall_s or self.proc.poll() is not None:
                    break
                self.cond.wait(0.2)
                if self.stored != last:
                    last, last_change = self.stored, time.monotonic()
            return self.stored, self.stored_at

    def count_rows(self):
        con = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=30)
        try:
            return con.execute("SELECT count(*) FROM uses").fetchone()[0]
        finally:
            con.close()

    def query(self, sql):
        con = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=30)
        try:
            return con.execute(sql).fetchall()
        finally:
            con.close()

    def wait_rows(self, target, stall_s=10.0, deadline_s=600.0, interval=0.05):
        """Without notifications: poll the row count until it reaches target or stops growing.
        Returns (rows, monotonic ns of the first poll that saw that count)."""
        end = time.monotonic() + deadline_s
        last, last_change, seen_at = -1, time.monotonic(), 0
        while True:
            try:
                rows = self.count_rows()
            except sqlite3.Error:
                rows = last
            t = time.monotonic_ns()
            if rows != last:
                last, last_change, seen_at = rows, time.monotonic(), t
            if rows >= target or time.monotonic() - last_change > stall_s or \
                    time.monotonic() > end:
                return last, seen_at
            time.sleep(interval)

    def socket_rcvbuf(self):
        """The receive buffer in force as ss(8) shows it (rb), or None."""
        if shutil.which("ss") is None:
            return None
        r = subprocess.run(["ss", "-uanm", f"sport = :{self.port}"], capture_output=True,
                           text=True)
        m = re.search(r"rb(\d+)", r.stdout)
        return int(m.group(1)) if m else None

    def logtext(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def stop(self):
        if self.proc:
            self.session.stop(self.proc)
        if self.nsock:
            self.nsock.close()
        self.log.close()
        # Each run's database goes at once: dirty pages of earlier runs still being written
        # back would slow the next run down.
        if not self.session.keep:
            shutil.rmtree(self.dir, ignore_errors=True)


def median(v):
    return statistics.median(v) if v else float("nan")


def percentile(v, p):
    """Nearest-rank percentile, as exec-driver computes it."""
    s = sorted(v)
    k = max(1, -(-len(s) * p // 100))
    return s[int(k) - 1]
