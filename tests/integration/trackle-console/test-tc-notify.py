#!/usr/bin/python3
"""test-tc-notify.py - trackle-notify against a real trackled and a loopback SMTP sink: the
digest lists every open ticket with its details and the status changes since the previous
digest; it prints nothing on success; a second run does not repeat a change; a dead relay is
exit 1 with a message and loses nothing (the next run catches up); configuration errors name
file:line. argv: TRACKLED TRACKLE LIBTRACKLE TRACKLE_LOGINUID; TC_NOTIFY: trackle-notify."""

import email
import email.policy
import os
import subprocess

import smtp_sink
import tk_harness as tk

NOTIFY = os.environ.get("TC_NOTIFY", "")


def main(t):
    if not NOTIFY or not os.path.exists(NOTIFY):
        tk.skip("trackle-notify is not built")
    try:
        smtp_sink.SmtpSink()
    except Exception as e:
        tk.skip(f"no SMTP sink: {e}")
    conf = os.path.join(t.tmp, "notify.conf")

    def configure(relay, extra=""):
        tk.write(conf, "[Trackle]\nSiteName=ops ✓\n[Mail]\n"
                 f"Relay={relay}\nFrom=trackle@example.org\n"
                 f"Staff=staff@example.org, oncall@example.org\n{extra}")

    def notify(*args):
        p = subprocess.run([NOTIFY, "--config", conf] + list(args), capture_output=True,
                           text=True, timeout=60,
                           env={"PATH": tk.PATH, "ASAN_OPTIONS": "detect_leaks=0",
                                "TRACKSUITE_LOG_TARGET": "console"})
        return p

    def body(raw):
        m = email.message_from_bytes(raw, policy=email.policy.default)
        return m, m.get_content()

    rpc = tk.rpc
    a = rpc({"op": "ticket.new", "summary": "mail bounces", "description":
             "Since Tuesday\nall mail to lists bounces.\n"})["ticket"]["id"]
    b = rpc({"op": "ticket.new", "summary": "disk full on web1"})["ticket"]["id"]
    c = rpc({"op": "ticket.new", "summary": "old printer"})["ticket"]["id"]
    rpc({"op": "ticket.update", "id": a, "fields": {"status": "assigned", "owner": "melvin"}})
    rpc({"op": "ticket.update", "id": c, "fields": {"status": "closed", "resolution": "fixed"}})

    with smtp_sink.SmtpSink() as sink:
        configure(sink.url)
        p = notify()
        t.expect(p.returncode == 0 and p.stdout == "" and p.stderr == "",
                 "trackle-notify: exit 0, no output", p)
        frm, rcpts, raw = sink.wait(1)[0]
        m, text = body(raw)
        t.expect(rcpts == ["staff@example.org", "oncall@example.org"] and
                 frm == "trackle@example.org", "to every Staff= address, from From=",
                 (frm, rcpts))
        t.expect(str(m["Subject"]) == "[ops ✓] trackle digest: 2 open tickets, 6 changes",
                 "the subject counts open tickets and changes (UTF-8 encoded)", m["Subject"])
        t.expect(f"#{a} mail bounces" in text and f"#{b} disk full on web1" in text and
                 f"#{c} old printer\n" not in text.split("Open tickets")[1],
                 "every open ticket is listed, the closed one not", text)
        t.expect("owner      melvin" in text and "    all mail to lists bounces." in text,
                 "with its details and description", text)
        t.expect(f"#{a} status new -> assigned by root: mail bounces" in text and
                 f"#{c} status new -> closed" in text and f"#{b} created by root" in text,
                 "the status changes since the previous digest", text)

        p = notify()
        _, text2 = body(sink.wait(2)[1][2])
        t.expect(p.returncode == 0 and "Status changes since the previous digest: 0" in text2
                 and "-> assigned" not in text2 and f"#{a} mail bounces" in text2,
                 "the next digest repeats no change, still lists the open tickets", text2)

        rpc({"op": "ticket.update", "id": b, "fields": {"status": "closed"}})
        p = notify("--dry-run")
        t.expect(p.returncode == 0 and f"#{b} status new -> closed" in p.stdout and
                 len(sink.messages) == 2, "--dry-run prints the message and sends nothing", p)
    # the relay is down now
    p = notify()
    t.expect(p.returncode == 1 and "Sending the digest failed" in p.stderr and
             "digest was not sent" in p.stderr and
             "127.0.0.1" in p.stderr, "a dead relay: exit 1, the reason on stderr", p)
    rpc({"op": "ticket.update", "id": a, "fields": {"status": "closed"}})
    with smtp_sink.SmtpSink() as sink:
        configure(sink.url)
        p = notify()
        _, text3 = body(sink.wait(1)[0][2])
        t.expect(p.returncode == 0 and f"#{b} status new -> closed" in text3 and
                 f"#{a} status assigned -> closed" in text3 and
                 "Open tickets: 0" in text3,
                 "after the outage the digest catches up with every change it missed", text3)
        mark = rpc({"op": "setting.get", "name": "notify.digest"})["setting"]["value"]
        last = t.trackled.query("SELECT MAX(id) FROM ticket_change")[0][0]
        t.expect(mark == str(last), "the watermark is the newest history row", (mark, last))

        configure(sink.url, "Bogus=1\n")
        tk.write(conf, "[Mail]\nRelay=http://example.org/\nFrom=x@example.org\n"
                 "Staff=s@example.org\n")
        p = notify()
        t.expect(p.returncode == 1 and f"{conf}:2:" in p.stderr,
                 "a bad Relay= is reported with file:line", p)
        tk.write(conf, f"[Mail]\nRelay={sink.url}\nFrom=x@example.org\nStaff=\n")
        p = notify()
        t.expect(p.returncode == 1 and "Staff=" in p.stderr, "no Staff= is an error", p)
        t.expect(len(sink.messages) == 1, "and nothing was sent for them")


tk.run(main)
