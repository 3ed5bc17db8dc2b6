"""smtp_sink.py - a loopback SMTP sink (aiosmtpd) for the trackle console tests.

    with SmtpSink() as sink:          # listens on 127.0.0.1, a free port
        sink.url                       # "smtp://127.0.0.1:PORT"
        sink.wait(1)                   # the received messages: [(from, [rcpt], bytes)]
    SmtpSink(reject="bad@example.org") answers 550 to RCPT TO that address.
"""

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
        with self.sink.lock:
            self.sink.messages.append(
                (envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return "250 Message accepted"


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
