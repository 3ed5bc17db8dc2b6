#!/usr/bin/env python3
"""tracker-wrap without dpkg (the RPM/plain backend): add, list, sync from the lists,
repair after a 'package' removes the real file, refusals with clear messages, rpm-unwrap
and remove --all leave the original files in place. The dpkg backend is tested in the
system suite, inside a booted container."""

import os
import shutil
import subprocess
import sys

from harness import Trackerd, check, run_test

shim, trackerd_bin = sys.argv[1], sys.argv[2]
wrap_bin = os.path.join(os.path.dirname(os.path.dirname(shim)), "tools", "tracker-wrap")


def main(tmp):
    bindir = os.path.join(tmp, "bin")
    lists = os.path.join(tmp, "tracked.d")
    os.makedirs(bindir)
    os.makedirs(lists)
    state = os.path.join(tmp, "wrapped.list")
    base = [wrap_bin, "--backend=plain", f"--shim={os.path.abspath(shim)}", f"--lists={lists}",
            f"--state={state}"]

    def wrap(*args, stdin=None):
        return subprocess.run(base + list(args), capture_output=True, text=True, input=stdin)

    for name, src in (("hello", "/bin/echo"), ("ok", "/bin/true"), ("gone", "/bin/true")):
        shutil.copy2(src, os.path.join(bindir, name))
    hello = os.path.join(bindir, "hello")
    original = open(hello, "rb").read()

    r = wrap("add", hello)
    check(r.returncode == 0, f"add wraps a program ({r.stderr.strip()})")
    check(os.readlink(hello) == os.path.abspath(shim), "the program is now a symlink to the shim")
    check(open(hello + ".t%", "rb").read() == original, "the real program is at PATH.t%")
    check(open(os.path.join(lists, "local.list")).read().splitlines()[-1] == hello,
          "add lists the program in local.list")
    r = wrap("add", hello)
    check(r.returncode == 0 and "already wrapped" in r.stderr, "adding twice is harmless")

    d = Trackerd(trackerd_bin, tmp).start()
    env = dict(os.environ, TRACKSUITE_TRACKER_SERVER=d.server, TRACKSUITE_TRACKER_CONFIG="/nonexistent")
    env.pop("TRACKING", None)
    out = subprocess.run([hello, "wrapped"], env=env, capture_output=True, check=True).stdout
    check(out == b"wrapped\n", "the wrapped program runs")
    d.wait_uses(1, "program = 'hello'")

    # A site list: sync wraps what it names and what is installed; a bad line is reported.
    with open(os.path.join(lists, "site.list"), "w") as f:
        f.write(f"# site programs\n{bindir}/ok\n{bindir}/gone\n{bindir}/not-installed\n"
                f"relative/path\n{bindir}/ok extra words\n")
    r = wrap("sync")
    check(r.returncode == 1, "sync reports problems in the lists by its exit status")
    check(f"site.list:5:" in r.stderr and "relative/path" in r.stderr,
          f"a bad list line is reported as file:line ({r.stderr.strip()})")
    check(f"site.list:6:" in r.stderr, "trailing words on a line are reported as file:line")
    listing = wrap("list").stdout.splitlines()
    check(sorted(listing) == sorted([f"{hello}\tok", f"{bindir}/ok\tok", f"{bindir}/gone\tok"]),
          f"list shows every wrapper and its state ({listing})")

    # A 'package removal' deletes the real file: sync drops the dangling wrapper.
    os.unlink(os.path.join(bindir, "gone.t%"))
    check(f"{bindir}/gone\tdangling" in wrap("list").stdout, "list shows a dangling wrapper")
    wrap("sync")
    check(not os.path.lexists(os.path.join(bindir, "gone")), "sync removes the dangling symlink")
    check(f"{bindir}/gone" not in wrap("list").stdout, "and forgets the wrapper")

    # Refusals.
    os.symlink("/bin/true", os.path.join(bindir, "alias"))
    for path, why in ((os.path.join(bindir, "alias"), "is a symlink"),
                      (bindir, "not a regular executable"),
                      (os.path.abspath(shim), "named 'tracker'"),
                      ("relative", "not an absolute"),
                      (os.path.join(bindir, "missing"), "No such file")):
        r = wrap("add", path)
        check(r.returncode != 0 and why in r.stderr, f"refuses {path}: {r.stderr.strip()}")
    data = os.path.join(bindir, "data")
    open(data, "w").write("not a program\n")
    r = wrap("add", data)
    check(r.returncode != 0 and "not a regular executable" in r.stderr, "refuses a non-executable file")
    r = wrap("remove", f"{bindir}/ok")
    check(r.returncode == 1 and "site.list:2" in r.stderr,
          f"remove refuses a program listed elsewhere and says where ({r.stderr.strip()})")

    # rpm-unwrap puts the real file back for the paths a package is about to replace.
    r = wrap("rpm-unwrap", stdin=f"{bindir}/ok\n/usr/bin/unrelated\n")
    check(r.returncode == 0 and not os.path.islink(os.path.join(bindir, "ok")),
          "rpm-unwrap restores the real file")
    r = wrap("sync")
    check(os.path.islink(os.path.join(bindir, "ok")), "the next sync wraps it again")

    # remove of a local program, then remove --all: every original is back.
    r = wrap("remove", hello)
    check(r.returncode == 0 and open(hello, "rb").read() == original and not os.path.lexists(hello + ".t%"),
          "remove puts the original back")
    check(hello not in open(os.path.join(lists, "local.list")).read(), "remove drops it from local.list")
    r = wrap("remove", "--all")
    check(r.returncode == 0 and not os.path.islink(os.path.join(bindir, "ok"))
          and not os.path.lexists(os.path.join(bindir, "ok.t%")), "remove --all unwraps everything")
    check(wrap("list").stdout == "", "nothing is wrapped any more")
    r = wrap("frobnicate")
    check(r.returncode == 2, "an unknown command is a usage error")
    check(d.stop() == 0, "trackerd exits cleanly")


run_test(main)
