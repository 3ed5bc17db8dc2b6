#!/usr/bin/env python3
"""A wrapped copy of a real program run through its symlink counts one use per run, in the
database, the daily aggregates, trackerd's log and tracker-report; over IPv4 and IPv6."""

import os
import pwd
import socket
import subprocess
import sys

from harness import Trackerd, check, free_port, make_wrapped, run_test, wait_until

shim, trackerd_bin, report = sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else ""


def main(tmp):
    v6 = socket.has_ipv6 and os.path.exists("/proc/net/if_inet6")
    listen = [f"127.0.0.1:{free_port()}"]
    if v6:
        listen.append(f"[::1]:{free_port(socket.AF_INET6, '::1')}")
    d = Trackerd(trackerd_bin, tmp, listen=listen).start()
    bindir = os.path.join(tmp, "bin")
    hello = make_wrapped(shim, bindir, "hello", "/bin/echo")
    make_wrapped(shim, bindir, "fails", "/bin/false")
    make_wrapped(shim, bindir, "showenv", "/usr/bin/env")

    env = dict(os.environ, TRACKSUITE_TRACKER_SERVER=d.server, TRACKSUITE_TRACKER_CONFIG="/nonexistent")
    env.pop("TRACKING", None)
    me = pwd.getpwuid(os.getuid()).pw_name
    host = socket.gethostname()

    # By absolute path, with arguments that need to survive untouched.
    args = ["a b", "", "*", "ünï", "--flag=$HOME"]
    out = subprocess.run([hello] + args, env=env, capture_output=True, check=True)
    check(out.stdout == (" ".join(args) + "\n").encode(), "arguments reach the real program unchanged")
    # Through PATH, as a user types it, and through a relative path.
    env_path = dict(env, PATH=bindir + ":" + env["PATH"])
    out = subprocess.run(["hello", "via", "PATH"], env=env_path, capture_output=True, check=True)
    check(out.stdout == b"via PATH\n", "runs through a PATH search")
    out = subprocess.run(["./hello", "relative"], env=env, cwd=bindir, capture_output=True, check=True)
    check(out.stdout == b"relative\n", "runs through a relative path")
    # From a shell script, argv[0] without a slash.
    out = subprocess.run(["sh", "-c", "hello from sh"], env=env_path, capture_output=True, check=True)
    check(out.stdout == b"from sh\n", "runs from a shell")
    d.wait_uses(4, "program = 'hello'")

    # Exit status and environment pass through.
    r = subprocess.run([os.path.join(bindir, "fails")], env=env)
    check(r.returncode == 1, "the real program's exit status is returned")
    out = subprocess.run([os.path.join(bindir, "showenv")], env=dict(env, MARKER="x=y"),
                         capture_output=True, check=True).stdout.decode()
    check("MARKER=x=y\n" in out, "the environment is passed through")
    tracking = [l for l in out.splitlines() if l.startswith("TRACKING=")]
    check(len(tracking) == 1 and tracking[0].startswith("TRACKING=showenv:1:"),
          f"TRACKING is set for the real program ({tracking})")
    d.wait_uses(6)

    row = d.query("SELECT user, uid, host, program, source FROM uses WHERE program='hello' LIMIT 1")[0]
    check(row == (me, os.getuid(), host, "hello", "127.0.0.1"),
          f"a use records user, uid, host, program and source ({row})")
    daily = d.query("SELECT runs FROM daily WHERE program='hello' AND user=? AND host=?", (me, host))
    check(daily == [(4,)], f"daily aggregate counts 4 runs of hello ({daily})")

    if v6:
        env6 = dict(env, TRACKSUITE_TRACKER_SERVER=listen[1])
        subprocess.run([hello, "six"], env=env6, capture_output=True, check=True)
        d.wait_uses(1, "source = '::1'")

    # The classic log line with its structured fields.
    log = wait_until(lambda: (lambda t: t if f"{me}@{host} hello" in t else None)(d.logtext()),
                     "the use in trackerd's log")
    line = next(l for l in log.splitlines() if l.startswith(f"{me}@{host} hello "))
    for field in (f"TRACKER_USER={me}", f"TRACKER_UID={os.getuid()}", "TRACKER_PROGRAM=hello",
                  f"TRACKER_HOST={host}", "TRACKER_SOURCE=127.0.0.1",
                  "MESSAGE_ID=e688de04482249208925797f3265cdb8"):
        check(field in line, f"log line carries {field}")

    # tracker --send and --show-config work against the same collector.
    tool = subprocess.run([shim, "--send", "probe"], env=env, capture_output=True, text=True)
    check(tool.returncode == 0 and "sent" in tool.stdout, f"tracker --send ({tool.stdout}{tool.stderr})")
    d.wait_uses(1, "program = 'probe'")
    tool = subprocess.run([shim, "--show-config"], env=env, capture_output=True, text=True)
    check(f"Server={d.server}" in tool.stdout, "tracker --show-config shows the environment's server")
    tool = subprocess.run([shim], env=env, capture_output=True, text=True)
    check(tool.returncode == 2 and "not meant to be run directly" in tool.stderr,
          "tracker run by its own name refuses and explains")

    if report:
        out = subprocess.run([report, "--db", d.db, "programs"], capture_output=True, text=True)
        check(out.returncode == 0, f"tracker-report programs runs ({out.stderr})")
        hello_line = [l for l in out.stdout.splitlines() if l.split() and l.split()[0] == "hello"]
        check(len(hello_line) == 1, f"tracker-report lists hello once:\n{out.stdout}")
        runs = 5 if v6 else 4
        check(str(runs) in hello_line[0].split(), f"tracker-report counts {runs} runs of hello: {hello_line}")

    rc = d.stop()
    check(rc == 0, f"trackerd exits 0 on SIGTERM (got {rc})")
    check("trackerd stopping:" in d.logtext(), "trackerd logs its shutdown")


run_test(main)
