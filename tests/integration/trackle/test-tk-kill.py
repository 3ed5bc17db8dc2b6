#!/usr/bin/env python3
"""A process killed with SIGKILL in the middle of a write: no destructor runs, the kernel closes
its connection, and trackled takes the after state then, while the session is still open (the
session waits on a fifo this test controls, and the test polls `trackle session show` of the
open session). Two writers: python (open, write half, SIGKILL itself) and bash (a redirection,
then kill -9 $$). The session itself goes on and ends normally."""

import os

import tk_harness as tk
from tk_harness import sha256, write


def main(t):
    d, own = tk.admin_dir(t, "kill")
    f1 = write(os.path.join(d, "py.conf"), "the whole original content\n", 0o644, own)
    f2 = write(os.path.join(d, "sh.conf"), "original\n", 0o644, own)
    fifo = os.path.join(d, "go")
    os.mkfifo(fifo)
    os.chown(fifo, *own)
    done = os.path.join(d, "killed")

    py = (f"{tk.PY} -c \"import os, signal; f = open('py.conf', 'r+'); f.truncate(0); "
          "f.write('half'); f.flush(); os.kill(os.getpid(), signal.SIGKILL); f.write('never')\"")
    sh = "bash -c 'echo half-sh > sh.conf; kill -9 $$; echo never >> sh.conf'"
    # the session: both writers die by SIGKILL, then it waits for the test
    commands = f"{py}; {sh}; : > killed; read x < go; echo done"
    before = t.session_ids()
    with tk.background_session(t, commands, d) as proc:
        tk.wait_until(lambda: os.path.exists(done) or proc.poll() is not None,
                      "the two writers to be killed", 30)
        tk.check(proc.poll() is None, "the session goes on after its processes were killed")
        new = tk.wait_until(lambda: t.session_ids() - before, "the session to be listed", 10)
        sid = max(new)

        # The open session lists no files yet (trackled classifies them at its end); what the
        # kernel's close of each connection made trackled store is in file_change.after_*.
        def stored_after(path):
            return (tk.change_row(t, sid, path, "after_sha256") or (None,))[0]

        def after_taken():
            return (stored_after(f1) == sha256("half") and
                    stored_after(f2) == sha256("half-sh\n"))
        try:
            tk.wait_until(after_taken, "after states of both killed writers, session still open",
                          15)
            s = t.show(sid, wait_ended=False)
            t.expect(s.get("state") == "open", "the session was still open then", s.get("state"))
            t.expect(True, "the after states were stored when the kernel closed the connections")
        except tk.Failure as e:
            t.expect(False, f"after state at kill: {e}",
                     f"stored: py.conf {stored_after(f1)} sh.conf {stored_after(f2)}; want "
                     f"{sha256('half')} {sha256('half-sh' + chr(10))}")
        # change the file behind trackled's back: the end-of-session pass takes the final state
        with open(fifo, "w") as w:
            w.write("go\n")
        tk.session_ends(t, proc)
    s = t.show(sid)
    tk.expect_content(t, s, f1, "modified", "the whole original content\n", "half",
                      ["-the whole original content", "+half"], "python killed mid-write")
    tk.expect_content(t, s, f2, "modified", "original\n", "half-sh\n", ["+half-sh"],
                      "bash killed after a redirection")


tk.run(main, needs=("bash",))
