#!/usr/bin/env python3
"""The paper's first sample workflow through the JSON API and the mail (issue 10): Alice files a
ticket without an account and confirms it by the mailed link; the staff is notified in full;
Bob subscribes and confirms; a sysadmin logs in, comments and closes the ticket; Bob gets the
abbreviated notice. Then a relay outage across a restart of trackled: the mail is delayed,
not lost."""

import socket
import sys
import time

from harness import check, run_test, wait_until
from smtp_sink import Controller, SmtpSink, _Handler
from web_harness import CSP, Site, confirm, confirm_link, mails_to, need_root, wait_mail

binary = sys.argv[1]


# one line longer than SMTP allows (998), with '=' and UTF-8 in it
LONG = "config=value ümlaut " * 150


def main(tmp):
    need_root()
    if Controller is None:
        from harness import skip
        skip("python3-aiosmtpd is not installed")
    with SmtpSink() as sink:
        t = Site(binary, tmp, sink, staff="staff@example.org, ops@example.org")
        r = t.rpc({"op": "user.add", "name": "melvin", "email": "melvin@example.org",
                   "password": "correct horse"})
        check(r.get("ok") is True, f"user.add over the control socket ({r})")
        r = t.rpc({"op": "user.list"})
        check([u["name"] for u in r["users"]] == ["melvin"] and "password" not in str(r),
              f"user.list names the account and no hash ({r})")
        check(t.query("SELECT password_hash FROM account")[0][0].startswith("$y$"),
              "the password is stored as a yescrypt hash")

        # Alice, anonymous, files a ticket.
        alice = t.client()
        r = alice.post("/api/tickets", json_body={
            "email": "alice@example.org", "summary": "Mailman archives are empty",
            "description": "Since Tuesday the list archives show no mail.\n" + LONG,
            "type": "defect", "severity": "major"})
        check(r.status == 202 and r.json()["status"] == "pending", f"anonymous POST is 202 ({r})")
        check(r.header("content-security-policy") == CSP, "the API answer has the CSP")
        check(alice.get("/api/tickets").json()["tickets"] == [],
              "the unconfirmed ticket is not listed")
        check(alice.get("/api/tickets/1").status == 404, "nor shown")
        mail = wait_mail(sink, "alice@example.org")[0]
        link = confirm_link(mail[2], t.base)
        check(not t.query("SELECT 1 FROM confirm_token WHERE token = ?", (link[9:],)),
              "the confirmation token is stored hashed, not as mailed")
        check(mails_to(sink, "staff@example.org") == [], "no staff mail before the confirmation")

        r = confirm(alice, link)
        check(r.status == 200 and "confirmed" in r.text, f"the link confirms the ticket ({r})")
        r = confirm(alice, link)
        check(r.status == 404, f"the link works once ({r})")
        staff = wait_mail(sink, "staff@example.org")[0][2].decode()
        check("alice@example.org" in staff and "Mailman archives are empty" in staff,
              "the staff gets the full ticket, reporter address included")
        check(LONG in staff, "a 3,000-character line of the description arrives whole")
        with sink.lock:
            longest = max(len(l) for raw in sink.raw for l in raw.split(b"\r\n"))
        check(longest <= 998, f"no line of any mail is longer than SMTP allows ({longest})")
        wait_mail(sink, "ops@example.org")  # Staff= names two addresses
        r = alice.get("/api/tickets/1")
        check(r.status == 200 and r.json()["summary"] == "Mailman archives are empty",
              f"the confirmed ticket is public ({r})")
        check(b"alice@example.org" not in r.body and "sessions" not in r.json(),
              "anonymous visitors see neither the address nor session links")
        check(r.json()["type"] == "defect" and r.json()["severity"] == "major",
              "type and severity as given")

        # Bob finds it and subscribes (the subscribe form of the ticket page).
        bob = t.client()
        r = bob.get("/api/search?q=archives")
        check(r.status == 200 and [x.get("ticket") for x in r.json()["results"]] == [1],
              f"search finds the ticket ({r})")
        r = bob.post("/subscribe", form={"ticket": "1", "email": "bob@example.org"})
        check(r.status == 403, f"a subscription without the form's token is refused ({r})")
        token = bob.form_token()
        r = bob.post("/subscribe", form={"ticket": "1", "email": "bob@example.org",
                                         "csrf": token})
        check(r.status == 202, f"the subscription waits for its confirmation ({r})")
        r = confirm(bob, confirm_link(wait_mail(sink, "bob@example.org")[0][2], t.base))
        check(r.status == 200, f"Bob confirms ({r})")
        check(t.query("SELECT address, confirmed FROM ticket_subscriber") ==
              [("bob@example.org", 1)], "Bob is a confirmed subscriber")

        # Melvin, a sysadmin, logs in, comments and closes.
        melvin = t.client()
        r = melvin.post("/api/login", json_body={"user": "melvin", "password": "correct horse"})
        check(r.status == 200 and len(r.json()["csrf_token"]) == 64, f"API login ({r})")
        melvin.csrf = r.json()["csrf_token"]
        cookie = [c for c in melvin.set_cookies if c.startswith("trackle_session=")][-1]
        check("HttpOnly" in cookie and "SameSite=Strict" in cookie and "Secure" not in cookie,
              f"the session cookie is HttpOnly, SameSite=Strict (no Secure without TLS): {cookie}")
        check(t.query("SELECT count(*) FROM web_session WHERE token = ?",
                      (melvin.cookies["trackle_session"],))[0][0] == 0,
              "the session token is stored hashed")
        r = melvin.get("/api/tickets/1")
        check(r.json().get("reporter_email") == "alice@example.org",
              "the sysadmin sees the reporter's address")
        r = melvin.post("/api/tickets/1/comments", json_body={"comment": "Disk full on lists."},
                        api_token=False)
        check(r.status == 403, f"a comment without X-CSRF-Token is refused ({r})")
        r = melvin.post("/api/tickets/1/comments", json_body={"comment": "Disk full on lists."})
        check(r.status == 201, f"the comment is stored ({r})")
        before = len(mails_to(sink, "staff@example.org"))
        r = melvin.request("PATCH", "/api/tickets/1",
                           json_body={"status": "closed", "resolution": "fixed",
                                      "comment": "Archives rebuilt."})
        check(r.status == 200 and r.json()["status"] == "closed", f"PATCH closes it ({r})")
        fields = [h["field"] for h in r.json()["history"]]
        check("status" in fields and "resolution" in fields and fields.count("comment") == 2,
              f"the history has the changes and both comments ({fields})")
        notice = wait_mail(sink, "bob@example.org", 2)[1][2].decode()
        check("closed" in notice and "Archives rebuilt." in notice and
              "alice@example.org" not in notice and "Disk full" not in notice,
              "Bob gets the abbreviated notice (status and comment), nothing private")
        wait_until(lambda: len(mails_to(sink, "staff@example.org")) > before,
                   "the staff mail about the close", 30)
        staff = mails_to(sink, "staff@example.org")[-1][2].decode()
        check("status: 'new' -> 'closed'" in staff and "Archives rebuilt." in staff and
              "alice@example.org" in staff, "the staff mail has the full change and comment")

        # The same through the pages: the /newticket form, the ticket page's close form.
        dave = t.client()
        token = dave.form_token("/newticket")
        r = dave.post("/newticket", form={"csrf": token, "email": "dave@example.org",
                                          "summary": "Printer on fire", "description": "!"})
        check(r.status == 200 and "dave@example.org" in r.text, f"/newticket files it ({r})")
        r = confirm(dave, confirm_link(wait_mail(sink, "dave@example.org")[0][2], t.base))
        check(r.status == 200, f"dave confirms ({r})")
        ticket = max(x["id"] for x in dave.get("/api/tickets").json()["tickets"])
        r = dave.post("/subscribe", form={"csrf": token, "ticket": str(ticket),
                                          "email": "erin@example.org"})
        r = confirm(dave, confirm_link(wait_mail(sink, "erin@example.org")[0][2], t.base))
        melvin.get(f"/ticket/{ticket}")
        token = melvin.form_token(f"/ticket/{ticket}")
        r = melvin.post(f"/ticket/{ticket}", form={"csrf": token, "action": "close",
                                                   "resolution": "fixed",
                                                   "comment": "extinguished"})
        check(r.status == 303, f"the ticket page closes it ({r})")
        notice = wait_mail(sink, "erin@example.org", 2)[1][2].decode()
        check("closed" in notice and "extinguished" in notice and "dave@" not in notice,
              "the subscriber hears of the close made on the page, with its comment")
        n = len(mails_to(sink, "staff@example.org"))
        token = melvin.form_token("/newticket")
        r = melvin.post("/newticket", form={"csrf": token, "summary": "Rotate the backups",
                                            "description": "monthly"})
        check(r.status == 303, f"a sysadmin files through /newticket ({r})")
        wait_until(lambda: any(b"Rotate the backups" in m[2]
                               for m in mails_to(sink, "staff@example.org")[n:]),
                   "the staff mail about the sysadmin's ticket", 30)

        # A relay outage: the mail waits in the queue, survives a restart, and goes out.
        sink.controller.stop()
        r = melvin.post("/api/tickets", json_body={"summary": "Relay test", "description": "x"})
        check(r.status == 201, f"a sysadmin's ticket is created at once ({r})")
        wait_until(lambda: (t.query("SELECT min(attempts) FROM mail_queue")[0][0] or 0) >= 1,
                   "a failed delivery attempt", 30)
        check(t.stop() == 0, "trackled stops cleanly with mail queued")
        check(len(t.query("SELECT id FROM mail_queue")) == 2,
              "the queued mail (to both staff addresses) is kept")
        t.start()
        n = len(mails_to(sink, "staff@example.org"))
        sink.controller = Controller(_Handler(sink), hostname="127.0.0.1", port=sink.port,
                                     decode_data=False)
        sink.controller.start()
        wait_until(lambda: len(mails_to(sink, "staff@example.org")) > n,
                   "the delayed staff mail", 60)
        check(b"Relay test" in mails_to(sink, "staff@example.org")[-1][2],
              "the delayed mail is the one queued during the outage")
        wait_until(lambda: t.query("SELECT count(*) FROM mail_queue")[0][0] == 0,
                   "the queue to be empty", 10)

        # A relay that accepts and then says nothing does not hold trackled's stop.
        sink.controller.stop()
        silent = socket.socket()
        silent.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        silent.bind(("127.0.0.1", sink.port))
        silent.listen(8)
        silent.settimeout(30)
        r = melvin.post("/api/tickets", json_body={"summary": "Hang test", "description": "x"})
        check(r.status == 201, "another ticket")
        conn, _ = silent.accept()  # the sender is connected and waits for a greeting
        t0 = time.monotonic()
        check(t.stop() == 0, "SIGTERM exits 0 while the relay hangs")
        print(f"stopped {time.monotonic() - t0:.1f}s after SIGTERM", flush=True)
        check(t.query("SELECT count(*) FROM mail_queue")[0][0] == 2,
              "the mail being sent stays queued")
        conn.close()
        silent.close()
        sink.controller = Controller(_Handler(sink), hostname="127.0.0.1", port=sink.port,
                                     decode_data=False)
        sink.controller.start()


run_test(main)
