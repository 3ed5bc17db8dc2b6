#!/usr/bin/env python3
"""trackerd.conf as a site lives with it: a typo never stops collection (problems are
warned about with file:line and ignored; --check-config lists them all and fails); a FIFO,
device or directory where the file should be is refused without hanging, by trackerd and by
the shim; SIGHUP reloads and applies at once, and keeps the running configuration when the
file cannot be used; AllowSource= drops and counts datagrams from elsewhere."""

import os
import signal
import socket
import subprocess
import sys

from harness import Trackerd, check, encode, run_test, wait_until

shim, trackerd_bin = sys.argv[1], sys.argv[2]


def rejects(d, reason):
    r = d.query("SELECT count FROM rejects WHERE reason = ?", (reason,))
    return r[0][0] if r else 0


def not_regular(tmp):
    """Paths of the wrong type: refused at once with the file named, never waited on."""
    fifo = os.path.join(tmp, "fifo.conf")
    os.mkfifo(fifo)
    # A writer that never writes: the worst case for a blocking open()/read().
    holder = os.open(fifo, os.O_RDWR)
    try:
        for path, kind in ((fifo, "a FIFO"), ("/dev/zero", "a device"), (tmp, "a directory")):
            for cmd, who in (([trackerd_bin, "--config", path, "--check-config"], "trackerd --check-config"),
                             ([shim, "--check-config", path], "tracker --check-config")):
                try:
                    r = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
                except subprocess.TimeoutExpired:
                    check(False, f"{who} does not hang on {kind}")
                check(r.returncode == 1 and path in r.stderr and kind in r.stderr,
                      f"{who} refuses {kind} ({r.stderr.strip()})")
        # The database path too: trackerd names the problem instead of waiting on the FIFO.
        for db, kind in ((fifo, "a FIFO"), (tmp, "a directory")):
            r = subprocess.run([trackerd_bin, "--config", "/nonexistent", "--db", db, "--listen", "127.0.0.1:0"],
                               capture_output=True, text=True, timeout=20,
                               env=dict(os.environ, ASAN_OPTIONS="detect_leaks=0"))
            check(r.returncode == 1 and f"'{db}' is {kind}, not a database file" in r.stderr,
                  f"trackerd refuses {kind} as its database ({r.stderr.strip()})")
        # The shim itself, run as a wrapped program, does not hang on a FIFO config either.
        env = dict(os.environ, TRACKSUITE_TRACKER_CONFIG=fifo, TRACKSUITE_TRACKER_SERVER="127.0.0.1:9")
        from harness import make_wrapped
        hello = make_wrapped(shim, os.path.join(tmp, "bin"), "hello", "/bin/echo")
        r = subprocess.run([hello, "runs"], env=env, capture_output=True, text=True, timeout=20)
        check(r.returncode == 0 and r.stdout == "runs\n", "a wrapped program runs with a FIFO as tracker.conf")
        d = Trackerd(trackerd_bin, tmp, name="fifo")
        d.config = fifo
        d.start()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.sendto(encode("u", "h", "p"), ("127.0.0.1", int(d.server.rsplit(":", 1)[1])))
        wait_until(lambda: not d.alive(), "trackerd to give up on a FIFO configuration", timeout=20)
        check(d.proc.returncode != 0 and "a FIFO" in d.logtext(), "trackerd refuses to start with a FIFO configuration")
    finally:
        os.close(holder)


def main(tmp):
    not_regular(tmp)

    # A typo and a bad value: collection goes on, the good lines apply.
    d = Trackerd(trackerd_bin, tmp, config="[Collector]\nLogUses=no\nRetentoin=3d\nBatchMax=lots\n"
                 "[Colector]\nIdleExitSec=1\n").start()
    r = subprocess.run([trackerd_bin, "--config", d.config, "--check-config"], capture_output=True, text=True)
    where = [l[len(d.config) + 1:].split(":")[0] for l in r.stderr.splitlines()
             if l.startswith(d.config + ":")]
    check(r.returncode == 1 and where == ["3", "4", "5", " 3 problem(s)."],
          f"--check-config lists every problem with its line and fails ({r.stderr.strip()})")
    addr = ("127.0.0.1", int(d.server.rsplit(":", 1)[1]))
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.sendto(encode("alice", "ws1", "vim"), addr)
    d.wait_uses(1)
    log = d.logtext()
    for n, what in ((3, "Retentoin"), (4, "BatchMax="), (5, "Colector")):
        check(f"{d.config}:{n}: " in log and what in log, f"trackerd warns about line {n} ({what}) and runs on")
    check("alice@ws1 vim" not in log, "the good line LogUses=no applies")
    check(d.alive(), "and IdleExitSec=1 of an unknown section did not apply")

    # Reload: AllowSource= applies at once; from elsewhere is dropped and counted.
    with open(d.config, "w") as f:
        f.write("[Collector]\nLogUses=yes\nAllowSource=192.0.2.0/24 2001:db8::/32\n")
    d.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: "Reloaded" in d.logtext(), "the reload")
    for i in range(5):
        s.sendto(encode("mallory", "evil", "vim"), addr)
    wait_until(lambda: rejects(d, "source-not-allowed") == 5, "5 datagrams from 127.0.0.1 dropped and counted")
    check(d.uses() == 1, "nothing from a source outside AllowSource= is stored")
    check("source-not-allowed" in d.logtext(), "the drop is logged")

    # A file that cannot be used: the running configuration stays, and the log says so.
    os.unlink(d.config)
    os.mkdir(d.config)
    d.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: "keeping the running configuration" in d.logtext(), "the failed reload to be reported")
    check(f"{d.config}: " in d.logtext() and "a directory" in d.logtext(), "the failed reload names the file and why")
    s.sendto(encode("mallory", "evil", "vim"), addr)
    wait_until(lambda: rejects(d, "source-not-allowed") == 6, "the old AllowSource= still applies")
    os.rmdir(d.config)

    # Loopback allowed again, LogUses=yes from the last good reload still on until changed.
    with open(d.config, "w") as f:
        f.write("[Collector]\nLogUses=yes\nAllowSource=127.0.0.0/8 ::1\n")
    d.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: d.logtext().count("Reloaded") == 2, "the second reload")
    s.sendto(encode("bob", "ws2", "ed"), addr)
    d.wait_uses(2)
    wait_until(lambda: "bob@ws2 ed" in d.logtext(), "LogUses=yes to apply at once")

    # Names that would split or forge a log line, a journal field or a report row are
    # rejected where they arrive (the whole class is in the unit test test-proto).
    forged = [("alice\u2028bob", "ws1", "vim"), ("alice", "ws1\u202egpj.exe", "vim"),
              ("alice", "ws1", "vi\u200bm"), ("root", "ws1", "vim\nroot@ws1 su"),
              (b"al\xc3ice", "ws1", "vim"), ("alice", "ws1@ws2", "vim"), ("al ice", "ws1", "vim")]
    for user, host, program in forged:
        s.sendto(encode(user, host, program), addr)
    wait_until(lambda: rejects(d, "bad-text") == len(forged), f"{len(forged)} forged names rejected as bad-text")
    check(d.uses() == 2, "none of them is stored")
    log = d.logtext()
    check(not any(c in log for c in "\u2028\u202e\u200b"), "none of them reaches the log")
    check(d.stop() == 0, "trackerd exits cleanly")

    # An IPv6 socket: IPv4 senders arrive mapped and match IPv4 prefixes.
    d6 = Trackerd(trackerd_bin, tmp, name="v6", config="[Collector]\nAllowSource=127.0.0.1\n",
                  listen=["[::]:0"])
    d6.listen = [f"[::]:{d6.port}"]
    d6.start()
    s.sendto(encode("carol", "ws3", "vi"), ("127.0.0.1", d6.port))
    d6.wait_uses(1)
    s6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s6.sendto(encode("dave", "ws4", "vi"), ("::1", d6.port))
    wait_until(lambda: rejects(d6, "source-not-allowed") == 1, "::1 dropped when only 127.0.0.1 is allowed")
    check(d6.stop() == 0, "trackerd on [::] exits cleanly")
    s.close()
    s6.close()


run_test(main)
