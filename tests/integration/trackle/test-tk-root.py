#!/usr/bin/env python3
"""Root work: `chown` in a root session; `dpkg -i` of a small package with a conffile in /etc
(built here with dpkg-deb) that the session then edits, in a root session and via sudo as the
admin (an upgrade whose new conffile dpkg renames over the old one). The package's .dpkg-new /
.dpkg-tmp intermediates are folded away. /etc and /var/lib/dpkg are overlays in the test's
mount namespace: the host's dpkg database never sees the package; it is purged anyway."""

import json
import os
import shutil
import subprocess

import tk_harness as tk
from tk_harness import expect_content, q, write

PKG = "tk-e2e-fixture"
CONF = "/etc/tk-e2e-fixture.conf"


def conf_text(version):
    return f"# tk-e2e-fixture configuration, version {version}\nsetting = {version}\n"


def build(t, version):
    src = os.path.join(tk.FIXTURES, PKG)
    root = os.path.join(t.tmp, f"pkg-{version}")
    shutil.copytree(src, root)
    for dirpath, dirnames, filenames in os.walk(root):
        os.chmod(dirpath, 0o755)
        for fn in filenames:
            p = os.path.join(dirpath, fn)
            with open(p) as f:
                text = f.read().replace("@VERSION@", version)
            write(p, text, 0o644)
    deb = os.path.join(t.tmp, f"{PKG}_{version}_all.deb")
    r = subprocess.run(["dpkg-deb", "--root-owner-group", "--build", root, deb],
                       capture_output=True, text=True)
    tk.check(r.returncode == 0, f"dpkg-deb built {os.path.basename(deb)} {r.stderr.strip()}")
    os.chmod(deb, 0o644)
    os.chmod(t.tmp, 0o755)
    return deb


def main(t):
    pw = t.pw(t.admin)

    # chown in a root session
    f = os.path.join(t.scratch, "owned.conf")
    write(f, "mine\n", 0o644, (pw.pw_uid, pw.pw_gid))
    r = t.shell(f"chown root:root {q(f)}", as_root=True)
    if t.expect(r.rc == 0 and r.id, "root session: chown ran", r):
        s = t.show(r.id)
        e = expect_content(t, s, f, "metadata", "mine\n", "mine\n", (), "chown (root session)")
        if e and e.get("before") and e.get("after"):
            t.expect(e["before"].get("uid") == pw.pw_uid and e["after"].get("uid") == 0
                     and e["after"].get("gid") == 0,
                     f"chown: uid {pw.pw_uid} -> 0, gid -> 0", e)
        t.expect(s.get("uid") == 0 and s.get("user") == "root",
                 "root session: user root, uid 0", {k: s.get(k) for k in ("user", "uid")})
        chown = t.commands_with_argv0(s, "chown")
        t.expect(chown and chown[0].get("uid") == 0 and "root:root" in chown[0].get("argv", []),
                 "root session: the chown command with its argv and uid 0", s.get("commands"))

    deb1 = build(t, "1.0")
    deb2 = build(t, "2.0")
    t.cleanups.append(lambda: subprocess.run(["dpkg", "--purge", PKG], capture_output=True))

    # dpkg -i in a root session, then the session edits the conffile
    r = t.shell(f"dpkg -i {q(deb1)} >/dev/null && echo 'local = edit' >> {CONF}", as_root=True,
                timeout=120)
    if t.expect(r.rc == 0 and r.id, "root session: dpkg -i and an edit of the conffile", r):
        s = t.show(r.id)
        expect_content(t, s, CONF, "created", None, conf_text("1.0") + "local = edit\n",
                       ["+setting = 1.0", "+local = edit"], "dpkg -i (new conffile, edited)")
        noise = [p for p in t.paths(s) if ".dpkg-" in p]
        t.expect(not noise, "dpkg -i: no .dpkg-new/.dpkg-tmp entries", noise)
        dpkg = t.commands_with_argv0(s, "dpkg")
        t.expect(any("-i" in (c.get("argv") or []) for c in dpkg),
                 "dpkg -i: the command is recorded with its argv", s.get("commands"))
    subprocess.run(["dpkg", "--purge", PKG], capture_output=True)

    # dpkg -i of an upgrade via sudo as the admin: dpkg renames the new conffile over the old,
    # unchanged one; the session then edits it through sudo sed -i
    subprocess.run(["dpkg", "-i", deb1], capture_output=True, check=True)
    r = t.shell(f"sudo dpkg -i {q(deb2)} >/dev/null && sudo sed -i 's/^setting = 2.0/setting = local/'"
                f" {CONF}", timeout=120)
    if t.expect(r.rc == 0 and r.id, "admin session: sudo dpkg -i (upgrade) and sudo sed -i", r):
        s = t.show(r.id)
        expect_content(t, s, CONF, "modified", conf_text("1.0"),
                       conf_text("2.0").replace("setting = 2.0", "setting = local"),
                       ["-setting = 1.0", "+setting = local"], "sudo dpkg -i (upgraded conffile)")
        noise = [p for p in t.paths(s) if ".dpkg-" in p or p.startswith("/etc/sed")]
        t.expect(not noise, "sudo dpkg -i: no .dpkg-new/.dpkg-tmp/sed temp entries", noise)
        dpkg = [c for c in t.commands_with_argv0(s, "dpkg") if "-i" in (c.get("argv") or [])]
        t.expect(dpkg and all(c.get("uid") == 0 for c in dpkg),
                 "sudo dpkg -i: recorded with uid 0", json.dumps(s.get("commands"))[:3000])
    r = subprocess.run(["dpkg", "--purge", PKG], capture_output=True, text=True)
    tk.check(r.returncode == 0 and not os.path.exists(CONF), "the fixture package is purged")


tk.run(main, needs=("dpkg", "dpkg-deb", "sudo", "sed"))
