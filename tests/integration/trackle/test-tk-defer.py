#!/usr/bin/env python3
"""Before states that trackled holds (the old inode open) and reads later, while the program
that replaced the files still runs (trackled(8) "HELD BEFORE STATES").

A python process A of the session replaces p.conf and q.conf with os.replace() (an
asynchronous BEFORE with the old inode's descriptor each) and then blocks on a fifo, alive.
While A waits:
1. another process B changes p.conf's mode and exits: B's chmod event must not take p.conf's
   state before from the file as it is now (A's content), and B's after state must not make
   the held one "unknown": p.conf's before state is A's old inode, stored then;
2. q.conf, which nothing else touches, is stored within trackled's bound for held states
   (two seconds), A still alive;
3. A's rename onto p.conf (renamed_from) is kept with the held state and recorded with it;
4. A has also created r.conf, after enough frames that the event went into its ring and not
   on its socket, and sent nothing since; the shell then appends to r.conf (a synchronous
   BEFORE): trackled must work off A's ring first, or it would take A's content for the
   state before the session. r.conf is "created".
5. s.conf has a second hard link, s.link, made before the session. A replaces s.conf (its old
   inode, still s.link, is held) and then appends to s.link: the held inode is no longer
   what s.conf was. trackled must not show that content as s.conf's state before: it says
   it could not read it. s.link's own state before is the old content.
6. After its ring exists, A changes the mode of t.conf and then replaces it, and changes the
   mode of u.conf and then appends to it. trackled handles a BEFORE before the events still
   in the process's ring only when none of them concerns the same path: here the chmod
   events do, so they come first and the states before have the old mode (0644), not 0600.
   t.conf's content before is read from the descriptor of the old inode that came with the
   BEFORE, not from the path: A did not wait, and may have renamed t.tmp over it already.
7. After its ring exists, A forks a child that execs echo: the child's EXEC frame goes on A's
   connection, and trackled holds it until A's ring is worked off up to where it was (here:
   when A's connection ends). Another process K does the same and then kills itself with
   SIGKILL. Both commands are in the session.
8. w.conf has a second hard link, w.link. The shell's chmod of w.conf comes first, so its
   state before is known (stored from chmod's event) when A replaces it and then appends to
   w.link. The held old inode changed, but that is no matter: trackled asks the database when
   it stores a held state, finds the path's state before already there, and keeps it; it
   does not say that it could not read it.
Then A exits and the session ends: p.conf and q.conf are "modified", with the right
contents."""

import os

import tk_harness as tk
from tk_harness import sha256, write

A = r'''
import os, sys
d = sys.argv[1]

def put(name, text, mode="w"):
    with open(os.path.join(d, name), mode) as f:
        f.write(text)

def replace(n):         # n.tmp written, then renamed over n.conf
    put(n + ".tmp", "new " + n + "\n")
    os.replace(os.path.join(d, n + ".tmp"), os.path.join(d, n + ".conf"))

for i in range(6):     # frames enough for the library to make its ring (after 8)
    open(os.path.join(d, "x%d" % i), "w").close()
replace("p")
replace("q")
put("r.conf", "from A\n")
replace("s")
put("s.link", "appended through the other link\n", "a")
os.chmod(os.path.join(d, "t.conf"), 0o600)
replace("t")
os.chmod(os.path.join(d, "u.conf"), 0o600)
put("u.conf", "more u\n", "a")
replace("w")
put("w.link", "appended through the other link\n", "a")
pid = os.fork()
if pid == 0:
    os.execv("/bin/echo", ["echo", "held exec A"])
os.waitpid(pid, 0)
put("ready", "ready\n")
with open(os.path.join(d, "a-go")) as f:
    f.read()
'''

K = r'''
import os, signal, sys
d = sys.argv[1]
for i in range(10):     # its ring
    open(os.path.join(d, "k%d" % i), "w").close()
pid = os.fork()
if pid == 0:
    os.execv("/bin/echo", ["echo", "held exec K"])
os.waitpid(pid, 0)
os.kill(os.getpid(), signal.SIGKILL)
'''


def main(t):
    d, own = tk.admin_dir(t, "defer")
    p = write(os.path.join(d, "p.conf"), "orig p\n", 0o644, own)
    q = write(os.path.join(d, "q.conf"), "orig q\n", 0o644, own)
    sconf = write(os.path.join(d, "s.conf"), "orig s\n", 0o644, own)
    tconf = write(os.path.join(d, "t.conf"), "orig t\n", 0o644, own)
    uconf = write(os.path.join(d, "u.conf"), "orig u\n", 0o644, own)
    wconf = write(os.path.join(d, "w.conf"), "orig w\n", 0o644, own)
    os.link(wconf, os.path.join(d, "w.link"))
    slink = os.path.join(d, "s.link")
    os.link(sconf, slink)
    for n in ("ready", "a-go"):
        os.mkfifo(os.path.join(d, n))
        os.chown(os.path.join(d, n), *own)
    script = write(os.path.join(d, "a.py"), A, 0o644, own)
    kscript = write(os.path.join(d, "k.py"), K, 0o644, own)
    done = os.path.join(d, "b-done")
    rconf = os.path.join(d, "r.conf")
    commands = (f"chmod 640 w.conf; {tk.PY} {tk.q(kscript)} {tk.q(d)}; "
                f"{tk.PY} {tk.q(script)} {tk.q(d)} & read x < ready; chmod 600 p.conf; "
                "echo more >> r.conf; : > b-done; wait; echo done")
    before = t.session_ids()
    with tk.background_session(t, commands, d) as proc:
        tk.wait_until(lambda: os.path.exists(done) or proc.poll() is not None,
                      "A's replacements and B's chmod", 30)
        tk.check(proc.poll() is None, "the session waits for A")
        # from the database: a console request (trackle session list) would make trackled
        # store every held before state at once
        sid = max(tk.wait_until(
            lambda: {r[0] for r in t.trackled.query("SELECT id FROM session")} - before,
            "the session in the database", 10))

        def row(path):
            return tk.change_row(t, sid, path, "before_kind, before_sha256, renamed_from")

        try:
            tk.wait_until(lambda: (row(p) or (None,))[0] is not None,
                          "p.conf's before state, after B's connection ended", 15)
        except tk.Failure:
            pass
        r = row(p)
        t.expect(r is not None and r[1] == sha256("orig p\n"),
                 "B's chmod and B's after state of p.conf, with A's BEFORE still held: the "
                 "state before is A's old inode", r)
        t.expect(r is not None and r[2] == os.path.join(d, "p.tmp"),
                 "A's rename onto p.conf, which came while its before state was held, is "
                 "recorded", r)
        try:
            tk.wait_until(lambda: (row(q) or (None, None))[1] == sha256("orig q\n"),
                          "q.conf's held before state to be stored, A still alive", 15)
            t.expect(proc.poll() is None and os.path.exists(done),
                     "a held before state is stored within the bound while its process runs")
        except tk.Failure as e:
            t.expect(False, f"q.conf's before state while A runs: {e}", row(q))
        with open(os.path.join(d, "a-go"), "w") as w:
            w.write("go\n")
        tk.session_ends(t, proc)
    s = t.show(sid)
    tk.expect_content(t, s, p, "modified", "orig p\n", "new p\n", ["-orig p", "+new p"],
                      "replaced, then chmod by another process")
    f = t.file(s, p)
    t.expect(f is not None and (f.get("after") or {}).get("mode") == "0600",
             "p.conf's mode after is B's", f)
    tk.expect_content(t, s, q, "modified", "orig q\n", "new q\n", ["-orig q", "+new q"],
                      "replaced, held while its process ran")
    f = t.file(s, sconf)
    t.expect(f is not None and (f.get("before") or {}).get("sha256") !=
             sha256("orig s\nappended through the other link\n"),
             "a held inode written again: not shown as the state before", f)
    t.expect(any(f"could not read the before state of '{sconf}': it was written again" in m
                 for m in map(str, s.get("missing", []))),
             "the session says that s.conf's state before could not be read",
             s.get("missing"))
    tk.expect_content(t, s, slink, "modified", "orig s\n",
                      "orig s\nappended through the other link\n",
                      ["+appended through the other link"], "appended through a second link")
    for path, old, new, mode in ((tconf, "orig t\n", "new t\n", "0644"),
                                 (uconf, "orig u\n", "orig u\nmore u\n", "0600")):
        tk.expect_content(t, s, path, "modified", old, new, [], "chmod, then changed by A")
        f = t.file(s, path)
        t.expect(f is not None and (f.get("before") or {}).get("mode") == "0644" and
                 (f.get("after") or {}).get("mode") == mode,
                 f"{os.path.basename(path)}: A's chmod event, in its ring, comes before its "
                 "BEFORE of the same path: the mode before is 0644", f)
    f = t.file(s, wconf)
    t.expect(f is not None and (f.get("before") or {}).get("sha256") == sha256("orig w\n") and
             (f.get("before") or {}).get("mode") == "0644",
             "w.conf: the state before from the chmod's event, which came first", f)
    t.expect(not any("w.conf" in str(m) for m in s.get("missing", [])),
             "w.conf's held old inode, written again, is not said to be unreadable: its state "
             "before was already known", s.get("missing"))
    argvs = [c.get("argv") for c in s.get("commands", [])]
    for who in ("A", "K"):
        t.expect(["echo", f"held exec {who}"] in argvs,
                 f"the command of {who}'s forked child, held behind {who}'s ring, is recorded "
                 f"({'killed' if who == 'K' else 'exited'})", argvs)
    f = t.file(s, rconf)
    t.expect(f is not None and f.get("change") == "created" and f.get("before") is None and
             (f.get("after") or {}).get("sha256") == sha256("from A\nmore\n"),
             "created by A (the event in its ring), then appended to by the shell: created",
             f)


tk.run(main, needs=("bash",))
