#!/usr/bin/env python3
"""The trackle web's defences, each tried on every route it concerns (issue 10 item 7): the
Content-Security-Policy and the other security headers on every answer; CSRF tokens on every
state-changing call (API and forms); cookie flags; what anonymous visitors never see (e-mail
addresses, session links, private pages, unconfirmed tickets) or do (change anything); login
throttling per account and per client; rate limits on anonymous tickets per client and on
confirmation mails per address; request size limits; trackle-admin user add/passwd/del/list."""

import json
import socket
import sys
import time

from harness import check, run_test
from smtp_sink import Controller, SmtpSink
from web_harness import CSP, Site, need_root, wait_mail

binary = sys.argv[1]
admin_tool = sys.argv[2]

ANON_ROUTES = [  # (method, path, json body): what an anonymous visitor may not do
    ("POST", "/api/tickets/1/comments", {"comment": "x"}),
    ("PATCH", "/api/tickets/1", {"status": "closed"}),
    ("PUT", "/api/wiki/Notes", {"text": "defaced"}),
]


def main(tmp):
    need_root()
    if Controller is None:
        from harness import skip
        skip("python3-aiosmtpd is not installed")
    with SmtpSink() as sink:
        t = Site(binary, tmp, sink)

        # trackle-admin user, the real tool on the real socket
        r = t.admin(admin_tool, "user", "add", "melvin", "--email", "melvin@example.org",
                    "--password-stdin", input="s3cret pass\n")
        check(r.returncode == 0, f"trackle-admin user add ({r.stderr})")
        r = t.admin(admin_tool, "user", "add", "wendy", "--email", "wendy@example.org",
                    "--password-stdin", input="wendy pass\n")
        check(r.returncode == 0, "a second account")
        r = t.admin(admin_tool, "user", "add", "melvin", "--email", "m@example.org",
                    "--password-stdin", input="x\n")
        check(r.returncode == 1 and "exists" in r.stderr, f"a name is taken once ({r.stderr})")
        r = t.admin(admin_tool, "user", "add", "bad/name", "--email", "m@example.org",
                    "--password-stdin", input="x\n")
        check(r.returncode == 1, "a bad name is refused")
        r = t.admin(admin_tool, "user", "add", "eve", "--email", "m@example.org", "--password",
                    "x")
        check(r.returncode == 2, "no password on the command line")
        r = t.admin(admin_tool, "user", "list")
        check(r.returncode == 0 and "melvin" in r.stdout and "wendy@example.org" in r.stdout
              and "$y$" not in r.stdout, f"user list ({r.stdout!r})")

        anon = t.client()
        melvin = t.client()
        r = melvin.post("/api/login", json_body={"user": "melvin", "password": "s3cret pass"})
        check(r.status == 200, f"login ({r})")
        melvin.csrf = r.json()["csrf_token"]

        # Setup as the sysadmin: a public ticket with a subscriber's address in it, a private
        # page, a public page.
        r = melvin.post("/api/tickets", json_body={"summary": "Public", "description": "d"})
        check(r.status == 201, f"sysadmin ticket ({r})")
        r = melvin.request("PUT", "/api/wiki/Notes", json_body={"text": "public notes"})
        check(r.status == 200 and r.json()["private"] is False, f"a public page ({r})")
        r = melvin.request("PUT", "/api/wiki/Passwords",
                           json_body={"text": "secret-word-xyzzy", "private": True})
        check(r.status == 200 and r.json()["private"] is True, f"a private page ({r})")
        r = anon.post("/api/tickets", json_body={"email": "carol@example.org",
                                                 "summary": "Unconfirmed plugh",
                                                 "description": "plugh"})
        check(r.status == 202, "an anonymous ticket waits")

        # What anonymous visitors never see.
        r = anon.get("/api/tickets")
        ids = [x["id"] for x in r.json()["tickets"]]
        check(ids == [1], f"anonymous list: only the confirmed ticket ({ids})")
        check(anon.get("/api/tickets/2").status == 404, "an unconfirmed ticket is 404")
        check(melvin.get("/api/tickets/2").status == 200, "the sysadmin sees it")
        check(b"@example.org" not in anon.get("/api/tickets/1").body, "no addresses in tickets")
        check(anon.get("/api/wiki/Passwords").status == 404, "a private page is 404")
        check(anon.get("/api/wiki/Notes").status == 200, "a public page is shown")
        r = anon.get("/api/search?q=plugh")
        check(r.status == 200 and r.json()["results"] == [], f"search hides unconfirmed ({r})")
        r = anon.get("/api/search?q=xyzzy")
        check(r.json()["results"] == [], "search hides private pages")
        r = melvin.get("/api/search?q=xyzzy")
        check(len(r.json()["results"]) == 1, f"the sysadmin finds the private page ({r})")

        # The pages, each route: nothing of the above either, and the headers.
        pages = ["/", "/style.css", "/newticket", "/ticket/1", "/report", "/report?status=any",
                 "/wiki", "/wiki/Notes", "/timeline", "/roadmap", "/search?q=plugh",
                 "/search?q=xyzzy", "/search?q=example.org", "/login", "/logout"]
        for path in pages:
            r = anon.get(path)
            check(r.status == 200 and r.header("content-security-policy") == CSP,
                  f"anonymous GET {path}: 200 with the CSP ({r.status})")
            check(b"@example.org" not in r.body and b"Unconfirmed plugh" not in r.body and
                  b"secret-word" not in r.body,
                  f"anonymous GET {path}: no address, unconfirmed ticket or private page")
        for path in ("/ticket/2", "/wiki/Passwords"):
            r = anon.get(path)
            check(r.status == 404 and b"plugh" not in r.body and b"secret-word" not in r.body,
                  f"anonymous GET {path} is 404 ({r.status})")
        for path in ("/session/1", "/file?path=/etc/hosts"):
            r = anon.get(path)
            check(r.status == 303 and r.header("location") == "/login",
                  f"anonymous GET {path} goes to the login ({r.status})")
        token = anon.form_token()
        for path, form in (("/ticket/1", {"action": "close", "resolution": "fixed"}),
                           ("/wiki/Notes", {"text": "defaced"}),
                           ("/session/1", {"annotation": "defaced"})):
            r = anon.post(path, form=form)
            check(r.status == 403, f"anonymous form POST {path} without the token is 403")
            r = anon.post(path, form=dict(form, csrf=token))
            check(r.status in (303, 401, 403) and r.header("location") in (None, "/login"),
                  f"anonymous form POST {path} with the token changes nothing ({r.status})")
        check(anon.get("/api/tickets/1").json()["status"] == "new" and
              anon.get("/api/wiki/Notes").json()["text"] == "public notes",
              "the ticket and the page are as they were")

        # Nothing changes without a login.
        for method, path, body in ANON_ROUTES:
            r = anon.request(method, path, json_body=body)
            check(r.status == 401, f"anonymous {method} {path} is 401 ({r})")

        # CSRF: with the session cookie, every state-changing API call needs the token.
        for method, path, body in ANON_ROUTES + [("POST", "/api/tickets",
                                                  {"summary": "s", "description": "d"})]:
            r = melvin.request(method, path, json_body=body, api_token=False)
            check(r.status == 403, f"{method} {path} without X-CSRF-Token is 403 ({r})")
            r = melvin.request(method, path, json_body=body,
                               headers={"X-CSRF-Token": "0" * 64}, api_token=False)
            check(r.status == 403, f"{method} {path} with a wrong token is 403")
        wendy = t.client()
        r = wendy.post("/api/login", json_body={"user": "wendy", "password": "wendy pass"})
        r = melvin.request("PATCH", "/api/tickets/1", json_body={"status": "closed"},
                           headers={"X-CSRF-Token": r.json()["csrf_token"]}, api_token=False)
        check(r.status == 403, "another session's token does not fit")
        # Forms: the plumbing's own (login, logout, subscribe, confirm) without the token.
        for path, form in (("/login", {"user": "melvin", "password": "s3cret pass"}),
                           ("/logout", {}), ("/subscribe", {"ticket": "1", "email": "a@b.cd"}),
                           ("/confirm/" + "0" * 64, {})):
            r = anon.post(path, form=form)
            check(r.status == 403, f"form POST {path} without the token is 403 ({r.status})")
            r = t.client().post(path, form=dict(form, csrf="0" * 64))
            check(r.status == 403, f"form POST {path} without a cookie is 403")

        # Cookies.
        for c in (melvin, anon):
            for line in c.set_cookies:
                check("HttpOnly" in line and "SameSite=Strict" in line and "Path=/" in line,
                      f"cookie flags: {line.split('=')[0]}")

        # Headers on every kind of answer.
        answers = [anon.get("/"), anon.get("/nope"), anon.get("/api/tickets"),
                   anon.get("/api/nope"), anon.request("HEAD", "/"), anon.get("/login"),
                   anon.post("/api/tickets", body=b"{", headers={"Content-Type":
                                                                  "application/json"}),
                   melvin.get("/api/tickets/1"), anon.request("DELETE", "/api/tickets/1")]
        for r in answers:
            check(r.header("content-security-policy") == CSP and
                  r.header("x-content-type-options") == "nosniff" and
                  r.header("x-frame-options") == "DENY", f"security headers on {r.status}")

        # Request limits.
        r = anon.post("/api/tickets", body=b"{" + b" " * (2 * 1024 * 1024) + b"}",
                      headers={"Content-Type": "application/json"})
        check(r.status == 413, f"a 2 MiB body is 413 ({r.status})")
        r = anon.post("/api/tickets", body=(b"[" * 100 + b"]" * 100),
                      headers={"Content-Type": "application/json"})
        check(r.status == 400, "deep JSON is 400")
        r = anon.post("/api/tickets", body=b'{"summary": "x"}',
                      headers={"Content-Type": "text/plain"})
        check(r.status == 415, "the API wants application/json")
        token = anon.form_token()
        form = "&".join(f"f{i}=x" for i in range(300)) + f"&csrf={token}"
        r = anon.post("/login", body=form.encode(),
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
        check(r.status == 400, f"300 form fields are 400 ({r.status})")
        r = anon.post("/api/tickets", json_body={"email": "x@example.org",
                                                 "summary": "two\nlines"})
        check(r.status == 400, "a summary of two lines is 400")

        # Rate limits: anonymous tickets per client ...
        flood = t.client("127.0.0.4")
        codes = [flood.post("/api/tickets", json_body={
            "email": f"f{i}@example.org", "summary": f"flood {i}"}).status for i in range(11)]
        check(codes == [202] * 10 + [429], f"10 anonymous tickets per client and hour ({codes})")
        # ... and confirmation mails per address, from many clients.
        codes = [t.client(f"127.0.1.{i}").post("/api/tickets", json_body={
            "email": "victim@example.org", "summary": f"mailbomb {i}"}).status
            for i in range(1, 7)]
        check(codes == [202] * 5 + [429], f"5 confirmation mails per address and hour ({codes})")
        wait_mail(sink, "victim@example.org", 5)

        # Login throttling per account (even the right password is refused meanwhile) ...
        guess = t.client("127.0.0.5")
        codes = [guess.post("/api/login", json_body={"user": "wendy", "password": f"no{i}"}
                            ).status for i in range(6)]
        check(codes == [403] * 5 + [429], f"5 failed logins per account ({codes})")
        r = t.client("127.0.0.6").post("/api/login", json_body={"user": "wendy",
                                                                "password": "wendy pass"})
        check(r.status == 429, "then the account is throttled from everywhere")
        # ... and per client, across names.
        spray = t.client("127.0.0.7")
        codes = [spray.post("/api/login", json_body={"user": f"u{i}", "password": "x"}).status
                 for i in range(21)]
        check(codes == [403] * 20 + [429], "20 failed logins per client")
        r = spray.post("/api/login", json_body={"user": "melvin", "password": "s3cret pass"})
        check(r.status == 429, "then that client is throttled for every account")

        # Slow clients (lib/http in trackled's event loop): a client address gets 32
        # connections, the rest are closed at once; those that trickle their head a byte at a
        # time are closed by the 10 s head deadline; meanwhile others are served.
        slow = []
        for _ in range(40):
            s = socket.socket()
            s.bind(("127.0.0.9", 0))
            s.connect(("127.0.0.1", t.port))
            s.setblocking(False)
            slow.append(s)
        head = b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 1000
        closed = {}
        t0 = time.monotonic()

        def poll(pos):
            for i, s in enumerate(slow):
                if i in closed:
                    continue
                try:
                    s.send(head[pos:pos + 1])
                    if s.recv(4096) == b"":
                        closed[i] = time.monotonic() - t0
                except BlockingIOError:
                    pass
                except OSError:
                    closed[i] = time.monotonic() - t0
            return len(slow) - len(closed)

        pos = 0
        while len(closed) < 8 and time.monotonic() - t0 < 5:  # trickling, 5 bytes a second
            poll(pos)
            pos += 1
            time.sleep(0.2)
        check(len(closed) == 8, f"32 connections per client address ({len(closed)} of 40 closed)")
        r = t.client().get("/api/tickets")
        check(r.status == 200, "others are served meanwhile")
        deadline = time.monotonic() + 30
        while poll(pos) > 0 and time.monotonic() < deadline:
            pos += 1
            time.sleep(0.2)
        check(len(closed) == 40 and max(closed.values()) < 25,
              f"trickling connections are closed by the head deadline "
              f"({len(closed)}, last after {max(closed.values()):.1f}s)")
        for s in slow:
            s.close()

        # passwd and del take effect; logout ends the session.
        r = t.admin(admin_tool, "user", "passwd", "melvin", "--password-stdin",
                    input="new pass\n")
        check(r.returncode == 0, "trackle-admin user passwd")
        r = t.client("127.0.0.8").post("/api/login", json_body={"user": "melvin",
                                                                "password": "new pass"})
        check(r.status == 200, "the new password works")
        token = melvin.form_token("/logout")
        r = melvin.post("/logout", form={"csrf": token})
        check(r.status == 303 and "trackle_session" not in melvin.cookies, "logout")
        old = dict(melvin.cookies)
        r = melvin.request("PATCH", "/api/tickets/1", json_body={"status": "closed"})
        check(r.status == 401, "after logout the API is anonymous")
        r = t.admin(admin_tool, "user", "del", "wendy")
        check(r.returncode == 0, "trackle-admin user del")
        r = wendy.request("PATCH", "/api/tickets/1", json_body={"status": "closed"})
        check(r.status == 401, "a deleted account's session is gone")
        r = t.admin(admin_tool, "user", "del", "wendy")
        check(r.returncode == 1 and "no such user" in r.stderr, "del of a missing account fails")
        check(t.stop() == 0, "SIGTERM exits 0")
        del old


run_test(main)
