#!/usr/bin/env python3
"""`trackle shell` on a ticket: `trackle ticket new --summary` prints the new ticket's number;
the ticket's lock is held while a session runs on it (a first session waits on a fifo this
test controls): a second `trackle shell N` by another admin fails and runs nothing, the lock
is shown by `ticket show --json`; after the first session ends the lock is released and the
other admin's session runs; `--steal` takes the lock from a running session."""

import json
import os
import re

import tk_harness as tk


def ticket_show(t, n):
    r = t.tool("ticket", "show", n, "--json")
    v = json.loads(r.stdout)
    return v.get("ticket", v) if isinstance(v, dict) else v


def main(t):
    pw = t.pw(t.admin)
    d = os.path.join(t.scratch, "ticket")
    os.mkdir(d, 0o777)
    os.chmod(d, 0o777)
    fifo = os.path.join(d, "go")
    os.mkfifo(fifo)
    os.chmod(fifo, 0o666)

    r = t.tool("ticket", "new", "--summary", "tk-e2e: rotate the web server's logs",
               user=t.admin)
    out = r.stdout.strip()
    tk.check(re.fullmatch(r"#?\d+", out.splitlines()[-1] if out else ""),
             f"`trackle ticket new --summary` prints a number ({out!r})")
    n = int(out.splitlines()[-1].lstrip("#"))
    tk.check(ticket_show(t, n).get("summary") == "tk-e2e: rotate the web server's logs",
             f"ticket {n} has the summary")

    def first_session(marker):
        before = t.session_ids()
        p = t.as_user(t.admin, t.shell_cmd(f"echo {marker} > {marker}; read x < go", ticket=n),
                      background=True, cwd=d)
        t.cleanups.append(lambda: p.poll() is None and tk.kill_tree(p))
        sid = max(tk.wait_until(lambda: t.session_ids() - before, "the first session to open", 30))
        return p, sid

    def release(p):
        with open(fifo, "w") as w:
            w.write("go\n")
        out, err = tk.finish(p, 60, 'the session')
        return p.returncode, out, err

    p, sid = first_session("first")
    lock = tk.wait_until(lambda: ticket_show(t, n).get("lock"), "the ticket's lock to show", 10)
    t.expect(isinstance(lock, dict) and (lock.get("session") == sid or lock.get("user") == t.admin
                                         or lock.get("uid") == pw.pw_uid),
             f"ticket {n} is locked by session {sid} of {t.admin}", lock)
    r = t.shell("echo second > second", user=t.admin2, ticket=n, cwd=d, timeout=30)
    t.expect(r.rc != 0, "a second admin's `trackle shell N` fails while the lock is held", r)
    t.expect("lock" in (r.stderr + r.stdout).lower(), "... and says the ticket is locked", r)
    t.expect(not os.path.exists(os.path.join(d, "second")), "... and runs nothing", r)
    t.expect(r.id is None, "... and opens no session", r.id)
    rc, out, err = release(p)
    t.expect(rc == 0, "the first session ended", (out, err))
    s = t.show(sid)
    t.expect(s.get("ticket") == n, f"the first session is on ticket {n}", s.get("ticket"))
    tk.wait_until(lambda: not ticket_show(t, n).get("lock"), "the lock to be released", 10)
    t.expect(True, "after the session the lock is released")
    info = ticket_show(t, n)
    t.expect(sid in (info.get("sessions") or []), "ticket show lists the session", info)

    r = t.shell("echo second > second", user=t.admin2, ticket=n, cwd=d, timeout=30)
    t.expect(r.rc == 0 and r.id, "now the other admin's session on the ticket runs", r)
    t.expect(not ticket_show(t, n).get("lock"), "and releases the lock at its end")

    # --steal
    p, sid = first_session("third")
    tk.wait_until(lambda: ticket_show(t, n).get("lock"), "the lock", 10)
    r = t.shell("echo stolen > stolen", user=t.admin2, ticket=n, args=["--steal"], cwd=d,
                timeout=30)
    t.expect(r.rc == 0 and r.id and os.path.exists(os.path.join(d, "stolen")),
             "`trackle shell --steal N` takes the lock and runs", r)
    if r.id:
        s = t.show(r.id)
        t.expect(s.get("ticket") == n and s.get("user") == t.admin2,
                 "the stolen session is the other admin's, on the ticket",
                 {k: s.get(k) for k in ("ticket", "user")})
        hist = json.dumps(ticket_show(t, n).get("history"))
        t.expect("steal" in hist.lower() or "lock" in hist.lower(),
                 "the ticket's history shows the steal", hist[:2000])
    rc, out, err = release(p)
    t.expect(rc == 0, "the first session, robbed of its lock, still ends normally", (out, err))
    t.expect(not ticket_show(t, n).get("lock"), "no lock is left over")


tk.run(main)
