"""harness.py - shared helpers for tracksuite integration tests: temp dirs, free loopback
ports, trackerd under systemd-socket-activate, polling with deadlines, database queries."""

import atexit
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time

SKIP = 77


class Failure(Exception):
    pass


def check(cond, what):
    """Record a check; raise at the first failure with a clear message."""
    if not cond:
        raise Failure(what)
    print(f"ok: {what}", flush=True)


def skip(reason):
    print(f"skipped: {reason}", flush=True)
    sys.exit(SKIP)


def wait_until(fn, what, timeout=10.0, interval=0.02):
    """Poll fn() until it returns a true value or the deadline passes; return the value."""
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() > deadline:
            raise Failure(f"timed out after {timeout}s waiting for: {what}")
        time.sleep(interval)


def recv_until_closed(s):
    """Everything the peer sends on socket s until it closes (or the socket fails)."""
    got = b""
    try:
        while True:
            b = s.recv(4096)
            if not b:
                break
            got += b
    except OSError:
        pass
    return got


def self_signed_cert(tmp):
    """A self-signed certificate for localhost and 127.0.0.1 made with openssl, as paths
    (cert, key) in tmp; a failed check if openssl fails."""
    cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
    r = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                        "-subj", "/CN=localhost", "-addext",
                        "subjectAltName=IP:127.0.0.1,DNS:localhost",
                        "-keyout", key, "-out", cert], capture_output=True, text=True)
    check(r.returncode == 0, "a self-signed certificate" + ("" if r.returncode == 0 else r.stderr))
    return cert, key


def free_port(family=socket.AF_INET, host="127.0.0.1"):
    with socket.socket(family, socket.SOCK_DGRAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def run_test(main):
    """Run main(tmpdir) and turn Failure into exit status 1 with the message."""
    tmp = tempfile.mkdtemp(prefix="tracksuite-it-")
    try:
        main(tmp)
    except Failure as e:
        print(f"FAIL: {e}", flush=True)
        sys.exit(1)
    finally:
        if os.environ.get("KEEP_TMP"):
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print("all checks passed")


_started = []


@atexit.register
def _stop_leftovers():
    """A failed check ends a test without stop(): never leave a daemon running."""
    for p in _started:
        if p.poll() is None:
            p.kill()
            p.wait()


def _on_sigterm(signum, frame):
    # meson's timeout sends SIGTERM: leave through atexit so the daemons go too
    raise SystemExit(1)


signal.signal(signal.SIGTERM, _on_sigterm)


class ActivatedDaemon:
    """A daemon started the way systemd starts it: socket-activated by fd name through
    systemd-socket-activate, with its own state directory and configuration file, its
    output in a log file. Subclasses say which sockets and arguments."""

    fdname = None
    datagram = False

    def __init__(self, binary, tmp, name, config_name, config, listen):
        self.binary = binary
        self.dir = os.path.join(tmp, name)
        self.state = os.path.join(self.dir, "state")
        os.makedirs(self.state, exist_ok=True)
        self.config = os.path.join(self.dir, config_name)
        with open(self.config, "w") as f:
            f.write(config)
        self.log_path = os.path.join(self.dir, name + ".log")
        self.listen = listen
        self.proc = None

    def command(self):
        """The daemon's own command line, after systemd-socket-activate's."""
        raise NotImplementedError

    def start(self):
        cmd = ["systemd-socket-activate", f"--fdname={self.fdname}"]
        if self.datagram:
            cmd.append("--datagram")
        for l in self.listen:
            cmd += ["-l", l]
        cmd += ["-E", f"STATE_DIRECTORY={self.state}", "-E", "TRACKSUITE_LOG_FIELDS=1",
                "-E", "TRACKSUITE_LOG_TARGET=console", "-E", "ASAN_OPTIONS=detect_leaks=0"]
        self.log = open(self.log_path, "ab")
        self.log_start = self.log.tell()
        self.proc = subprocess.Popen(cmd + self.command(), stdout=self.log,
                                     stderr=subprocess.STDOUT)
        _started.append(self.proc)
        # systemd-socket-activate binds before it waits for the first datagram or
        # connection, which execs the daemon. Wait for the binding so nothing is refused.
        wait_until(self._bound, "systemd-socket-activate to bind its socket")
        return self

    def _bound(self):
        if self.proc.poll() is not None:
            raise Failure(f"socket activator exited early: {self.logtext()}")
        return "Listening on" in self.logtext()

    def logtext(self):
        """What this run (since the last start()) logged."""
        with open(self.log_path, "rb") as f:
            f.seek(getattr(self, "log_start", 0))
            return f.read().decode("utf-8", "replace")

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=15):
        if not self.alive():
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise Failure(f"{os.path.basename(self.binary)} did not exit on {sig!r}")


class Trackerd(ActivatedDaemon):
    """trackerd on a loopback UDP port, its socket passed in under the name 'tracker'."""

    fdname = "tracker"
    datagram = True

    def __init__(self, binary, tmp, config="", listen=None, name="trackerd"):
        self.port = free_port()
        super().__init__(binary, tmp, name, "trackerd.conf", config,
                         listen or [f"127.0.0.1:{self.port}"])

    def command(self):
        return [self.binary, "--config", self.config]

    @property
    def db(self):
        return os.path.join(self.state, "tracker.db")

    @property
    def server(self):
        return self.listen[0]

    def query(self, sql, args=()):
        if not os.path.exists(self.db):
            return None
        con = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=5)
        try:
            return con.execute(sql, args).fetchall()
        except sqlite3.OperationalError:
            return None  # schema not created yet
        finally:
            con.close()

    def uses(self, where="1", args=()):
        r = self.query(f"SELECT count(*) FROM uses WHERE {where}", args)
        return r[0][0] if r else 0

    def wait_uses(self, n, where="1", args=(), timeout=10):
        wait_until(lambda: self.uses(where, args) >= n, f"{n} uses stored ({where})", timeout)
        got = self.uses(where, args)
        check(got == n, f"exactly {n} uses stored where {where} (got {got})")


def make_wrapped(shim, directory, name, real):
    """Install a tracked program the way tracker-wrap does: name -> shim, name.t% = real,
    .t%/name -> ../name.t% (the process keeps its name)."""
    os.makedirs(directory, exist_ok=True)
    target = os.path.join(directory, name + ".t%")
    shutil.copy2(real, target)
    names = os.path.join(directory, ".t%")
    os.makedirs(names, exist_ok=True)
    os.symlink("../" + name + ".t%", os.path.join(names, name))
    link = os.path.join(directory, name)
    os.symlink(os.path.abspath(shim), link)
    return link


def write_script(path, text):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o755)
    return path


def send(addr, payload, family=socket.AF_INET):
    with socket.socket(family, socket.SOCK_DGRAM) as s:
        s.sendto(payload, addr)


def encode(user, host, program, uid=1000, version=1, flags=0, magic=b"TK"):
    """An independent encoder of the tracker datagram, from tracker-protocol(7)."""
    out = bytearray(magic + bytes([version, flags]) + uid.to_bytes(4, "big"))
    for field in (user, host, program):
        b = field if isinstance(field, bytes) else field.encode()
        out += bytes([len(b) & 0xff]) + b
    return bytes(out)
