#!/usr/bin/python3
"""trackle's HTML pages in a real headless Chromium (WebDriver): an anonymous visitor files a
ticket and follows the links; a sysadmin logs in, files with the full form, comments, assigns,
closes and reopens, writes wiki pages (one private), compares versions, annotates a session and
chooses its shown files, and looks at the timeline, roadmap, milestone, search and the history
of a file. Every input gets payloads of the XSS corpus (tests/xss/payloads.txt): every page is
checked in the browser (no script ran: window.__xss is unset and the title untouched) and in
its HTML (no payload markup, no event handler attribute, no javascript: URL). Screenshots of
every page are saved in the artifacts directory.

argv: TRACKLED ARTIFACTS_DIR XSS_CORPUS"""

import hashlib
import json
import os
import re
import sqlite3
import sys
import time
import urllib.parse
from html.parser import HTMLParser

from harness import Failure, check, run_test, skip, wait_until

import webdriver

binary, artifacts, corpus_path = sys.argv[1:4]

with open(corpus_path, encoding="utf-8") as f:
    CORPUS = [line.rstrip("\n") for line in f if line.strip()]
PAYLOAD_TEXT = "\n\n".join(CORPUS)
URL_ATTRS = ("href", "src", "action", "formaction", "data", "poster", "background")


class Markup(HTMLParser):
    """What the markup of a page holds: elements, event handler attributes, script URLs."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.bad = []

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "iframe", "object", "embed", "base", "meta", "svg", "math"):
            if not (tag == "meta" and all(k in ("charset", "name", "content") for k, _ in attrs)):
                self.bad.append(f"<{tag}>")
        for k, val in attrs:
            if k.startswith("on"):
                self.bad.append(f"<{tag} {k}=>")
            if k in URL_ATTRS and (val or "").strip().lower().startswith(
                    ("javascript:", "vbscript:", "data:")):
                self.bad.append(f"<{tag} {k}={val[:40]!r}>")
            if k == "style" and tag != "html":
                self.bad.append(f"<{tag} style=>")

    handle_startendtag = handle_starttag


def payload(i):
    return CORPUS[i % len(CORPUS)]


def one_line(i):
    """A payload that fits a one-line field (at most 100 bytes)."""
    p = payload(i)
    return p[:100]


def html_clean(html, where):
    """Nothing of the corpus came through as markup."""
    m = Markup()
    m.feed(html)
    m.close()
    check(not m.bad, f"{where}: no script, event handler, script URL or inline style in the "
          f"markup {m.bad[:5]}")
    for p in CORPUS:
        if "<" in p and len(p) > 8:
            if p in html:
                raise Failure(f"{where}: payload {p!r} is in the HTML unescaped")
    check("<script" not in html.lower(), f"{where}: no <script> element at all")


class Visit:
    def __init__(self, browser, base):
        self.b = browser
        self.base = base
        self.n = 0

    def page(self, name, path=None):
        """Open path (or stay), screenshot it, and check that no script ran."""
        if path is not None:
            self.b.get(self.base + path)
        self.n += 1
        self.b.screenshot(f"{self.n:02d}-{name}")
        ran = self.b.script("return [typeof window.__xss, document.title]")
        check(ran[0] == "undefined", f"{name}: no script of the payloads ran in the browser")
        check("XSS" not in ran[1], f"{name}: the title was not changed by a payload ({ran[1]!r})")
        html_clean(self.b.source, name)
        return self.b.source

    def submit(self, form_css):
        self.b.click(f"{form_css} button[type=submit]")


def seed(db, admin_uid):
    """Enumerations, a milestone and an ended session with commands and file changes, written
    with payloads where an admin's shell or a file could put them."""
    con = sqlite3.connect(db, timeout=30)
    now = int(time.time())
    with con:
        for t, names in (("type", ["defect", "task"]), ("severity", ["minor", "major"]),
                         ("priority", ["low", "normal", "high"]),
                         ("component", ["mail", "web"])):
            for i, n in enumerate(names):
                con.execute("INSERT INTO enum_value (type, name, position) VALUES (?, ?, ?)",
                            (t, n, i))
        con.execute("INSERT INTO milestone (name, due, description) VALUES "
                    "('1.0', ?, 'The first release: mail works. See wiki:MailmanSetup.')",
                    (now + 86400 * 7,))
        env = {"PATH": "/usr/bin:/bin", "EVIL": payload(0), "TERM": "xterm"}
        con.execute(
            "INSERT INTO session (id, ticket, uid, user, host, tty, shell, cwd, environment, "
            "identity, leader_pid, leader_start, state, started, ended, exit, annotation) "
            "VALUES (1, NULL, ?, 'melvin', 'mail1', '/dev/pts/3', '/bin/bash', '/root', ?, "
            "'ancestry', 100, 1, 'ended', ?, ?, 0, '')",
            (admin_uid, json.dumps(env), now - 600, now - 60))
        cmds = [("cd /etc/postfix", None), ("vi main.cf", 0),
                ("echo '" + payload(1) + "' > /tmp/x", 0), ("postfix reload", 1)]
        for i, (line, ex) in enumerate(cmds):
            con.execute("INSERT INTO command (session, time, cwd, uid, euid, line, argv, exit, "
                        "source) VALUES (1, ?, '/etc/postfix', 0, 0, ?, NULL, ?, 'shell')",
                        (now - 500 + i, line, ex))
        con.execute("INSERT INTO command (session, time, cwd, uid, euid, line, argv, exit, "
                    "source) VALUES (1, ?, '/etc/postfix', 0, 0, NULL, ?, NULL, 'exec')",
                    (now - 400, json.dumps(["sed", "-i", payload(2), "main.cf"])))
        before = "myhostname = mail1\nsmtpd_recipient_restrictions = permit\n" + \
            "".join(f"line {i}\n" for i in range(20))
        after = "myhostname = mail1.example.org\nsmtpd_recipient_restrictions = reject\n" + \
            "".join(f"line {i}\n" for i in range(20)) + "# " + payload(3) + "\n"
        files = [("/etc/postfix/main.cf", before, after, 1),
                 ("/etc/postfix/" + "x<b>y", "a\n", "b\n", 0)]
        for path, a, b, shown in files:
            sa = hashlib.sha256(a.encode()).hexdigest()
            sb = hashlib.sha256(b.encode()).hexdigest()
            for sha, text in ((sa, a), (sb, b)):
                con.execute("INSERT OR IGNORE INTO blob (sha256, size, content) VALUES "
                            "(?, ?, ?)", (sha, len(text), text.encode()))
            con.execute(
                "INSERT INTO file_change (session, path, first, before_kind, before_sha256, "
                "before_size, before_mode, before_uid, before_gid, after_kind, after_sha256, "
                "after_size, after_mode, after_uid, after_gid, shown, change) VALUES "
                "(1, ?, ?, 'file', ?, ?, 420, 0, 0, 'file', ?, ?, 416, 0, 0, ?, 'modified')",
                (path, now - 450, sa, len(a), sb, len(b), shown))
    con.close()


def main(tmp):
    why = webdriver.missing()
    if why:
        skip(why)
    from web_harness import Site, need_root
    need_root()
    from smtp_sink import Controller, SmtpSink
    if Controller is None:
        skip("python3-aiosmtpd is not installed")

    with SmtpSink() as sink:
        t = Site(binary, tmp, sink,
                 extra="\n[Web]\nAnonymousFields=type description\n"
                       "SummaryHelp=One line <b>please</b>\n")
        r = t.rpc({"op": "user.add", "name": "melvin", "email": "melvin@example.org",
                   "password": "correct horse"})
        check(r.get("ok") is True, f"a sysadmin account ({r})")
        seed(t.db, 0)
        http = t.client()

        with webdriver.Browser(artifacts) as b:
            v = Visit(b, t.base)

            # --- an anonymous visitor
            v.page("start", "/")
            check(b.text("#mainnav a[href='/newticket']") == "New Ticket", "the main navigation")
            b.click("#mainnav a[href='/newticket']")
            check(b.url.endswith("/newticket"), "the New Ticket tab opens the form")
            src = v.page("newticket-anonymous")
            check('name="email"' in src and 'name="priority"' not in src,
                  "anonymous visitors get the short form, with the e-mail field")
            check("We mail you a link" in src, "with help texts")
            check("One line &lt;b&gt;please&lt;/b&gt;" in src and 'name="severity"' not in src,
                  "the fields and help texts of trackle.conf [Web]")
            b.type("#f-email", "alice@example.org")
            b.type("#f-summary", one_line(0))
            b.select("#f-type", "defect")
            b.type("#f-description", "Since Tuesday the archives are empty.\n\n" + PAYLOAD_TEXT)
            v.submit("form.newticket")
            src = v.page("newticket-anonymous-sent")
            check("alice@example.org" in src and "Almost done" in src,
                  "the visitor is told to follow the mailed link")
            v.page("report-anonymous", "/report")
            check("#1" not in b.text("table.tickets"),
                  "the unconfirmed ticket is not listed for anonymous visitors")
            mail = wait_until(lambda: [m for m in sink.messages if "alice@example.org" in m[1]],
                              "the confirmation mail", 30)[0]
            link = re.search(re.escape(t.base) + r"(/confirm/[0-9a-f]{64})",
                             mail[2].decode("utf-8", "replace")).group(1)
            b.get(t.base + link)
            b.click("#content form button[type=submit], body > form button[type=submit]")
            wait_until(lambda: b.title.startswith("Confirmed"), "the confirmation", 10)
            v.page("confirmed")
            v.page("report-confirmed", "/report")
            b.click(element=b.link("#1"))
            check(b.url.endswith("/ticket/1"), "the report links the ticket")
            src = v.page("ticket-anonymous")
            check(b.text("h2.summary") == one_line(0),
                  "the summary is shown as the text it is")
            check("alice@example.org" not in src, "no e-mail address for anonymous visitors")
            check("alice" not in b.text("table.properties"),
                  "an anonymous reporter is shown as anonymous")
            check('action="/subscribe"' in src and 'name="email"' in src,
                  "anonymous visitors can follow the ticket by mail")
            check('name="comment"' not in src, "but not change it")
            b.get(t.base + "/session/1")
            check(b.url.endswith("/login"), "session logs send anonymous visitors to the login")
            b.get(t.base + "/file?path=/etc/postfix/main.cf")
            check(b.url.endswith("/login"), "so does the history of a file")

            # --- a sysadmin
            b.get(t.base + "/login")
            b.type("input[name=user]", "melvin")
            b.type("input[name=password]", "correct horse")
            b.click("form[action='/login'] button[type=submit]")
            wait_until(lambda: "logged in as" in b.text_now("#banner .meta"), "the login", 10)
            src = v.page("newticket-admin", "/newticket")
            check('name="priority"' in src and 'name="email"' not in src,
                  "sysadmins get the full form")
            b.type("#f-summary", one_line(4))
            b.select("#f-type", "task")
            b.select("#f-priority", "high")
            b.select("#f-component", "mail")
            b.select("#f-milestone", "1.0")
            b.type("#f-owner", one_line(5))
            b.type("#f-keywords", one_line(6))
            b.type("#f-description", "Relates to #1 and wiki:MailmanSetup.\n\n" + PAYLOAD_TEXT)
            v.submit("form.newticket")
            wait_until(lambda: b.url.endswith("/ticket/2"), "the new ticket's page", 10)
            src = v.page("ticket-admin")
            check(b.text("h2.summary") == one_line(4), "the admin's summary as text")
            check("alice@example.org" in v.page("ticket-1-admin", "/ticket/1"),
                  "sysadmins see the reporter's address")

            b.get(t.base + "/ticket/2")
            b.type("#f-comment", "Done in session:1, see file:/etc/postfix/main.cf\n\n" +
                   PAYLOAD_TEXT)
            b.click("#a-assign")
            b.type("#f-assign_to", "melvin")
            b.click("form.propertyform button[type=submit]")
            wait_until(lambda: "assigned" in b.text_now("h1 .status"), "the changed ticket", 10)
            src = v.page("ticket-commented")
            check("changed from" in src or "set to" in src, "the change history lists fields")
            check(b.text("h1 .status") == "(assigned task)", "assigned")
            b.click("#a-close")
            b.select("#f-resolution", "fixed")
            b.click("form.propertyform button[type=submit]")
            wait_until(lambda: "closed" in b.text_now("h1 .status"), "closed", 10)
            v.page("ticket-closed")
            # sent, or queued: the relay may refuse the long lines of this description
            wait_until(lambda: [m for m in sink.messages if "staff@example.org" in m[1] and
                                b"#2] status changed" in m[2]] or
                       t.query("SELECT 1 FROM mail_queue WHERE CAST(message AS TEXT) LIKE "
                               "'%#2] status changed%'"),
                       "the staff's mail about the change made in the form", 30)
            b.click("#a-reopen")
            b.click("form.propertyform button[type=submit]")
            wait_until(lambda: "reopened" in b.text_now("h1 .status"), "reopened", 10)
            v.page("ticket-reopened")

            # the lock of a running session is shown
            con = sqlite3.connect(t.db, timeout=30)
            with con:
                con.execute(
                    "INSERT INTO session (id, ticket, uid, user, host, identity, leader_pid, "
                    "leader_start, state, started) VALUES (2, 2, 0, 'wendy', 'mail1', "
                    "'ancestry', 101, 1, 'open', ?)", (int(time.time()),))
                con.execute("INSERT INTO ticket_lock (ticket, session, uid, since) VALUES "
                            "(2, 2, 0, ?)", (int(time.time()),))
            con.close()
            src = v.page("ticket-locked", "/ticket/2")
            check("Locked" in b.text(".lock") and "wendy" in b.text(".lock") and
                  'href="/session/2"' in src, "the lock, with its session, for sysadmins")
            anon_lock = http.get("/ticket/2").text
            check("Locked" in anon_lock and "/session/2" not in anon_lock,
                  "anonymous visitors see the lock without the session")

            # --- wiki
            b.get(t.base + "/wiki/MailmanSetup")
            src = v.page("wiki-missing")
            check("Create it" in src, "a missing page offers to be created")
            b.click(element=b.link("Create it"))
            b.type("#f-text", "# Mailman setup\n\nFixes #1, see session:1 and [[Missing/Page|a missing page]]."
                   "\n\n| a | b |\n|---|---|\n| #2 | ~~old~~ |\n\n" + PAYLOAD_TEXT)
            b.type("#f-comment", one_line(7))
            b.click("form.wikiedit button[type=submit]")
            wait_until(lambda: b.url.endswith("/wiki/MailmanSetup"), "the saved page", 10)
            src = v.page("wiki-page")
            check(b.text(".wikitext h1") == "Mailman setup", "CommonMark headings")
            check('href="/ticket/1"' in src and 'href="/session/1"' in src,
                  "links to a ticket and a session")
            check("missing" in src and "a missing page?" in b.text(".wikitext"),
                  "a link to a missing page")
            b.get(t.base + "/wiki/MailmanSetup?action=edit")
            b.type("#f-text", "# Mailman setup\n\nFixes #1 for good.\n")
            b.click("form.wikiedit button[type=submit]")
            wait_until(lambda: b.url.endswith("/wiki/MailmanSetup"), "the second version", 10)
            v.page("wiki-history", "/wiki/MailmanSetup?action=history")
            b.click("#content form button[type=submit]")
            wait_until(lambda: "action=diff" in b.url, "the diff of the two versions", 10)
            src = v.page("wiki-diff")
            check('class="del"' in src and 'class="add"' in src, "the diff is coloured")
            b.get(t.base + "/wiki/Private/Passwords?action=edit")
            b.type("#f-text", "The relay's password is in the safe.")
            b.click("#f-private")
            b.click("form.wikiedit button[type=submit]")
            wait_until(lambda: b.url.endswith("/wiki/Private/Passwords"), "a private page", 10)
            v.page("wiki-private")
            b.get(t.base + "/wiki/Secret?action=edit")
            b.type("#f-text", "Only for admins, see #1.")
            b.click("#f-private")
            b.click("form.wikiedit button[type=submit]")
            wait_until(lambda: b.url.endswith("/wiki/Secret"), "a page marked private", 10)
            v.page("wiki-index", "/wiki")

            # --- the session
            src = v.page("session", "/session/1")
            check('class="del"' in src and 'class="add"' in src,
                  "the shown file as a coloured diff")
            check("mode 0644 → 0640" in src, "mode changes are shown")
            check("1 more not shown by default" in src, "files not shown are folded")
            check("Referenced by" in src, "back-links to the session")
            b.get(t.base + "/session/1?action=edit")
            b.type("#f-annotation", "Wendy: this is how #1 was fixed.\n\n" + PAYLOAD_TEXT)
            b.click("#f-shown-1")
            b.click("form.sessionedit button[type=submit]")
            wait_until(lambda: b.url.endswith("/session/1") and
                       "Wendy" in b.text_now("#annotation"), "the annotated session", 10)
            src = v.page("session-annotated")
            check("more not shown by default" not in src, "both files shown now")
            check("Wendy: this is how" in src, "the annotation")

            # --- the rest
            v.page("timeline", "/timeline")
            v.page("roadmap", "/roadmap")
            src = v.page("milestone", "/milestone/1.0")
            check("/ticket/2" in src, "the milestone lists its ticket")
            src = v.page("file-history", "/file?path=/etc/postfix/main.cf")
            check("/session/1" in src, "the history of a file lists the session")
            b.get(t.base + "/search")
            b.type("#f-q", "postfix reload")
            b.click("form.search button[type=submit]")
            wait_until(lambda: "q=" in b.url, "the search results", 10)
            src = v.page("search")
            check("<mark>" in src, "search results with the matches marked")
            b.get(t.base + "/report")
            b.type("#f-q", one_line(8))
            b.type("#f-owner", one_line(9))
            b.click("form.query button[type=submit]")
            wait_until(lambda: "owner=" in b.url, "the query", 10)
            v.page("report-query")
            b.get(t.base + "/report?status=any&sort=summary&desc=1")
            v.page("report-sorted")

        # --- the HTML of every page with payloads in the URL too, and what anonymous
        # visitors get
        anon = t.client()
        admin = t.client()
        tok = admin.form_token("/login")
        admin.post("/login", form={"csrf": tok, "user": "melvin", "password": "correct horse"})
        q = urllib.parse.quote
        paths = ["/", "/newticket", "/ticket/1", "/ticket/2", "/report",
                 "/report?status=any", "/wiki", "/wiki/MailmanSetup",
                 "/wiki/MailmanSetup?action=history", "/wiki/MailmanSetup?version=1",
                 "/wiki/MailmanSetup?action=diff&old=1&new=2", "/timeline", "/roadmap",
                 "/milestone/1.0", "/session/1", "/session/1?action=edit",
                 "/file?path=/etc/postfix/main.cf"]
        for i, p in enumerate(CORPUS):
            paths += [f"/search?q={q(p)}", f"/report?owner={q(p[:100])}&q={q(p[:60])}",
                      f"/file?path=/etc/{q(p)}", f"/wiki/{q(p)}", f"/milestone/{q(p)}",
                      f"/ticket/{q(p)}"]
        for c, who in ((anon, "anonymous"), (admin, "sysadmin")):
            for p in paths:
                r = c.get(p)
                check(r.status in (200, 303, 400, 404), f"{who} {p[:60]}: {r.status}")
                html_clean(r.text, f"{who} {p[:60]}")
                if who == "anonymous":
                    check("alice@example.org" not in r.text and
                          "melvin@example.org" not in r.text,
                          f"{who} {p[:60]}: no e-mail address")
        for p in ("/wiki/Private/Passwords", "/wiki/Secret", "/session/1"):
            r = anon.get(p)
            check(r.status in (303, 404) and "safe" not in r.text and
                  "Only for admins" not in r.text, f"anonymous: {p} is not shown ({r.status})")
        r = anon.get("/search?q=safe")
        check("Passwords" not in r.text, "private pages are not found by anonymous visitors")
        r = anon.get("/search?q=postfix")
        check("/session/" not in r.text, "nor session commands")
        r = anon.get("/ticket/2")
        check("/session/1" not in r.text, "and no session links on tickets")
        t.stop()


run_test(main)
