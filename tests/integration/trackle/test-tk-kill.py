#!/usr/bin/env python3
"""A process killed with SIGKILL in the middle of a write: no destructor runs, the kernel closes
its connection, and trackled takes the after state then, while the session is still open (the
session waits on a fifo this test controls, and the test polls `trackle session show` of the
open session). Two writers: python (open, write half, SIGKILL itself) and bash (a redirection,
then kill -9 $$). The session itself goes on and ends normally."""

import json
import os
import subprocess

import tk_harness as tk
from tk_harness import q, sha256, write


def main(t):
    pw = t.pw(t.admin)
    own = (pw.pw_uid, pw.pw_gid)
    d = os.path.join(t.scratch, "kill")
    os.mkdir(d)
    os.chown(d, *own)
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
    proc = t.as_user(t.admin, t.shell_cmd(commands), background=True, cwd=d)
    try:
        tk.wait_until(lambda: os.path.exists(done) or proc.poll() is not None,
                      "the two writers to be killed", 30)
        tk.check(proc.poll() is None, "the session goes on after its processes were killed")
        new = tk.wait_until(lambda: t.session_ids() - before, "the session to be listed", 10)
        sid = max(new)

        def after_taken():
            s = t.show(sid, wait_ended=False)
            a = t.file(s, f1)
            b = t.file(s, f2)
            return (a and (a.get("after") or {}).get("sha256") == sha256("half") and
                    b and (b.get("after") or {}).get("sha256") == sha256("half-sh\n") and s)
        try:
            s = tk.wait_until(after_taken, "after states of both killed writers in the open session",
                              15)
            t.expect(s.get("state") == "open", "the session was still open then")
            t.expect(True, "the after state was taken when the kernel closed the connections")
        except tk.Failure as e:
            s = t.show(sid, wait_ended=False)
            t.expect(False, f"after state at kill: {e}",
                     json.dumps(s.get("files"), indent=1)[:4000])
        # change the file behind trackled's back: the end-of-session pass takes the final state
        with open(fifo, "w") as w:
            w.write("go\n")
        out, err = proc.communicate(timeout=60)
        t.expect(proc.returncode == 0, "the session ended with exit 0", (out, err))
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, 9)
            proc.wait()
    s = t.show(sid)
    tk.expect_content(t, s, f1, "modified", "the whole original content\n", "half",
                      ["-the whole original content", "+half"], "python killed mid-write")
    tk.expect_content(t, s, f2, "modified", "original\n", "half-sh\n", ["+half-sh"],
                      "bash killed after a redirection")


tk.run(main, needs=("bash",))
