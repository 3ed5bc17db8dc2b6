#!/usr/bin/env python3
"""trackled's web over TLS ([Web] TLSCertificate=, TLSKey=): HTTPS answers with the same
headers, cookies get Secure, plain HTTP on the TLS port gets no page."""

import os
import shutil
import socket
import ssl
import subprocess
import sys

from harness import check, run_test, skip
from smtp_sink import Controller, SmtpSink
from web_harness import CSP, Site, need_root

binary = sys.argv[1]


def main(tmp):
    need_root()
    if Controller is None:
        skip("python3-aiosmtpd is not installed")
    if not shutil.which("openssl"):
        skip("openssl is not installed")
    cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
    r = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                        "-subj", "/CN=localhost", "-addext",
                        "subjectAltName=IP:127.0.0.1,DNS:localhost",
                        "-keyout", key, "-out", cert], capture_output=True, text=True)
    check(r.returncode == 0, "a self-signed certificate" + ("" if r.returncode == 0 else r.stderr))
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
            got = b""
            try:
                while True:
                    b = s.recv(4096)
                    if not b:
                        break
                    got += b
            except OSError:
                pass
        check(b"<html" not in got, "plain HTTP on the TLS port gets no page")
        check(t.stop() == 0, "SIGTERM exits 0")


run_test(main)
