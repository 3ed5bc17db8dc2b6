#!/usr/bin/env python3
"""Content cap and binary files, with ContentMax=4K:
- a text file grown past the cap: sha256 and size both sides, diff null (the small before is
  still content, the big after is not);
- a binary file (NUL bytes) under the cap: binary true, diff null, sha256 of what was written;
- a small text file under the cap in the same session still gets its diff (the cap applies per
  content, not per session)."""

import os

import tk_harness as tk
from tk_harness import sha256, write

BIG = "".join(f"line {i:05d} of a file larger than the cap\n" for i in range(400))  # ~17 KiB
BIN = bytes(range(256)) * 4 + b"\0\0tk-e2e\0"


def main(t):
    pw = t.pw(t.admin)
    own = (pw.pw_uid, pw.pw_gid)
    d = os.path.join(t.scratch, "content")
    os.mkdir(d)
    os.chown(d, *own)
    big = write(os.path.join(d, "big.conf"), "small before\n", 0o644, own)
    write(os.path.join(d, "big.src"), BIG, 0o644, own)
    binf = write(os.path.join(d, "blob.bin"), b"\0\1\2old", 0o644, own)
    write(os.path.join(d, "blob.src"), BIN, 0o644, own)
    small = write(os.path.join(d, "small.conf"), "a = 1\n", 0o644, own)
    bigbefore = write(os.path.join(d, "bigbefore.conf"), BIG, 0o644, own)

    r = t.shell("cat big.src > big.conf && cat blob.src > blob.bin && "
                "sed -i 's/a = 1/a = 2/' small.conf && echo short > bigbefore.conf", cwd=d)
    tk.check(r.rc == 0 and r.id, f"the session ran ({r.rc})")
    s = t.show(r.id)

    f = t.file(s, big)
    if t.expect(f is not None, "over the cap: listed", t.paths(s)):
        a = f.get("after") or {}
        t.expect(a.get("sha256") == sha256(BIG) and a.get("size") == len(BIG),
                 f"over the cap: after has sha256 and size {len(BIG)}", a)
        t.expect((f.get("before") or {}).get("sha256") == sha256("small before\n"),
                 "over the cap: before sha256", f.get("before"))
        t.expect(f.get("diff") is None, "over the cap: diff is null", (f.get("diff") or "")[:300])
        t.expect(f.get("change") == "modified", "over the cap: modified", f.get("change"))
    f = t.file(s, bigbefore)
    if t.expect(f is not None, "before over the cap: listed"):
        t.expect((f.get("before") or {}).get("sha256") == sha256(BIG)
                 and (f.get("after") or {}).get("sha256") == sha256("short\n"),
                 "before over the cap: both sha256", f)
        t.expect(f.get("diff") is None, "before over the cap: diff is null",
                 (f.get("diff") or "")[:300])
    raw = t.trackled.db_bytes()
    t.expect(b"line 00399 of a file larger" not in raw,
             "over the cap: the content is not in the database")

    f = t.file(s, binf)
    if t.expect(f is not None, "binary: listed", t.paths(s)):
        t.expect(f.get("binary") is True, "binary: binary is true", f)
        t.expect(f.get("diff") is None, "binary: diff is null", f.get("diff"))
        t.expect((f.get("after") or {}).get("sha256") == sha256(BIN)
                 and (f.get("after") or {}).get("size") == len(BIN),
                 "binary: after sha256 and size of what was written", f.get("after"))
        t.expect((f.get("before") or {}).get("sha256") == sha256(b"\0\1\2old"),
                 "binary: before sha256", f.get("before"))

    tk.expect_content(t, s, small, "modified", "a = 1\n", "a = 2\n", ["-a = 1", "+a = 2"],
                      "under the cap, same session")
    f = t.file(s, small)
    if f:
        t.expect(f.get("binary") is False, "a text file is not binary", f)


tk.run(main, config={"Trackle": {"ContentMax": "4K"}})
