#!/usr/bin/env python3
"""A multi-threaded program in a root session, against the real trackled
(../trackle-preload/threads-workload.py): one thread rewrites 1 MiB files in place (a BEFORE
each, answered only once trackled has read and hashed the file), another creates small files
all the while. A call that finds the library busy with the other thread waits for it; should
it still get nothing recorded (trackled too slow, the library backing off), it is counted:
every file is in the session or counted in its `missing` notes, with one note for the process
however many times it reported."""

import os
import re
import shutil

import tk_harness as tk

WORKLOAD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "trackle-preload",
                        "threads-workload.py")


def main(t):
    d = os.path.join(t.scratch, "threads")
    os.mkdir(d)
    block = os.urandom(1 << 16)
    for i in range(4):
        with open(os.path.join(d, f"a{i}"), "wb") as f:
            for _ in range(16):  # 1 MiB each
                f.write(block)
    script = os.path.join(t.tmp, "threads-workload.py")
    shutil.copy(WORKLOAD, script)
    os.chmod(script, 0o644)
    r = t.shell(f"{tk.PY} -B {tk.q(script)} {tk.q(d)} 4", as_root=True)
    if not t.expect(r.rc == 0 and r.id, "the threaded program ran in a root session", r):
        return
    m = re.search(r"made=(\d+) pid=(\d+)", r.stdout)
    if not t.expect(m, "it said how many files it made", r.stdout):
        return
    made, pid = int(m.group(1)), int(m.group(2))
    s = t.show(r.id)
    names = {os.path.basename(p) for p in t.paths(s) if os.path.dirname(p) == d}
    recorded = len([n for n in names if n[0] in "ab"])
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
    big = [f for f in s.get("files", []) if os.path.basename(f.get("path", "")).startswith("a")]
    t.expect(all(f.get("change") == "modified" for f in big),
             "the large files rewritten in place are modified", [f.get("change") for f in big])


if __name__ == "__main__":
    tk.run(main)
