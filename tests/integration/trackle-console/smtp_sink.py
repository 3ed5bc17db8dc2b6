"""smtp_sink.py - a loopback SMTP sink (aiosmtpd) for the trackle console tests.

    with SmtpSink() as sink:          # listens on 127.0.0.1, a free port
        sink.url                       # "smtp://127.0.0.1:PORT"
        sink.wait(1)                   # the received messages: [(from, [rcpt], bytes)]
        sink.raw                       # the same messages' bytes exactly as received
    SmtpSink(reject="bad@example.org") answers 550 to RCPT TO that address.
A quoted-printable body is decoded in `messages` (headers as received), as a mail reader shows
it; `raw` keeps what went over the wire.
"""

import quopri
import re
import socket
import threading
import time

try:
    from aiosmtpd.controller import Controller
except ImportError:  # the test says why it skips
    Controller = None


class _Handler:
    def __init__(self, sink):
        self.sink = sink

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.sink.reject:
            return "550 5.1.1 no such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content
        with self.sink.lock:
            self.sink.raw.append(raw)
            self.sink.messages.append((envelope.mail_from, list(envelope.rcpt_tos), decoded(raw)))
        return "250 Message accepted"


def decoded(raw):
    """raw with a quoted-printable body decoded and its header saying 8bit."""
    m = re.search(rb"\r?\n\r?\n", raw)
    if not m:
        return raw
    head, body = raw[:m.end()], raw[m.end():]
    cte = re.compile(rb"(?im)^(content-transfer-encoding:)[ \t]*quoted-printable[ \t]*(\r?)$")
    if not cte.search(head):
        return raw
    return cte.sub(rb"\1 8bit\2", head) + quopri.decodestring(body.replace(b"\r\n", b"\n"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SmtpSink:
    def __init__(self, reject=()):
        if Controller is None:
            raise RuntimeError("python3-aiosmtpd is not installed")
        self.reject = set(reject)
        self.messages = []
        self.raw = []
        self.lock = threading.Lock()
        self.port = free_port()
        self.url = f"smtp://127.0.0.1:{self.port}"
        # decode_data=False: original_content holds the bytes as sent (dots un-stuffed).
        self.controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port,
                                     decode_data=False)

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *a):
        self.controller.stop()

    def wait(self, n, timeout=20.0):
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                if len(self.messages) >= n:
                    return list(self.messages)
            if time.monotonic() > deadline:
                raise TimeoutError(f"the SMTP sink got {len(self.messages)} of {n} messages")
            time.sleep(0.02)
