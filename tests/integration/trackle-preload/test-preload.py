#!/usr/bin/python3
"""libtrackle.so against a fake trackled, in a private mount namespace.

usage: test-preload.py LIBTRACKLE PROBE FAKE_TRACKLED [GROUP]
GROUP is one of surface, errno, inert, before, fds, fail-open, propagation, audit, ring,
shortcuts, threads (each a
rule of the library, and a meson test of its own); without it all run. Runs as root (exit 77 otherwise); re-executes itself under `unshare -m --propagation private`
and mounts a tmpfs on /run/tracksuite, so the host's trackled (if any) is never touched.
"""
import atexit
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time

LIB, PROBE, FAKE = (os.path.abspath(a) for a in sys.argv[1:4])
THREADS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "threads-workload.py")
GROUP = sys.argv[4] if len(sys.argv) > 4 else None
RUN = "/run/tracksuite"
SOCK = RUN + "/trackle.sock"
ACTIVE = RUN + "/trackle/active"
DEADLINE = 20.0
failures = []

OP = {"WRITE": 1, "TRUNCATE": 2, "UNLINK": 3, "CREATED": 20, "MKDIR": 21, "UNLINKED": 23,
      "RENAMED": 24, "OPENED_EMPTY": 34}


def skip(why):
    print("SKIP: " + why)
    sys.exit(77)


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def enter_namespace():
    if os.geteuid() != 0:
        skip("needs root (mount namespace, markers owned by root)")
    if os.environ.get("TP_IN_NS") != "1":
        env = dict(os.environ, TP_IN_NS="1")
        try:
            r = subprocess.run(["unshare", "-m", "--propagation", "private", "true"],
                               capture_output=True)
        except OSError:
            skip("unshare not available")
        if r.returncode != 0:
            skip("unshare -m impossible here: " + r.stderr.decode(errors="replace").strip())
        os.execvpe("unshare", ["unshare", "-m", "--propagation", "private", sys.executable]
                   + sys.argv, env)
    os.makedirs(RUN, exist_ok=True)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=0755", "tmpfs", RUN]).returncode:
        skip("cannot mount a tmpfs on " + RUN)
    os.makedirs(ACTIVE, mode=0o755)


def wait_for(pred, what, timeout=DEADLINE):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.01)  # polling interval, not a wait for an event
    return None


class Server:
    def __init__(self, mode="normal"):
        self.dir = tempfile.mkdtemp(prefix="tp-srv-")
        os.chmod(self.dir, 0o777)
        self.log = os.path.join(self.dir, "log")
        ready = os.path.join(self.dir, "ready")
        open(self.log, "w").close()
        os.chmod(self.log, 0o666)
        self.p = subprocess.Popen([sys.executable, FAKE, SOCK, self.log, "--mode", mode,
                                   "--ready", ready], stdin=subprocess.DEVNULL)
        if not wait_for(lambda: os.path.exists(ready), "server"):
            raise RuntimeError("fake trackled did not start")

    def frames(self):
        """The frames logged so far: complete lines only (the server may be writing one)."""
        with open(self.log) as f:
            lines = f.read().split("\n")
        return [json.loads(line) for line in lines[:-1] if line.strip()]

    def stop(self):
        self.p.kill()
        self.p.wait()
        if os.path.exists(SOCK):
            os.unlink(SOCK)

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def starttime(pid):
    with open("/proc/%d/stat" % pid) as f:
        s = f.read()
    return int(s[s.rindex(")") + 2:].split()[19])


def marker(name, session, leader, uid=0, owner=0):
    path = os.path.join(ACTIVE, name)
    with open(path, "w") as f:
        f.write("session=%d mode=ancestry leader=%d start=%d uid=%d\n"
                % (session, leader, starttime(leader), uid))
    os.chmod(path, 0o644)
    os.chown(path, owner, owner)
    return path


def run(cmd, env=None, preload=True, session=None, user=None, timeout=60, cwd=None):
    e = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C"}
    if env:
        e.update(env)
    if preload:
        e["LD_PRELOAD"] = LIB if preload is True else preload
    if session is not None:
        e["TRACKLE_SESSION"] = str(session)
    if user is not None:
        cmd = ["setpriv", "--reuid", str(user), "--regid", str(user), "--clear-groups"] + cmd
    return subprocess.run(cmd, env=e, capture_output=True, timeout=timeout, cwd=cwd)


def scratch(mode=0o755):
    d = tempfile.mkdtemp(prefix="tp-")
    os.chmod(d, mode)
    atexit.register(shutil.rmtree, d, ignore_errors=True)
    return d


def events(frames, kind, op=None):
    return [f for f in frames if f["type"] == kind and (op is None or f.get("op") == op)]


# ---------------------------------------------------------------------------------------

def test_surface():
    out = subprocess.run(["readelf", "-d", LIB], capture_output=True, text=True).stdout
    needed = [l.split("[")[1].rstrip("]") for l in out.splitlines() if "(NEEDED)" in l]
    check(needed == ["libc.so.6"], "NEEDED is libc.so.6 only: %s" % needed)
    check("BIND_NOW" in out or "NOW" in out, "bound now (-z now)")
    check("libtrackle.so" in out and "SONAME" in out, "soname libtrackle.so")
    syms = subprocess.run(["nm", "-D", "--defined-only", LIB], capture_output=True,
                          text=True).stdout.split("\n")
    names = sorted(l.split()[-1] for l in syms if l.strip())
    wrappers = set("""open open64 openat openat64 creat creat64 __open_2 __open64_2 __openat_2
        __openat64_2 fopen fopen64 freopen freopen64 rename renameat renameat2 unlink unlinkat
        remove rmdir link linkat symlink symlinkat mkdir mkdirat mknod mknodat mkfifo mkfifoat
        truncate truncate64 chmod fchmod fchmodat lchmod chown fchown lchown fchownat utime
        utimes lutimes futimes futimesat utimensat futimens setxattr lsetxattr fsetxattr
        removexattr lremovexattr fremovexattr mkstemp mkstemp64 mkostemp mkostemp64 mkstemps
        mkostemps mkdtemp execve execv execvp execvpe execl execle execlp fexecve execveat
        posix_spawn posix_spawnp system popen close fclose dup2 dup3 close_range closefrom _exit _Exit""".split())
    check(set(names) == wrappers, "exports exactly the wrappers (extra %s, missing %s)"
          % (sorted(set(names) - wrappers), sorted(wrappers - set(names))))
    check(not any(n.startswith("la_") for n in names), "no la_* symbols")


def test_errno(sid):
    a, b = scratch(), scratch()
    plain = run([PROBE, "errno", a], preload=False)
    with Server() as srv:
        tracked = run([PROBE, "errno", b], session=sid)
        # what went into the process's event ring is read when its connection ends
        wait_for(lambda: any(f["type"] == "close" for f in srv.frames()), "close")
        frames = srv.frames()
    check(plain.returncode == 0 and tracked.returncode == 0, "errno probe ran")
    pl, tl = plain.stdout.decode().splitlines(), tracked.stdout.decode().splitlines()
    diff = [(x, y) for x, y in zip(pl, tl) if x != y]
    check(pl == tl and len(pl) > 90, "return values and errno identical with the library "
          "(%d lines, differences: %s)" % (len(pl), diff[:5]))
    check(tracked.stderr == b"", "nothing on stderr: %r" % tracked.stderr[:200])
    check(len(events(frames, "event")) > 20, "the probe was tracked (%d events)"
          % len(events(frames, "event")))
    ex = [f for f in events(frames, "event", 25)]
    check(any(f["path"] == b + "/e" and f["path2"] == b + "/a" for f in ex),
          "RENAME_EXCHANGE reported as EXCHANGED")
    created = [f["path"] for f in events(frames, "event", OP["CREATED"])]
    check(b + "/c" in created, "openat(dirfd, \"c\") resolved against the dirfd: %s"
          % [c for c in created if c.endswith("/c")])
    untracked = run([PROBE, "errno", scratch()])
    check(untracked.stdout == plain.stdout and untracked.stderr == b"",
          "identical outside a session too")
    shutil.rmtree(a, ignore_errors=True)
    shutil.rmtree(b, ignore_errors=True)


def test_inert(sid):
    d = scratch()
    with Server() as srv:
        r = run(["sh", "-c", "echo x > %s/f; echo y > %s/f; rm %s/f" % (d, d, d)])
        check(r.returncode == 0 and r.stdout == b"" and r.stderr == b"", "runs without a hint")
        r = run(["sh", "-c", "echo x > %s/g; rm %s/g" % (d, d)], session=999999)
        run(["sh", "-c", "echo x > %s/h" % d], session="007")
        check(srv.frames() == [], "no session, a hint without marker, a malformed hint: "
              "the server sees nothing (%d frames)" % len(srv.frames()))
        # A marker whose leader is not our ancestor: a forged hint.
        other = subprocess.Popen(["cat"], stdin=subprocess.PIPE)
        marker("p4242", 4242, other.pid)
        run(["sh", "-c", "echo x > %s/i" % d], session=4242)
        other.stdin.close()
        other.wait()
        check(srv.frames() == [], "a hint naming someone else's session records nothing")
        # A marker that is ours but not owned by root.
        marker("p4343", 4343, os.getpid(), owner=65534)
        run(["sh", "-c", "echo x > %s/j" % d], session=4343)
        check(srv.frames() == [], "a marker not owned by root is ignored")
        os.unlink(os.path.join(ACTIVE, "p4242"))
        os.unlink(os.path.join(ACTIVE, "p4343"))
    # strace: outside a session the only extra file is /proc/self/sessionid, no connect.
    if shutil.which("strace"):
        def opened(preload):
            r = run(["strace", "-f", "-qq", "-e", "trace=connect,openat,open", "sh", "-c",
                     "echo x > %s/k" % d], preload=preload)
            lines = r.stderr.decode().splitlines()
            return [l for l in lines if ".so" not in l and "ld.so" not in l
                    and "locale" not in l], lines
        base, _ = opened(False)
        withlib, raw = opened(True)
        extra = [l for l in withlib if l.split(" ", 1)[-1] not in
                 [b.split(" ", 1)[-1] for b in base]]
        check(not any("connect(" in l for l in raw), "outside a session: no connect")
        check(all("/proc/self/sessionid" in l for l in extra),
              "outside a session: nothing opened but /proc/self/sessionid: %s" % extra)

        def stats(preload):
            r = run(["strace", "-f", "-qq", "-e", "trace=%stat,%lstat,%fstat,statx", "rm", "-f",
                     "%s/none1" % d, "%s/none2" % d], preload=preload)
            return [l for l in r.stderr.decode().splitlines() if "/none" in l]
        base, withlib = stats(False), stats(True)
        check(len(withlib) == len(base),
              "outside a session: no stat of its own before unlink and the like: %s against "
              "%s" % (withlib, base))
    shutil.rmtree(d, ignore_errors=True)


def test_before(sid):
    d = scratch(0o777)
    for n in ("f1", "f2"):
        with open(os.path.join(d, n), "w") as f:
            f.write("old " + n + "\n")
        os.chmod(os.path.join(d, n), 0o666)
    with Server() as srv:
        r = run([PROBE, "write", d + "/f1", d + "/f1", d + "/.//f2", d + "/missing"],
                session=sid, user=65534)
        check(r.returncode == 0, "probe as nobody ran: %r" % r.stderr)
        wait_for(lambda: any(f["type"] == "close" for f in srv.frames()), "close")
        fr = srv.frames()
    before = events(fr, "before")
    paths = [f["path"] for f in before]
    check(paths == [d + "/f1", d + "/f2"], "BEFORE once per file, existing files only, "
          "cleaned path: %s" % paths)
    check(all(f["fds"] == 1 and f["flags"] == 1 for f in before),
          "non-root: the library passes its own fd")
    check([f.get("content") for f in before] == ["old f1\n", "old f2\n"],
          "the fd reads the content before the change")
    peer = before[0]["peer"] if before else -1
    hello = [f for f in events(fr, "hello") if f["peer"] == peer]
    # setpriv (tracked) exec'd the probe with the same pid: one HELLO per program image
    check(1 <= len(hello) <= 2 and all(h["fds"] == 1 and h["flags"] & 2 and h["hint"] == sid
                                       for h in hello), "a HELLO per connection, with the root fd and the hint: %s" % hello)

    # a child of fork() reports for itself: what its parent reported is not in its table
    with open(d + "/f3", "w") as f:
        f.write("old f3\n")
    script = ("import os, sys; f = sys.argv[1]; open(f, 'a').write('p\\n'); pid = os.fork()\n"
              "if pid == 0:\n    open(f, 'a').write('c\\n'); os._exit(0)\n"
              "os.waitpid(pid, 0)")
    with Server() as srv:
        r = run([sys.executable, "-c", script, d + "/f3"], session=sid)
        check(r.returncode == 0, "fork script ran: %r" % r.stderr[-400:])
        wait_for(lambda: len([f for f in srv.frames() if f["type"] == "close"]) >= 2,
                 "close of both connections")
        fr = srv.frames()
    peers = {f["peer"] for f in events(fr, "before") if f["path"] == d + "/f3"}
    check(len(peers) == 2, "a BEFORE from the parent and one from its forked child: %s"
          % [(f["peer"], f["path"]) for f in events(fr, "before")])

    # root: path only
    with Server() as srv:
        run([PROBE, "write", d + "/f1"], session=sid)
        wait_for(lambda: events(srv.frames(), "before"), "before")
        b = events(srv.frames(), "before")
    check(len(b) == 1 and b[0]["fds"] == 0 and b[0]["flags"] == 0,
          "root: BEFORE carries the path only")

    # an existing empty file opened for writing, by nobody and by root: no BEFORE (nothing
    # for trackled to read while the program waits), an event with its stat before instead
    for n in ("e1", "e2"):
        open(os.path.join(d, n), "w").close()
        os.chmod(os.path.join(d, n), 0o666)
    for user, n in ((65534, "e1"), (None, "e2")):
        with Server() as srv:
            r = run([PROBE, "write", d + "/" + n], session=sid, user=user)
            wait_for(lambda: any(f["type"] == "close" for f in srv.frames()), "close")
            fr = srv.frames()
        ev = [f for f in events(fr, "event", OP["OPENED_EMPTY"]) if f["path"] == d + "/" + n]
        check(r.returncode == 0 and not [f for f in events(fr, "before")
                                         if f["path"] == d + "/" + n] and
              len(ev) == 1 and ev[0]["valid"] == 1 and ev[0]["size"] == 0 and
              stat.S_ISREG(ev[0]["mode"]) and stat.S_IMODE(ev[0]["mode"]) == 0o666,
              "%s: an empty file opened for writing: OPENED_EMPTY with its stat, no BEFORE: %s"
              % ("nobody" if user else "root", fr))

    # The table of files a process reported grows as it fills (512 entries, then 1024, 2048,
    # 4096, each time in place): 1,500 empty files opened for writing, all of them, then all of
    # them again, are one OPENED_EMPTY each and nothing more.
    many = scratch()
    names = [os.path.join(many, "m%04d" % i) for i in range(1500)]
    for n in names:
        open(n, "w").close()
    with Server() as srv:
        r = run([PROBE, "write"] + names + names, session=sid)
        wait_for(lambda: any(f["type"] == "close" for f in srv.frames()), "close")
        fr = srv.frames()
    ev = [f["path"] for f in events(fr, "event", OP["OPENED_EMPTY"])]
    check(r.returncode == 0 and sorted(ev) == names and not events(fr, "before"),
          "1,500 files opened twice each: one OPENED_EMPTY per file across the table's growth "
          "(%d events, %d distinct, %d BEFOREs)" % (len(ev), len(set(ev)),
                                                     len(events(fr, "before"))))
    shutil.rmtree(many, ignore_errors=True)

    # root, rename over an existing file: the old inode's fd goes along, no answer awaited
    with open(d + "/new", "w") as f:
        f.write("replacement\n")
    with Server() as srv:
        r = run(["mv", d + "/new", d + "/f2"], session=sid)
        wait_for(lambda: any(f["type"] == "close" for f in srv.frames()), "close")
        b = [f for f in events(srv.frames(), "before") if f["path"] == d + "/f2"]
    check(r.returncode == 0 and open(d + "/f2").read() == "replacement\n", "mv over ran")
    check(len(b) == 1 and b[0]["fds"] == 1 and b[0]["flags"] == 3 and
          b[0].get("content") == "old f2\n",
          "root, rename over: the old file's fd with FD|ASYNC, its old content: %s" % b)

    # tar x into a directory: dirfd-relative names resolved against the right directory
    src, dst = scratch(), scratch()
    os.makedirs(src + "/x")
    with open(src + "/x/y", "w") as f:
        f.write("new\n")
    subprocess.run(["tar", "-C", src, "-cf", src + "/t.tar", "x"], check=True)
    os.makedirs(dst + "/x")
    with open(dst + "/x/y", "w") as f:
        f.write("old\n")
    with Server() as srv:
        r = run(["tar", "-C", dst, "-xf", src + "/t.tar"], session=sid, cwd="/")
        wait_for(lambda: any(f["type"] == "close" for f in srv.frames()), "close")
        fr = srv.frames()
    check(r.returncode == 0, "tar x ran")
    check(any(f["path"] == dst + "/x/y" for f in events(fr, "before")),
          "tar x: BEFORE for %s/x/y: %s" % (dst, [f["path"] for f in events(fr, "before")]))
    shutil.rmtree(d, ignore_errors=True)


def test_fds(sid):
    d = scratch(0o777)
    with open(d + "/f", "w") as f:
        f.write("x\n")
    with Server() as srv:
        r = subprocess.run([PROBE, "fds", d + "/out", d + "/f"],
                           env={"LD_PRELOAD": LIB, "TRACKLE_SESSION": str(sid)})
        wait_for(lambda: events(srv.frames(), "before"), "before")
        got_before = bool(events(srv.frames(), "before"))
    out = open(d + "/out").read().splitlines() if os.path.exists(d + "/out") else []
    check(r.returncode == 0 and got_before, "fds probe ran tracked")
    check(out[:1] == ["first 0 1"], "with 0-2 closed the program still gets 0 and 1: %s"
          % out[:1])
    socks = [l.split() for l in out if l.startswith("fd ") and "socket:" in l]
    check(len(socks) == 1 and int(socks[0][1]) >= 3 and socks[0][3] == "1",
          "the library's socket is >= 3 and close-on-exec: %s" % socks)
    shutil.rmtree(d, ignore_errors=True)


def test_fail_open(sid):
    d = scratch()
    with open(d + "/f", "w") as f:
        f.write("x\n")
    r = run(["sh", "-c", "echo y > %s/f; echo ok" % d], session=sid)
    check(r.returncode == 0 and r.stdout == b"ok\n" and r.stderr == b"",
          "no socket: the command works, silently")
    with Server("silent") as srv:
        t0 = time.monotonic()
        r = run(["sh", "-c", "echo y > %s/f; echo z > %s/f; sh -c 'echo w > %s/f'; echo ok"
                 % (d, d, d)], session=sid, timeout=30)
        dt = time.monotonic() - t0
    check(r.returncode == 0 and r.stdout == b"ok\n", "a trackled that never replies: "
          "the command finishes (%.1f s)" % dt)
    check(dt < 15, "bounded: within a generous deadline (%.1f s)" % dt)
    with Server("nolock") as srv:
        r = run(["sh", "-c", "echo y > %s/f; sh -c 'echo w > %s/f'; echo ok" % (d, d)],
                session=sid)
        fr = srv.frames()
    check(r.returncode == 0 and r.stdout == b"ok\n", "run lock free: the command works")
    check(fr == [], "run lock free (trackled dead): no connection at all: %s" % fr)
    with Server("nobody") as srv:
        r = run(["sh", "-c", "echo y > %s/f; echo ok" % d], session=sid)
        wait_for(lambda: srv.frames(), "nobody", timeout=3)
        fr = srv.frames()
    check(r.returncode == 0 and r.stdout == b"ok\n", "server not root: the command works")
    check(all(f.get("bytes") == 0 for f in fr), "server not root: not one byte sent: %s" % fr)
    # Server dies mid-session: the command must go on.
    fifo = d + "/fifo"
    os.mkfifo(fifo)
    srv = Server()
    p = subprocess.Popen(["sh", "-c", "echo a > %s/f; read x < %s; echo b > %s/f; "
                          "echo c > %s/g; sh -c 'echo d > %s/f'; echo ok" % (d, fifo, d, d, d)],
                         env={"PATH": "/usr/bin:/bin", "LD_PRELOAD": LIB,
                              "TRACKLE_SESSION": str(sid)},
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wait_for(lambda: events(srv.frames(), "before"), "before")
    srv.stop()
    with open(fifo, "w") as f:
        f.write("go\n")
    out, err = p.communicate(timeout=30)
    check(p.returncode == 0 and out == b"ok\n" and err == b"",
          "trackled dead mid-session: the command finishes normally")
    shutil.rmtree(srv.dir, ignore_errors=True)
    shutil.rmtree(d, ignore_errors=True)


def test_propagation(sid):
    d = scratch(0o777)
    extra = "/lib/x86_64-linux-gnu/libc_malloc_debug.so.0"
    userlist = LIB + (" " + extra if os.path.exists(extra) else "")
    want = "%s|%d" % (LIB, sid)
    with Server() as srv:
        r = run(["env", "-i", "sh", "-c", "printf '%%s|%%s' \"$LD_PRELOAD\" "
                 "\"$TRACKLE_SESSION\" > %s/out.envi" % d], session=sid, preload=userlist)
        check(r.returncode == 0, "env -i ran")
        r = run(["sh", "-c", "sh -c 'printf \"%%s|%%s\" \"$LD_PRELOAD\" \"$TRACKLE_SESSION\" "
                 "> %s/out.shc'" % d], session=sid, preload=userlist)
        r = run([PROBE, "children", d], session=sid, preload=userlist)
        check(r.returncode == 0 and r.stderr == b"", "system/popen/posix_spawn/execl ran: %d %r"
              % (r.returncode, r.stderr))
        # A forged hint in the environment is replaced by the marker's id.
        r = run(["env", "TRACKLE_SESSION=31337", "sh", "-c", "printf '%%s|%%s' "
                 "\"$LD_PRELOAD\" \"$TRACKLE_SESSION\" > %s/out.hint" % d], session=sid)
        wait_for(lambda: len([f for f in events(srv.frames(), "event", OP["CREATED"])
                              if "/out." in f["path"]]) >= 7, "created")
        fr = srv.frames()
    for kind in ("envi", "shc", "system", "popen", "spawn", "execl", "hint"):
        p = "%s/out.%s" % (d, kind)
        got = open(p).read() if os.path.exists(p) else None
        check(got == want, "%s: child has exactly LD_PRELOAD=ours and the session id: %r"
              % (kind, got))
    created = {f["path"] for f in events(fr, "event", OP["CREATED"])}
    for kind in ("envi", "shc", "system", "popen", "spawn", "execl"):
        check("%s/out.%s" % (d, kind) in created, "%s: the child is tracked" % kind)
    execs = events(fr, "exec")
    check(any(f["file"] == "/bin/sh" and f["argv"][:2] == ["sh", "-c"] for f in execs),
          "EXEC frames for system/popen")
    check(all(f["uid"] == 0 and f["pid"] > 0 and f["cwd"].startswith("/") for f in execs),
          "EXEC frames carry uid, pid, cwd")

    # Longer than the exec wrapper's own buffers (64 variables, 512 bytes of LD_PRELOAD=):
    # an environment of 100 variables, and the program's own LD_PRELOAD entries (not
    # inherited: sudo's kind) of ~700 bytes, which stay after ours.
    long_dir = os.path.join(d, "l" * 200)
    os.mkdir(long_dir)
    extras = []
    for n in "abc":
        os.symlink("/lib/x86_64-linux-gnu/libm.so.6", "%s/%s.so" % (long_dir, n))
        extras.append("%s/%s.so" % (long_dir, n))
    script = ("import os, sys; env = {'V%d' % i: 'x' for i in range(100)}; "
              "env['LD_PRELOAD'] = sys.argv[2]; os.execve('/bin/sh', ['sh', '-c', "
              "'printf \"%s|%s|%s\" \"$LD_PRELOAD\" \"$TRACKLE_SESSION\" \"$V99\" > ' + "
              "sys.argv[1]], env)")
    with Server():
        r = run([sys.executable, "-c", script, d + "/out.long", " ".join(extras)], session=sid)
    got = open(d + "/out.long").read() if os.path.exists(d + "/out.long") else None
    check(r.returncode == 0 and got == "%s %s|%d|x" % (LIB, " ".join(extras), sid),
          "a long environment and LD_PRELOAD value: ours first, the program's own after, "
          "the session, every variable: %r" % got)
    shutil.rmtree(d, ignore_errors=True)


RING_SCRIPT = r"""
import os, signal, sys
d, n, kill = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "kill"
pad = "x" * 60
for i in range(n):
    os.close(os.open("%s/new%05d%s" % (d, i, pad), os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o644))
    if i < 1500 and i % 500 == 250:
        # a synchronous BEFORE on the socket between events in the ring
        os.close(os.open("%s/old%05d" % (d, i), os.O_WRONLY))
    if i < 1500 and i % 500 == 100:
        # an asynchronous BEFORE (rename over: the old inode's fd, no answer awaited) on the
        # socket, then the RENAMED event in the ring, then more events
        os.close(os.open("%s/tmp%05d" % (d, i), os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o644))
        os.rename("%s/tmp%05d" % (d, i), "%s/old%05d" % (d, i))
if kill:
    os.kill(os.getpid(), signal.SIGKILL)
"""


def test_ring(sid):
    """Many asynchronous events from one process go through its event ring: all of them, once,
    in the process's order relative to its socket frames, also when the ring overflows and
    when the process is killed before it could say anything more."""
    d = scratch()
    n = 16000  # the last 14,500 events (~100 bytes each) with no socket frame overflow the ring
    for i in list(range(250, 1500, 500)) + list(range(100, 1500, 500)):
        with open("%s/old%05d" % (d, i), "w") as f:
            f.write("old\n")
    with Server() as srv:
        r = run([sys.executable, "-c", RING_SCRIPT, d, str(n), "nokill"], session=sid)
        check(r.returncode == 0, "python creating %d files ran: %r" % (n, r.stderr[-300:]))
        wait_for(lambda: any(f["type"] == "close" for f in srv.frames()), "close")
        fr = srv.frames()
    rings = events(fr, "ring")
    check(len(rings) == 1 and rings[0]["size"] == 1048576 and rings[0]["fds"] == 1 and
          rings[0]["seals"] & 0x6 == 0x6,
          "one ring, 1 MiB, sealed against shrinking and growing: %s" % rings)
    check(not events(fr, "ring-error"), "the ring was well formed: %s" % events(fr, "ring-error"))
    seq = [(f["type"], os.path.basename(f["path"])) for f in fr
           if f["type"] in ("event", "before") and os.path.dirname(f["path"]) == d]
    want = []
    for i in range(n):
        want.append(("event", "new%05d" % i + "x" * 60))
        if i < 1500 and i % 500 == 250:
            want.append(("before", "old%05d" % i))
        if i < 1500 and i % 500 == 100:
            want += [("event", "tmp%05d" % i), ("before", "old%05d" % i),
                     ("event", "tmp%05d" % i)]
    check(seq == want, "every event once, in program order around the BEFOREs "
          "(%d seen, %d wanted; first difference at %s)"
          % (len(seq), len(want), next((i for i, (a, b) in enumerate(zip(seq, want)) if a != b),
                                       min(len(seq), len(want)))))
    via = [f.get("via") for f in fr if f["type"] == "event" and
           os.path.dirname(f["path"]) == d]
    check(via.count("ring") > n * 9 // 10, "most events came through the ring (%d of %d)"
          % (via.count("ring"), len(via)))
    check(via.count(None) >= 2, "a full ring falls back to the socket (%d events)"
          % via.count(None))
    shutil.rmtree(d, ignore_errors=True)

    # SIGKILL: what the process put into its ring is still read when its connection ends
    d = scratch()
    with Server() as srv:
        r = run([sys.executable, "-c", RING_SCRIPT, d, "40", "kill"], session=sid)
        check(r.returncode == -9, "the process was killed: %r" % r.returncode)
        wait_for(lambda: any(f["type"] == "close" for f in srv.frames()), "close")
        fr = srv.frames()
    got = sorted(os.path.basename(f["path"]) for f in events(fr, "event")
                 if os.path.dirname(f["path"]) == d)
    check(got == ["new%05d" % i + "x" * 60 for i in range(40)],
          "SIGKILL: all 40 events of the killed process arrived (%d)" % len(got))
    check(any(f.get("via") == "ring" for f in events(fr, "event")), "... through its ring")
    shutil.rmtree(d, ignore_errors=True)


SHORTCUT_SCRIPT = r"""
import os, sys
d = sys.argv[1]
# 1. metadata calls on a descriptor of a file whose state before trackled has: nothing to send
fd = os.open(d + "/reported", os.O_WRONLY)            # BEFORE (existing, opened for writing)
os.fchmod(fd, 0o600)
os.utime(fd, (1, 1))
os.close(fd)
fd = os.open(d + "/created", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)   # CREATED
os.fchmod(fd, 0o600)
os.close(fd)
# 2. ... but on one whose state before trackled does not have, they are events
fd = os.open(d + "/readonly", os.O_RDONLY)
os.fchmod(fd, 0o600)
os.close(fd)
# 3. the number of a closed reported descriptor, reused for such a file: still an event
fd = os.open(d + "/reported", os.O_WRONLY)
os.close(fd)
fd2 = os.open(d + "/readonly2", os.O_RDONLY)
assert fd2 == fd, (fd, fd2)
os.fchmod(fd2, 0o600)
os.close(fd2)
# 4. names relative to a directory fd follow that directory when it is renamed
dfd = os.open(d + "/sub", os.O_RDONLY | os.O_DIRECTORY)
os.close(os.open("a", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644, dir_fd=dfd))
os.rename(d + "/sub", d + "/moved")
os.close(os.open("b", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644, dir_fd=dfd))
# 5. paths this process made (a hard link, a symlink, a rename's new name) need no BEFORE
#    when it removes or rewrites them; an existing file renamed over still gets one
os.link(d + "/keep", d + "/keep.dpkg-tmp")
os.unlink(d + "/keep.dpkg-tmp")
os.symlink("keep", d + "/sym")
os.unlink(d + "/sym")
os.close(os.open(d + "/new.tmp", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
os.rename(d + "/new.tmp", d + "/renamed")
with open(d + "/renamed", "w") as f:
    f.write("again\n")
os.unlink(d + "/renamed")
os.close(os.open(d + "/new2.tmp", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
os.rename(d + "/new2.tmp", d + "/keep2")
os.unlink(d + "/gone")          # existing, never reported: its event has the metadata before
# 5b. a path this process made that has become a directory: renamed without a stat (made by
#    the process), names relative to a descriptor of it still follow the rename
os.close(os.open(d + "/f2d", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
os.unlink(d + "/f2d")
os.mkdir(d + "/f2d")
dfd2 = os.open(d + "/f2d", os.O_RDONLY | os.O_DIRECTORY)
os.close(os.open("c0", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644, dir_fd=dfd2))
os.rename(d + "/f2d", d + "/f2moved")
os.close(os.open("c1", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644, dir_fd=dfd2))
# 6. a symlink renamed over (ln -sf, dpkg's libfoo.so.1): its own descriptor, no waiting
os.symlink("keep2", d + "/link.tmp")
os.rename(d + "/link.tmp", d + "/link")
"""


def test_shortcuts(sid):
    """What the library leaves out to stay cheap must not cost a record: metadata calls are
    skipped only on descriptors of files trackled already has the state before of, and a
    cached directory name is never used after the directory was renamed."""
    d = scratch()
    for n in ("reported", "readonly", "readonly2", "keep", "keep2", "gone"):
        with open(os.path.join(d, n), "w") as f:
            f.write(n + "\n")
    os.mkdir(d + "/sub")
    os.symlink("keep", d + "/link")
    with Server() as srv:
        r = run([sys.executable, "-c", SHORTCUT_SCRIPT, d], session=sid)
        check(r.returncode == 0, "the script ran: %r" % r.stderr[-400:])
        wait_for(lambda: any(f["type"] == "close" for f in srv.frames()), "close")
        fr = srv.frames()
    meta = [(os.path.basename(f["path"]), f["op"]) for f in events(fr, "event")
            if f["op"] in (29, 30, 31, 32)]
    check(not [m for m in meta if m[0] in ("reported", "created")],
          "no metadata events for files whose state before trackled has: %s" % meta)
    check(("readonly", 29) in meta, "fchmod of a file only opened for reading: CHMOD: %s" % meta)
    check(("readonly2", 29) in meta,
          "a reused descriptor number of another file: CHMOD: %s" % meta)
    created = [f["path"] for f in events(fr, "event", OP["CREATED"])]
    check(d + "/sub/a" in created and d + "/moved/b" in created and d + "/sub/b" not in created,
          "names relative to a directory fd follow its rename: %s" % created)
    befores = [os.path.basename(f["path"]) for f in events(fr, "before")]
    check(not [b for b in befores if b in ("keep.dpkg-tmp", "sym", "renamed")],
          "no BEFORE for a link, symlink or rename target the process made itself: %s"
          % befores)
    check("keep2" in befores, "an existing file renamed over: BEFORE: %s" % befores)
    link = [f for f in events(fr, "before") if f["path"] == d + "/link"]
    check(len(link) == 1 and link[0]["fds"] == 1 and link[0]["flags"] == 3 and
          link[0].get("link") == "keep",
          "a symlink renamed over: BEFORE with the link's own descriptor, no answer "
          "awaited, its target readable: %s" % link)
    gone = [os.path.basename(f["path"]) for f in events(fr, "event", OP["UNLINKED"])]
    check(all(n in gone for n in ("keep.dpkg-tmp", "sym", "renamed")),
          "... and their removal is still an event: %s" % gone)
    unstat = [(os.path.basename(f["path"]), f["valid"])
              for f in events(fr, "event", OP["UNLINKED"]) + events(fr, "event", OP["RENAMED"])]
    made = [v for n, v in unstat if n in ("keep.dpkg-tmp", "sym", "renamed", "new.tmp")]
    check(len(made) == 4 and not any(made),
          "a path the process made is removed or renamed without a stat (no metadata "
          "before in the event): %s" % unstat)
    check(("gone", 1) in unstat, "an existing file's removal: metadata before: %s" % unstat)
    check(d + "/f2d/c0" in created and d + "/f2moved/c1" in created,
          "a path the process made, now a directory, renamed without a stat: names "
          "relative to it follow the rename: %s" % created)
    shutil.rmtree(d, ignore_errors=True)

    # the skip costs no fstat: it trusts that it sees every close of such a descriptor
    d = scratch()
    for i in list(range(0, 9)) + [9, 10]:
        with open("%s/d%d" % (d, i), "w") as f:
            f.write("d\n")
    for i in range(1, 6):
        os.mkdir("%s/e%d" % (d, i))
    with Server() as srv:
        r = run([PROBE, "reuse", d], session=sid)
        check(r.returncode == 0, "reuse probe ran: %d %r" % (r.returncode, r.stderr[-400:]))
        wait_for(lambda: len([f for f in srv.frames() if f["type"] == "close"]) >= 3,
                 "close of the probe's two connections and its vfork child's")
        fr = srv.frames()
    created = [f["path"][len(d):] for f in events(fr, "event", OP["CREATED"])]
    check("/c0b" in created and "/c0" not in created and
          any(f["type"] == "missed" for f in fr),
          "a vfork child acting as its parent makes no connection of its own: its event is "
          "counted as missed, the parent's next one goes on the parent's connection: %s"
          % [c for c in created if c.startswith("/c0")])
    check(d + "/d8" in [f["path"] for f in events(fr, "before")],
          "after the program closed the library's socket (closefrom): a BEFORE on a new "
          "connection, and no byte on the program's sockets that took its number")
    meta = sorted(os.path.basename(f["path"]) for f in events(fr, "event", 29))
    want = sorted(["d%d" % i for i in range(1, 8)] + ["d9", "d10"])
    check([m for m in meta if m.startswith("d")] == want,
          "closed by close, fclose, dup2, dup3, close_range, closefrom, and a vfork child's "
          "open under the same number (the child exiting or exec'ing): the next fchmod is an "
          "event: %s" % meta)
    check(not [m for m in meta if m.startswith("c")],
          "none for files the process created, in a child of fork() either: %s" % meta)
    created = [f["path"][len(d):] for f in events(fr, "event", OP["CREATED"])]
    check("/e1/x1" in created and "/e2/x2" in created and "/e1/x2" not in created,
          "a directory descriptor closed and its number reused for another directory: "
          "names relative to the new one: %s" % [c for c in created if "/e" in c])
    check("/e5/z1" in created and "/e6/z2" in created and "/e5/z2" not in created,
          "a directory renamed by another process: names follow it once the cached name's "
          "1 ms of trust is over: %s" % [c for c in created if "/e" in c])
    check("/e4/y1" in created and "/e3/y2" in created and "/e4/y2" not in created,
          "a child of vfork() reopening a directory descriptor's number: its parent's names "
          "stay its own: %s" % [c for c in created if "/e" in c])
    shutil.rmtree(d, ignore_errors=True)

    # link, symlink and mkdir fail on an existing name: the library stats nothing before them
    # (dpkg links NAME.dpkg-tmp to each file it replaces), and the events still go.
    d = scratch()
    with open(d + "/orig", "w") as f:
        f.write("o\n")
    script = ("import os, sys; d = sys.argv[1]; os.link(d + '/orig', d + '/newlink'); "
              "os.symlink('orig', d + '/newsym'); os.mkdir(d + '/newdir')")
    with Server() as srv:
        r = run(["strace", "-f", "-qq", "-e", "trace=%stat,%lstat,%fstat", "-o", d + ".strace",
                 sys.executable, "-c", script, d], session=sid)
        check(r.returncode == 0, "link/symlink/mkdir script ran: %r" % r.stderr[-400:])
        wait_for(lambda: any(f["type"] == "close" for f in srv.frames()), "close")
        fr = srv.frames()
    with open(d + ".strace") as f:
        stats = [line.strip() for line in f if "/new" in line]
    os.unlink(d + ".strace")
    check(not stats, "no stat of the new name before link, symlink or mkdir: %s" % stats)
    got = {(os.path.basename(f["path"]), f["op"]) for f in events(fr, "event")}
    check({("newlink", 27), ("newsym", 26), ("newdir", OP["MKDIR"])} <= got,
          "LINK, SYMLINK and MKDIR events still go: %s" % sorted(got))
    shutil.rmtree(d, ignore_errors=True)

    # a rename over an existing file: the library's lstat of the name tells what it opens to
    # pass trackled; no fstat of that descriptor (dpkg replaces 150 files that way)
    d = scratch()
    for n in ("src", "dst"):
        with open("%s/%s" % (d, n), "w") as f:
            f.write(n + "\n")
    with Server() as srv:
        r = run(["strace", "-qq", "-e", "trace=openat,%stat,%lstat,%fstat,rename", "-o",
                 d + ".strace", sys.executable, "-c",
                 "import os, sys; os.rename(sys.argv[1] + '/src', sys.argv[1] + '/dst')", d],
                session=sid)
        check(r.returncode == 0, "rename script ran: %r" % r.stderr[-400:])
        wait_for(lambda: any(f["type"] == "close" for f in srv.frames()), "close")
        fr = srv.frames()
    with open(d + ".strace") as f:
        lines = [line.strip() for line in f]
    os.unlink(d + ".strace")
    opened = [i for i, line in enumerate(lines) if line.startswith("openat(") and
              "/dst\"" in line and "O_NOFOLLOW" in line]
    fd = lines[opened[0]].rsplit("= ", 1)[-1] if opened else None
    between = lines[opened[0]:] if opened else []
    between = between[:next((i for i, line in enumerate(between) if line.startswith("rename(")),
                            len(between))]
    check(fd is not None and fd.isdigit() and
          not [line for line in between if line.startswith(("fstat(%s," % fd,
                                                             "newfstatat(%s, \"\"" % fd))],
          "rename over: the old file opened and passed without an fstat: %s" % between)
    b = [f for f in events(fr, "before") if f["path"] == d + "/dst"]
    check(len(b) == 1 and b[0]["fds"] == 1 and b[0]["flags"] == 3 and
          b[0].get("content") == "dst\n",
          "... and it still goes with FD|ASYNC, its old content readable: %s" % b)
    shutil.rmtree(d, ignore_errors=True)

    # A child of fork() that execs finds out nothing for itself between fork and exec: its
    # parent knew the session, the LD_PRELOAD value and the real execve before the fork.
    d = scratch()
    script = ("import os\npid = os.fork()\nif pid == 0:\n    os.execv('/bin/true', ['true'])\n"
              "os.waitpid(pid, 0)")
    with Server() as srv:
        r = run(["strace", "-f", "-qq", "-e", "trace=openat,open,%stat,%lstat,%fstat,execve",
                 "-o", d + "/strace", sys.executable, "-c", script], session=sid)
        check(r.returncode == 0, "fork/exec script ran: %r" % r.stderr[-400:])
        wait_for(lambda: any(f["type"] == "exec" for f in srv.frames()), "exec")
        fr = srv.frames()
    with open(d + "/strace") as f:
        lines = [line.split(None, 1) for line in f if line.strip()]
    main = lines[0][0]
    child, before_exec = None, []
    for pid, call in lines:
        if pid == main:
            continue
        child = child or pid
        if pid == child and call.startswith("execve("):
            break
        if pid == child:
            before_exec.append(call.strip())
    looked = [c for c in before_exec if "sessionid" in c or "/active/" in c or LIB in c]
    check(child is not None and not looked,
          "no session check and no look at the library's path in a forked child before its "
          "exec: %s" % looked)
    execs = [f for f in fr if f["type"] == "exec"]
    check(any(f["argv"] == ["true"] and f["file"] == "/bin/true" and str(f["pid"]) == child
              for f in execs), "the child's EXEC frame still goes, with its pid: %s" % execs)
    shutil.rmtree(d, ignore_errors=True)

    # Children's EXEC frames go on their parent's connection (flag FORKED, their own pids):
    # no connection and no HELLO of their own before the exec. A child that closed its
    # descriptors first (the parent's socket among them) connects itself.
    script = ("import os, sys\nkids = []\nfor i in range(3):\n    pid = os.fork()\n"
              "    if pid == 0:\n        os.execv('/bin/true', ['true', str(i)])\n"
              "    kids.append(pid)\n    os.waitpid(pid, 0)\n"
              "pid = os.fork()\nif pid == 0:\n    os.closerange(3, 65536)\n"
              "    os.execv('/bin/true', ['true', 'closed'])\n"
              "kids.append(pid)\nos.waitpid(pid, 0)\nprint(' '.join(map(str, kids)))")
    with Server() as srv:
        r = run([sys.executable, "-c", script], session=sid)
        check(r.returncode == 0, "fork/exec script ran: %r" % r.stderr[-400:])
        kids = r.stdout.decode().split()
        wait_for(lambda: len([f for f in srv.frames() if f["type"] == "exec"]) >= 4, "execs")
        fr = srv.frames()
    forked = {str(f["pid"]): f for f in fr if f["type"] == "exec" and f["argv"][:1] == ["true"]}
    check(len(kids) == 4 and all(k in forked for k in kids),
          "an EXEC frame for each child, with its pid: %s %s" % (kids, sorted(forked)))
    check(kids and all(forked[k]["flags"] & 4 and forked[k]["peer"] != int(k)
                       for k in kids[:3] if k in forked),
          "on the parent's connection, flagged FORKED: %s" % [forked.get(k) for k in kids[:3]])
    hello = [f["peer"] for f in fr if f["type"] == "hello"]
    check(kids and not [k for k in kids[:3] if int(k) in hello],
          "no HELLO from those children: %s %s" % (kids, hello))
    last = forked.get(kids[3]) if len(kids) == 4 else None
    check(last is not None and not last["flags"] & 4 and last["peer"] == int(kids[3]) and
          int(kids[3]) in hello,
          "a child that closed the parent's socket: its own connection, not FORKED: %s" % last)

    # A socket whose send buffer cannot hold a largest frame twice over (a small
    # net.core.wmem_default; here the program shrinks the library's socket itself): frames of
    # two processes could be split and interleaved there, so a child connects itself.
    script = ("import os, socket, stat, sys\nd = sys.argv[1]\n"
              "open(d + '/q0', 'w').close()\n"
              "for n in os.listdir('/proc/self/fd'):\n"
              "    try:\n        st = os.fstat(int(n))\n    except OSError:\n        continue\n"
              "    if stat.S_ISSOCK(st.st_mode):\n"
              "        s = socket.socket(fileno=int(n))\n"
              "        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)\n"
              "        s.detach()\n"
              "pid = os.fork()\nif pid == 0:\n    os.execv('/bin/true', ['true', 'small'])\n"
              "os.waitpid(pid, 0)\nprint(pid)")
    d = scratch()
    with Server() as srv:
        r = run([sys.executable, "-c", script, d], session=sid)
        check(r.returncode == 0, "small send buffer script ran: %r" % r.stderr[-400:])
        kid = int(r.stdout.decode().split()[-1])
        wait_for(lambda: any(f["type"] == "exec" and f["pid"] == kid for f in srv.frames()),
                 "the child's EXEC frame")
        fr = srv.frames()
    small = [f for f in fr if f["type"] == "exec" and f["pid"] == kid]
    hello = [f["peer"] for f in fr if f["type"] == "hello"]
    check(small and not small[0]["flags"] & 4 and small[0]["peer"] == kid and kid in hello,
          "a parent's socket with a small send buffer: the child's own connection, not "
          "FORKED: %s %s" % (small, hello))
    shutil.rmtree(d, ignore_errors=True)

    # A child of vfork() shares its parent's memory until it execs: whatever it does for its
    # EXEC frame (python's subprocess: vfork, then close_fds closes the parent's socket in
    # the child) must leave the parent's connection its own. The parent's events before and
    # after the children go on one connection, with one HELLO.
    d = scratch()
    script = ("import os, subprocess, sys\nd = sys.argv[1]\n"
              "open(d + '/p0', 'w').close()\n"
              "subprocess.run(['/bin/true', 'cf'], close_fds=True, check=True)\n"
              "open(d + '/p1', 'w').close()\n"
              "subprocess.run(['/bin/true', 'nocf'], close_fds=False, check=True)\n"
              "open(d + '/p2', 'w').close()\n"
              "print(os.getpid())")
    with Server() as srv:
        r = run([sys.executable, "-c", script, d], session=sid)
        check(r.returncode == 0, "subprocess script ran: %r" % r.stderr[-400:])
        parent = int(r.stdout.decode().split()[-1])
        wait_for(lambda: any(f["type"] == "close" and f["peer"] == parent
                             for f in srv.frames()), "close of the parent's connection")
        fr = srv.frames()
    hello = [f["peer"] for f in fr if f["type"] == "hello"]
    check(hello.count(parent) == 1, "one HELLO from the parent around two vfork children: "
          "%s (parent %d)" % (hello, parent))
    mine = [os.path.basename(f["path"]) for f in events(fr, "event", OP["CREATED"])
            if f["peer"] == parent]
    check(mine == ["p0", "p1", "p2"],
          "the parent's events, in order: %s" % mine)
    execs = {tuple(f["argv"]) for f in fr if f["type"] == "exec"}
    check({("/bin/true", "cf"), ("/bin/true", "nocf")} <= execs,
          "both children's EXEC frames: %s" % execs)
    shutil.rmtree(d, ignore_errors=True)


# What libtrackle.so may add to a call's stack, the first call of a process included (its
# session check, connection and dlsym() of the real function): trackle(8).
STACK_BUDGET = 2048
STACK_BUDGET_EXEC = 3072


def probe_run(mode, names, sid):
    """The probe's MODE in a new scratch directory holding files NAMES (each its name and a
    newline), against a fake trackled until the probe's connection closed: (dir, run result,
    frames)."""
    d = scratch()
    for n in names:
        with open("%s/%s" % (d, n), "w") as f:
            f.write(n + "\n")
    with Server() as srv:
        r = run([PROBE, mode, d], session=sid)
        wait_for(lambda: any(f["type"] == "close" for f in srv.frames()), "close")
        fr = srv.frames()
    return d, r, fr


def test_threads(sid):
    """A call that finds the library busy with another thread of its process (waiting for the
    answer to a BEFORE) waits for it, so nothing of a threaded program is lost; a call from a
    signal handler that interrupted the library in its own thread cannot wait for itself: it
    is skipped at once, and counted, so that the session says a record is missing."""
    d = scratch()
    for i in range(5):
        with open("%s/a%d" % (d, i), "w") as f:
            f.write("a\n")
    with Server("slowack") as srv:
        r = run([sys.executable, "-B", THREADS, d, "5"], session=sid)
        check(r.returncode == 0, "threads workload ran: %r" % r.stderr[-400:])
        made = int(r.stdout.decode().split()[0].split("=")[1])
        wait_for(lambda: any(f["type"] == "close" for f in srv.frames()), "close")
        fr = srv.frames()
    seen = {os.path.basename(f["path"]) for f in fr
            if f["type"] in ("before", "event") and f.get("path", "").startswith(d + "/")}
    recorded = len([n for n in seen if n[0] in "ab"])
    missed = sum(f["count"] for f in fr if f["type"] == "missed")
    print("threads: %d files made, %d recorded, %d counted missed" % (made + 5, recorded, missed))
    check(recorded == made + 5 and missed == 0,
          "every file of both threads is recorded: a call waits for the other thread: "
          "%d of %d, %d missed" % (recorded, made + 5, missed))
    check("done" in seen, "the process goes on recording after the contention")
    shutil.rmtree(d, ignore_errors=True)

    # vfork() children (python's subprocess) of one thread while another thread holds the
    # library: a child shares its parent's memory, and waits for that thread like a thread
    # would, instead of taking the lock over from under it.
    d = scratch()
    for i in range(5):
        with open("%s/a%d" % (d, i), "w") as f:
            f.write("a\n")
    script = ("import subprocess, sys, threading\nd = sys.argv[1]\n"
              "def spawner():\n    for i in range(30):\n"
              "        subprocess.run(['/bin/true', 'kid%d' % i], check=True)\n"
              "def writer():\n    for i in range(5):\n"
              "        with open('%s/a%d' % (d, i), 'r+') as f:\n            f.write('x')\n"
              "ts = [threading.Thread(target=spawner), threading.Thread(target=writer)]\n"
              "[t.start() for t in ts]\n[t.join() for t in ts]\n")
    with Server("slowack") as srv:
        r = run([sys.executable, "-B", "-c", script, d], session=sid)
        check(r.returncode == 0, "threads spawning and writing ran: %r" % r.stderr[-400:])
        wait_for(lambda: len([f for f in srv.frames() if f["type"] == "exec" and
                              f["argv"][1:2] != [] and f["argv"][1].startswith("kid")]) >= 30,
                 "the children's EXEC frames")
        fr = srv.frames()
    kids = sorted(f["argv"][1] for f in fr if f["type"] == "exec" and len(f["argv"]) > 1 and
                  f["argv"][1].startswith("kid"))
    befores = sorted(os.path.basename(f["path"]) for f in events(fr, "before"))
    missed = sum(f["count"] for f in fr if f["type"] == "missed")
    check(kids == sorted("kid%d" % i for i in range(30)) and
          befores == ["a%d" % i for i in range(5)] and missed == 0,
          "every child's EXEC frame and every BEFORE, nothing missed: %d kids, %s, missed %d"
          % (len(kids), befores, missed))
    shutil.rmtree(d, ignore_errors=True)

    d = scratch()
    with open(d + "/held", "w") as f:
        f.write("held\n")
    with Server("slowack") as srv:
        r = run(["strace", "-f", "-qq", "-e", "trace=futex", "-o", d + ".strace", PROBE,
                 "signal", d], session=sid)
        check(r.returncode == 0, "signal probe ran: %d %r" % (r.returncode, r.stderr[-400:]))
        wait_for(lambda: any(f["type"] == "close" for f in srv.frames()), "close")
        fr = srv.frames()
    with open(d + ".strace") as f:
        waits = [line.strip() for line in f if "FUTEX_WAIT" in line]
    os.unlink(d + ".strace")
    paths = [os.path.basename(f.get("path", "")) for f in fr if f["type"] in ("before", "event")]
    missed = sum(f["count"] for f in fr if f["type"] == "missed")
    check(os.path.exists(d + "/sig"), "the signal handler's open worked")
    check("sig" not in paths and missed == 1 and "after" in paths,
          "the handler's call, inside the library's own call, is skipped and counted (MISSED "
          "1), and the next call is recorded: %s, missed %d" % (paths, missed))
    check(not waits, "the handler did not wait for its own thread: %s" % waits)
    shutil.rmtree(d, ignore_errors=True)

    # A program whose own seccomp filter refuses the futex wait the library's lock sleeps in:
    # a call that finds the library busy with another thread (holding it for the answer to a
    # BEFORE, which the fake trackled gives only when told) is skipped at once and counted,
    # not spun on until the lock is free. The probe's second thread tells the fake trackled
    # to answer only after its own call returned: a call that waited for the lock instead
    # would get it once the first thread gives up on its answer (after 1 s), and be recorded.
    d = scratch()
    for n in ("gate", "other", "after"):
        with open("%s/%s" % (d, n), "w") as f:
            f.write(n + "\n")
        os.chmod("%s/%s" % (d, n), 0o644)
    with Server() as srv:
        r = run(["strace", "-f", "-qq", "-e", "trace=futex", "-o", d + ".strace", PROBE,
                 "futexdeny", d], session=sid)
        if r.returncode != 77:
            wait_for(lambda: any(f["type"] == "close" for f in srv.frames()), "close")
        fr = srv.frames()
    with open(d + ".strace") as f:
        trace = f.read()
    os.unlink(d + ".strace")
    if r.returncode == 77:
        print("futexdeny: skipped, the probe has no seccomp filter for this architecture")
    else:
        check(r.returncode == 0 and b"other=0/0" in r.stdout,
              "futexdeny probe ran, its second thread's chmod worked: %d %r %r"
              % (r.returncode, r.stdout, r.stderr[-400:]))
        check(stat.S_IMODE(os.stat(d + "/other").st_mode) == 0o600, "... and was done")
        gate = [f for f in fr if f["type"] == "gate"]
        check(len(gate) == 1 and gate[0]["released"],
              "the BEFORE of gate was answered when the second thread said so, its call "
              "having returned while the library was busy: %s" % gate)
        paths = [os.path.basename(f.get("path", "")) for f in fr
                 if f["type"] in ("before", "event")]
        missed = sum(f["count"] for f in fr if f["type"] == "missed")
        check("gate" in paths and "other" not in paths and "after" in paths and missed == 1,
              "the call that found the library busy is skipped and counted (MISSED 1), the "
              "next one recorded: %s, missed %d" % (paths, missed))
        waits = [line for line in trace.splitlines() if "FUTEX_WAIT_PRIVATE" in line]
        check(len(waits) == 1 and "EPERM" in trace,
              "one futex wait, refused, and no second one: %s" % waits)
    shutil.rmtree(d, ignore_errors=True)

    # Wrappers that never return, so that their cleanup never runs and their path buffers
    # (32) stay taken: a SIGALRM handler siglongjmp()s out of a blocked open() for writing 40
    # times ("longjmp"), and 40 threads are cancelled inside one ("cancelopen": open() is a
    # cancellation point). The buffers of dead frames and of threads that are gone are
    # taken back when none is free, and the call after them is recorded.
    for mode, out in (("longjmp", b"jumps=40"), ("cancelopen", b"cancelled=40")):
        d, r, fr = probe_run(mode, ("after",), sid)
        check(r.returncode == 0 and out in r.stdout, "%s probe ran: %d %r %r"
              % (mode, r.returncode, r.stdout, r.stderr[-300:]))
        chmods = [os.path.basename(f["path"]) for f in events(fr, "event", 29)]
        missed = sum(f["count"] for f in fr if f["type"] == "missed")
        check(chmods == ["after"] and missed == 0,
              "%s: the chmod after them is recorded, nothing missed: %s, missed %d"
              % (mode, chmods, missed))
        shutil.rmtree(d, ignore_errors=True)

    # A signal handler on an alternate stack makes the process's first tracked calls: the
    # library's session check, connection and each real function's dlsym() happen inside it
    # too. The probe's stack is SIGSTKSZ as glibc defines it now (sysconf(_SC_SIGSTKSZ), at
    # least 8 KiB; 13 KiB with AVX-512, whose signal frame alone takes ~3 KiB), painted, with
    # a painted guard below it: it reports how deep the handler went, or that it went past
    # the stack. The library may add at most STACK_BUDGET bytes to what the same handler
    # needs without it (trackle(8): what a wrapper needs of its caller's stack).
    def alt_depth(mode, names, tracked):
        d = scratch()
        for n in names:
            with open("%s/%s" % (d, n), "w") as f:
                f.write(n + "\n")
        fr = []
        if tracked:
            with Server() as srv:
                r = run([PROBE, mode, d], session=sid)
                wait_for(lambda: any(f["type"] == "close" for f in srv.frames()), "close")
                fr = srv.frames()
        else:
            r = run([PROBE, mode, d], preload=False)
        out = r.stdout.decode()
        used = int(out.split("used=")[1].split()[0]) if "used=" in out else None
        return d, r, fr, used, out
    for mode, names, budget in (("altstack", ("alt-old", "alt-old2"), STACK_BUDGET),
                                ("altexecfail", (), STACK_BUDGET_EXEC)):
        d0, r0, _, plain, out0 = alt_depth(mode, names, False)
        d, r, fr, used, out = alt_depth(mode, names, True)
        check(r0.returncode == 0 and r.returncode == 0 and plain and used,
              "%s: the handler made its calls on its alternate stack, with and without the "
              "library: %d %r, %d %r" % (mode, r0.returncode, out0, r.returncode, out))
        if plain and used:
            print("%s: the handler used %d bytes of stack with the library, %d without"
                  % (mode, used, plain))
            check(used - plain <= budget, "%s: the library added %d bytes to the handler's "
                  "stack, at most %d" % (mode, used - plain, budget))
        if mode == "altstack":
            got = sorted((f["type"], os.path.basename(f["path"])) for f in fr
                         if f["type"] in ("before", "event") and
                         f.get("path", "").startswith(d + "/"))
            want = {("event", "alt-new"), ("before", "alt-old"), ("before", "alt-old2")}
            check(want <= set(got), "... and the library recorded them: %s" % got)
        else:
            check(any(f["type"] == "exec" for f in fr),
                  "... and the failed exec's EXEC frame went: %s" % [f["type"] for f in fr])
        shutil.rmtree(d0, ignore_errors=True)
        shutil.rmtree(d, ignore_errors=True)
    d, r, fr = probe_run("altexec", (), sid)
    out = d + "/exec-out"
    check(r.returncode == 0 and os.path.exists(out),
          "a handler on an alternate stack exec'd a shell: exit %d" % r.returncode)
    execs = [f["argv"][:2] for f in fr if f["type"] == "exec"]
    created = [f["path"] for f in events(fr, "event", OP["CREATED"])]
    check(["sh", "-c"] in execs and out in created,
          "... its EXEC frame went, and the shell had the library: %s %s" % (execs, created))
    shutil.rmtree(d, ignore_errors=True)

    # A thread with a cancellation request pending calls chmod(), which is no cancellation
    # point: the library's work inside it must not be one either (no libc poll, connect,
    # read ... of its own), or the thread dies holding the library and takes its records
    # and those of every other thread with it.
    d, r, fr = probe_run("cancel", ("c1", "c2"), sid)
    check(r.returncode == 0, "cancel probe ran: %d %r" % (r.returncode, r.stderr[-400:]))
    out = r.stdout.decode()
    check("survived=1 canceled=1" in out,
          "the thread returned from chmod and was cancelled at its own cancellation point "
          "after it: %r" % out)
    chmods = sorted(os.path.basename(f["path"]) for f in events(fr, "event", 29))
    missed = sum(f["count"] for f in fr if f["type"] == "missed")
    check(chmods == ["c1", "c2"] and missed == 0,
          "both chmods recorded, nothing missed: %s, missed %d" % (chmods, missed))
    shutil.rmtree(d, ignore_errors=True)


def test_audit_mode():
    """The audit session id (a fresh one from a loginuid write) and an a<id> marker."""
    d = scratch()
    with open(d + "/f", "w") as f:
        f.write("x\n")
    script = ("echo 0 > /proc/self/loginuid 2>/dev/null || exit 77; s=$(cat /proc/self/sessionid);"
              "printf 'session=77 mode=audit leader=%%d start=0 uid=0\\n' $$ > %s/a$s; "
              "chmod 644 %s/a$s; exec env LD_PRELOAD=%s env -i sh -c "
              "'echo y > %s/f; printf %%s \"$TRACKLE_SESSION\" > %s/sess'" % (ACTIVE, ACTIVE, LIB, d, d))
    with Server() as srv:
        r = subprocess.run(["sh", "-c", script], capture_output=True)
        if r.returncode == 77:
            print("skip audit mode: cannot write /proc/self/loginuid")
            return
        wait_for(lambda: events(srv.frames(), "before"), "before")
        fr = srv.frames()
    check(r.returncode == 0, "audit-mode command ran")
    check(any(f["path"] == d + "/f" for f in events(fr, "before")),
          "audit mode: tracked with no hint at all (env -i)")
    check(open(d + "/sess").read() == "77", "audit mode: TRACKLE_SESSION from the marker")
    for n in os.listdir(ACTIVE):
        if n.startswith("a"):
            os.unlink(os.path.join(ACTIVE, n))
    shutil.rmtree(d, ignore_errors=True)


def main():
    enter_namespace()
    for p in (LIB, PROBE, FAKE):
        if not os.path.exists(p):
            skip("missing " + p)
    sid = 5150
    groups = {"surface": test_surface, "errno": test_errno, "inert": test_inert,
              "before": test_before, "fds": test_fds, "fail-open": test_fail_open,
              "propagation": test_propagation, "audit": test_audit_mode, "ring": test_ring,
              "shortcuts": test_shortcuts, "threads": test_threads}
    if GROUP is not None and GROUP not in groups:
        print("unknown group %r" % GROUP)
        return 2
    marker("p%d" % sid, sid, os.getpid())
    for name, fn in groups.items():
        if GROUP is None or GROUP == name:
            if name in ("surface", "audit"):
                fn()
            else:
                fn(sid)
    if failures:
        print("%d FAILED:\n  " % len(failures) + "\n  ".join(failures))
        return 1
    print("all passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
