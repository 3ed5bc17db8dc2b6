#!/usr/bin/env python3
"""The event ring against the real trackled (trackle-protocol(7) "EVENT RING"): a process of an
open session speaks the wire protocol by hand and hands trackled rings that break the rules.

1. a ring whose memfd is not sealed against shrinking (the process could cut the pages from
   under trackled's mapping) is refused: the connection is closed, trackled keeps running;
2. a sealed ring whose head claims more than the ring holds is dropped with a note in the
   session ("missing"), and the connection's socket frames after it still count;
3. a sealed, well-formed ring is read when the connection ends, though no socket frame
   followed the events in it (a process killed right after writing them);
4. asynchronous BEFOREs (no answer awaited) with descriptors that are not what they should
   be: an O_PATH descriptor of a regular file (nothing to read through it), a FIFO; and one
   that is: an O_PATH descriptor of a symlink, whose target is the state before. trackled
   keeps running, says what it could not read, and stores the symlink's target;
5. a forked child's EXEC frame (TRACKLE_EXEC_FORKED) on its parent's connection is stored
   as a command and does not count among the socket frames the ring's MARKs refer to;
6. MISSED frames of one connection, on the socket and in the ring, make one session note
   with their sum when the connection ends;
7. OPENED_EMPTY events (an existing empty file about to be written, instead of a BEFORE):
   one that says a regular file of size 0 gives an empty state before; one that says a
   larger size, one of a directory and one with no stat give none (the content is unknown)."""

import hashlib
import json
import os

import tk_harness as tk

CLIENT = r'''
import fcntl, mmap, os, socket, struct, sys
out, x, y, z, opath, fifo, lnk, w, e = sys.argv[1:10]
HDR, OFF_HEAD, SIZE = 128, 8, 4096

def frame(t, p): return struct.pack("=IHH", len(p), t, 0) + p
def wstr(s):
    b = s.encode(); return struct.pack("=H", len(b)) + b
def created(path):
    return frame(3, struct.pack("=IIIIIQ", 20, 0, 0, 0, 0, 0) + wstr(path) + wstr(""))

def connect():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect("/run/tracksuite/trackle.sock")
    root = os.open("/", os.O_PATH | os.O_DIRECTORY)
    socket.send_fds(s, [frame(1, struct.pack("=IIQI", 1, 2, 0, os.getpid()))], [root])
    os.close(root)
    ack = s.recv(12)
    return s, ack

def ring(sealed):
    fd = os.memfd_create("test-ring", os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
    os.ftruncate(fd, HDR + SIZE)
    if sealed:
        fcntl.fcntl(fd, fcntl.F_ADD_SEALS, fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW)
    m = mmap.mmap(fd, HDR + SIZE, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
    struct.pack_into("=II", m, 0, 0x676E6952, SIZE)
    return fd, m

def attach(sealed):
    """A new connection (HELLO answered) that has passed a ring: (socket, map, HELLO reply)."""
    s, ack = connect()
    fd, m = ring(sealed)
    socket.send_fds(s, [frame(6, struct.pack("=II", SIZE, 0))], [fd])
    os.close(fd)
    return s, m, ack

res = {}
# 1. unsealed: refused
s, m, ack = attach(False)
res["ack1"] = len(ack)
try:
    res["unsealed"] = "closed" if s.recv(64) == b"" else "open"
except socket.timeout:
    res["unsealed"] = "open"
except OSError:
    res["unsealed"] = "closed"
s.close()

# 2. sealed, then a head beyond the ring: dropped with a note; the socket frame after counts
s, m, ack = attach(True)
ev = created(x)
m[HDR:HDR + len(ev)] = ev
struct.pack_into("=Q", m, OFF_HEAD, SIZE + 100)
s.sendall(created(y))
s.shutdown(socket.SHUT_WR)
res["bad-head-then"] = "closed-by-us" if s.recv(64) == b"" else "?"
s.close()

# 3. sealed and well formed, no socket frame after the events: read at the connection's end
s, m, ack = attach(True)
ev = created(z)
m[HDR:HDR + len(ev)] = ev
struct.pack_into("=Q", m, OFF_HEAD, len(ev))
s.close()
# 4. BEFORE ops 5 (rename over), flags FD|ASYNC, with odd descriptors; a CREATED after them
#    so that the connection's end follows frames trackled has read
s, ack = connect()
def before_async(path, fd):
    socket.send_fds(s, [frame(2, struct.pack("=II", 5, 3) + wstr(path))], [fd])
    os.close(fd)
before_async(opath, os.open(opath, os.O_PATH))
before_async(fifo, os.open(fifo, os.O_RDONLY | os.O_NONBLOCK))
before_async(lnk, os.open(lnk, os.O_PATH | os.O_NOFOLLOW))
os.symlink("the-new-target", lnk + ".tmp")   # what the BEFORE announced: a rename over it
os.rename(lnk + ".tmp", lnk)
open(z + "-after", "w").close()
s.sendall(created(z + "-after"))
s.close()

# 5. a forked child's EXEC frame (flag FORKED) on its parent's connection is not one of the
#    socket frames the parent's MARKs count: the ring's CREATED of w, written after the
#    parent's socket frame 1 (MARK 1), must be read after that frame (an asynchronous BEFORE
#    of w), not already at the EXEC frame
s, m, ack = attach(True)
ev = frame(7, struct.pack("=Q", 1)) + created(w)
m[HDR:HDR + len(ev)] = ev
struct.pack_into("=Q", m, OFF_HEAD, len(ev))
s.sendall(frame(4, struct.pack("=IIII", 0, 0, os.getpid() + 1, 4) + wstr("/") +
                wstr("/bin/forked-child") + struct.pack("=H", 1) + wstr("forked-child")))
before_async(w, os.open(w, os.O_RDONLY))
with open(w + ".tmp", "w") as f:
    f.write("new w\n")
# a raw rename(2): this python runs under libtrackle.so, whose own BEFORE of w would hide
# what the frames above did
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
if libc.syscall(82, (w + ".tmp").encode(), w.encode()) != 0:
    raise OSError(ctypes.get_errno(), "rename")
s.close()

# 6. MISSED counts, one on the socket and one in the ring: summed, one note at the end
s, m, ack = attach(True)
s.sendall(frame(5, struct.pack("=I", 3)))
ev = frame(5, struct.pack("=I", 4))
m[HDR:HDR + len(ev)] = ev
struct.pack_into("=Q", m, OFF_HEAD, len(ev))
s.sendall(frame(5, struct.pack("=I", 5)))
res["missed-pid"] = os.getpid()
s.close()

# 7. OPENED_EMPTY (34): valid, mode, uid, gid, size
s, ack = connect()
for suffix, valid, mode, size in (("-empty", 1, 0o100644, 0), ("-size", 1, 0o100644, 7),
                                  ("-dir", 1, 0o040755, 0), ("-nostat", 0, 0, 0)):
    s.sendall(frame(3, struct.pack("=IIIIIQ", 34, valid, mode, 0, 0, size) + wstr(e + suffix) +
                    wstr("")))
s.close()
with open(out, "w") as f:
    f.write(__import__("json").dumps(res))
'''


def main(t):
    d = os.path.join(t.scratch, "ring")
    os.mkdir(d)
    x, y, z = (os.path.join(d, n) for n in ("x-in-bad-ring", "y-on-socket", "z-in-ring"))
    for p in (x, y, z):
        tk.write(p, "new\n", 0o644)
    opath, fifo, lnk = (os.path.join(d, n) for n in ("regular-by-o-path", "fifo", "link"))
    tk.write(opath, "regular\n", 0o644)
    os.mkfifo(fifo, 0o644)
    os.symlink("the-old-target", lnk)
    w = os.path.join(d, "w-after-forked-exec")
    tk.write(w, "old w\n", 0o644)
    e = os.path.join(d, "e")
    for suffix in ("-empty", "-size", "-dir", "-nostat"):
        tk.write(e + suffix, "written\n", 0o644)
    out = os.path.join(d, "result.json")
    script = os.path.join(d, "client.py")
    tk.write(script, CLIENT, 0o644)
    r = t.shell(f"{tk.PY} {tk.q(script)} {tk.q(out)} {tk.q(x)} {tk.q(y)} {tk.q(z)} "
                f"{tk.q(opath)} {tk.q(fifo)} {tk.q(lnk)} {tk.q(w)} {tk.q(e)}", as_root=True)
    t.expect(r.rc == 0 and os.path.exists(out), "the hand-made client ran in a session", r)
    res = json.load(open(out)) if os.path.exists(out) else {}
    t.expect(res.get("ack1") == 12, "HELLO answered: the client is in the session", res)
    t.expect(res.get("unsealed") == "closed",
             "a ring memfd not sealed against shrinking: connection refused", res)
    t.expect(t.trackled.alive(), "trackled still runs")
    s = t.show(r.id)
    paths = {f["path"] for f in s.get("files", [])}
    t.expect(y in paths, "after a malformed ring, the socket frame still counts", sorted(paths))
    t.expect(x not in paths, "nothing is read from a ring whose head lies", sorted(paths))
    t.expect(any("malformed" in m for m in map(str, s.get("missing", []))),
             "the session says that a ring was malformed", s.get("missing"))
    t.expect(z in paths, "a well-formed ring is read at the connection's end", sorted(paths))
    t.expect("malformed event ring" in t.trackled.logtext(),
             "trackled's log names the malformed ring")
    t.expect(z + "-after" in paths, "the frame after the odd BEFOREs counts", sorted(paths))
    f = t.file(s, lnk)
    t.expect(f is not None and (f.get("before") or {}).get("sha256") ==
             hashlib.sha256(b"the-old-target").hexdigest(),
             "a symlink's O_PATH descriptor in an asynchronous BEFORE, the link renamed over "
             "right after: the old target is the state before", f)
    t.expect(any("could not read the before state of '%s'" % opath in m
                 for m in map(str, s.get("missing", []))),
             "an O_PATH descriptor of a regular file: the session says its state before could "
             "not be read", s.get("missing"))
    f = t.file(s, w)
    t.expect(f is not None and f.get("change") == "modified" and
             (f.get("before") or {}).get("sha256") == hashlib.sha256(b"old w\n").hexdigest(),
             "a forked child's EXEC frame does not count for the ring's MARKs: the ring's "
             "CREATED came after the BEFORE it was marked to follow", f)
    argvs = [c.get("argv") for c in s.get("commands", [])]
    t.expect(["forked-child"] in argvs, "the forked child's EXEC frame is a command", argvs)
    notes = [m for m in map(str, s.get("missing", [])) if "could not be delivered" in m]
    t.expect(notes == [f"12 event(s) of process {res.get('missed-pid')} could not be "
                       "delivered"],
             "three MISSED frames of one connection (socket and ring): one note, their sum",
             notes)
    empty = hashlib.sha256(b"").hexdigest()
    f = t.file(s, e + "-empty")
    t.expect(f is not None and f.get("change") == "modified" and
             (f.get("before") or {}).get("sha256") == empty and
             (f.get("before") or {}).get("size") == 0 and
             (f.get("before") or {}).get("mode") == "0644",
             "OPENED_EMPTY of a regular file of size 0: an empty state before, its mode", f)
    for suffix in ("-size", "-dir", "-nostat"):
        f = t.file(s, e + suffix)
        t.expect(f is not None and (f.get("before") or {}).get("sha256") != empty,
                 f"OPENED_EMPTY that does not say an empty regular file ({suffix}): not "
                 "taken for an empty state before", f)


if __name__ == "__main__":
    tk.run(main, needs=["bash"])
