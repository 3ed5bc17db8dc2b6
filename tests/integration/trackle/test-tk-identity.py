#!/usr/bin/env python3
"""Session identity (spec 4.2), from kernel facts:
- with trackle-loginuid installed (4754 root:trackle) a non-root admin's session is "audit":
  the shell runs in a fresh audit session (its /proc/self/sessionid is valid and differs from
  the one it was started from), and the marker a<that id> exists, root-owned, while the
  session is open and is gone after;
- a root session is "audit" too (root re-writes its own loginuid);
- two sessions of the same admin get two different audit session ids;
- without the helper (removed from the overlay) the session is "ancestry", the marker is
  p<session id>, and it still records, through sudo too."""

import os

import tk_harness as tk
from tk_harness import write


def main(t):
    pw = t.pw(t.admin)
    own = (pw.pw_uid, pw.pw_gid)
    d = os.path.join(t.scratch, "ident")
    os.mkdir(d)
    os.chown(d, *own)
    fifo = os.path.join(d, "go")
    os.mkfifo(fifo)
    os.chown(fifo, *own)
    mine = open("/proc/self/sessionid").read().strip()
    etc = f"/etc/tk-e2e-{t.admin[3:]}-ident"

    count = [0]

    def held_session(extra=""):
        count[0] += 1
        before = t.session_ids()
        for f in ("sid", "luid"):
            if os.path.exists(os.path.join(d, f)):
                os.unlink(os.path.join(d, f))
        p = t.as_user(t.admin, t.shell_cmd(
            f"cat /proc/self/sessionid > sid; cat /proc/self/loginuid > luid; echo {count[0]} > ident.conf; "
            f"{extra} read x < go"), background=True, cwd=d)
        t.cleanups.append(lambda: p.poll() is None and tk.kill_tree(p))
        sid = max(tk.wait_until(lambda: t.session_ids() - before, "the session to open", 30))
        tk.wait_until(lambda: os.path.exists(os.path.join(d, "luid")), "the shell to start", 20)
        return p, sid, open(os.path.join(d, "sid")).read().strip()

    def end(p):
        with open(fifo, "w") as w:
            w.write("go\n")
        out, err = tk.finish(p, 60, 'the session')
        t.expect(p.returncode == 0, "the session ended", (out, err))

    # audit, as the non-root admin through the helper
    p, sid, asid = held_session()
    s = t.show(sid, wait_ended=False)
    t.expect(s.get("identity") == "audit", "helper installed: identity is audit",
             s.get("identity"))
    t.expect(asid != "4294967295" and asid != mine,
             f"the shell has a fresh audit session id ({asid}; the test's is {mine})")
    t.expect(open(os.path.join(d, "luid")).read().strip() == str(pw.pw_uid),
             "its loginuid is the admin's uid")
    marker = f"{tk.ACTIVE}/a{asid}"
    t.expect(os.path.exists(marker) and os.stat(marker).st_uid == 0,
             f"the marker {marker} exists, root-owned", os.listdir(tk.ACTIVE))
    if os.path.exists(marker):
        text = open(marker).read()
        t.expect(f"session={sid} " in text and "mode=audit" in text
                 and f"uid={pw.pw_uid}" in text, "the marker's content", text)
    end(p)
    t.expect(not os.path.exists(marker), "the marker is removed when the session ends",
             os.listdir(tk.ACTIVE))
    s = t.show(sid)
    t.expect(t.file(s, os.path.join(d, "ident.conf")) is not None, "audit: recorded",
             t.paths(s))

    # a second session: another audit id
    p, sid2, asid2 = held_session()
    t.expect(asid2 != asid, f"a second session has another audit session id ({asid2} != {asid})")
    end(p)

    # root session
    r = t.shell("echo root > rootident.conf", as_root=True, cwd=d)
    if t.expect(r.rc == 0 and r.id, "a root session ran", r):
        s = t.show(r.id)
        t.expect(s.get("identity") == "audit", "root session: identity audit", s.get("identity"))
        t.expect(t.file(s, os.path.join(d, "rootident.conf")) is not None, "root session records")

    # without the helper: ancestry
    os.unlink("/usr/libexec/tracksuite/trackle-loginuid")
    tk.check(not os.path.exists("/usr/libexec/tracksuite/trackle-loginuid"),
             "trackle-loginuid removed (in this namespace's overlay)")
    write(etc, "before\n", 0o644, (0, 0))
    p, sid3, asid3 = held_session(f"sudo sed -i s/before/after/ {etc};")
    s = t.show(sid3, wait_ended=False)
    t.expect(s.get("identity") == "ancestry", "no helper: identity is ancestry", s.get("identity"))
    t.expect(os.path.exists(f"{tk.ACTIVE}/p{sid3}"), f"the marker p{sid3} exists",
             os.listdir(tk.ACTIVE))
    end(p)
    t.expect(not os.path.exists(f"{tk.ACTIVE}/p{sid3}"), "and is removed at the end")
    s = t.show(sid3)
    t.expect(t.file(s, os.path.join(d, "ident.conf")) is not None, "ancestry: records",
             t.paths(s))
    tk.expect_content(t, s, etc, "modified", "before\n", "after\n", ["+after"],
                      "ancestry: through sudo")
    os.unlink(etc)


tk.run(main, needs=("sudo",))
