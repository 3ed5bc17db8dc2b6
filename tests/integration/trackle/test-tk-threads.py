#!/usr/bin/env python3
"""A multi-threaded program in a root session, against the real trackled: one thread rewrites
large existing files in place (a BEFORE each, answered only once trackled has read and hashed
the file), another creates small files all the while. Whatever the library could not record
(a call that found the library busy with the other thread) must be counted, not lost
silently: every file is in the session or counted in its `missing` notes, with one note for
the process however many times it reported."""

import os
import re

import tk_harness as tk

SCRIPT = r'''
import os, sys, threading
d = sys.argv[1]
running, done = threading.Event(), threading.Event()
made = []
def writer():
    for i in range(4):
        with open("%s/big%d" % (d, i), "r+") as f:
            f.write("x")
    done.set()
def creator():
    i = 0
    while i < 20000 and (i < 20 or not done.is_set()):
        open("%s/b%d" % (d, i), "w").close()
        i += 1
        if i == 20:
            running.set()
    made.append(i)
c = threading.Thread(target=creator)
c.start()
running.wait()
w = threading.Thread(target=writer)
w.start()
w.join()
c.join()
open(d + "/done", "w").close()
print("made=%d pid=%d" % (made[0], os.getpid()))
'''


def main(t):
    d = os.path.join(t.scratch, "threads")
    os.mkdir(d)
    block = os.urandom(1 << 16)
    for i in range(4):
        with open(os.path.join(d, f"big{i}"), "wb") as f:
            for _ in range(64):  # 4 MiB each
                f.write(block)
    script = os.path.join(t.tmp, "threads.py")
    with open(script, "w") as f:
        f.write(SCRIPT)
    os.chmod(script, 0o644)
    r = t.shell(f"{tk.PY} -B {tk.q(script)} {tk.q(d)}", as_root=True)
    if not t.expect(r.rc == 0 and r.id, "the threaded program ran in a root session", r):
        return
    m = re.search(r"made=(\d+) pid=(\d+)", r.stdout)
    if not t.expect(m, "it said how many files it made", r.stdout):
        return
    made, pid = int(m.group(1)), int(m.group(2))
    s = t.show(r.id)
    names = {os.path.basename(p) for p in t.paths(s) if os.path.dirname(p) == d}
    recorded = len([n for n in names if n.startswith("b") or n.startswith("big")])
    notes = [n for n in s.get("missing") or []
             if f"of process {pid} could not be delivered" in str(n)]
    missed = 0
    for n in notes:
        k = re.search(r"(\d+) event\(s\) of process", str(n))
        missed += int(k.group(1)) if k else 0
    print(f"threads: {made + 4} files, {recorded} recorded, {missed} counted missing, "
          f"notes {notes}", flush=True)
    t.expect(recorded + missed >= made + 4,
             "every file of both threads is in the session or counted as missing",
             f"{recorded} + {missed} of {made + 4}")
    t.expect(len(notes) <= 1, "one note for the process, however often it reported", notes)
    t.expect("done" in names, "the program went on being recorded after the contention",
             sorted(names)[:5])
    big = [f for f in s.get("files", []) if os.path.basename(f.get("path", "")).startswith("big")]
    t.expect(all(f.get("change") == "modified" for f in big),
             "the large files rewritten in place are modified", [f.get("change") for f in big])


if __name__ == "__main__":
    tk.run(main)
