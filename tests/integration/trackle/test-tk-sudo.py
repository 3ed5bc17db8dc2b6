#!/usr/bin/env python3
"""Through sudo as the non-root admin (Debian's stock sudoers: env_reset, use_pty, the test's
NOPASSWD drop-in): sudo tee, sudo sed -i, sudo -i, sudo su -, sudoedit, sudo env -i, and
sudo sed -i on a pty (use_pty: sudo -> monitor -> command). Each case is its own session; each
change to /etc is recorded, and the command that made it has uid 0 and its argv. /etc is an
overlay in the test's mount namespace."""

import json
import os
import shutil

import tk_harness as tk
from tk_harness import expect_content, write


def main(t):
    sfx = t.admin[3:]
    n = [0]

    def case(name, pre, commands, extra_env=None):
        n[0] += 1
        path = f"/etc/tk-e2e-{sfx}-{n[0]:02d}-{name}"
        if pre is not None:
            write(path, pre, 0o644, (0, 0))
        print(f"--- case {name}: {commands.replace('@F', path)}", flush=True)
        r = t.shell(commands.replace("@F", path), extra_env=extra_env)
        if not t.expect(r.rc == 0 and r.id is not None, f"{name}: the session ran", r):
            return None, path
        s = t.show(r.id)
        others = [p for p in t.paths(s) if p.startswith("/etc/") and p != path]
        t.expect(not others, f"{name}: no other /etc path is listed (temp files folded)", others)
        return s, path

    def cmd_uid0(s, name, argv_has, what):
        cs = [c for c in t.commands_with_argv0(s, name)
              if all(a in (c.get("argv") or []) for a in argv_has)]
        t.expect(cs and any(c.get("uid") == 0 and c.get("euid", 0) == 0 for c in cs),
                 f"{what}: `{name}` with {argv_has} recorded with uid 0",
                 json.dumps(s.get("commands"), indent=1)[:4000])

    def owned_by_root(s, path, what):
        f = t.file(s, path)
        t.expect(f and (f.get("after") or {}).get("uid") == 0, f"{what}: after.uid is 0", f)

    s, p = case("tee", None, "echo via-tee | sudo tee @F >/dev/null")
    if s:
        expect_content(t, s, p, "created", None, "via-tee\n", ["+via-tee"], "sudo tee")
        owned_by_root(s, p, "sudo tee")
        cmd_uid0(s, "tee", [p], "sudo tee")

    s, p = case("sed-i", "alpha\nbeta\n", "sudo sed -i s/beta/gamma/ @F")
    if s:
        expect_content(t, s, p, "modified", "alpha\nbeta\n", "alpha\ngamma\n",
                       ["-beta", "+gamma"], "sudo sed -i")
        cmd_uid0(s, "sed", ["-i", p], "sudo sed -i")

    s, p = case("sudo-i", "before\n", "sudo -i sh -c 'echo after-i > @F'")
    if s:
        expect_content(t, s, p, "modified", "before\n", "after-i\n", ["+after-i"], "sudo -i")
        cmd_uid0(s, "sh", ["-c"], "sudo -i")

    s, p = case("su-", "before\n", "sudo su - -c 'echo after-su >> @F'")
    if s:
        expect_content(t, s, p, "modified", "before\n", "before\nafter-su\n", ["+after-su"],
                       "sudo su -")
        owned_by_root(s, p, "sudo su -")
        cmds = json.dumps(s.get("commands"))
        t.expect(any(c.get("uid") == 0 and c.get("argv") and
                     any("after-su" in a for a in c["argv"]) for c in s.get("commands", [])),
                 "sudo su -: the root shell's command line is recorded with uid 0", cmds[:4000])

    editor = os.path.join(t.tmp, "editor.sh")
    write(editor, "#!/bin/sh\n# the sudoedit editor: edits the copy sudo made\n"
          "sed -i s/old-value/new-value/ \"$1\"\n", 0o755)
    os.chmod(os.path.dirname(editor), 0o755)
    s, p = case("sudoedit", "key = old-value\n", "sudoedit @F",
                extra_env={"SUDO_EDITOR": editor})
    if s:
        expect_content(t, s, p, "modified", "key = old-value\n", "key = new-value\n",
                       ["-key = old-value", "+key = new-value"], "sudoedit")
        owned_by_root(s, p, "sudoedit")
        copies = [x for x in t.paths(s) if x.startswith("/var/tmp/")]
        t.expect(not copies, "sudoedit: its copy in /var/tmp is folded away", copies)

    s, p = case("env-i", "before\n", "sudo env -i sh -c 'echo after-env > @F'")
    if s:
        expect_content(t, s, p, "modified", "before\n", "after-env\n", ["+after-env"],
                       "sudo env -i")
        cmd_uid0(s, "sh", ["-c"], "sudo env -i")
        cmd_uid0(s, "env", ["-i"], "sudo env -i")

    if shutil.which("script"):
        s, p = case("pty", "alpha\nbeta\n",
                    "script -qec 'sudo sed -i s/beta/pty/ @F' /dev/null >/dev/null")
        if s:
            expect_content(t, s, p, "modified", "alpha\nbeta\n", "alpha\npty\n", ["+pty"],
                           "sudo sed -i on a pty (use_pty)")
            cmd_uid0(s, "sed", ["-i"], "sudo on a pty")
    else:
        print("note: no script(1); the use_pty case is not run")

    # the session's own record: the admin, uid, the environment
    if s:
        t.expect(s.get("user") == t.admin and s.get("uid") == t.uid(t.admin),
                 "the session is the admin's", {k: s.get(k) for k in ("user", "uid")})
        t.expect(isinstance(s.get("environment"), dict) and "PATH" in s["environment"],
                 "the session has its environment at start", s.get("environment"))

    # the typed line and its exit status, and the session's exit status
    line = "sudo true; sudo false"
    r = t.shell(line)
    t.expect(r.rc == 1 and r.id, "a session whose command fails exits 1", r)
    if r.id:
        s = t.show(r.id)
        typed = [c for c in s.get("commands", []) if c.get("source") == "shell"]
        t.expect(any(c.get("line") == line and c.get("exit") == 1 for c in typed),
                 "the typed line is recorded with exit 1", typed)
        t.expect(s.get("exit") == 1 and s.get("state") == "ended",
                 "the session's exit is 1, state ended", {k: s.get(k) for k in ("exit", "state")})
        for key in ("started", "ended"):
            v = s.get(key) or ""
            t.expect(len(v) == 20 and v.endswith("Z") and v[10] == "T",
                     f"{key} is UTC ISO 8601 with Z ({v})")
        falses = [c for c in t.commands_with_argv0(s, "false")]
        t.expect(falses and all(c.get("uid") == 0 for c in falses),
                 "sudo false: the root child's exec is recorded with uid 0", s.get("commands"))


tk.run(main, needs=("sudo", "sudoedit", "sed", "su", "env"))
