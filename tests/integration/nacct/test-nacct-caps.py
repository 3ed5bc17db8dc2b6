#!/usr/bin/env python3
"""nacctd with exactly what nacctd.service gives it: an unprivileged user and CAP_NET_RAW as
its only capability (bounding, ambient). It captures, puts a `device` interface into
promiscuous mode (libpcap's packet-socket membership needs no CAP_NET_ADMIN) and releases it at
exit. Without CAP_NET_RAW it fails with a clear message instead of running on 0 interfaces.
Packets the kernel drops (a stopped reader, a small ring) are a warning with journal fields.
Needs root to set this up (exit 77 otherwise)."""

import os
import pwd
import shutil
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import check, run_test, skip, wait_until  # noqa: E402
from nacct_harness import Nacct, Netns, can_use_netns  # noqa: E402
from pcapgen import sum_lines  # noqa: E402

nacctd = sys.argv[1]


def promiscuity(ns, R, dev):
    out = ns.run(R, f"ip -d link show {dev}").stdout
    return int(out.split("promiscuity ")[1].split()[0])


def main(tmp):
    why = can_use_netns()
    if why:
        skip(why)
    if not shutil.which("setpriv"):
        skip("setpriv(1) is needed")
    try:
        nobody = pwd.getpwnam("nobody")
    except KeyError:
        skip("no user 'nobody'")
    ns = Netns()
    n = None
    try:
        A, R = ns.add("ncapA"), ns.add("ncapR")
        subprocess.run(["ip", "link", "add", "eth0", "netns", A, "type", "veth", "peer", "name",
                        "eth0", "netns", R], check=True)
        ns.run(A, "ip addr add 10.203.0.2/24 dev eth0 && ip link set eth0 up")
        ns.run(R, "ip addr add 10.203.0.1/24 dev eth0 && ip link set eth0 up")
        os.chmod(tmp, 0o755)
        n = Nacct(nacctd, tmp, "caps", flush=1, fdelay=0,
                  extra="device eth0\ncapturebuffer 64K\n")
        os.chown(n.dir, nobody.pw_uid, nobody.pw_gid)
        os.chmod(n.tab, 0o644)
        # No capability at all (root or not): an error, exit 1, at once.
        for who in (["--reuid", str(nobody.pw_uid), "--regid", str(nobody.pw_gid), "--clear-groups"], []):
            cmd = ["ip", "netns", "exec", R, "setpriv", *who, "--inh-caps=-all",
                   "--ambient-caps=-all", "--bounding-set=-all", "--no-new-privs",
                   nacctd, "-c", n.tab, "--db",
                   os.path.join(n.dir if who else tmp, "nocap.db")]
            r = subprocess.run(cmd, capture_output=True, text=True, env=n.env(), timeout=30)
            check(r.returncode == 1 and "Cannot capture: opening a packet socket is not permitted"
                  in r.stderr and "CAP_NET_RAW" in r.stderr,
                  f"without CAP_NET_RAW ({'nobody' if who else 'root'}) nacctd fails clearly "
                  f"({r.returncode}: {r.stderr.strip()[-300:]})")
        cmd = ["ip", "netns", "exec", R, "setpriv", f"--reuid={nobody.pw_uid}",
               f"--regid={nobody.pw_gid}", "--clear-groups", "--inh-caps=-all,+net_raw",
               "--ambient-caps=+net_raw", "--bounding-set=-all,+net_raw", "--no-new-privs",
               nacctd, "-c", n.tab, "--db", n.db]
        n.outf = open(n.out, "ab")
        n.proc = subprocess.Popen(cmd, stdout=n.outf, stderr=subprocess.STDOUT, env=n.env())
        n.wait_output("Capturing on 'eth0' (EN10MB, promiscuous)")
        check(True, "as 'nobody' with only CAP_NET_RAW nacctd captures")
        with open(f"/proc/{n.proc.pid}/status") as f:
            status = f.read()
        check(promiscuity(ns, R, "eth0") == 1, "the 'device' interface is promiscuous without CAP_NET_ADMIN")
        ns.py(A, "import socket\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
                 "[s.sendto(b'c'*10,('10.203.0.1',9)) for _ in range(12)]\n")
        key = (17, "10.203.0.2", None, "10.203.0.1", 9, "eth0")

        def seen():
            return [v for k, v in sum_lines(n.lines()).items()
                    if k[:2] == key[:2] and k[3:] == key[3:] and v[0] >= 12]
        wait_until(seen, "the datagrams in the log", 30)
        check(seen()[0][:2] == (12, 12 * 38), "its traffic is accounted")
        # Kernel drops: stop the reader, overfill its 64 KiB ring, let it go on.
        os.kill(n.proc.pid, signal.SIGSTOP)
        try:
            ns.py(A, "import socket\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
                     "[s.sendto(b'd'*200,('10.203.0.1',9)) for _ in range(5000)]\n")
        finally:
            os.kill(n.proc.pid, signal.SIGCONT)
        n.wait_output("The kernel dropped", timeout=20)
        line = [x for x in n.output().splitlines() if "The kernel dropped" in x]
        check(line and "captured on 'eth0'" in line[0] and "NACCT_INTERFACE=eth0" in line[0]
              and "MESSAGE_ID=43b5ebbb5f5245628e5b92501cf31ead" in line[0],
              f"kernel drops are a warning with journal fields ({line[:1]})")
        drops = int(line[0].split("NACCT_KERNEL_DROPS=")[1].split()[0])
        check(drops > 0, f"... counting the drops ({drops})")
        # An interface name with an escape sequence and a bidi override: escaped in every
        # message and journal field, never raw.
        evil = "x\x1b[2J\u202e"
        subprocess.run(["ip", "netns", "exec", R, "ip", "link", "add", "name", evil, "type",
                        "veth", "peer", "name", "evilpeer"], check=True)
        subprocess.run(["ip", "netns", "exec", R, "ip", "link", "set", evil, "up"], check=True)
        n.wait_output("Capturing on 'x\\x1b[2J\\xe2\\x80\\xae'")
        out = n.output()
        check("\x1b" not in out and "\u202e" not in out and
              "NACCT_INTERFACE=x\\x1b[2J\\xe2\\x80\\xae" in out,
              "an interface name is escaped in messages and journal fields")
        subprocess.run(["ip", "netns", "exec", R, "ip", "link", "del", evil], check=True)
        n.wait_output("Stopped capturing on 'x\\x1b[2J\\xe2\\x80\\xae'")
        rc = n.stop()
        check(rc == 0, "it stops cleanly")
        check(promiscuity(ns, R, "eth0") == 0, "promiscuous mode is released at exit")
        check("CapEff:\t0000000000002000" in status, "its only effective capability was CAP_NET_RAW")
    finally:
        if n:
            n.kill()
        ns.cleanup()


run_test(main)
