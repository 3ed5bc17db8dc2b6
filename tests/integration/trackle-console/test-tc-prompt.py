#!/usr/bin/python3
"""test-tc-prompt.py - trackle-shell-prompt: inside a tracked session (audit mode, ancestry
mode, and under sudo) "Trackle" and exit 0; outside nothing and exit 1, also with a forged
TRACKLE_SESSION naming an open session; colour only when asked or on a colour terminal; the
tracked bash's rc file takes its prompt from it. argv: TRACKLED TRACKLE LIBTRACKLE
TRACKLE_LOGINUID; TC_PROMPT: trackle-shell-prompt."""

import os
import threading

import tk_harness as tk

PROMPT = os.environ.get("TC_PROMPT", "")


def main(t):
    if not PROMPT or not os.path.exists(PROMPT):
        tk.skip("trackle-shell-prompt is not built")
    p = tk.q(PROMPT)

    r = t.as_user(t.admin, f"{p}; echo rc=$?")
    t.expect(r.stdout == "rc=1\n" and r.stderr == "", "outside a session: nothing, exit 1", r)

    s = t.shell(f"{p}; echo rc=$?; {p} --ps1 --color=always; echo; {p} -q; echo q=$?; "
                f"{p} --session; sudo -n {p}; echo sudo=$?")
    lines = s.stdout.split("\n")
    t.expect(lines[0] == "Trackle" and lines[1] == "rc=0",
             "inside: 'Trackle' (plain: not a terminal), exit 0", s)
    t.expect(lines[2] == "\x01\x1b[1;32m\x02Trackle\x01\x1b[0m\x02 ",
             "--ps1 --color=always: bold green between \\001 and \\002, then a space", lines[2:3])
    t.expect(lines[3] == "q=0", "--quiet: the exit status only", lines[3:4])
    t.expect(lines[4] == str(s.id), "--session prints the session id", (lines[4:5], s.id))
    t.expect(lines[5] == "Trackle" and lines[6] == "sudo=0",
             "root under sudo inside the session is inside too", lines[5:7])
    sess = t.show(s.id)
    t.expect(sess["identity"] == "audit", "that session had audit identity", sess["identity"])

    # ancestry mode (no trackle-loginuid): the hint plus the walk to the leader
    helper = "/usr/libexec/tracksuite/trackle-loginuid"
    os.rename(helper, helper + ".off")
    try:
        s2 = t.shell(f"{p}; echo rc=$?")
    finally:
        os.rename(helper + ".off", helper)
    t.expect(s2.stdout.startswith("Trackle\nrc=0\n"), "ancestry mode: inside (hint and ancestors)", s2)
    t.expect(t.show(s2.id)["identity"] == "ancestry", "that session had ancestry identity")

    # a forged hint from outside, while a session is open
    fifo = os.path.join(t.scratch, "hold")
    os.mkfifo(fifo)
    os.chmod(fifo, 0o666)
    holder = threading.Thread(target=lambda: t.shell(f"cat {tk.q(fifo)} >/dev/null"))
    holder.start()
    try:
        def open_id():
            for x in t.session_list():
                if x["state"] == "open":
                    return x["id"]
            return None
        sid = tk.wait_until(open_id, "a session to be open")
        r = t.as_user(t.admin, f"TRACKLE_SESSION={sid} {p}; echo rc=$?")
        t.expect(r.stdout == "rc=1\n",
                 "outside with a forged TRACKLE_SESSION of an open session: still exit 1", r)
        r = t.as_user(t.admin, f"TRACKLE_SESSION={sid} {p}; echo rc=$?", fresh_audit=True)
        t.expect(r.stdout == "rc=1\n", "the same from a fresh audit session (ssh login)", r)
    finally:
        with open(fifo, "w") as f:
            f.write("done\n")
        holder.join(60)

    r = t.as_user(t.admin, f"{p} --help")
    t.expect(r.rc == 0 and "--ps1" in r.stdout, "--help", r)
    r = t.as_user(t.admin, f"{p} extra")
    t.expect(r.rc == 2, "an argument is bad usage: exit 2", r)


tk.run(main)
