#!/usr/bin/env python3
"""Wrapping a program keeps what pointed to it and what it is called: every chain of
symlinks that led to a wrapped program still runs it (python3 -> python3.11, editor ->
alternatives -> nano, relative and absolute links, a symlinked directory, a PATH search, a
login shell's argv[0]) and counts the wrapped program; and the running program keeps its
process name, so pgrep -x, ps -C, pidof and killall still find it."""

import os
import shutil
import signal
import subprocess
import sys
import time

from harness import Trackerd, check, run_test, wait_until

shim, trackerd_bin = sys.argv[1], sys.argv[2]
wrap_bin = os.path.join(os.path.dirname(os.path.dirname(shim)), "tools", "tracker-wrap")


def main(tmp):
    bindir = os.path.join(tmp, "usr", "bin")
    alt = os.path.join(tmp, "etc", "alternatives")
    lists = os.path.join(tmp, "tracked.d")
    for d in (bindir, alt, lists):
        os.makedirs(d)
    base = [wrap_bin, "--backend=plain", f"--shim={os.path.abspath(shim)}", f"--lists={lists}",
            f"--state={os.path.join(tmp, 'wrapped.list')}"]

    # The programs: "python3.11" and "nano" print their arguments; "tsleepy" sleeps.
    for name, src in (("python3.11", "/bin/echo"), ("nano", "/bin/echo"), ("tsleepy", "/bin/sleep")):
        shutil.copy2(src, os.path.join(bindir, name))
        r = subprocess.run(base + ["add", os.path.join(bindir, name)], capture_output=True, text=True)
        check(r.returncode == 0, f"tracker-wrap add {name} ({r.stderr.strip()})")

    # The links that pointed to them before they were wrapped, as packages and
    # update-alternatives make them: relative, absolute, through another directory, chains.
    os.symlink("python3.11", os.path.join(bindir, "python3"))
    os.symlink("python3", os.path.join(bindir, "python"))
    os.symlink(os.path.join(bindir, "nano"), os.path.join(alt, "editor"))
    os.symlink("../../etc/alternatives/editor", os.path.join(bindir, "editor"))
    os.symlink(os.path.join(bindir, "editor"), os.path.join(tmp, "my-editor"))
    os.symlink("tsleepy", os.path.join(bindir, "sleepy-link"))
    os.symlink("usr/bin", os.path.join(tmp, "bin"))  # a merged-/usr style directory alias

    d = Trackerd(trackerd_bin, tmp).start()
    env = dict(os.environ, TRACKSUITE_TRACKER_SERVER=d.server,
               TRACKSUITE_TRACKER_CONFIG="/nonexistent", PATH=f"{bindir}:/usr/bin:/bin")
    env.pop("TRACKING", None)

    cases = [
        ([os.path.join(bindir, "python3"), "a"], "python3.11", "a one-link chain"),
        ([os.path.join(bindir, "python"), "b"], "python3.11", "a two-link chain"),
        (["python3", "c"], "python3.11", "a PATH search for a link"),
        ([os.path.join(tmp, "bin", "python3"), "d"], "python3.11", "a link in a symlinked directory"),
        ([os.path.join(bindir, "editor"), "e"], "nano", "editor -> alternatives -> nano"),
        (["editor", "f"], "nano", "editor found on PATH"),
        ([os.path.join(tmp, "my-editor"), "g"], "nano", "a three-link chain"),
        ([os.path.join(alt, "editor"), "h"], "nano", "the alternatives link itself"),
        ([os.path.join(bindir, "nano"), "i"], "nano", "the wrapped program itself"),
    ]
    for n, (cmd, program, what) in enumerate(cases, 1):
        r = subprocess.run(cmd, env=env, capture_output=True, text=True)
        check(r.returncode == 0 and r.stdout == cmd[-1] + "\n",
              f"{what} runs the real program (rc {r.returncode}, {r.stderr.strip()!r})")
        d.wait_uses(n, "1")
        got = d.query("SELECT program FROM uses ORDER BY rowid DESC LIMIT 1")[0][0]
        check(got == program, f"{what} counts the wrapped program '{program}' (got '{got}')")

    # A login shell's argv[0] ("-python3") names nothing: the file given to execve() does.
    r = subprocess.run(["-python3", "j"], executable=os.path.join(bindir, "python3"), env=env,
                       capture_output=True, text=True)
    check(r.returncode == 0 and r.stdout == "j\n", f"an argv[0] like '-python3' still works ({r.stderr.strip()!r})")

    # A link to something that is not wrapped still fails clearly.
    os.symlink(os.path.abspath(shim), os.path.join(bindir, "orphan"))
    r = subprocess.run([os.path.join(bindir, "orphan")], env=env, capture_output=True, text=True)
    check(r.returncode == 127 and "cannot find the real program" in r.stderr,
          "a wrapper without a real program says so")
    # A loop of links ends.
    os.symlink("loop-b", os.path.join(bindir, "loop-a"))
    os.symlink("loop-a", os.path.join(bindir, "loop-b"))
    r = subprocess.run(["loop-a"], executable=os.path.abspath(shim), env=env, capture_output=True,
                       text=True, timeout=30)
    check(r.returncode == 127, "a loop of symlinks ends in 'cannot find' rather than hanging")

    # The process name: what the kernel takes from the path given to execve().
    for cmd, name, what in (([os.path.join(bindir, "tsleepy"), "60"], "tsleepy", "by its path"),
                            (["tsleepy", "60"], "tsleepy", "found on PATH"),
                            ([os.path.join(bindir, "sleepy-link"), "60"], "tsleepy", "through a link")):
        p = subprocess.Popen(cmd, env=env)
        try:
            comm = wait_until(lambda: _comm_after_exec(p.pid, shim), f"{what}: the exec")
            check(comm == name, f"{what}: /proc/PID/comm is '{name}' (got '{comm}')")
            r = subprocess.run(["pgrep", "-x", name], capture_output=True, text=True)
            check(str(p.pid) in r.stdout.split(), f"{what}: pgrep -x {name} finds it")
            r = subprocess.run(["ps", "-C", name, "-o", "pid="], capture_output=True, text=True)
            check(str(p.pid) in r.stdout.split(), f"{what}: ps -C {name} finds it")
            if os.path.basename(cmd[0]) == name:
                # pidof matches argv[0] or /proc/PID/exe (the real file, NAME.t%)
                r = subprocess.run(["pidof", name], capture_output=True, text=True)
                check(str(p.pid) in r.stdout.split(), f"{what}: pidof {name} finds it")
        finally:
            if p.poll() is None:
                p.kill()
            p.wait()
    if shutil.which("killall"):
        p = subprocess.Popen([os.path.join(bindir, "tsleepy"), "60"], env=env)
        wait_until(lambda: _comm_after_exec(p.pid, shim), "the exec before killall")
        # Only our own process: the name is unique to this test, and -y limits to processes
        # younger than this test.
        r = subprocess.run(["killall", "-s", "TERM", "-y", "2m", "tsleepy"],
                           capture_output=True, text=True)
        try:
            rc = p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            rc = None
        check(r.returncode == 0 and rc == -signal.SIGTERM, f"killall tsleepy stops it ({r.stderr.strip()})")

    # Wrappers placed before the name links existed get them on the next sync.
    names = os.path.join(bindir, ".t%")
    os.unlink(os.path.join(names, "tsleepy"))
    with open(os.path.join(lists, "site.list"), "w") as f:
        f.write(f"{bindir}/tsleepy\n")
    r = subprocess.run(base + ["sync"], capture_output=True, text=True)
    check(os.readlink(os.path.join(names, "tsleepy")) == "../tsleepy.t%", f"sync repairs the name link ({r.stderr.strip()})")
    # remove takes the name link and, once empty, the directory away.
    r = subprocess.run(base + ["remove", "--all"], capture_output=True, text=True)
    check(r.returncode == 0 and not os.path.lexists(names), f"remove --all leaves no {names} behind ({r.stderr.strip()})")
    check(d.stop() == 0, "trackerd exits cleanly")


def _comm_after_exec(pid, shim):
    """The process name once the shim has executed the real program (the shim's own is the
    link's name too, so wait until /proc/PID/exe is no longer the shim)."""
    try:
        exe = os.readlink(f"/proc/{pid}/exe")
        if os.path.realpath(shim) == exe:
            return None
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return None


run_test(main)
