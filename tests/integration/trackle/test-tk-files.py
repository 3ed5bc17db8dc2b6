#!/usr/bin/env python3
"""Real tools changing real files in a tracked session of a non-root admin, one session per
case, each in its own directory under the scratch directory (outside /tmp: vim's backupskip
covers /tmp/*). Each case checks the change kind, the sha256 of the content before and after
(what the test wrote, what the tool wrote), the unified diff, and that only net changes are
listed in that directory: editor swap files, vim's 4913 probe, `~` backups, sed/perl/python
temporary files are folded away."""

import hashlib
import io
import json
import os
import tarfile

import tk_harness as tk
from tk_harness import expect_content, q, sha256, write

A = "alpha\nbeta\n"


def main(t):
    pw = t.pw(t.admin)
    own = (pw.pw_uid, pw.pw_gid)
    n = [0]

    def case(name, files, commands, expected_paths, dirs=(), links=None):
        """files: {relative path: content} written (owned by the admin, 0644) before the
        session; returns (session, dir)."""
        n[0] += 1
        d = os.path.join(t.scratch, f"c{n[0]:02d}-{name}")
        os.mkdir(d)
        os.chown(d, *own)
        for sub in dirs:
            os.mkdir(os.path.join(d, sub))
            os.chown(os.path.join(d, sub), *own)
        for rel, content in files.items():
            write(os.path.join(d, rel), content, 0o644, own)
        for rel, target in (links or {}).items():
            os.symlink(target, os.path.join(d, rel))
            os.lchown(os.path.join(d, rel), *own)
        print(f"--- case {name}: {commands}", flush=True)
        r = t.shell(commands, cwd=d)
        if not t.expect(r.rc == 0 and r.id is not None,
                        f"{name}: the session ran (rc 0, a new session id)", r):
            return None, d
        sess = t.show(r.id)
        got = sorted(p for p in t.paths(sess) if p.startswith(d + "/") or p == d)
        want = sorted(os.path.join(d, p) for p in expected_paths)
        missing = sorted(set(want) - set(got))
        extra = sorted(set(got) - set(want))
        t.expect(got == want, f"{name}: exactly the net changes are listed "
                 f"({len(want)}: {', '.join(os.path.basename(w) for w in want)[:200]})",
                 f"missing: {missing}\nextra: {extra}\n"
                 f"files: {json.dumps(sess.get('files'), indent=1)[:3000]}")
        return sess, d

    # > and >>
    s, d = case("redirect", {"f.conf": "one\n"}, "echo two > f.conf", ["f.conf"])
    if s:
        expect_content(t, s, f"{d}/f.conf", "modified", "one\n", "two\n", ["-one", "+two"],
                       "echo > file")
    s, d = case("append", {"f.conf": "one\n"}, "echo two >> f.conf", ["f.conf"])
    if s:
        f = expect_content(t, s, f"{d}/f.conf", "modified", "one\n", "one\ntwo\n", ["+two"],
                           "echo >> file")
        if f:
            t.expect(f.get("after", {}).get("size") == 8, "echo >>: after.size is 8")
            t.expect("-one" not in (f.get("diff") or ""), "echo >>: the diff removes nothing")
            t.expect(f.get("diff", "").startswith(f"--- a{d}/f.conf")
                     or f.get("diff", "").startswith(f"--- a/{d.lstrip('/')}/f.conf"),
                     "echo >>: the diff is unified with the path in its header",
                     f.get("diff"))

    # an existing empty file, appended to and truncated by a program (not the shell: its
    # connection lasts the session): no BEFORE, its stat says what it was (OPENED_EMPTY)
    s, d = case("empty", {"e.log": "", "t.log": ""},
                "sh -c 'echo first >> e.log; : > t.log'", ["e.log"])
    if s:
        f = expect_content(t, s, f"{d}/e.log", "modified", "", "first\n", ["+first"],
                           "an empty file appended to")
        t.expect(f is not None and (f.get("before") or {}).get("size") == 0 and
                 (f.get("before") or {}).get("mode") == "0644",
                 "the empty file's state before: size 0, its mode", f)

    # sed -i and perl -i (temporary file in the same directory, renamed over)
    s, d = case("sed-i", {"f.conf": A}, "sed -i s/beta/gamma/ f.conf", ["f.conf"])
    if s:
        expect_content(t, s, f"{d}/f.conf", "modified", A, "alpha\ngamma\n",
                       ["-beta", "+gamma", "@@"], "sed -i")
    s, d = case("perl-i", {"f.conf": A}, "perl -i -pe s/beta/delta/ f.conf", ["f.conf"])
    if s:
        expect_content(t, s, f"{d}/f.conf", "modified", A, "alpha\ndelta\n",
                       ["-beta", "+delta"], "perl -i")

    # vim, each backup mode; swap files, 4913 and ~ are folded
    vim = "vim -u NONE -i NONE -N -es {} -c 'normal Ahello' -c wq f.conf"
    for mode, opts in (("yes", "-c 'set backupcopy=yes'"), ("no", "-c 'set backupcopy=no'"),
                       ("auto", "-c 'set backupcopy=auto'")):
        s, d = case(f"vim-backupcopy-{mode}", {"f.conf": "alpha\n"}, vim.format(opts),
                    ["f.conf"])
        if s:
            expect_content(t, s, f"{d}/f.conf", "modified", "alpha\n", "alphahello\n",
                           ["-alpha", "+alphahello"], f"vim backupcopy={mode}")
    # 'backup' keeps f.conf~ (a net creation, with the old content)
    s, d = case("vim-backup-kept", {"f.conf": "alpha\n"},
                vim.format("-c 'set backup' -c 'set backupcopy=no'"), ["f.conf", "f.conf~"])
    if s:
        expect_content(t, s, f"{d}/f.conf", "modified", "alpha\n", "alphahello\n", (),
                       "vim set backup")
        f = t.file(s, f"{d}/f.conf~")
        if t.expect(f is not None, "vim set backup: f.conf~ is listed"):
            t.expect(f.get("change") in ("created", "renamed")
                     and (f.get("after") or {}).get("sha256") == sha256("alpha\n"),
                     "vim set backup: f.conf~ is new, with the old content", f)

    # cp over, mv over, mv to a new name, rm
    s, d = case("cp-over", {"f.conf": "old\n", "new.txt": "new\n"}, "cp new.txt f.conf",
                ["f.conf"])
    if s:
        expect_content(t, s, f"{d}/f.conf", "modified", "old\n", "new\n", ["-old", "+new"], "cp")
    s, d = case("mv-over", {"f.conf": "old\n", "src": "src\n"}, "mv src f.conf",
                ["f.conf", "src"])
    if s:
        expect_content(t, s, f"{d}/f.conf", "modified", "old\n", "src\n", ["-old", "+src"],
                       "mv over an existing file: the target")
        expect_content(t, s, f"{d}/src", "deleted", "src\n", None, (),
                       "mv over an existing file: the source")
    s, d = case("mv-new", {"src": "content\n"}, "mv src dst", ["dst"] , )
    if s:
        f = t.file(s, f"{d}/dst")
        # contract: a rename of a pre-existing file to a new name is one `renamed` entry
        if t.expect(f is not None, "mv to a new name: dst is listed", t.paths(s)):
            t.expect(f.get("change") == "renamed" and f.get("from") == f"{d}/src",
                     "mv to a new name: one `renamed` entry with `from`", f)
            t.expect((f.get("before") or {}).get("sha256") == sha256("content\n")
                     and (f.get("after") or {}).get("sha256") == sha256("content\n"),
                     "mv to a new name: same sha256 before and after", f)
    s, d = case("rm", {"f.conf": "bye\n"}, "rm f.conf", ["f.conf"])
    if s:
        f = expect_content(t, s, f"{d}/f.conf", "deleted", "bye\n", None, (), "rm")
        if f:
            t.expect(f.get("type") == "file", "rm: type file")

    # chmod: metadata only
    s, d = case("chmod", {"f.conf": "x\n"}, "chmod 600 f.conf", ["f.conf"])
    if s:
        f = expect_content(t, s, f"{d}/f.conf", "metadata", "x\n", "x\n", (), "chmod")
        if f:
            t.expect(f["before"].get("mode") == "0644" and f["after"].get("mode") == "0600",
                     "chmod: mode 0644 -> 0600", (f.get("before"), f.get("after")))
            t.expect(f["before"].get("uid") == pw.pw_uid and f["after"].get("gid") == pw.pw_gid,
                     "chmod: uid/gid recorded", f)

    # ln -sf over an existing symlink, and a new one
    s, d = case("ln-sf", {"a": "a\n", "b": "b\n"}, "ln -sf b cur && ln -sf a new",
                ["cur", "new"], links={"cur": "a"})
    if s:
        f = t.file(s, f"{d}/cur")
        if t.expect(f is not None, "ln -sf over a symlink: listed"):
            t.expect(f.get("change") == "modified" and f.get("type") == "symlink",
                     "ln -sf over a symlink: a modified symlink", f)
            t.expect(f.get("before") and f.get("after")
                     and f["before"].get("sha256") != f["after"].get("sha256"),
                     "ln -sf over a symlink: before and after differ (the targets)", f)
            t.expect(f.get("before") and f["before"].get("sha256") ==
                     hashlib.sha256(b"a").hexdigest(),
                     "ln -sf over a symlink: the before state is the old target 'a' (read "
                     "through the link's own descriptor)", f)
        f = t.file(s, f"{d}/new")
        if t.expect(f is not None, "ln -sf new: listed"):
            t.expect(f.get("change") == "created" and f.get("type") == "symlink",
                     "ln -sf new: a created symlink", f)

    # truncate, tee, install
    s, d = case("truncate", {"f.log": "lots of log\n"}, "truncate -s 0 f.log", ["f.log"])
    if s:
        expect_content(t, s, f"{d}/f.log", "modified", "lots of log\n", "", ["-lots of log"],
                       "truncate")
    s, d = case("tee", {"f.conf": "one\n"}, "echo teed | tee f.conf >/dev/null", ["f.conf"])
    if s:
        expect_content(t, s, f"{d}/f.conf", "modified", "one\n", "teed\n", ["+teed"], "tee")
    s, d = case("install", {"f.conf": "old\n", "src": "installed\n"},
                "install -m 0640 src f.conf", ["f.conf"])
    if s:
        f = expect_content(t, s, f"{d}/f.conf", "modified", "old\n", "installed\n",
                           ["+installed"], "install")
        if f and f.get("after"):
            t.expect(f["after"].get("mode") == "0640", "install: after.mode is 0640", f)

    # python os.replace through a temporary file
    py = (f"{tk.PY} -c \"import os; open('f.conf.tmp','w').write('replaced\\n'); "
          "os.replace('f.conf.tmp','f.conf')\"")
    s, d = case("os-replace", {"f.conf": "orig\n"}, py, ["f.conf"])
    if s:
        expect_content(t, s, f"{d}/f.conf", "modified", "orig\n", "replaced\n",
                       ["-orig", "+replaced"], "os.replace")

    # tar x over existing files
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for name, data in (("one.conf", b"one from tar\n"), ("two.conf", b"two from tar\n")):
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            ti.mode = 0o644
            tf.addfile(ti, io.BytesIO(data))
    tarball = os.path.join(t.tmp, "x.tar")
    write(tarball, buf.getvalue(), 0o644)
    s, d = case("tar-x", {"one.conf": "one\n", "two.conf": "two\n"}, f"tar xf {q(tarball)}",
                ["one.conf", "two.conf"])
    if s:
        expect_content(t, s, f"{d}/one.conf", "modified", "one\n", "one from tar\n",
                       ["+one from tar"], "tar x")
        expect_content(t, s, f"{d}/two.conf", "modified", "two\n", "two from tar\n",
                       ["+two from tar"], "tar x")

    # mkdir, rmdir; a directory made and removed again is folded
    s, d = case("mkdir-rmdir", {}, "mkdir newdir && rmdir olddir && mkdir tmpd && rmdir tmpd",
                ["newdir", "olddir"], dirs=("olddir",))
    if s:
        f = t.file(s, f"{d}/newdir")
        t.expect(f and f.get("change") == "created" and f.get("type") == "directory",
                 "mkdir: a created directory", f)
        f = t.file(s, f"{d}/olddir")
        t.expect(f and f.get("change") == "deleted" and f.get("type") == "directory",
                 "rmdir: a deleted directory", f)

    # many short processes right before the session ends: each one's asynchronous events
    # (CREATED, RMDIR) must be in before trackled classifies the session (no race with
    # session.end)
    names = [f"n{i:02d}" for i in range(30)]
    s, d = case("creations-before-end", {},
                "for i in $(seq -w 0 29); do touch n$i; mkdir t$i; rmdir t$i; done", names)
    if s:
        bad = [n for n in names if (t.file(s, f"{d}/{n}") or {}).get("change") != "created"]
        t.expect(not bad, "30 touch processes: 30 created files", f"not created: {bad}")

    # a new file
    s, d = case("create", {}, "printf 'new\\n' > new.conf", ["new.conf"])
    if s:
        expect_content(t, s, f"{d}/new.conf", "created", None, "new\n", ["+new"], "new file")


tk.run(main, needs=("vim", "perl", "sed", "tar", "install", "truncate"))
