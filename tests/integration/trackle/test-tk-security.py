#!/usr/bin/env python3
"""The library runs inside every set-uid program any user starts (spec 4.3): the rules, each
its own check, while an admin's session is open (so trackled runs and markers exist).

1. inert outside a session: a non-admin with LD_PRELOAD=libtrackle.so runs set-uid `sudo -n
   true` and `passwd -S` (traced by root with strace -u, so set-uid applies): the library is
   loaded, but nothing connects to the socket and no file is opened beyond the library itself
   and its two checks (/proc/self/sessionid, the active marker), with an unset and with a
   valid (unregistered) audit session;
2. the environment cannot redirect it: TRACKLE_* variables naming another socket, marker
   directory, log file... change nothing, inside a session (still recorded, the decoy socket
   gets no connection, no decoy file appears) and outside (a decoy marker directory does not
   make it connect anywhere);
3. a non-admin cannot open a session: `trackle shell` fails (permission denied), JSON
   session.open and ticket.new are refused with errno 13, the helper is not executable;
4. a non-admin cannot feed a session: TRACKLE_SESSION=<open id> with the library records
   nothing; neither do hand-made wire frames (HELLO with the hint, EVENT, EXEC) from the
   non-admin, from the other admin, or from root outside the session;
5. a forged hint in ancestry mode (no helper: the session is keyed on the leader's pid): a
   process that is not a descendant of the leader, with TRACKLE_SESSION=<id> and an existing
   p<id> marker, records nothing;
6. the user's LD_PRELOAD list does not reach sudo's root child: with
   LD_PRELOAD="libtrackle.so EVIL" the child's environment has LD_PRELOAD=libtrackle.so only,
   and EVIL's constructor never runs as root (also with sudo -E)."""

import json
import os
import re
import socket
import struct
import subprocess

import tk_harness as tk
from tk_harness import q, write

LIBPATH = tk.MULTIARCH + "/libtrackle.so"


def frame(typ, payload):
    return struct.pack("=IHH", len(payload), typ, 0) + payload


def wstr(s):
    b = s.encode()
    return struct.pack("=H", len(b)) + b


def hello(hint):
    return frame(1, struct.pack("=IIQI", 1, 0, hint, os.getpid()))


def event_created(path):
    return frame(3, struct.pack("=IIIIIQ", 20, 0, 0, 0, 0, 0) + wstr(path) + wstr(""))


def exec_frame(argv, cwd="/"):
    args = b"".join(wstr(a) for a in argv)
    return frame(4, struct.pack("=IIII", 0, 0, os.getpid(), 0) + wstr(cwd) + wstr(argv[0]) +
                 struct.pack("=H", len(argv)) + args)


FORGE = r'''
import socket, struct, sys, os, time
def frame(t, p): return struct.pack("=IHH", len(p), t, 0) + p
def wstr(s):
    b = s.encode(); return struct.pack("=H", len(b)) + b
hint, path, word = int(sys.argv[1]), sys.argv[2], sys.argv[3]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(5)
s.connect("/run/tracksuite/trackle.sock")
s.sendall(frame(1, struct.pack("=IIQI", 1, 0, hint, os.getpid())))
s.sendall(frame(2, struct.pack("=II", 2, 0) + wstr(path)))   # BEFORE (truncate), no fd
s.sendall(frame(3, struct.pack("=IIIIIQ", 20, 0, 0, 0, 0, 0) + wstr(path) + wstr("")))
argv = ["forged-" + word, "--x"]
s.sendall(frame(4, struct.pack("=IIII", 0, 0, os.getpid(), 0) + wstr("/") + wstr(argv[0]) +
      struct.pack("=H", len(argv)) + b"".join(wstr(a) for a in argv)))
try:
    s.settimeout(2)
    print("reply", s.recv(64))
except Exception as e:
    print("no reply", e)
s.close()
'''


def traced(t, user, cmd, env, fresh_audit):
    """strace -f of CMD as USER (set-uid honoured: strace runs as root with -u);
    returns the list of trace lines."""
    out = os.path.join(t.tmp, f"strace-{len(os.listdir(t.tmp))}")
    pw = t.pw(user)
    envargs = []
    for k, v in env.items():
        envargs += ["-E", f"{k}={v}"]
    base = ["strace", "-f", "-qq", "-s", "256", "-o", out, "-u", user,
            "-e", "trace=connect,open,openat,openat2,creat,access,faccessat,faccessat2",
            "-E", f"HOME={pw.pw_dir}", "-E", "PATH=" + tk.PATH] + envargs + cmd
    if fresh_audit:
        base = ["/bin/sh", "-c", f'echo {pw.pw_uid} > /proc/self/loginuid && exec "$@"',
                "sh"] + base
    subprocess.run(base, capture_output=True, text=True, timeout=60, cwd="/",
                   env={"PATH": tk.PATH, "LANG": "C.UTF-8"})
    with open(out) as f:
        return f.read().splitlines()


def opened(lines):
    """The files a traced run opened or probed, normalised: /proc/<pid>/ -> /proc/PID/, /lib/
    -> /usr/lib/; ld.so's search for libtrackle.so (its probes of the search path) is ld.so's
    doing, not the library's, and left out."""
    paths = set()
    for l in lines:
        m = re.search(r'(?:open|openat|openat2|creat|access|faccessat2?)\((?:[^,]+, )?"([^"]*)"', l)
        if not m:
            continue
        p = re.sub(r"^/proc/\d+/", "/proc/PID/", m.group(1))
        p = re.sub(r"^/lib/", "/usr/lib/", p)
        enoent = "ENOENT" in l.split("=")[-1]
        if p.endswith("/libtrackle.so") and (enoent or p == LIBPATH):
            continue
        paths.add(p + (" (ENOENT)" if enoent else ""))
    return paths


def main(t):
    pw = t.pw(t.admin)
    own = (pw.pw_uid, pw.pw_gid)
    upw = t.pw(t.user)
    d = os.path.join(t.scratch, "sec")
    os.mkdir(d)
    os.chown(d, *own)
    ud = os.path.join(t.scratch, "user")
    os.mkdir(ud)
    os.chown(ud, upw.pw_uid, upw.pw_gid)
    fifo = os.path.join(d, "go")
    os.mkfifo(fifo)
    os.chown(fifo, *own)

    # an admin's session stays open during checks 1-4
    before = t.session_ids()
    proc = t.as_user(t.admin, t.shell_cmd("echo in > in.conf; read x < go; echo end"),
                     background=True, cwd=d)
    t.cleanups.append(lambda: proc.poll() is None and tk.kill_tree(proc))
    sid = max(tk.wait_until(lambda: t.session_ids() - before, "the admin's session to open", 30))
    tk.wait_until(lambda: os.listdir(tk.ACTIVE), "a marker in the active directory", 10)
    print(f"open session {sid}; markers {os.listdir(tk.ACTIVE)}", flush=True)
    nsessions = len(t.session_ids())

    # ---- 1. inert outside a session
    if not tk.shutil.which("strace"):
        print("note: no strace; rule 1 is not checked")
    else:
        for fresh in (False, True):
            for name, cmd in (("sudo -n true", ["sudo", "-n", "true"]),
                              ("passwd -S", ["passwd", "-S", t.user])):
                traced(t, t.user, cmd, {}, fresh)  # warm-up (sudo's /run/sudo/ts, ...)
                plain = traced(t, t.user, cmd, {}, fresh)
                pre = traced(t, t.user, cmd, {"LD_PRELOAD": "libtrackle.so"}, fresh)
                label = f"{name} as a non-admin ({'fresh audit session' if fresh else 'no audit session'})"
                loaded = any("libtrackle.so" in l and "open" in l and "ENOENT" not in l
                             for l in pre)
                t.expect(loaded, f"{label}: the library is loaded into the set-uid program",
                         "\n".join(pre[:40]))
                conn = [l for l in pre if "connect(" in l and "trackle" in l]
                t.expect(not conn, f"{label}: no connection to trackle.sock", conn)
                extra = opened(pre) - opened(plain)
                allowed = {LIBPATH, "/proc/self/sessionid"}
                bad = sorted(p for p in extra if p.split(" ")[0] not in allowed
                             and not p.startswith(tk.ACTIVE))
                t.expect(not bad, f"{label}: no file opened beyond the library's own checks",
                         f"extra: {sorted(extra)}")
        t.expect(len(t.session_ids()) == nsessions, "rule 1: no session was created")

    # ---- 2. the environment cannot redirect the library
    decoy_dir = os.path.join(ud, "decoy")
    os.mkdir(decoy_dir)
    decoy_sock = os.path.join(decoy_dir, "trackle.sock")
    decoy = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    decoy.bind(decoy_sock)
    os.chmod(decoy_sock, 0o666)
    decoy.listen(16)
    decoy.setblocking(False)
    os.chmod(decoy_dir, 0o777)
    bad_env = {}
    for var in ("TRACKLE_SOCKET", "TRACKLE_SOCK", "TRACKLE_SOCKET_PATH", "TRACKLE_CONTROL"):
        bad_env[var] = decoy_sock
    for var in ("TRACKLE_RUN_DIR", "TRACKLE_RUNTIME_DIR", "TRACKLE_ACTIVE_DIR",
                "TRACKLE_SPOOL_DIR", "RUNTIME_DIRECTORY", "XDG_RUNTIME_DIR", "TMPDIR"):
        bad_env[var] = decoy_dir
    for var in ("TRACKLE_LOG", "TRACKLE_LOG_FILE", "TRACKLE_DEBUG_FILE", "TRACKLE_TRACE"):
        bad_env[var] = os.path.join(decoy_dir, var.lower())
    bad_env.update({"TRACKLE_DEBUG": "1", "TRACKLE_VERBOSE": "1",
                    "TRACKLE_PRELOAD": "/nonexistent/evil.so",
                    "TRACKLE_CONFIG": os.path.join(decoy_dir, "conf")})
    r = t.shell("echo redirected > env.conf", extra_env=bad_env, cwd=d)
    if t.expect(r.rc == 0 and r.id, "rule 2: a session with TRACKLE_* decoys ran", r):
        s = t.show(r.id)
        f = t.file(s, os.path.join(d, "env.conf"))
        t.expect(f and (f.get("after") or {}).get("sha256") == tk.sha256("redirected\n"),
                 "rule 2: the change still went to the real trackled", t.paths(s))
    # outside a session, a decoy marker for the user's own fresh audit session
    decoy_active = os.path.join(decoy_dir, "active")
    os.mkdir(decoy_active)
    os.chmod(decoy_active, 0o777)
    script = (f"s=$(cat /proc/self/sessionid); : > {q(decoy_active)}/a$s; "
              f": > {q(decoy_active)}/p1; echo decoy > {q(ud)}/out.conf")
    envs = dict(bad_env, TRACKLE_ACTIVE_DIR=decoy_active, TRACKLE_SESSION="1",
                LD_PRELOAD="libtrackle.so")
    r = t.as_user(t.user, script, extra_env=envs, fresh_audit=True)
    t.expect(r.rc == 0, "rule 2: the non-admin's shell ran with the decoys", r)
    try:
        c, _ = decoy.accept()
        t.expect(False, "rule 2: the decoy socket got no connection (it got one)")
        c.close()
    except BlockingIOError:
        t.expect(True, "rule 2: the decoy socket got no connection")
    stray = sorted(set(os.listdir(decoy_dir)) - {"trackle.sock", "active"})
    t.expect(not stray, "rule 2: no file appeared in the decoy directory", stray)
    decoy.close()

    # ---- 3. a non-admin cannot open a session
    r = t.as_user(t.user, t.shell_cmd("echo nope > nope.conf"), cwd=ud)
    t.expect(r.rc != 0, "rule 3: `trackle shell` as a non-admin fails", r)
    t.expect("permission denied" in (r.stderr + r.stdout).lower(),
             "rule 3: ... saying permission denied", r)
    t.expect(not os.path.exists(os.path.join(ud, "nope.conf")),
             "rule 3: the command did not run untracked instead", r)
    code = ("import json, socket, struct\n"
            "def rpc(req):\n"
            "    d = json.dumps(req).encode(); s = socket.socket(socket.AF_UNIX)\n"
            "    s.settimeout(10); s.connect('/run/tracksuite/trackle.sock')\n"
            "    s.sendall(struct.pack('=IHH', len(d), 0x100, 0) + d)\n"
            "    h = b''\n"
            "    while len(h) < 8: h += s.recv(8 - len(h))\n"
            "    n = struct.unpack('=IHH', h)[0]; b = b''\n"
            "    while len(b) < n: b += s.recv(n - len(b))\n"
            "    return json.loads(b)\n"
            "print(json.dumps([rpc({'op': 'session.open', 'ticket': None, 'steal': False,"
            " 'keyed': False, 'tty': None, 'shell': '/bin/bash', 'cwd': '/', 'environment': {}}),"
            f" rpc({{'op': 'ticket.new', 'summary': 'x'}}), rpc({{'op': 'session.show', 'id': {sid}}})]))\n")
    r = t.as_user(t.user, f"{tk.PY} -c {q(code)}", cwd=ud)
    try:
        replies = json.loads(r.stdout)
    except ValueError:
        replies = None
    if t.expect(replies, "rule 3: the non-admin's JSON requests got replies", r):
        for what, rep in zip(("session.open", "ticket.new", "session.show"), replies):
            t.expect(rep.get("ok") is False and rep.get("errno") == 13,
                     f"rule 3: {what} from a non-admin is refused with errno 13", rep)
    r = t.as_user(t.user, "/usr/libexec/tracksuite/trackle-loginuid /bin/true; echo rc=$?")
    t.expect("rc=126" in r.stdout or "rc=13" in r.stdout or "ermission denied" in r.stderr,
             "rule 3: the non-admin cannot execute trackle-loginuid", r)

    # ---- 4. nobody outside the session can feed it
    feeds = []
    r = t.as_user(t.user, f"echo fed > {q(ud)}/fed-lib.conf; {tk.PY} -c \"open('fed-py.conf','w')\"",
                  extra_env={"TRACKLE_SESSION": str(sid), "LD_PRELOAD": "libtrackle.so"},
                  cwd=ud)
    t.expect(r.rc == 0, "rule 4: the non-admin's shell with TRACKLE_SESSION=<open id> ran", r)
    feeds += [os.path.join(ud, "fed-lib.conf"), os.path.join(ud, "fed-py.conf")]
    r = t.as_user(t.user, f"echo fed > {q(ud)}/fed-audit.conf",
                  extra_env={"TRACKLE_SESSION": str(sid), "LD_PRELOAD": "libtrackle.so"},
                  cwd=ud, fresh_audit=True)
    feeds.append(os.path.join(ud, "fed-audit.conf"))
    forge = os.path.join(t.tmp, "forge.py")
    write(forge, FORGE, 0o644)
    for who, word in ((t.user, "user"), (t.admin2, "admin2"), ("root", "root")):
        path = f"/etc/tk-e2e-forged-{word}"
        feeds.append(path)
        cmd = f"{tk.PY} {q(forge)} {sid} {q(path)} {word}"
        if who == "root":
            r = subprocess.run(["/bin/sh", "-c", cmd], capture_output=True, text=True, timeout=30)
            print(f"forger as root: {r.stdout.strip()} {r.stderr.strip()}")
        else:
            r = t.as_user(who, cmd, cwd="/")
            print(f"forger as {who}: {r.stdout.strip()} {r.stderr.strip()}")
    log = t.trackled.logtext()
    for who in (t.user, t.admin2, "root"):
        uid = t.uid(who)
        t.expect(f"uid {uid}): not in an open" in log,
                 f"rule 4: trackled saw and dropped the forged connection of {who} (uid {uid})",
                 "\n".join(l for l in log.splitlines() if "Dropped" in l)[-2000:])
    # end the admin's session and look
    with open(fifo, "w") as w:
        w.write("go\n")
    out, err = tk.finish(proc, 60, 'the session')
    t.expect(proc.returncode == 0, "the admin's session ended", (out, err))
    s = t.show(sid)
    t.expect(t.file(s, os.path.join(d, "in.conf")) is not None,
             "control: the admin's own change is recorded", t.paths(s))
    for p in feeds:
        t.expect(t.file(s, p) is None, f"rule 4: {p} is not in the session", t.paths(s))
    forged_cmds = [c for c in s.get("commands", [])
                   if any("forged-" in a for a in (c.get("argv") or []))]
    t.expect(not forged_cmds, "rule 4: no forged command is in the session", forged_cmds)
    others = [x for x in t.session_list() if x["id"] != sid]
    leaked = []
    for x in others:
        ss = t.show(x["id"], wait_ended=False)
        leaked += [p for p in t.paths(ss) if p in feeds]
    t.expect(not leaked, "rule 4: nor in any other session", leaked)

    # ---- 6. the user's LD_PRELOAD list is not propagated into sudo's child
    evil_c = os.path.join(t.tmp, "evil.c")
    evil = os.path.join(ud, "evil.so")
    mark = os.path.join(ud, "evil-ran")
    os.chmod(ud, 0o777)
    write(evil_c, '#include <stdio.h>\n#include <unistd.h>\n'
          '__attribute__((constructor)) static void evil(void) {\n'
          f'  char p[256]; snprintf(p, sizeof p, "{mark}-%d", (int)geteuid());\n'
          '  FILE *f = fopen(p, "w"); if (f) fclose(f); }\n', 0o644)
    have_evil = tk.shutil.which("gcc") and subprocess.run(
        ["gcc", "-shared", "-fPIC", "-o", evil, evil_c]).returncode == 0
    if have_evil:
        os.chmod(evil, 0o755)
    else:
        write(evil, "not a library", 0o644)
        print("note: no gcc; the evil library is a dummy file")
    env_out = os.path.join(ud, "environ")
    for flag in ("", "-E "):
        for f in os.listdir(ud):
            if f.startswith("evil-ran") or f == "environ":
                os.unlink(os.path.join(ud, f))
        r = t.shell(f"{tk.PY} -c \"import ctypes; ctypes.CDLL('{evil}')\"; "
                    f"LD_PRELOAD='libtrackle.so {evil}' sudo {flag}sh -c "
                    f"'tr \"\\0\" \"\\n\" < /proc/self/environ > {env_out}'", cwd=d)
        label = f"rule 6 (sudo {flag.strip() or 'plain'})"
        if not t.expect(r.rc == 0 and os.path.exists(env_out), f"{label}: the session ran", r):
            continue
        lines = [l for l in open(env_out).read().splitlines() if l.startswith("LD_PRELOAD=")]
        t.expect(lines == ["LD_PRELOAD=libtrackle.so"],
                 f"{label}: the root child's LD_PRELOAD is libtrackle.so only", lines)
        t.expect(any(l.startswith("TRACKLE_SESSION=") for l in open(env_out).read().splitlines()),
                 f"{label}: the root child has the session hint (the library re-added it)")
        if have_evil:
            t.expect(os.path.exists(f"{mark}-{pw.pw_uid}"),
                     f"{label}: control: the evil library is a working library (dlopen as the "
                     "admin ran its constructor)")
            t.expect(not os.path.exists(f"{mark}-0"),
                     f"{label}: the evil library never ran as root")

    # ---- 5. a forged hint in ancestry mode
    os.unlink("/usr/libexec/tracksuite/trackle-loginuid")  # the overlay: gone in here only
    before = t.session_ids()
    proc = t.as_user(t.admin, t.shell_cmd("echo anc > anc.conf; read x < go; echo end"),
                     background=True, cwd=d)
    t.cleanups.append(lambda: proc.poll() is None and tk.kill_tree(proc))
    sid2 = max(tk.wait_until(lambda: t.session_ids() - before, "the ancestry session to open", 30))
    tk.wait_until(lambda: os.path.exists(f"{tk.ACTIVE}/p{sid2}"),
                  f"the ancestry marker p{sid2}", 10)
    t.expect(True, f"session {sid2} without the helper has the marker p{sid2}")
    s2 = t.show(sid2, wait_ended=False)
    t.expect(s2.get("identity") == "ancestry", "without the helper: identity ancestry",
             s2.get("identity"))
    feeds2 = []
    for who in (t.admin, t.admin2, t.user):
        p = os.path.join(t.scratch, f"forged-hint-{who}.conf")
        write(p, "x\n", 0o666, (0, 0))
        feeds2.append(p)
        r = t.as_user(who, f"echo forged >> {q(p)}",
                      extra_env={"TRACKLE_SESSION": str(sid2), "LD_PRELOAD": "libtrackle.so"})
        t.expect(r.rc == 0, f"rule 5: {who} outside the session wrote with the hint", r)
    with open(fifo, "w") as w:
        w.write("go\n")
    out, err = tk.finish(proc, 60, 'the session')
    s2 = t.show(sid2)
    t.expect(t.file(s2, os.path.join(d, "anc.conf")) is not None,
             "control: the ancestry session records its own change", t.paths(s2))
    for p in feeds2:
        t.expect(t.file(s2, p) is None, f"rule 5: {os.path.basename(p)} (forged hint) is not "
                 "in the ancestry session", t.paths(s2))


tk.run(main, needs=("sudo", "passwd", "strace"))
