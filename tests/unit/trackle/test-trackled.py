#!/usr/bin/python3
"""test-trackled.py - smoke test of trackled itself: started with --listen on a temporary
socket, /run/tracksuite on a private tmpfs (unshare -m, root only), console JSON ops and
library frames over the control socket. Exit 77 when it cannot run here."""
import array
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

JSON, HELLO, BEFORE, EVENT, EXEC = 0x100, 1, 2, 3, 4


def skip(why):
    print("skipped: " + why)
    sys.exit(77)


def outer():
    if os.geteuid() != 0:
        skip("needs root for a private /run (unshare -m)")
    unshare = shutil.which("unshare")
    if not unshare:
        skip("no unshare(1)")
    probe = subprocess.run([unshare, "-m", "--propagation", "private", "true"],
                           capture_output=True)
    if probe.returncode != 0:
        skip("cannot create a mount namespace: " + probe.stderr.decode().strip())
    script = ("mount -t tmpfs -o mode=0755 tmpfs /run && mkdir -p /run/tracksuite && "
              "exec /usr/bin/python3 \"$0\" --inner \"$1\"")
    r = subprocess.run([unshare, "-m", "--propagation", "private", "sh", "-c", script,
                        os.path.abspath(__file__), os.path.abspath(sys.argv[1])])
    sys.exit(r.returncode)


def frame(t, payload):
    return struct.pack("=IHH", len(payload), t, 0) + payload


def wstr(s):
    b = s.encode()
    return struct.pack("=H", len(b)) + b


def recv_exact(s, n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise EOFError("trackled closed the connection")
        b += c
    return b


def call(path, obj, sock=None, fds=None):
    s = sock
    if s is None:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(path)
    data = frame(JSON, json.dumps(obj).encode())
    if fds:
        s.sendmsg([data], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))])
    else:
        s.sendall(data)
    n, t, _ = struct.unpack("=IHH", recv_exact(s, 8))
    assert t == JSON, t
    reply = json.loads(recv_exact(s, n))
    if sock is None:
        s.close()
    return reply


failures = 0


def check(cond, what):
    global failures
    if not cond:
        failures += 1
        print("FAIL: " + what, file=sys.stderr)


def inner(trackled):
    tmp = tempfile.mkdtemp(prefix="test-trackled-")
    sock_path = os.path.join(tmp, "control.sock")
    proc = subprocess.Popen([trackled, "-c", os.path.join(tmp, "none.conf"), "-d",
                             os.path.join(tmp, "trackle.db"), "--listen", sock_path],
                            env=dict(os.environ, TRACKSUITE_LOG_TARGET="console"))
    try:
        deadline = time.monotonic() + 10
        while not os.path.exists(sock_path):
            if proc.poll() is not None or time.monotonic() > deadline:
                print("trackled did not start", file=sys.stderr)
                return 1
            time.sleep(0.01)
        run(sock_path, tmp)
    finally:
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=20)
        check(rc == 0, "trackled exits 0 on SIGTERM (got %s)" % rc)
        shutil.rmtree(tmp, ignore_errors=True)
    print("%s" % ("ok" if failures == 0 else "%d failures" % failures))
    return 1 if failures else 0


def run(path, tmp):
    r = call(path, {"op": "ticket.new", "summary": "Fix nginx"})
    check(r["ok"] and r["ticket"]["id"] == 1 and r["ticket"]["status"] == "new", str(r))
    r = call(path, {"op": "ticket.new", "summary": ""})
    check(not r["ok"] and r["errno"] == 22, str(r))

    leader = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    leader.connect(path)
    r = call(path, {"op": "session.open", "ticket": 1, "tty": "/dev/pts/9",
                    "environment": {"LANG": "C"}}, sock=leader,
             fds=[os.open("/", os.O_PATH)])
    check(r["ok"] and r["session"]["identity"] == "ancestry", str(r))
    sid = r["session"]["id"]
    check(os.path.isdir(r["session"]["spool"]), "spool directory")
    marker = "/run/tracksuite/trackle/active/p%d" % sid
    check(os.path.exists(marker) and open(marker).read().startswith("session=%d " % sid),
          "marker " + marker)

    # the lock: another process cannot take it while the session is open
    other = subprocess.run([sys.executable, "-c",
                            "import sys, json; sys.path.insert(0, %r); import importlib.util;"
                            "spec = importlib.util.spec_from_file_location('t', %r);"
                            "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m);"
                            "print(json.dumps(m.call(%r, {'op': 'session.open', 'ticket': 1})))"
                            % (tmp, os.path.abspath(__file__), path)],
                           capture_output=True, text=True)
    r = json.loads(other.stdout or "{}")
    check(not r.get("ok") and r.get("errno") == 16 and
          r.get("error", "").startswith("ticket 1 is locked by session %d of " % sid), str(r))

    # a library connection from the leader itself
    work = os.path.join(tmp, "etc")
    os.mkdir(work)
    conf = os.path.join(work, "app.conf")
    with open(conf, "w") as f:
        f.write("a=1\nb=2\n")
    lib = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    lib.connect(path)
    lib.sendmsg([frame(HELLO, struct.pack("=IIQI", 1, 2, sid, os.getpid()))],
                [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [os.open("/", os.O_PATH)]))])
    n, t, _ = struct.unpack("=IHH", recv_exact(lib, 8))
    status = struct.unpack("=i", recv_exact(lib, n))[0]
    check(t == 0x81 and status == 0, "HELLO answered with ACK 0 (got type %#x status %d)" % (t, status))
    lib.sendall(frame(BEFORE, struct.pack("=II", 1, 0) + wstr(conf)))
    n, t, _ = struct.unpack("=IHH", recv_exact(lib, 8))
    status = struct.unpack("=i", recv_exact(lib, n))[0]
    check(t == 0x81 and status == 0, "ACK 0 (got type %#x status %d)" % (t, status))
    with open(conf, "w") as f:
        f.write("a=1\nb=3\n")
    created = os.path.join(work, "new.conf")
    with open(created, "w") as f:
        f.write("new\n")
    lib.sendall(frame(EVENT, struct.pack("=IIIIIQ", 20, 0, 0, 0, 0, 0) + wstr(created) + wstr("")))
    argv = [b"vi", b"app.conf"]
    lib.sendall(frame(EXEC, struct.pack("=IIII", 0, 0, os.getpid(), 0) + wstr(work) +
                      wstr("/usr/bin/vi") + struct.pack("=H", len(argv)) +
                      b"".join(struct.pack("=H", len(a)) + a for a in argv)))
    lib.close()

    # garbage is dropped without harm
    bad = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    bad.connect(path)
    bad.sendall(b"\xff" * 64)
    try:
        closed = bad.recv(16) == b""
    except ConnectionResetError:
        closed = True
    check(closed, "garbage connection closed")
    bad.close()

    # one user other than root cannot take every connection slot
    os.chmod(tmp, 0o755)  # the socket's directory (mkdtemp makes it 0700)
    rd, wr = os.pipe()
    hold_rd, hold_wr = os.pipe()
    child = os.fork()
    if child == 0:
        os.close(rd)
        os.close(hold_wr)
        refused = -1
        try:
            os.setgroups([])
            os.setresgid(65534, 65534, 65534)
            os.setresuid(65534, 65534, 65534)
            held = []
            for _ in range(530):
                c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                c.connect(path)
                held.append(c)
            # trackled accepts in order: the connections past the limit are closed at once
            refused = 0
            for c in held[512:]:
                c.settimeout(5)
                try:
                    if c.recv(1) != b"":
                        break
                except ConnectionResetError:
                    pass
                except socket.timeout:
                    break  # kept open: no limit
                refused += 1
        except Exception as e:
            os.write(wr, repr(e).encode()[:200])
        os.write(wr, b"%d" % refused)
        os.read(hold_rd, 1)  # hold the connections until the parent has looked
        os._exit(0)
    os.close(wr)
    os.close(hold_rd)
    got = os.read(rd, 256)
    check(got == b"18", "a non-root user gets 512 connections, the rest are refused (%r)" % got)
    r = call(path, {"op": "ticket.list"})
    check(r["ok"], "root still gets in while that user holds 512: %s" % r)
    os.close(hold_wr)
    os.waitpid(child, 0)
    os.close(rd)

    r = call(path, {"op": "session.commands", "id": sid,
                    "commands": [{"time": "2026-12-04T22:54:32Z", "cwd": work,
                                  "line": "vi app.conf", "exit": 0}]}, sock=leader)
    check(r["ok"], str(r))
    r = call(path, {"op": "session.end", "id": sid, "exit": 0}, sock=leader)
    check(r["ok"] and r["session"]["state"] == "ended", str(r))
    s = r["session"]
    files = {f["path"]: f for f in s["files"]}
    check(files.get(conf, {}).get("change") == "modified", "modified: " + json.dumps(s["files"]))
    check("-b=2\n+b=3\n" in (files.get(conf, {}).get("diff") or ""), "diff")
    check(files.get(created, {}).get("change") == "created", "created")
    sources = sorted(c["source"] for c in s["commands"])
    check(sources == ["exec", "shell"], str(s["commands"]))
    check(not os.path.exists(marker), "marker removed")
    r = call(path, {"op": "ticket.show", "id": 1})
    check(r["ok"] and r["ticket"]["lock"] is None and r["ticket"]["sessions"] == [sid], str(r))
    r = call(path, {"op": "session.list", "ticket": 1})
    check(r["ok"] and [x["id"] for x in r["sessions"]] == [sid], str(r))
    leader.close()


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--inner":
        sys.exit(inner(sys.argv[2]))
    if len(sys.argv) != 2:
        print("usage: test-trackled.py TRACKLED", file=sys.stderr)
        sys.exit(2)
    outer()
