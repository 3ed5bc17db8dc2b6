#!/usr/bin/env python3
"""nacctd with exactly what nacctd.service gives it: an unprivileged user and CAP_NET_RAW as
its only capability (bounding, ambient). It captures, puts a `device` interface into
promiscuous mode (libpcap's packet-socket membership needs no CAP_NET_ADMIN) and releases it at
exit. Needs root to set this up (exit 77 otherwise)."""

import os
import pwd
import shutil
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
        n = Nacct(nacctd, tmp, "caps", flush=1, fdelay=0, extra="device eth0\n")
        os.chown(n.dir, nobody.pw_uid, nobody.pw_gid)
        os.chmod(n.tab, 0o644)
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
        wait_until(seen, "the datagrams in the log")
        check(seen()[0][:2] == (12, 12 * 38), "its traffic is accounted")
        rc = n.stop()
        check(rc == 0, "it stops cleanly")
        check(promiscuity(ns, R, "eth0") == 0, "promiscuous mode is released at exit")
        check("CapEff:\t0000000000002000" in status, "its only effective capability was CAP_NET_RAW")
    finally:
        if n:
            n.kill()
        ns.cleanup()


run_test(main)
