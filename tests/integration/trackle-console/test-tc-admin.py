#!/usr/bin/python3
"""test-tc-admin.py - trackle-admin against a real trackled (tk_harness): enumerations and
milestones (and ticket.update's checks of their values), the wiki round trip byte for byte
with odd page names and texts, check (clean, then with a planted problem), backup (a
consistent SQLite copy, 0600, never over an existing file), refusals and exit codes.
argv: TRACKLED TRACKLE LIBTRACKLE TRACKLE_LOGINUID; TC_ADMIN: trackle-admin."""

import json
import os
import sqlite3
import stat

import tk_harness as tk

ADMIN = os.environ.get("TC_ADMIN", "")

PAGES = {
    "WikiStart": "= Welcome =\n\nPlain text.\n",
    "Servers/Mail": "postfix on mx1\r\nCRLF lines\r\n",
    "100% uptime": "no final newline",
    ".dotfile page": "  leading spaces\n\ttab\n\n\n",
    "Ünïcödé ✓ 日本": "Grüße — “quotes” ✓\n",
    "..": "a page named two dots\n",
    "a%2Fb": "a name that looks escaped\n",
    "Empty": "",
    "trailing space ": "x \n",
}


def main(t):
    if not ADMIN or not os.path.exists(ADMIN):
        tk.skip("trackle-admin is not built")

    def admin(*args, user=None, input=None):
        return t.as_user(user or t.admin, " ".join(tk.q(a) for a in [ADMIN] + list(args)),
                         input=input)

    # --- usage and help
    r = admin("--help")
    t.expect(r.rc == 0 and "wiki" in r.stdout and "backup" in r.stdout, "--help lists commands",
             r)
    r = admin("frobnicate")
    t.expect(r.rc == 2 and "unknown command" in r.stderr, "unknown command: exit 2", r)
    r = admin("component")
    t.expect(r.rc == 2, "component without an action: exit 2", r)
    r = admin("component", "list", user=t.user)
    t.expect(r.rc == 1 and "permission denied" in r.stderr,
             "a user outside the admin group is refused", r)

    # --- enumerations
    r = admin("component", "add", "mail", "web server", "dns")
    t.expect(r.rc == 0 and r.stdout == "" and r.stderr == "", "component add: silent", r)
    r = admin("component", "list")
    t.expect(r.stdout == "mail\nweb server\ndns\n", "component list in order of adding", r)
    r = admin("component", "add", "mail")
    t.expect(r.rc == 1 and "exists already" in r.stderr, "adding a value twice fails", r)
    r = admin("component", "add", " padded")
    t.expect(r.rc == 1 and "no space" in r.stderr, "a value with a leading space is refused", r)
    for typ in ("priority", "severity", "type"):
        r = admin(typ, "add", "high" if typ == "priority" else "minor", "other")
        t.expect(r.rc == 0, f"{typ} add", r)

    tid = tk.rpc({"op": "ticket.new", "summary": "mail bounces"})["ticket"]["id"]
    r = tk.rpc({"op": "ticket.update", "id": tid, "fields": {"component": "nonsense"}})
    t.expect(not r["ok"] and "not a value of component" in r["error"],
             "ticket.update refuses a value the enumeration does not have", r)
    r = tk.rpc({"op": "ticket.update", "id": tid, "fields": {"component": "mail",
                                                             "priority": "high"},
                "comment": "triaged"})
    t.expect(r["ok"] and r["ticket"]["component"] == "mail", "ticket.update sets fields", r)
    hist = [(h["field"], h["old"], h["new"], h["comment"]) for h in r["ticket"]["history"]]
    t.expect(("component", "", "mail", None) in hist and ("comment", None, None, "triaged") in hist,
             "history rows for each field and the comment", hist)
    stale = tk.rpc({"op": "ticket.update", "id": tid, "fields": {"owner": "x"},
                    "changed": "2000-01-01T00:00:00Z"})
    t.expect(not stale["ok"] and stale["errno"] == 116, "a stale 'changed' is refused", stale)

    r = admin("component", "rename", "mail", "e-mail")
    t.expect(r.rc == 0, "component rename", r)
    tick = tk.rpc({"op": "ticket.show", "id": tid})["ticket"]
    t.expect(tick["component"] == "e-mail", "rename carries the ticket along", tick)
    r = admin("component", "rename", "nothere", "x")
    t.expect(r.rc == 1 and "no component 'nothere'" in r.stderr, "renaming a missing value", r)
    r = admin("component", "remove", "dns")
    t.expect(r.rc == 0 and admin("component", "list").stdout == "e-mail\nweb server\n",
             "component remove", r)
    r = admin("component", "remove", "e-mail")
    tick = tk.rpc({"op": "ticket.show", "id": tid})["ticket"]
    t.expect(r.rc == 0 and tick["component"] == "e-mail",
             "removing a value leaves the tickets that have it alone", tick)

    # --- milestones
    r = admin("milestone", "add", "1.0", "--due", "2027-01-31", "--description", "first")
    t.expect(r.rc == 0, "milestone add with a due date", r)
    r = admin("milestone", "add", "0.9")
    r = admin("milestone", "set", "0.9", "--completed", "2026-12-01")
    t.expect(r.rc == 0, "milestone set --completed", r)
    r = admin("milestone", "list")
    t.expect(r.stdout == "1.0\t2027-01-31T00:00:00Z\t-\n0.9\t-\t2026-12-01T00:00:00Z\n",
             "milestone list: by due date, tab separated", r)
    r = admin("milestone", "add", "2.0", "--due", "soon")
    t.expect(r.rc == 1 and "must be a date" in r.stderr, "a bad date is refused", r)
    r = admin("milestone", "rename", "0.9", "0.9.1")
    t.expect(r.rc == 0 and "0.9.1\t" in admin("milestone", "list").stdout, "milestone rename", r)

    # --- wiki round trip
    src = os.path.join(t.scratch, "wiki-in")
    os.mkdir(src)
    enc = {}
    for name, text in PAGES.items():
        f = "".join("%%%02X" % ord(c) if c in "/%" else c for c in name)
        if f.startswith("."):
            f = "%2E" + f[1:]
        enc[name] = f
        tk.write(os.path.join(src, f), text.encode())
    tk.write(os.path.join(src, ".hidden"), b"not a page\n")
    os.system(f"chown -R {t.admin} {tk.q(src)}")
    r = admin("wiki", "import", src)
    t.expect(r.rc == 0 and r.stdout == "", "wiki import", r)
    pages = {p["name"]: p for p in tk.rpc({"op": "wiki.list"})["pages"]}
    t.expect(set(pages) == set(PAGES), "every file became a page, the hidden one not",
             sorted(pages))
    out = os.path.join(t.scratch, "wiki-out")
    r = admin("wiki", "export", out)
    t.expect(r.rc == 0 and r.stdout == "", "wiki export", r)
    got = sorted(os.listdir(out))
    t.expect(got == sorted(enc.values()), "one file per page, named after the page", got)
    same = all(open(os.path.join(out, enc[n]), "rb").read() == PAGES[n].encode() for n in PAGES)
    t.expect(same, "the round trip is exact, byte for byte")
    r = admin("wiki", "import", out)
    pages2 = {p["name"]: p["version"] for p in tk.rpc({"op": "wiki.list"})["pages"]}
    t.expect(r.rc == 0 and all(v == 1 for v in pages2.values()),
             "importing the same texts again makes no new versions", pages2)
    tk.write(os.path.join(out, "WikiStart"), b"changed\n")
    admin("wiki", "import", out)
    p = tk.rpc({"op": "wiki.get", "name": "WikiStart"})["page"]
    t.expect(p["version"] == 2 and p["text"] == "changed\n" and p["author"] == t.admin,
             "a changed file makes version 2, by the admin", p)
    bad = os.path.join(t.scratch, "wiki-bad")
    os.mkdir(bad)
    tk.write(os.path.join(bad, "Latin1"), b"caf\xe9\n")
    tk.write(os.path.join(bad, "bad%zz"), b"x\n")
    os.symlink("/etc/shadow", os.path.join(bad, "Link"))
    os.system(f"chown -R {t.admin} {tk.q(bad)}")
    r = admin("wiki", "import", bad)
    t.expect(r.rc == 1 and "not UTF-8" in r.stderr and "%XX" in r.stderr and
             "Link" in r.stderr, "bad files are named, exit 1", r)
    names = {p["name"] for p in tk.rpc({"op": "wiki.list"})["pages"]}
    t.expect(not {"Latin1", "Link"} & names, "and none of them became a page", names)

    # --- check
    r = admin("check")
    t.expect(r.rc == 0 and r.stdout == "" and r.stderr == "", "check: a clean database", r)
    con = sqlite3.connect(t.trackled.db, timeout=10)
    con.execute("INSERT INTO ticket_lock (ticket, session, uid, since) VALUES (?, 999, 0, 0)",
                (tid,))
    con.commit()
    r = admin("check")
    t.expect(r.rc == 1 and f"ticket {tid}: locked by session 999" in r.stdout and
             "1 problem" in r.stderr, "check names a planted problem, exit 1", r)
    con.execute("DELETE FROM ticket_lock WHERE session = 999")
    con.commit()
    con.close()

    # --- backup
    b = os.path.join(t.scratch, "backup.db")
    r = admin("backup", b)
    t.expect(r.rc == 0 and r.stdout == "" and r.stderr == "", "backup", r)
    st = os.stat(b)
    t.expect(stat.S_IMODE(st.st_mode) == 0o600 and st.st_uid == t.uid(t.admin),
             "the backup is the admin's, mode 0600", oct(st.st_mode))
    con = sqlite3.connect(f"file:{b}?mode=ro", uri=True)
    ok = con.execute("PRAGMA integrity_check").fetchone()[0]
    names = {row[0] for row in con.execute("SELECT name FROM wiki_page")}
    comp = con.execute("SELECT component FROM ticket WHERE id = ?", (tid,)).fetchone()[0]
    con.close()
    t.expect(ok == "ok" and names == set(PAGES) and comp == "e-mail",
             "the backup is a consistent database with everything", (ok, names, comp))
    leftovers = [f for f in os.listdir(t.trackled.dir) if f.startswith(".trackle-backup")]
    t.expect(not leftovers, "trackled removed its temporary copy", leftovers)
    before = open(b, "rb").read()
    r = admin("backup", b)
    t.expect(r.rc == 1 and "exists already" in r.stderr and open(b, "rb").read() == before,
             "backup never overwrites a file", r)
    r = admin("backup", os.path.join(t.scratch, "no", "such", "dir", "b.db"))
    t.expect(r.rc == 1 and "cannot create" in r.stderr, "backup into a missing directory", r)
    t.expect(not os.path.exists(os.path.join(t.scratch, "no")), "and it created nothing")

    # trackled gone
    t.trackled.stop()
    t.trackled.unlisten()
    r = admin("component", "list")
    t.expect(r.rc == 1 and "cannot reach trackled" in r.stderr, "no trackled: exit 1, says so", r)
    r = admin("backup", os.path.join(t.scratch, "b2.db"))
    t.expect(r.rc == 1 and not os.path.exists(os.path.join(t.scratch, "b2.db")),
             "a backup that cannot be made leaves no file", r)


tk.run(main)
