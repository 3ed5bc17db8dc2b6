#!/usr/bin/env python3
"""Live capture in network namespaces made here: A -- R -- B with R routing and nacctd in R.
Forwarded traffic appears once per interface it crosses, with exact counts; ICMP type/code in
the port fields; IPv6; an interface added and removed while running; a live rename; exclusion
by glob; loopback counted once; TCP totals equal to what tcpdump saw on the same interface;
in/out per interface in SQLite. Needs root (exit 77 otherwise)."""

import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import Failure, check, run_test, skip, wait_until  # noqa: E402
from nacct_harness import Nacct, Netns, can_use_netns  # noqa: E402
from pcapgen import read_pcap, sum_lines  # noqa: E402

nacctd = sys.argv[1]

UDP_SEND = """
import socket, sys, time
fam = socket.AF_INET6 if ':' in sys.argv[1] else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
s.bind(('' , int(sys.argv[4])))
for i in range(int(sys.argv[2])):
    s.sendto(b'u' * int(sys.argv[3]), (sys.argv[1], 9))
    if i % 50 == 49:
        time.sleep(0.01)
"""

ICMP_ECHO = """
import socket, struct, time
def csum(b):
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
s.settimeout(2)
for seq in range(3):
    p = struct.pack('!BBHHH', 8, 0, 0, 77, seq) + b'\\0' * 56
    p = p[:2] + struct.pack('!H', csum(p)) + p[4:]
    s.sendto(p, ('10.201.2.2', 0))
    while True:
        d = s.recv(2048)
        if d[20] == 0 and d[24:26] == struct.pack('!H', 77):
            break
"""


def py_in(ns, nsname, code, *args):
    r = subprocess.run(["ip", "netns", "exec", nsname, sys.executable, "-c", code, *map(str, args)],
                       capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise Failure(f"traffic in {nsname} failed: {r.stderr.strip()}")


def flows_of(n):
    return sum_lines(n.lines())


def wait_flow(n, key, count, what, timeout=15):
    def ok():
        v = flows_of(n).get(key)
        return v and v[0] >= count
    wait_until(ok, what, timeout)
    return flows_of(n)[key]


def setup(ns):
    A, R, B = ns.add("nacA"), ns.add("nacR"), ns.add("nacB")
    subprocess.run(["ip", "link", "add", "eth0", "netns", A, "type", "veth", "peer", "name", "eth0",
                    "netns", R], check=True)
    subprocess.run(["ip", "link", "add", "eth0", "netns", B, "type", "veth", "peer", "name", "eth1",
                    "netns", R], check=True)
    ns.run(A, "ip addr add 10.201.1.2/24 dev eth0 && ip -6 addr add fd00:1::2/64 dev eth0 nodad"
              " && ip link set eth0 up && ip route add default via 10.201.1.1"
              " && ip -6 route add default via fd00:1::1")
    ns.run(B, "ip addr add 10.201.2.2/24 dev eth0 && ip -6 addr add fd00:2::2/64 dev eth0 nodad"
              " && ip link set eth0 up && ip route add default via 10.201.2.1"
              " && ip -6 route add default via fd00:2::1")
    ns.run(R, "ip addr add 10.201.1.1/24 dev eth0 && ip addr add 10.201.2.1/24 dev eth1"
              " && ip -6 addr add fd00:1::1/64 dev eth0 nodad && ip -6 addr add fd00:2::1/64 dev eth1 nodad"
              " && ip link set eth0 up && ip link set eth1 up"
              " && sysctl -qw net.ipv4.ip_forward=1 && sysctl -qw net.ipv6.conf.all.forwarding=1")
    return A, R, B


def main(tmp):
    why = can_use_netns()
    if why:
        skip(why)
    ns = Netns()
    n = None
    try:
        A, R, B = setup(ns)
        n = Nacct(nacctd, tmp, "live", flush=1, fdelay=0, extra="notdev dummy*\n")
        n.start(netns=R)
        n.wait_output("accounting on 3 interfaces")
        check("Capturing on 'eth0'" in n.output() and "Capturing on 'eth1'" in n.output()
              and "Capturing on 'lo'" in n.output(), "every interface present at start is captured")

        # Forwarded UDP: once on eth0 (in) and once on eth1 (out), exactly.
        py_in(ns, A, UDP_SEND, "10.201.2.2", 300, 100, 40000)
        k0 = (17, "10.201.1.2", 40000, "10.201.2.2", 9, "eth0")
        k1 = (17, "10.201.1.2", 40000, "10.201.2.2", 9, "eth1")
        v0 = wait_flow(n, k0, 300, "UDP on eth0")
        v1 = wait_flow(n, k1, 300, "UDP on eth1")
        check(v0[:2] == (300, 300 * 128) and v1[:2] == (300, 300 * 128),
              f"forwarded UDP is counted exactly once per interface ({v0[:2]}, {v1[:2]})")

        # IPv6 forwarded.
        py_in(ns, A, UDP_SEND, "fd00:2::2", 50, 60, 40001)
        v = wait_flow(n, (17, "fd00:1::2", 40001, "fd00:2::2", 9, "eth1"), 50, "IPv6 UDP on eth1")
        check(v[:2] == (50, 50 * (40 + 8 + 60)), f"forwarded IPv6 is counted with IPv6 lengths ({v[:2]})")

        # ICMP echo: type in field 4, code in field 6, both directions, both interfaces.
        py_in(ns, A, ICMP_ECHO)
        for key in ((1, "10.201.1.2", 8, "10.201.2.2", 0, "eth0"), (1, "10.201.1.2", 8, "10.201.2.2", 0, "eth1"),
                    (1, "10.201.2.2", 0, "10.201.1.2", 0, "eth0"), (1, "10.201.2.2", 0, "10.201.1.2", 0, "eth1")):
            v = wait_flow(n, key, 3, f"ICMP {key}")
            check(v[:2] == (3, 252), f"3 pings of 84 bytes as {key[2]}/{key[4]} on {key[5]}")

        # Loopback inside R: counted once, not twice as the original did.
        py_in(ns, R, UDP_SEND, "127.0.0.2", 10, 10, 40002)
        v = wait_flow(n, (17, "127.0.0.1", 40002, "127.0.0.2", 9, "lo"), 10, "UDP on lo")
        check(v[:2] == (10, 10 * 38), f"loopback packets are counted once ({v[:2]})")

        # An interface that appears later, then goes away.
        C = ns.add("nacC")
        subprocess.run(["ip", "link", "add", "vx0", "netns", R, "type", "veth", "peer", "name", "eth0",
                        "netns", C], check=True)
        ns.run(R, "ip addr add 10.201.3.1/24 dev vx0 && ip link set vx0 up")
        ns.run(C, "ip addr add 10.201.3.2/24 dev eth0 && ip link set eth0 up")
        n.wait_output("Capturing on 'vx0'")
        check(True, "an interface that appears later is captured")
        py_in(ns, C, UDP_SEND, "10.201.3.1", 20, 10, 40003)
        v = wait_flow(n, (17, "10.201.3.2", 40003, "10.201.3.1", 9, "vx0"), 20, "UDP on vx0")
        check(v[:2] == (20, 20 * 38), "its traffic is accounted")
        # Excluded by a glob: never captured. vx1 after it tells us the event was handled.
        ns.run(R, "ip link add dummy7 type veth peer name dummy8 && ip link set dummy7 up"
                  " && ip link set dummy8 up")
        ns.run(R, "ip link add vx1 type veth peer name vx2 && ip link set vx1 up && ip link set vx2 up")
        n.wait_output("Capturing on 'vx1'")
        check("'dummy7'" not in n.output() and "'dummy8'" not in n.output(), "an interface excluded by a glob (notdev dummy*) is not captured")
        # A live rename: later traffic is accounted under the new name.
        if ns.run(R, "ip link set vx0 name ppp9", check_rc=False).returncode == 0:
            n.wait_output("is now called 'ppp9'")
        else:
            # Kernels before live renaming (IFF_LIVE_RENAME_OK) want the interface down.
            ns.run(R, "ip link set vx0 down && ip link set vx0 name ppp9 && ip link set ppp9 up")
            n.wait_output("Capturing on 'ppp9'")
        py_in(ns, C, UDP_SEND, "10.201.3.1", 7, 10, 40004)
        v = wait_flow(n, (17, "10.201.3.2", 40004, "10.201.3.1", 9, "ppp9"), 7, "UDP on ppp9")
        check(v[:2] == (7, 7 * 38) and (17, "10.201.3.2", 40004, "10.201.3.1", 9, "vx0") not in flows_of(n),
              "after a rename the traffic is accounted under the new name")
        ns.run(R, "ip link del ppp9")
        n.wait_output("Stopped capturing on 'ppp9'")
        check(True, "a vanished interface is released")
        # Down and up again.
        ns.run(R, "ip link set vx1 down")
        n.wait_output("Stopped capturing on 'vx1' (interface down)")
        ns.run(R, "ip link set vx1 up")
        n.wait_output("Capturing on 'vx1'", count=2)
        check(True, "an interface going down is released and captured again when up")

        # TCP: what nacctd counts equals what tcpdump saw on the same interface.
        cap = os.path.join(tmp, "eth0.pcap")
        td = subprocess.Popen(["ip", "netns", "exec", R, "tcpdump", "-i", "eth0", "-n", "-s", "128", "-B", "16384", "-w", cap, "-U",
                               "--immediate-mode",
                               "tcp port 5001"], stderr=subprocess.PIPE, text=True)
        line = td.stderr.readline()
        if "listening" not in line:
            raise Failure(f"tcpdump did not start: {line}")
        srv = subprocess.Popen(["ip", "netns", "exec", B, sys.executable, "-c",
                                "import socket\ns=socket.socket();s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\n"
                                "s.bind(('10.201.2.2',5001));s.listen(1);print('up',flush=True)\n"
                                "c,_=s.accept()\nwhile c.recv(65536): pass\n"], stdout=subprocess.PIPE, text=True)
        srv.stdout.readline()
        py_in(ns, A, "import socket\ns=socket.create_connection(('10.201.2.2',5001))\ns.bind\n"
                     "s.sendall(b'T'*1000000)\ns.shutdown(socket.SHUT_WR)\ns.recv(1)\ns.close()\n")
        srv.wait(20)
        # tcpdump (immediate mode, -U) writes each packet as it gets it: wait until its file
        # has stopped growing before stopping it.
        sizes = []

        def settled():
            sizes.append(os.path.getsize(cap))
            return len(sizes) > 10 and sizes[-1] == sizes[-10]
        wait_until(settled, "tcpdump to have written every packet", 10, 0.05)
        td.send_signal(signal.SIGINT)
        td.wait(10)
        rc = n.stop()
        check(rc == 0, f"nacctd exits 0 on SIGTERM ({rc})")
        want = {k: v for k, v in read_pcap(cap, dev="eth0").flows.items()}
        got = {k: v[:2] for k, v in flows_of(n).items() if k[0] == 6 and k[5] == "eth0" and 5001 in (k[2], k[4])}
        check(want and got == want,
              f"TCP on eth0: nacctd's totals equal tcpdump's ({sum(p for p, _ in want.values())} packets, "
              f"{sum(b for _, b in want.values())} bytes; got {got}, tcpdump {want})")

        # SQLite: in on eth0, out on eth1 for the forwarded UDP; totals match the log.
        r = n.query("SELECT interface, sum(packets_in), sum(packets_out) FROM interfaces GROUP BY interface")
        d = {i: (pi, po) for i, pi, po in r}
        check(d["eth0"][0] >= 300 + 3 and d["eth1"][1] >= 300 + 3,
              f"SQLite: forwarded packets come in on eth0 and go out on eth1 ({d})")
        tot = n.query("SELECT sum(packets), sum(bytes) FROM totals")[0]
        lines = flows_of(n)
        check(tot == (sum(v[0] for v in lines.values()), sum(v[1] for v in lines.values())),
              f"SQLite totals equal the log's ({tot})")
        check("NACCT_PACKETS=" in n.output() and "MESSAGE_ID=d78146c987a142b8b3e8020d0a91e074" in n.output(),
              "every flush logs a summary with NACCT_* fields")
    finally:
        if n:
            n.kill()
        ns.cleanup()


run_test(main)
