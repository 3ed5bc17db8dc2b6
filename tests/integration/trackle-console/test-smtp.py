#!/usr/bin/python3
"""test-smtp.py - lib/smtp.c against a loopback SMTP sink: the message arrives byte for byte
(lines starting with '.' survive dot-stuffing, LF becomes CRLF), every recipient gets it, a
refused recipient and a dead relay are errors that say why, a bad URL is refused before any
connection. argv: SMTP_SEND (the tests' helper binary)."""

import subprocess
import sys

try:
    import smtp_sink
    smtp_sink.SmtpSink()
except Exception as e:
    print(f"skipped: no SMTP sink ({e})")
    sys.exit(77)

HELPER = sys.argv[1]
failures = 0


def check(cond, what):
    global failures
    print(("ok: " if cond else "FAIL: ") + what, flush=True)
    if not cond:
        failures += 1


def send(url, sender, rcpts, message):
    return subprocess.run([HELPER, url, sender] + rcpts, input=message, capture_output=True,
                          timeout=60)


body = ("Subject: digest\nFrom: trackle@example.org\nTo: staff@example.org\n\n"
        "first line\n.\n..two dots\n.leading dot\nUTF-8: Grüße ✓\n\nlast line\n").encode()

with smtp_sink.SmtpSink(reject={"nobody@example.org"}) as sink:
    p = send(sink.url, "trackle@example.org", ["staff@example.org", "ops@example.org"], body)
    check(p.returncode == 0 and p.stdout == b"" and p.stderr == b"",
          f"smtp_send succeeds silently ({p.returncode} {p.stderr!r})")
    msgs = sink.wait(1)
    frm, rcpts, data = msgs[0]
    check(frm == "trackle@example.org", f"envelope sender ({frm})")
    check(rcpts == ["staff@example.org", "ops@example.org"], f"both recipients ({rcpts})")
    check(data == body.replace(b"\n", b"\r\n"), f"content byte for byte, dots intact ({data!r})")

    p = send(sink.url, "trackle@example.org", ["nobody@example.org"], body)
    check(p.returncode == 1 and b"550" in p.stderr,
          f"a refused recipient is an error with the reply ({p.stderr!r})")

    p = send(sink.url, "trackle@example.org", ["a@example.org\r\nRCPT TO:<b@example.org>"],
             body)
    check(p.returncode == 1 and b"not a mail address" in p.stderr,
          f"CR/LF in an address is refused ({p.stderr!r})")
    check(len(sink.messages) == 1, "nothing else was delivered")

dead = smtp_sink.free_port()
p = send(f"smtp://127.0.0.1:{dead}", "trackle@example.org", ["staff@example.org"], body)
check(p.returncode == 1 and b"127.0.0.1" in p.stderr,
      f"a dead relay is an error naming it ({p.stderr!r})")
for url in ("http://127.0.0.1/", "file:///etc/passwd", "smtp://", "smtp:// x"):
    p = send(url, "trackle@example.org", ["staff@example.org"], body)
    check(p.returncode == 1 and b"not an smtp://" in p.stderr, f"relay {url!r} is refused")

sys.exit(1 if failures else 0)
