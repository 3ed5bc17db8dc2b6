"""tk_harness.py - end-to-end tests of trackle: a real bash under libtrackle.so, real tools,
real sudo, and checks of what trackled recorded.

Every test runs itself twice:

outer (on the host, as root): creates the test users (two admins in group `trackle`, one
    ordinary user), the sudoers drop-in for the admins, a scratch directory outside /tmp, and
    removes all of them at exit, whatever happened. Then it runs the inner half in
    `unshare -m -p -f --mount-proc --propagation private --kill-child`: when the test ends
    (or is killed), every process it started dies with the pid namespace and every mount
    goes with the mount namespace.

inner (in the namespaces): mounts a tmpfs on /run/tracksuite (the compiled-in socket
    directory), overlays over /usr/lib/x86_64-linux-gnu (the built libtrackle.so, 4644
    root:root, so that ld.so preloads it by bare name into set-uid sudo and su), over
    /usr/libexec (tracksuite/trackle-loginuid, 4754 root:trackle), over /etc and
    /var/lib/dpkg (so that the /etc and dpkg cases change nothing on the host); starts
    trackled from the build tree on a listening socket it holds itself (the way systemd
    holds trackle.socket, so trackled can be killed and restarted), and runs the test.

Usage from a test file:

    import tk_harness as tk
    def main(t):                      # t: tk.Env
        s = t.shell("echo hi > x")   # a tracked session as the admin; returns a Result
        sess = t.show(s.id)           # trackle session show ID --json, parsed
        t.expect(...)
    tk.run(main)

argv (from meson): TRACKLED TRACKLE LIBTRACKLE TRACKLE_LOGINUID, each a path or "-" when
that part is not built; a test that needs a missing part exits 77.
"""

import atexit
import contextlib
import grp
import hashlib
import json
import os
import pwd
import random
import shlex
import shutil
import signal
import socket
import sqlite3
import stat
import string
import struct
import subprocess
import sys
import tempfile
import time

SKIP = 77
MULTIARCH = "/usr/lib/x86_64-linux-gnu"
LIBEXEC = "/usr/libexec"
RUN = "/run/tracksuite"
SOCKET = "/run/tracksuite/trackle.sock"
ACTIVE = "/run/tracksuite/trackle/active"
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
PY = "/usr/bin/python3"
GROUP = "trackle"
FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")


class Failure(Exception):
    pass


def skip(reason):
    print(f"skipped: {reason}", flush=True)
    sys.exit(SKIP)


def check(cond, what):
    """Hard check: stop the test at the first failure."""
    if not cond:
        raise Failure(what)
    print(f"ok: {what}", flush=True)
    return cond


def wait_until(fn, what, timeout=10.0, interval=0.02):
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() > deadline:
            raise Failure(f"timed out after {timeout}s waiting for: {what}")
        time.sleep(interval)


def sha256(data):
    if isinstance(data, str):
        data = data.encode()
    return hashlib.sha256(data).hexdigest()


def sha256_file(path):
    with open(path, "rb") as f:
        return sha256(f.read())


def admin_dir(t, name):
    """A new directory NAME under the test's scratch directory, owned by the test's admin:
    (path, (uid, gid))."""
    pw = t.pw(t.admin)
    own = (pw.pw_uid, pw.pw_gid)
    d = os.path.join(t.scratch, name)
    os.mkdir(d)
    os.chown(d, *own)
    return d, own


@contextlib.contextmanager
def background_session(t, commands, cwd):
    """The test's admin runs COMMANDS in a tracked shell in the background: yields the process,
    and kills it and its children if it still runs when the block is left."""
    proc = t.as_user(t.admin, t.shell_cmd(commands), background=True, cwd=cwd)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            kill_tree(proc)
            proc.wait()


def session_ends(t, proc, timeout=60):
    """Wait for a background session to end, and expect exit 0."""
    out, err = finish(proc, timeout, "the session")
    t.expect(proc.returncode == 0, "the session ended with exit 0", (out, err))


def change_row(t, sid, path, columns):
    """COLUMNS (SQL) of session SID's file_change row for PATH, straight from trackled's
    database (no console request: that would make trackled store what it holds), or None."""
    try:
        rows = t.trackled.query(f"SELECT {columns} FROM file_change WHERE session = ? AND "
                                "path = ?", (sid, path))
    except Exception as e:
        print(f"query: {e}")
        return None
    return rows[0] if rows else None


def write(path, data, mode=None, owner=None):
    with open(path, "wb" if isinstance(data, bytes) else "w") as f:
        f.write(data)
    if mode is not None:
        os.chmod(path, mode)
    if owner is not None:
        os.chown(path, owner[0], owner[1])
    return path


def q(s):
    return shlex.quote(str(s))


# ---------------------------------------------------------------- outer half: host state

def _need_root_and_tools(tools):
    if os.geteuid() != 0:
        skip("needs root (users, sudoers, mount namespaces)")
    missing = [t for t in ["unshare", "su", "useradd", "userdel", "groupadd", "visudo",
                           "setpriv", "mount"] + list(tools) if not shutil.which(t)]
    if missing:
        skip("missing tools: " + " ".join(missing))
    with open("/proc/filesystems") as f:
        if "overlay" not in f.read():
            subprocess.run(["modprobe", "overlay"], capture_output=True)
            with open("/proc/filesystems") as f2:
                if "overlay" not in f2.read():
                    skip("overlayfs is not available")
    if not os.path.isdir(MULTIARCH):
        skip(f"{MULTIARCH} does not exist (not Debian amd64)")


class Host:
    """What the outer half creates on the host, removed at exit in reverse order."""

    def __init__(self):
        self.suffix = "".join(random.choice(string.ascii_lowercase + string.digits)
                              for _ in range(5))
        self.undo = []
        self.done = False

    def cleanup(self):
        if self.done:
            return
        self.done = True
        for what, fn in reversed(self.undo):
            try:
                fn()
            except Exception as e:  # keep cleaning
                print(f"cleanup of {what} failed: {e}", flush=True)

    def run(self, cmd):
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            raise Failure(f"{' '.join(cmd)} failed ({r.returncode}): {r.stderr.strip()}")
        return r

    def group(self):
        try:
            grp.getgrnam(GROUP)
        except KeyError:
            self.run(["groupadd", "--system", GROUP])
            self.undo.append((f"group {GROUP}",
                              lambda: subprocess.run(["groupdel", GROUP], capture_output=True)))

    def user(self, name, admin):
        cmd = ["useradd", "-m", "-s", "/bin/bash", "-K", "MAIL_DIR=/nonexistent"]
        if admin:
            cmd += ["-G", GROUP]
        self.run(cmd + [name])
        self.undo.append((f"user {name}", lambda: subprocess.run(
            ["userdel", "-r", "-f", name], capture_output=True)))
        if admin:
            path = f"/etc/sudoers.d/{name}"
            self.undo.append((path, lambda: os.path.exists(path) and os.unlink(path)))
            write(path, f"{name} ALL=(ALL:ALL) NOPASSWD: ALL\n", 0o440)
            r = subprocess.run(["visudo", "-c", "-q", "-f", path], capture_output=True, text=True)
            if r.returncode != 0:
                raise Failure(f"visudo -c {path}: {r.stdout} {r.stderr}")
        return name

    def directory(self, path, owner=None, mode=0o755):
        os.makedirs(path)
        self.undo.append((path, lambda: shutil.rmtree(path, ignore_errors=True)))
        os.chmod(path, mode)
        if owner:
            pw = pwd.getpwnam(owner)
            os.chown(path, pw.pw_uid, pw.pw_gid)
        return path


def _outer(needs):
    _need_root_and_tools(needs)
    host = Host()
    atexit.register(host.cleanup)
    child = None

    def on_term(signum, frame):
        # meson's timeout: take the namespace down (--kill-child kills its init) and clean up
        if child and child.poll() is None:
            child.send_signal(signal.SIGTERM)
            try:
                child.wait(10)
            except subprocess.TimeoutExpired:
                child.kill()
        host.cleanup()
        sys.exit(1)

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    try:
        host.group()
        s = host.suffix
        state = {
            "admin": host.user(f"tka{s}", True),
            "admin2": host.user(f"tkb{s}", True),
            "user": host.user(f"tku{s}", False),
            "tmp": tempfile.mkdtemp(prefix="tk-e2e-") + "/t",
            # vim's backupskip covers /tmp/*: the scratch directory is elsewhere
            "scratch": host.directory(f"/srv/tk-e2e-{s}", owner=f"tka{s}"),
        }
        host.undo.append(("tmp", lambda: shutil.rmtree(os.path.dirname(state["tmp"]),
                                                        ignore_errors=True)))
        os.mkdir(state["tmp"], 0o755)
        os.chmod(state["tmp"], 0o755)
        os.chmod(os.path.dirname(state["tmp"]), 0o755)
        env = dict(os.environ, TK_E2E_STATE=json.dumps(state), PYTHONDONTWRITEBYTECODE="1")
        # meson points LD_LIBRARY_PATH at the build tree's libtrackle.so: the library must be
        # found only where ld.so trusts it (the overlay), never from the build tree
        for var in ("LD_LIBRARY_PATH", "LD_PRELOAD", "TRACKLE_SESSION"):
            env.pop(var, None)
        cmd = ["unshare", "-m", "-p", "-f", "--mount-proc", "--propagation", "private",
               "--kill-child", PY, os.path.abspath(sys.argv[0])] + sys.argv[1:]
        child = subprocess.Popen(cmd, env=env)
        rc = child.wait()
        if os.environ.get("KEEP_TMP"):
            print(f"kept {state['tmp']}")
            host.undo = [u for u in host.undo if u[0] != "tmp"]
        return rc
    except Failure as e:
        print(f"FAIL: set-up: {e}", flush=True)
        return 1
    finally:
        host.cleanup()


# ---------------------------------------------------------------- inner half

def _mount(*args):
    r = subprocess.run(["mount"] + list(args), capture_output=True, text=True)
    if r.returncode != 0:
        raise Failure(f"mount {' '.join(args)}: {r.stderr.strip()}")


def _overlay(tmp, target, name):
    upper = os.path.join(tmp, "ov", name, "upper")
    work = os.path.join(tmp, "ov", name, "work")
    os.makedirs(upper)
    os.makedirs(work)
    _mount("-t", "overlay", "overlay", "-o",
           f"lowerdir={target},upperdir={upper},workdir={work}", target)
    return upper


def descendants(pid):
    """PIDs of every process below PID (su starts the command in a new session, so a process
    group kill does not reach it)."""
    children = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(d))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        for c in children.get(p, []):
            out.append(c)
            todo.append(c)
    return out


def kill_tree(proc):
    """SIGKILL a process this test started and everything below it, by PID."""
    for p in [proc.pid] + descendants(proc.pid):
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass


def finish(proc, timeout, what):
    """communicate() with a deadline; on timeout kill the tree and raise."""
    try:
        return proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_tree(proc)
        try:
            out, err = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            out, err = "", "(output pipes still held open)"
        raise Failure(f"{what} did not finish within {timeout}s\nstdout: {out}\nstderr: {err}")


class Result:
    def __init__(self, proc, stdout, stderr, elapsed, id=None):
        self.rc = proc.returncode
        self.stdout = stdout
        self.stderr = stderr
        self.elapsed = elapsed
        self.id = id

    def __repr__(self):
        return (f"rc={self.rc} id={self.id} ({self.elapsed:.1f}s)\n--- stdout\n{self.stdout}"
                f"--- stderr\n{self.stderr}")


class Trackled:
    """trackled on a listening socket this process holds (as systemd holds trackle.socket),
    so it can be stopped, killed and started again on the same socket."""

    def __init__(self, binary, dir, config):
        self.binary = binary
        self.dir = dir
        self.config_path = os.path.join(dir, "trackle.conf")
        self.db = os.path.join(dir, "trackle.db")
        self.log_path = os.path.join(dir, "trackled.log")
        self.proc = None
        self.sock = None
        os.makedirs(dir, exist_ok=True)
        self.set_config(config)

    def set_config(self, config):
        text = config if isinstance(config, str) else _ini(config)
        write(self.config_path, text, 0o644)

    def listen(self):
        if self.sock:
            return
        if os.path.exists(SOCKET):
            os.unlink(SOCKET)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(SOCKET)
        os.chmod(SOCKET, 0o666)
        self.sock.listen(128)

    def unlisten(self):
        """No socket at all: the file is gone."""
        if self.sock:
            self.sock.close()
            self.sock = None
        if os.path.exists(SOCKET):
            os.unlink(SOCKET)

    def start(self, wait=True):
        self.listen()
        log = open(self.log_path, "ab")
        self.log_start = log.tell()
        env = {"PATH": PATH, "LANG": "C.UTF-8", "STATE_DIRECTORY": self.dir,
               "RUNTIME_DIRECTORY": RUN + "/trackle", "TRACKSUITE_LOG_TARGET": "console",
               "TRACKSUITE_LOG_FIELDS": "1", "ASAN_OPTIONS": "detect_leaks=0",
               "LISTEN_FDS": "1", "LISTEN_FDNAMES": "control"}
        fd = self.sock.fileno()

        def to_fd3():
            # the listening socket as fd 3, the only descriptor passed on (close_fds=False:
            # every other descriptor of this process is close-on-exec, as Python makes them)
            if fd != 3:
                os.dup2(fd, 3)
            else:
                os.set_inheritable(3, True)

        self.proc = subprocess.Popen(
            ["/bin/sh", "-c", 'LISTEN_PID=$$; export LISTEN_PID; exec "$@"', "sh",
             self.binary, "--config", self.config_path, "--db", self.db],
            env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            preexec_fn=to_fd3, close_fds=False)
        log.close()
        if wait:
            wait_until(self.answers, "trackled to answer ticket.list on its socket", 20)
        return self

    def answers(self):
        if self.proc.poll() is not None:
            raise Failure(f"trackled exited with {self.proc.returncode}: {self.logtext()}")
        try:
            r = rpc({"op": "ticket.list"}, timeout=2)
            return r.get("ok") is True
        except OSError:
            return False

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=20):
        if not self.alive():
            return None
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise Failure(f"trackled did not exit within {timeout}s of signal {sig}")

    def logtext(self, since_start=False):
        try:
            with open(self.log_path, "rb") as f:
                if since_start:
                    f.seek(self.log_start)
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def query(self, sql, args=()):
        con = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=10)
        try:
            return con.execute(sql, args).fetchall()
        finally:
            con.close()

    def db_bytes(self):
        """The database file and its WAL/journal, raw, for "is this secret stored" checks."""
        out = b""
        for suffix in ("", "-wal", "-journal", "-shm"):
            try:
                with open(self.db + suffix, "rb") as f:
                    out += f.read()
            except FileNotFoundError:
                pass
        return out


def _ini(sections):
    lines = []
    for sec, kv in sections.items():
        lines.append(f"[{sec}]")
        for k, v in kv.items():
            lines.append(f"{k}={v}")
        lines.append("")
    return "\n".join(lines)


def rpc(request, timeout=10, sock_path=SOCKET):
    """One JSON request on the control socket (trackle-protocol: u32 length, u16 type 0x100,
    u16 flags 0, then the JSON text), as the calling process (root here)."""
    data = json.dumps(request).encode()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(sock_path)
        s.sendall(struct.pack("=IHH", len(data), 0x100, 0) + data)
        hdr = _recv_exact(s, 8)
        length, typ, _ = struct.unpack("=IHH", hdr)
        body = _recv_exact(s, length)
        if typ != 0x100:
            raise Failure(f"reply frame type {typ:#x}, not JSON")
        return json.loads(body)


def _recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise ConnectionError(f"connection closed after {len(buf)} of {n} bytes")
        buf += chunk
    return buf


class Env:
    """What a test gets: the users, the directories, trackled, and session helpers."""

    def __init__(self, state, bins):
        self.admin = state["admin"]
        self.admin2 = state["admin2"]
        self.user = state["user"]
        self.tmp = state["tmp"]
        self.scratch = state["scratch"]
        self.trackled_bin, self.trackle, self.lib, self.helper = bins
        self.failures = []
        self.trackled = None
        self.cleanups = []

    # --- users
    def pw(self, name):
        return pwd.getpwnam(name)

    def uid(self, name):
        return self.pw(name).pw_uid

    # --- checks that go on after a failure (one test file, many cases)
    def expect(self, cond, what, detail=None):
        if cond:
            print(f"ok: {what}", flush=True)
        else:
            print(f"FAIL: {what}", flush=True)
            if detail is not None:
                print("    " + str(detail).replace("\n", "\n    ")[:6000], flush=True)
            self.failures.append(what)
        return bool(cond)

    # --- running things
    def env(self, name, extra=None):
        pw = self.pw(name)
        e = {"PATH": PATH, "LANG": "C.UTF-8", "HOME": pw.pw_dir, "USER": name,
             "LOGNAME": name, "SHELL": "/bin/bash", "TERM": "dumb",
             "ASAN_OPTIONS": "detect_leaks=0:verify_asan_link_order=0"}
        e.update(extra or {})
        return e

    def as_user(self, name, script, timeout=60, extra_env=None, input=None, cwd=None,
                background=False, fresh_audit=False):
        """Run a bash script as NAME through su (which as root asks no password).
        fresh_audit: give the process a fresh, valid audit session (root writes NAME's uid to
        /proc/self/loginuid first, then drops to NAME), i.e. an ssh login outside trackle."""
        cwd = cwd or self.scratch
        inner = f"cd {q(cwd)} && {script}"
        if fresh_audit:
            pw = self.pw(name)
            cmd = ["/bin/sh", "-c", f'echo {pw.pw_uid} > /proc/self/loginuid && exec "$@"',
                   "sh", "setpriv", f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}",
                   "--init-groups", "/bin/bash", "-c", inner]
        else:
            cmd = ["su", "-s", "/bin/bash", name, "-c", inner]
        env = self.env(name, extra_env)
        if background:
            return subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                    start_new_session=True)
        t0 = time.monotonic()
        p = subprocess.Popen(cmd, env=env, stdin=subprocess.PIPE if input else subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             start_new_session=True)
        try:
            out, err = p.communicate(input, timeout=timeout)
        except subprocess.TimeoutExpired:
            kill_tree(p)
            try:
                out, err = p.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                out, err = "", "(output pipes still held open)"
            raise Failure(f"as {name}: `{script}` did not finish within {timeout}s\n"
                          f"stdout: {out}\nstderr: {err}")
        return Result(p, out, err, time.monotonic() - t0)

    def shell_cmd(self, commands, ticket=None, args=()):
        parts = [self.trackle, "shell"] + list(args)
        if ticket is not None:
            parts.append(str(ticket))
        parts += ["-c", commands]
        return " ".join(q(p) for p in parts)

    def shell(self, commands, user=None, ticket=None, args=(), timeout=90, extra_env=None,
              cwd=None, want_id=True, as_root=False):
        """A tracked session running COMMANDS (`trackle shell [TICKET] -c COMMANDS`) as the
        admin (or root with as_root); returns a Result with .id, the new session's id."""
        before = self.session_ids() if want_id else set()
        cmd = self.shell_cmd(commands, ticket, args)
        if as_root:
            t0 = time.monotonic()
            p = subprocess.Popen(["/bin/bash", "-c", cmd], cwd=cwd or self.scratch,
                                 env=self.env("root", extra_env), stdin=subprocess.DEVNULL,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                 start_new_session=True)
            out, err = finish(p, timeout, f"root session `{commands}`")
            r = Result(p, out, err, time.monotonic() - t0)
        else:
            r = self.as_user(user or self.admin, cmd, timeout=timeout, extra_env=extra_env,
                             cwd=cwd)
        if want_id:
            new = self.session_ids() - before
            r.id = max(new) if new else None
        return r

    def tool(self, *args, user=None, timeout=30, check_rc=True):
        """The tree's trackle as root (or as USER)."""
        if user:
            r = self.as_user(user, " ".join(q(a) for a in [self.trackle] + list(args)),
                             timeout=timeout)
        else:
            t0 = time.monotonic()
            p = subprocess.run([self.trackle] + [str(a) for a in args], capture_output=True,
                               text=True, timeout=timeout, env=self.env("root"), cwd="/")
            r = Result(p, p.stdout, p.stderr, time.monotonic() - t0)
        if check_rc and r.rc != 0:
            raise Failure(f"trackle {' '.join(map(str, args))} failed: {r}")
        return r

    def session_list(self):
        r = self.tool("session", "list", "--json")
        v = json.loads(r.stdout)
        if isinstance(v, dict):
            v = v.get("sessions", [])
        return v

    def session_ids(self):
        return {s["id"] for s in self.session_list()}

    def show(self, sid, wait_ended=True):
        """trackle session show ID --json, parsed; waits until the session is no longer open."""
        if sid is None:
            raise Failure("no session id: `trackle shell` created no session")
        holder = {}

        def get():
            r = self.tool("session", "show", sid, "--json")
            v = json.loads(r.stdout)
            if isinstance(v, dict) and "session" in v and "files" not in v:
                v = v["session"]
            holder["v"] = v
            return (not wait_ended) or v.get("state") != "open"
        wait_until(get, f"session {sid} to be ended", 20)
        return holder["v"]

    def file(self, sess, path):
        for f in sess.get("files", []):
            if f.get("path") == path:
                return f
        return None

    def stored(self, sid, path):
        """The row trackled stored for PATH in session SID so far (before the session ends,
        `session show` lists no files: they are classified at the end), as a dict, or None."""
        try:
            con = sqlite3.connect(f"file:{self.trackled.db}?mode=ro", uri=True, timeout=10)
            con.row_factory = sqlite3.Row
            try:
                row = con.execute("SELECT * FROM file_change WHERE session = ? AND path = ?",
                                  (sid, path)).fetchone()
            finally:
                con.close()
        except sqlite3.Error as e:
            print(f"query: {e}", flush=True)
            return None
        return dict(row) if row else None

    def paths(self, sess):
        return sorted(f.get("path") for f in sess.get("files", []))

    def commands_with_argv0(self, sess, name):
        out = []
        for c in sess.get("commands", []):
            argv = c.get("argv") or []
            if argv and os.path.basename(argv[0]) == name:
                out.append(c)
        return out

    # --- trackled
    def start_trackled(self, config=None):
        self.trackled = Trackled(self.trackled_bin, os.path.join(self.tmp, "trackled"),
                                 config if config is not None else {})
        self.trackled.start()
        return self.trackled


def run(main, needs=(), config=None, helper=True, start=True):
    """Entry point of a test file: needs: extra programs the test uses (exit 77 without);
    config: trackled's configuration (dict of sections, or text); helper: install
    trackle-loginuid in the overlay (False: it is absent, sessions fall back to ancestry)."""
    bins = sys.argv[1:5]
    if len(bins) != 4:
        print("usage: test TRACKLED TRACKLE LIBTRACKLE TRACKLE_LOGINUID", file=sys.stderr)
        sys.exit(2)
    names = ["trackled", "trackle", "libtrackle.so", "trackle-loginuid"]
    for name, path in zip(names, bins):
        if path == "-" or not os.path.exists(path):
            skip(f"{name} is not built ({path})")
    if os.environ.get("TK_E2E_STATE") is None:
        sys.exit(_outer(needs))
    _inner(main, bins, config, helper, start)


def _inner(main, bins, config, helper, start):
    state = json.loads(os.environ["TK_E2E_STATE"])
    t = Env(state, [os.path.abspath(b) for b in bins])
    signal.signal(signal.SIGTERM, lambda s, f: sys.exit(1))
    try:
        # the compiled-in runtime directory, fresh
        os.makedirs(RUN, exist_ok=True)
        _mount("-t", "tmpfs", "-o", "mode=0755,nosuid,nodev", "tmpfs", RUN)
        os.makedirs(RUN + "/trackle", mode=0o755)
        # libtrackle.so where ld.so trusts it for set-uid programs: 4644 root:root
        up = _overlay(t.tmp, MULTIARCH, "lib")
        lib = os.path.join(up, "libtrackle.so")
        shutil.copyfile(t.lib, lib)
        os.chown(lib, 0, 0)
        os.chmod(lib, 0o4644)
        # the loginuid helper: 4754 root:trackle
        up = _overlay(t.tmp, LIBEXEC, "libexec")
        if helper:
            os.makedirs(os.path.join(up, "tracksuite"), exist_ok=True)
            h = os.path.join(up, "tracksuite", "trackle-loginuid")
            shutil.copyfile(t.helper, h)
            os.chown(h, 0, grp.getgrnam(GROUP).gr_gid)
            os.chmod(h, 0o4754)
        elif os.path.exists(LIBEXEC + "/tracksuite/trackle-loginuid"):
            # installed on the host: hide it (a whiteout in the overlay)
            os.makedirs(os.path.join(up, "tracksuite"), exist_ok=True)
            subprocess.run(["mknod", os.path.join(up, "tracksuite", "trackle-loginuid"),
                            "c", "0", "0"], check=True)
        # /etc and dpkg's database: the /etc and dpkg -i cases leave the host alone
        _overlay(t.tmp, "/etc", "etc")
        _overlay(t.tmp, "/var/lib/dpkg", "dpkg")
        check(os.stat(MULTIARCH + "/libtrackle.so").st_mode & 0o7777 == 0o4644,
              "libtrackle.so is 4644 in the multiarch directory (overlay)")
        if start:
            t.start_trackled(config)
        main(t)
    except Failure as e:
        print(f"FAIL: {e}", flush=True)
        if t.trackled:
            print("--- trackled log (tail)\n" + t.trackled.logtext()[-4000:], flush=True)
        sys.exit(1)
    finally:
        for fn in reversed(t.cleanups):
            try:
                fn()
            except Exception as e:
                print(f"cleanup failed: {e}")
        if t.trackled:
            try:
                t.trackled.stop()
            except Failure as e:
                print(f"FAIL: {e}")
    if t.failures:
        print(f"{len(t.failures)} check(s) failed:", flush=True)
        for f in t.failures:
            print(f"  - {f}", flush=True)
        if t.trackled:
            print("--- trackled log (tail)\n" + t.trackled.logtext()[-3000:], flush=True)
        sys.exit(1)
    print("all checks passed", flush=True)
    sys.exit(0)


# ---------------------------------------------------------------- session assertions

def stat_of(path):
    st = os.lstat(path)
    return {"mode": f"{stat.S_IMODE(st.st_mode):04o}", "uid": st.st_uid, "gid": st.st_gid,
            "size": st.st_size}


def expect_content(t, sess, path, change, before, after, diff_has=(), what=None):
    """The file entry for PATH has CHANGE, and before/after sha256 of the given bytes/str
    (None: that side is null). diff_has: strings the unified diff must contain."""
    what = what or path
    f = t.file(sess, path)
    if not t.expect(f is not None, f"{what}: {path} is in the session's files",
                    f"files: {json.dumps(sess.get('files'), indent=1)[:3000]}"):
        return None
    t.expect(f.get("change") == change, f"{what}: change is {change!r} (got {f.get('change')!r})",
             json.dumps(f, indent=1)[:3000])
    for side, want in (("before", before), ("after", after)):
        got = f.get(side)
        if want is None:
            t.expect(got is None, f"{what}: {side} is null (got {got!r})")
        else:
            ok = isinstance(got, dict) and got.get("sha256") == sha256(want)
            t.expect(ok, f"{what}: {side}.sha256 is that of what was there",
                     f"want {sha256(want)} got {got!r}")
    if diff_has:
        d = f.get("diff") or ""
        for s in diff_has:
            t.expect(s in d, f"{what}: the diff has {s!r}", f"diff: {d!r}")
    return f
