#!/usr/bin/python3
"""A fake trackled for libtrackle.so tests: listens on the control socket, decodes the binary
frames of lib/trackle-wire.h, appends one JSON line per frame to a log, ACKs every HELLO and BEFORE.
Frames that came through the process's event ring (a shared memfd, trackle-protocol(7)) are
logged with "via": "ring", in the order trackled would work them off: before each socket frame
the ring up to the first MARK that counts more socket frames than were read; all of it when the
connection ends.

usage: fake_trackled.py SOCKET LOG [--mode normal|silent|nobody|nolock|slowack] [--ready FILE]
  silent: accept and never read or reply (a hung trackled)
  nobody: listen() as uid 65534, so the library must refuse to talk to it
  nolock: serve, but without the run lock trackled holds (as if trackled were dead and the
          socket kept by someone else): the library must not even connect
"""
import json
import fcntl
import mmap
import os
import socket
import struct
import sys
import threading
import time

HELLO, BEFORE, EVENT, EXEC, MISSED, RING, MARK, ACK = 1, 2, 3, 4, 5, 6, 7, 0x81
RING_HEADER, OFF_HEAD, OFF_TAIL, RING_MAGIC = 128, 8, 64, 0x676E6952
F_SEAL_SHRINK, F_SEAL_GROW = 0x2, 0x4
RUN_LOCK = "/run/tracksuite/trackle/trackled.lock"  # TRACKLE_RUN_LOCK
MODE = "normal"

lock = threading.Lock()


def log(path, rec):
    with lock, open(path, "a") as f:
        f.write(json.dumps(rec) + "\n")


def strings(p, off, count):
    out = []
    for _ in range(count):
        (n,) = struct.unpack_from("=H", p, off)
        out.append(p[off + 2:off + 2 + n].decode("utf-8", "replace"))
        off += 2 + n
    return out, off


def decode(t, p):
    if t == HELLO:
        v, flags, hint, pid = struct.unpack_from("=IIQI", p)
        return {"type": "hello", "version": v, "flags": flags, "hint": hint, "pid": pid}
    if t == BEFORE:
        op, flags = struct.unpack_from("=II", p)
        (path,), _ = strings(p, 8, 1)
        return {"type": "before", "op": op, "flags": flags, "path": path}
    if t == EVENT:
        op, valid, mode, uid, gid, size = struct.unpack_from("=IIIIIQ", p)
        (path, path2), _ = strings(p, 28, 2)
        return {"type": "event", "op": op, "valid": valid, "mode": mode, "size": size,
                "path": path, "path2": path2}
    if t == EXEC:
        uid, euid, pid, flags = struct.unpack_from("=IIII", p)
        (cwd, file), off = strings(p, 16, 2)
        (argc,) = struct.unpack_from("=H", p, off)
        argv, _ = strings(p, off + 2, argc)
        return {"type": "exec", "uid": uid, "euid": euid, "pid": pid, "flags": flags,
                "cwd": cwd, "file": file, "argv": argv}
    if t == MISSED:
        return {"type": "missed", "count": struct.unpack_from("=I", p)[0]}
    return {"type": "unknown", "t": t}


def recv_exact(conn, n, fds):
    buf = b""
    while len(buf) < n:
        data, anc, _, _ = conn.recvmsg(n - len(buf), socket.CMSG_SPACE(4 * 4))
        if not data:
            return None
        for level, kind, d in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.extend(struct.unpack("=%di" % (len(d) // 4), d[:len(d) - len(d) % 4]))
        buf += data
    return buf


class Ring:
    def __init__(self, fd, size):
        self.size = size
        st = os.fstat(fd)
        seals = fcntl.fcntl(fd, fcntl.F_GET_SEALS)
        if st.st_size != RING_HEADER + size or not seals & F_SEAL_SHRINK:
            raise ValueError("ring memfd not sealed or of the wrong size")
        self.seals = seals
        self.m = mmap.mmap(fd, RING_HEADER + size, mmap.MAP_SHARED,
                           mmap.PROT_READ | mmap.PROT_WRITE)
        magic, hsize = struct.unpack_from("=II", self.m, 0)
        if magic != RING_MAGIC or hsize != size:
            raise ValueError("bad ring header")
        self.tail = 0
        self.frames = 0  # socket frames read since the ring came

    def copy(self, pos, n):
        off = pos % self.size
        first = min(n, self.size - off)
        d = self.m[RING_HEADER + off:RING_HEADER + off + first]
        return d + self.m[RING_HEADER:RING_HEADER + n - first]

    def drain(self, until):
        """until: "read" (what came before the next unread socket frame) or "all"."""
        out = []
        (head,) = struct.unpack_from("=Q", self.m, OFF_HEAD)
        if head < self.tail or head - self.tail > self.size:
            raise ValueError("ring head out of bounds")
        while self.tail < head:
            length, t, _ = struct.unpack("=IHH", self.copy(self.tail, 8))
            if head - self.tail - 8 < length:
                raise ValueError("ring frame overruns head")
            if t == MARK:
                if length != 8:
                    raise ValueError("bad MARK")
                (sent,) = struct.unpack("=Q", self.copy(self.tail + 8, 8))
                if until != "all" and sent > self.frames:
                    break
                self.tail += 16
                continue
            if t not in (EVENT, EXEC, MISSED):
                raise ValueError("frame type %d in a ring" % t)
            out.append((t, self.copy(self.tail + 8, length)))
            self.tail += 8 + length
        struct.pack_into("=Q", self.m, OFF_TAIL, self.tail)
        return out


def serve(conn, logpath):
    pid = struct.unpack("=3i", conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))[0]
    ring = None

    def from_ring(until):
        for t, p in ring.drain(until):
            rec = decode(t, p)
            rec["peer"] = pid
            rec["fds"] = 0
            rec["via"] = "ring"
            log(logpath, rec)

    try:
        while True:
            fds = []
            hdr = recv_exact(conn, 8, fds)
            if hdr is None:
                break
            length, t, _ = struct.unpack("=IHH", hdr)
            payload = recv_exact(conn, length, fds) if length else b""
            if payload is None:
                break
            if ring:
                from_ring("read")
                ring.frames += 1
            if t == RING:
                (size, flags) = struct.unpack_from("=II", payload)
                ring = Ring(fds[0], size)
                log(logpath, {"type": "ring", "peer": pid, "size": size, "seals": ring.seals,
                              "fds": len(fds)})
                for fd in fds:
                    os.close(fd)
                continue
            rec = decode(t, payload)
            rec["peer"] = pid
            rec["fds"] = len(fds)
            for fd in fds:
                if t == BEFORE:
                    try:
                        rec["content"] = os.pread(fd, 4096, 0).decode("utf-8", "replace")
                    except OSError as e:
                        rec["content_error"] = e.errno
                        try:  # an O_PATH descriptor of a symlink: its target
                            rec["link"] = os.readlink("", dir_fd=fd)
                        except OSError:
                            pass
                os.close(fd)
            log(logpath, rec)
            # An asynchronous BEFORE (flag 2: an unlink/rename/link with the old inode's
            # fd) wants no answer.
            if t == HELLO or (t == BEFORE and not rec.get("flags", 0) & 2):
                if t == BEFORE and rec.get("path", "").endswith("/gate"):
                    # Hold the answer until the test's other thread says so (or 10 s): the
                    # thread that sent this BEFORE holds the library's lock meanwhile.
                    path = rec["path"]
                    open(path + ".got", "w").close()
                    end = time.monotonic() + 10
                    while not os.path.exists(path + ".release") and time.monotonic() < end:
                        time.sleep(0.001)  # polling interval
                    log(logpath, {"type": "gate", "peer": pid,
                                  "released": os.path.exists(path + ".release")})
                if t == BEFORE and MODE == "slowack":
                    # Like a trackled reading a large file: the thread that sent this BEFORE
                    # holds the library's lock until the answer comes.
                    time.sleep(0.3 if rec.get("path", "").endswith("/held") else 0.05)
                conn.sendall(struct.pack("=IHHi", 4, ACK, 0, 0))
    except OSError:
        pass
    finally:
        if ring:
            try:
                from_ring("all")
            except ValueError as e:
                log(logpath, {"type": "ring-error", "peer": pid, "error": str(e)})
        log(logpath, {"type": "close", "peer": pid})
        conn.close()


def main():
    sock, logpath = sys.argv[1], sys.argv[2]
    global MODE
    mode = sys.argv[sys.argv.index("--mode") + 1] if "--mode" in sys.argv else "normal"
    MODE = mode
    ready = sys.argv[sys.argv.index("--ready") + 1] if "--ready" in sys.argv else None
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    if os.path.exists(sock):
        os.unlink(sock)
    s.bind(sock)
    os.chmod(sock, 0o666)
    # Like trackled: a write lock on the run lock while we serve (taken as root, kept after
    # a change of uid); the library connects only when it is held.
    os.makedirs(os.path.dirname(RUN_LOCK), exist_ok=True)
    lock = os.open(RUN_LOCK, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    if mode != "nolock":
        fcntl.lockf(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    if mode == "nobody":
        os.setgroups([])
        os.setresgid(65534, 65534, 65534)
        os.setresuid(65534, 65534, 65534)
    s.listen(64)
    if ready:
        with open(ready, "w") as f:
            f.write("ready\n")
    held = []
    while True:
        conn, _ = s.accept()
        if mode == "silent":
            held.append(conn)
            continue
        if mode == "nobody":
            # Record that something connected and whether it sent anything at all.
            conn.settimeout(2)
            try:
                data = conn.recv(4096)
            except OSError:
                data = b""
            log(logpath, {"type": "nobody-conn", "bytes": len(data)})
            conn.close()
            continue
        threading.Thread(target=serve, args=(conn, logpath), daemon=True).start()


if __name__ == "__main__":
    main()
