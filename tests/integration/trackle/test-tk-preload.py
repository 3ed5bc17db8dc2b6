#!/usr/bin/env python3
"""`trackle shell --preload PATH`: a session with a library that is not the installed one (a
build tree). The session's processes load PATH, their children get exactly PATH back in
LD_PRELOAD (env -i too), and what they change is recorded. A relative PATH is refused or made
absolute, never passed on as given."""

import os
import shutil

import tk_harness as tk
from tk_harness import write


def main(t):
    pw = t.pw(t.admin)
    own = (pw.pw_uid, pw.pw_gid)
    d = os.path.join(t.scratch, "preload")
    os.mkdir(d)
    os.chown(d, *own)
    # A copy somewhere else than the multiarch directory: only --preload can name it.
    libdir = os.path.join(t.scratch, "lib-copy")
    os.mkdir(libdir, 0o755)
    lib = os.path.join(libdir, "libtrackle-build.so")
    shutil.copyfile(t.lib, lib)
    os.chmod(lib, 0o644)
    f = write(os.path.join(d, "app.conf"), "one\n", 0o644, own)

    env_out = os.path.join(d, "env.txt")
    commands = (f"echo two > {f}; env -i /bin/sh -c 'tr \"\\0\" \"\\n\" < /proc/self/environ' "
                f"> {env_out}; /bin/sh -c 'echo three >> {f}'")
    r = t.shell(commands, args=("--preload", lib), cwd=d)
    t.expect(r.rc == 0 and r.id, "the session ran with --preload", r)
    lines = open(env_out).read().split("\n") if os.path.exists(env_out) else []
    pre = [x for x in lines if x.startswith("LD_PRELOAD=")]
    t.expect(pre == [f"LD_PRELOAD={lib}"],
             "an env -i child got exactly the --preload library back", lines)
    s = t.show(r.id)
    tk.expect_content(t, s, f, "modified", "one\n", "two\nthree\n", ["-one", "+two", "+three"],
                      "changes made under the --preload library")
    # The environ file itself was created by the session and is listed as such.
    e = t.file(s, env_out)
    t.expect(e is not None and e.get("change") == "created", "env.txt is listed as created", e)
    t.expect(e is not None and (e.get("diff") or "").startswith("--- /dev/null\n+++ b" + env_out),
             "a created file's diff starts from /dev/null", e)


tk.run(main, needs=("bash",))
