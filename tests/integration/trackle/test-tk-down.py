#!/usr/bin/env python3
"""A dead trackled never blocks the admin: fail open, promptly.

One session, driven step by step through a fifo:
 1. the session changes f0 (trackled up);
 2. trackled is SIGKILLed and its socket file removed (nobody there at all): the shell writes
    files, runs sed -i, `sudo true`, `sudo sed -i` on /etc, `sudo su - -c true`,
    `sudo su OTHER -c true`: all of it within 20 s;
 3. the socket is back but nobody serves it (connections queue, no ACK ever comes): the same
    block, within 20 s again (trackled's run lock is free: the library does not even wait);
 4. trackled is started again on the socket: the session changes f3 and ends.
The session then shows what is missing (`missing` non-empty), and what happened while trackled
was up (f0, f3). Outside a session: with trackled down, `trackle shell -c true` returns
(whatever it says) within 20 s, and a set-uid `sudo true` with LD_PRELOAD=libtrackle.so is
prompt."""

import os
import signal
import time

import tk_harness as tk
from tk_harness import write

DEADLINE = 20.0


def main(t):
    pw = t.pw(t.admin)
    own = (pw.pw_uid, pw.pw_gid)
    d = os.path.join(t.scratch, "down")
    os.mkdir(d)
    os.chown(d, *own)
    for name in ("f0", "f1", "f2", "f3", "f4"):
        write(os.path.join(d, name), f"{name} before\n", 0o644, own)
    etc = f"/etc/tk-e2e-{t.admin[3:]}-down"
    write(etc, "x = 1\n", 0o644, (0, 0))
    fifo = os.path.join(d, "go")
    os.mkfifo(fifo)
    os.chown(fifo, *own)

    def block(n):
        # everything the admin does while trackled is gone; marks its own end
        return (f"echo step{n} > f1; sed -i s/before/step{n}/ f2; sudo true; "
                f"sudo sed -i s/x/x{n}/ {etc}; sudo su - -c true; sudo su {t.admin2} -c true; "
                f"echo $? > done{n}")

    commands = ("echo up > f0; read x < go; " + block(1) + "; read x < go; " + block(2) +
                "; read x < go; /bin/sh -c 'echo after-restart > f3'; echo shell-after > f4; echo end")
    before = t.session_ids()
    proc = t.as_user(t.admin, t.shell_cmd(commands), background=True, cwd=d)

    def go():
        with open(fifo, "w") as w:
            w.write("go\n")

    def timed_block(n, what):
        t0 = time.monotonic()
        go()
        marker = os.path.join(d, f"done{n}")
        try:
            tk.wait_until(lambda: os.path.exists(marker) and open(marker).read().strip(),
                          what, DEADLINE)
        except tk.Failure as e:
            t.expect(False, f"{what}: {e}")
            return
        took = time.monotonic() - t0
        t.expect(took < DEADLINE, f"{what}: done in {took:.1f}s (< {DEADLINE:.0f}s)")
        t.expect(open(marker).read().strip() == "0", f"{what}: the last su succeeded")
        t.expect(open(os.path.join(d, "f1")).read() == f"step{n}\n",
                 f"{what}: the shell's write happened")

    try:
        sid = max(tk.wait_until(lambda: t.session_ids() - before, "the session to open", 30))
        # the shell's own redirection: its before state is stored (the after comes when the
        # shell's connection closes, or at the session's end)
        tk.wait_until(lambda: t.stored(sid, os.path.join(d, "f0")),
                      "f0's before state to be stored while trackled is up", 15)
        # 2: no trackled, no socket
        t.trackled.stop(signal.SIGKILL)
        t.trackled.unlisten()
        tk.check(not os.path.exists(tk.SOCKET), "trackled killed, its socket file removed")
        timed_block(1, "trackled gone and no socket: shell, sed -i, sudo, sudo su -, su")
        # 3: a socket that nobody serves
        t.trackled.listen()
        timed_block(2, "socket present but nobody serving: the same block")
        # 4: trackled again
        t.trackled.start()
        print("trackled started again", flush=True)
        go()
        out, err = tk.finish(proc, 60, 'the session')
        t.expect(proc.returncode == 0, "the session ended normally", (proc.returncode, out, err))
    finally:
        if proc.poll() is None:
            tk.kill_tree(proc)
            proc.wait()

    s = t.show(sid)
    missing = s.get("missing")
    t.expect(isinstance(missing, list) and len(missing) > 0,
             "the session says what may be missing (`missing` non-empty)", missing)
    print(f"missing: {missing}", flush=True)
    t.expect(t.file(s, os.path.join(d, "f0")) is not None, "f0 (before the kill) is recorded",
             t.paths(s))
    f3 = t.file(s, os.path.join(d, "f3"))
    t.expect(f3 is not None and (f3.get("after") or {}).get("sha256") == tk.sha256("after-restart\n"),
             "f3 (a new process after the restart) is recorded with its content",
             f3 or t.paths(s))
    f4 = t.file(s, os.path.join(d, "f4"))
    if f4 is None:
        # the contract lets a process that once failed to reach trackled give up for its
        # whole life: the session's own shell then records nothing more after a restart
        print("NOTE: f4, written by the session's shell itself after the restart, is not "
              f"recorded; `missing` says only: {missing}", flush=True)
    t.expect(s.get("state") in ("ended", "abandoned"), f"the session is closed ({s.get('state')})")
    os.unlink(etc)

    # outside any session, trackled down: trackle shell and set-uid programs return promptly
    t.trackled.stop(signal.SIGKILL)
    t.trackled.unlisten()
    r = t.as_user(t.admin, t.shell_cmd("true"), timeout=DEADLINE + 5)
    t.expect(r.elapsed < DEADLINE, f"trackled down: `trackle shell -c true` returned in "
             f"{r.elapsed:.1f}s (rc {r.rc}: {r.stderr.strip()[:200]})")
    t.expect(r.rc != 0 or "warn" in r.stderr.lower() or "not" in r.stderr.lower(),
             "trackled down: `trackle shell` does not pretend to record (an error or a warning)",
             r)
    t.trackled.listen()  # present, nobody serving
    r = t.as_user(t.admin, "LD_PRELOAD=libtrackle.so sudo true && LD_PRELOAD=libtrackle.so "
                  f"sudo su {t.admin2} -c true && echo fine", timeout=DEADLINE + 5)
    t.expect(r.rc == 0 and "fine" in r.stdout and r.elapsed < DEADLINE,
             f"trackled not serving: LD_PRELOAD=libtrackle.so sudo/su outside a session in "
             f"{r.elapsed:.1f}s", r)
    try:
        r = t.as_user(t.admin, t.shell_cmd("true"), timeout=DEADLINE + 5)
        t.expect(r.elapsed < DEADLINE, f"trackled not serving: `trackle shell -c true` "
                 f"returned in {r.elapsed:.1f}s (rc {r.rc}: {r.stderr.strip()[:200]})")
    except tk.Failure as e:
        t.expect(False, "trackled not serving: `trackle shell -c true` returns promptly", e)
    t.trackled.start()


tk.run(main, needs=("sudo", "su", "sed"))
