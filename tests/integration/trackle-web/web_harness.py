"""web_harness.py - trackled with its web for the trackle-web tests: a real trackled (root, in
a private mount namespace with its own /run/tracksuite), its control socket and HTTP port on
loopback, an SMTP sink (aiosmtpd) as the relay, and an HTTP client with a cookie jar.

    t = Site(binary, tmp, sink)      # trackled started; t.port, t.ctl, t.db
    t.rpc({"op": "user.add", ...})   # the control socket, as root
    c = t.client()                   # a browser-like client: cookies, source address
    st, h, body = c.get("/api/tickets")
"""

import atexit
import http.client
import json
import os
import re
import signal
import socket
import sqlite3
import struct
import subprocess
import time

from harness import Failure, check, skip, wait_until

CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def need_root():
    if os.geteuid() != 0:
        skip("needs root: trackled runs in a private mount namespace with its own "
             "/run/tracksuite")
    for tool in ("unshare", "mount", "nsenter"):
        if subprocess.run(["sh", "-c", f"command -v {tool}"], capture_output=True).returncode:
            skip(f"{tool} is missing")


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers          # list of (lower-case name, value)
        self.body = body                # bytes

    def header(self, name):
        for k, v in self.headers:
            if k == name.lower():
                return v
        return None

    def all(self, name):
        return [v for k, v in self.headers if k == name.lower()]

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"<{self.status} {self.body[:200]!r}>"


class Client:
    """Keeps cookies as a browser does (per name), sends them back; optional source address
    (127.0.0.x) so that rate limits per client can be tried from several clients."""

    def __init__(self, port, source="127.0.0.1", context=None):
        self.port = port
        self.source = source
        self.context = context  # an ssl.SSLContext: HTTPS
        self.cookies = {}
        self.set_cookies = []   # every Set-Cookie line seen, for the flag checks
        self.csrf = None        # X-CSRF-Token for the API after login

    def request(self, method, path, body=None, headers=None, json_body=None, form=None,
                api_token=True):
        h = dict(headers or {})
        if json_body is not None:
            body = json.dumps(json_body).encode()
            h["Content-Type"] = "application/json"
        if form is not None:
            import urllib.parse
            body = urllib.parse.urlencode(form).encode()
            h["Content-Type"] = "application/x-www-form-urlencoded"
        if self.cookies:
            h["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if api_token and self.csrf and method not in ("GET", "HEAD"):
            h.setdefault("X-CSRF-Token", self.csrf)
        if self.context:
            c = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=30,
                                            source_address=(self.source, 0),
                                            context=self.context)
        else:
            c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30,
                                           source_address=(self.source, 0))
        try:
            c.request(method, path, body=body, headers=h)
            r = c.getresponse()
            data = r.read()
            headers = [(k.lower(), v) for k, v in r.getheaders()]
        finally:
            c.close()
        resp = Response(r.status, headers, data)
        for line in resp.all("set-cookie"):
            self.set_cookies.append(line)
            name, _, rest = line.partition("=")
            value = rest.split(";", 1)[0]
            if "Max-Age=0" in line or value == "":
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        return resp

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def form_token(self, path="/login"):
        """The CSRF token of the forms a page gives this client."""
        r = self.get(path)
        m = re.search(r'name="csrf" value="([0-9a-f]+)"', r.text)
        if not m:
            raise Failure(f"no CSRF token in the form of {path}: {r}")
        return m.group(1)


class Site:
    def __init__(self, binary, tmp, sink, staff="staff@example.org", extra=""):
        self.binary = binary
        self.dir = tmp
        self.port = free_port()
        self.ctl = None  # the control socket in trackled's mount namespace, via /proc
        self.db = os.path.join(tmp, "trackle.db")
        self.conf = os.path.join(tmp, "trackle.conf")
        self.log_path = os.path.join(tmp, "trackled.log")
        self.base = f"http://127.0.0.1:{self.port}"
        with open(self.conf, "w") as f:
            f.write(f"[Web]\nBaseURL={self.base}\n\n[Mail]\nRelay={sink.url}\n"
                    f"From=trackle@example.org\nStaff={staff}\n{extra}")
        self.proc = None
        self.start()

    def start(self):
        log = open(self.log_path, "ab")
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "TRACKSUITE_LOG_TARGET": "console",
               "ASAN_OPTIONS": "detect_leaks=0", "LANG": "C.UTF-8"}
        # unshare without -f execs: the process is trackled itself.
        self.proc = subprocess.Popen(
            ["unshare", "-m", "--propagation", "private", "sh", "-c",
             'mkdir -p /run/tracksuite && mount -t tmpfs -o mode=0755 tmpfs /run/tracksuite '
             '&& exec "$@"', "sh", self.binary, "-c", self.conf, "-d", self.db,
             "--listen", "/run/tracksuite/trackle.sock", "--listen-http",
             f"127.0.0.1:{self.port}"],
            env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()
        # a test that fails half-way must not leave its trackled behind
        atexit.register(self._reap, self.proc)
        self.ctl = f"/proc/{self.proc.pid}/root/run/tracksuite/trackle.sock"
        wait_until(self.answers, "trackled to answer HTTP", 30)
        return self

    @staticmethod
    def _reap(proc):
        if proc.poll() is None:
            proc.kill()
            proc.wait()

    def answers(self):
        if self.proc.poll() is not None:
            raise Failure(f"trackled exited with {self.proc.returncode}: {self.logtext()}")
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return os.path.exists(self.ctl)
        except OSError:
            return False

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise Failure("trackled did not stop within 30 s of SIGTERM")
        return self.proc.returncode

    def admin(self, tool, *args, input=None):
        """trackle-admin in trackled's mount namespace (its compiled-in socket path)."""
        return subprocess.run(["nsenter", "-t", str(self.proc.pid), "-m", "--", tool, *args],
                              input=input, capture_output=True, text=True, timeout=60)

    def logtext(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def client(self, source="127.0.0.1", context=None):
        return Client(self.port, source, context)

    def rpc(self, request):
        data = json.dumps(request).encode()
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(30)
            s.connect(self.ctl)
            s.sendall(struct.pack("=IHH", len(data), 0x100, 0) + data)
            hdr = _recv_exact(s, 8)
            length, _, _ = struct.unpack("=IHH", hdr)
            return json.loads(_recv_exact(s, length))

    def query(self, sql, args=()):
        con = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=10)
        try:
            return con.execute(sql, args).fetchall()
        finally:
            con.close()


def _recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("connection closed")
        buf += chunk
    return buf


def mails_to(sink, address):
    with sink.lock:
        return [m for m in sink.messages if address in m[1]]


def wait_mail(sink, address, n=1, timeout=30):
    return wait_until(lambda: len(mails_to(sink, address)) >= n and mails_to(sink, address),
                      f"{n} mail(s) to {address}", timeout)


def confirm_link(message, base):
    m = re.search(re.escape(base) + r"(/confirm/[0-9a-f]{64})", message.decode("utf-8", "replace"))
    if not m:
        raise Failure(f"no confirmation link in the mail: {message[:400]!r}")
    return m.group(1)


def confirm(client, path):
    """What a person does with the mailed link: open it, press the button."""
    r = client.get(path)
    check(r.status == 200 and "<form" in r.text, f"the link {path[:20]}... shows a form ({r})")
    m = re.search(r'name="csrf" value="([0-9a-f]+)"', r.text)
    return client.post(path, form={"csrf": m.group(1)})
