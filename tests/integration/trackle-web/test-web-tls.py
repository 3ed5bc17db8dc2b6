#!/usr/bin/env python3
"""trackled's web over TLS ([Web] TLSCertificate=, TLSKey=): HTTPS answers with the same
headers, cookies get Secure, plain HTTP on the TLS port gets no page."""

import shutil
import socket
import ssl
import sys

from harness import check, recv_until_closed, run_test, self_signed_cert, skip
from smtp_sink import Controller, SmtpSink
from web_harness import CSP, Site, need_root

binary = sys.argv[1]


def main(tmp):
    need_root()
    if Controller is None:
        skip("python3-aiosmtpd is not installed")
    if not shutil.which("openssl"):
        skip("openssl is not installed")
    cert, key = self_signed_cert(tmp)
    ctx = ssl.create_default_context(cafile=cert)
    with SmtpSink() as sink:
        t = Site(binary, tmp, sink, extra=f"\n[Web]\nTLSCertificate={cert}\nTLSKey={key}\n")
        r = t.rpc({"op": "user.add", "name": "melvin", "email": "melvin@example.org",
                   "password": "pw"})
        check(r.get("ok") is True, "an account")
        c = t.client(context=ctx)
        r = c.get("/")
        check(r.status == 200 and r.header("content-security-policy") == CSP,
              f"HTTPS answers with the CSP ({r})")
        r = c.post("/api/login", json_body={"user": "melvin", "password": "pw"})
        check(r.status == 200, f"login over HTTPS ({r})")
        for line in c.set_cookies:
            check("Secure" in line and "HttpOnly" in line and "SameSite=Strict" in line,
                  f"under TLS the cookie is Secure: {line.split('=')[0]}")
        with socket.create_connection(("127.0.0.1", t.port), timeout=10) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            got = recv_until_closed(s)
        check(b"<html" not in got, "plain HTTP on the TLS port gets no page")
        check(t.stop() == 0, "SIGTERM exits 0")


run_test(main)
