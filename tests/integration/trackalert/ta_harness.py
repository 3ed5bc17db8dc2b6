"""ta_harness.py - trackalert under systemd-socket-activate, HTTP requests, a PyNaCl console
client written from the protocol description (spec section 5), a webhook sink."""

import atexit
import base64
import http.client
import http.server
import os
import signal
import socket
import struct
import subprocess
import threading

from harness import ActivatedDaemon, Failure, check, wait_until

KEY = "CRK+jKBpzXNLmM2A4C7OpFCBxiwpYlreCWgGEAIKAQI="


def free_tcp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def basic(user="admin", password="super"):
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


class Trackalert(ActivatedDaemon):
    """trackalert on a loopback TCP port, its socket passed in under the name 'http'."""

    fdname = "http"

    def __init__(self, binary, tmp, config, name="trackalert", args=()):
        self.port = free_tcp_port()
        super().__init__(binary, tmp, name, "trackalert.conf", config,
                         [f"127.0.0.1:{self.port}"])
        self.args = list(args)

    def command(self):
        return [self.binary, "-s", "-C", self.config] + self.args

    @property
    def db(self):
        return os.path.join(self.state, "trackalert.db")

    def start(self, wait_ready=True):
        super().start()
        if wait_ready:
            # The first connection makes systemd-socket-activate exec trackalert.
            wait_until(lambda: self.request("GET", "/command/livez", auth=None)[0] == 200,
                       "trackalert to answer livez", timeout=20)
            wait_until(lambda: "serving on" in self.logtext(), "the start-up message")
        return self

    def connection(self, timeout=10):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def request(self, method, path, body=None, auth=basic(), headers=None, conn=None):
        """Returns (status, headers dict with lower-case names, body text)."""
        own = conn is None
        c = conn or self.connection()
        h = dict(headers or {})
        if auth:
            h["Authorization"] = auth
        try:
            c.request(method, path, body=body, headers=h)
            r = c.getresponse()
            data = r.read().decode("utf-8", "replace")
            return r.status, {k.lower(): v for k, v in r.getheaders()}, data
        except (ConnectionError, OSError):
            return 0, {}, ""
        finally:
            if own:
                c.close()

    def report(self, doc, **kw):
        import json
        return self.request("POST", "/command/report", body=json.dumps(doc), **kw)

    def custom(self, name, attrs=None, **kw):
        import json
        st, _, body = self.request("POST", f"/command/{name}",
                                   body=json.dumps({"attrs": attrs or {}}), **kw)
        return st, (json.loads(body) if body.startswith("{") else body)


def run_cli(binary, config, *args, timeout=20):
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=0")
    return subprocess.run([binary, "-C", config] + list(args), capture_output=True, text=True,
                          timeout=timeout, env=env)


class Console:
    """An independent console client: PyNaCl SecretBox, the original's nonce handshake."""

    def __init__(self, port, key=KEY, host="127.0.0.1"):
        import nacl.secret
        import nacl.utils
        self.box = nacl.secret.SecretBox(base64.b64decode(key))
        self.sock = socket.create_connection((host, port), timeout=10)
        ours = nacl.utils.random(24)
        self.sock.sendall(ours)
        theirs = self._read(24)
        # client: reading = merge(client, server), writing = merge(server, client)
        self.rd = bytearray(ours[:12] + theirs[12:])
        self.wr = bytearray(theirs[:12] + ours[12:])

    def _read(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise ConnectionError("console closed the connection")
            buf += chunk
        return buf

    @staticmethod
    def _inc(nonce):
        v = (int.from_bytes(nonce[:4], "big") + 1) & 0xffffffff
        nonce[:4] = v.to_bytes(4, "big")

    def command(self, text):
        ct = self.box.encrypt(text.encode(), bytes(self.wr)).ciphertext
        self._inc(self.wr)
        self.sock.sendall(struct.pack(">H", len(ct)) + ct)
        (n,) = struct.unpack(">H", self._read(2))
        pt = self.box.decrypt(self._read(n), bytes(self.rd))
        self._inc(self.rd)
        return pt.decode()

    def close(self):
        self.sock.close()


class Sink:
    """A local HTTP server recording webhook POSTs; answers with self.status."""

    def __init__(self):
        self.requests = []
        self.status = 200
        sink = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                sink.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()},
                                      body))
                self.send_response(sink.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
