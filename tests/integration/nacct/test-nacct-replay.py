#!/usr/bin/env python3
"""nacctd -r on pcap files generated here: exact packet and byte totals per flow against an
independent model of every generated packet, in the log and in SQLite; every link type; fields
disabled; fdelay and activetimeout; dynamicip; --check-config; a write failure recovered with
no loss; a truncated file."""

import os
import random
import shutil
import struct
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import check, run_test  # noqa: E402
from nacct_harness import Nacct  # noqa: E402
from pcapgen import (DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_RAW, ETH_ARP, ETH_IPV4, ETH_IPV6,  # noqa: E402
                     ETH_QINQ, ETH_VLAN, Model, PcapWriter, ether, ipv4, ipv6, l4, sll, sll2,
                     sum_lines, v6_ext, v6_frag)

nacctd = sys.argv[1]
T0 = 1_700_000_000


def mixed_capture(path, seed=1, n=20000, duration=300):
    """Random traffic with every header variant; returns the model and the expected counters."""
    rnd = random.Random(seed)
    m = Model()
    other = {"ignored": 0, "truncated": 0, "malformed": 0}
    hosts4 = [f"10.{rnd.randrange(256)}.{rnd.randrange(256)}.{rnd.randrange(1, 255)}" for _ in range(40)]
    hosts6 = [f"2001:db8:{rnd.randrange(65536):x}::{rnd.randrange(1, 65535):x}" for _ in range(20)]
    flows = []
    for _ in range(300):
        v6 = rnd.random() < 0.3
        hs = hosts6 if v6 else hosts4
        src, dst = rnd.sample(hs, 2)
        proto = rnd.choice([6, 17, 6, 17, 1 if not v6 else 58])
        flows.append((v6, src, dst, proto, rnd.randrange(1024, 65536), rnd.choice([22, 53, 80, 443, 5001])))
    with PcapWriter(path) as w:
        for i in range(n):
            ts = T0 + duration * i // n
            kind = rnd.random()
            v6, src, dst, proto, sport, dport = rnd.choice(flows)
            payload = b"p" * rnd.randrange(0, 1400)
            vlans = rnd.choice([(), (), ((ETH_VLAN, 7),), ((ETH_QINQ, 100), (ETH_VLAN, 200))])
            if kind < 0.03:
                w.write(ether(b"\0" * 28, ETH_ARP), ts)
                other["ignored"] += 1
                continue
            if proto in (1, 58):
                itype, icode = rnd.choice([(8, 0), (0, 0), (3, 3)]) if proto == 1 else rnd.choice([(128, 0), (129, 0), (1, 4)])
                body = l4(proto, 0, 0, payload[:56], icmp_type=itype, icmp_code=icode)
                sp, dp = itype, icode
            else:
                body = l4(proto, sport, dport, payload)
                sp, dp = sport, dport
            if not v6:
                if kind < 0.06:
                    # a first fragment with ports and a later one without
                    pkt = ipv4(src, dst, proto, body[:1000], more_frags=True)
                    w.write(ether(pkt, ETH_IPV4, vlans=vlans), ts)
                    m.add(proto, src, sp, dst, dp, len(pkt))
                    pkt = ipv4(src, dst, proto, b"f" * 333, frag_offset=1000)
                    w.write(ether(pkt, ETH_IPV4, vlans=vlans), ts)
                    m.add(proto, src, 0, dst, 0, len(pkt))
                    continue
                pkt = ipv4(src, dst, proto, body)
                frame = ether(pkt, ETH_IPV4, vlans=vlans)
                off = len(frame) - len(pkt)
                if kind < 0.08:
                    w.write(frame, ts, caplen=off + 10)  # cut inside the IP header
                    other["truncated"] += 1
                    continue
                if kind < 0.10:
                    bad = ipv4(src, dst, proto, body, total_override=len(pkt) + 100)
                    w.write(ether(bad, ETH_IPV4, vlans=vlans), ts)
                    other["malformed"] += 1
                    continue
                if kind < 0.12 and proto in (6, 17):
                    w.write(frame, ts, caplen=off + 22)  # the ports are not captured
                    m.add(proto, src, 0, dst, 0, len(pkt))
                    continue
                w.write(frame, ts)
                m.add(proto, src, sp, dst, dp, len(pkt))
            else:
                if kind < 0.06:
                    first = v6_frag(proto, 0, True) + body[:800]
                    pkt = ipv6(src, dst, 44, first)
                    w.write(ether(pkt, ETH_IPV6, vlans=vlans), ts)
                    m.add(proto, src, sp, dst, dp, len(pkt))
                    pkt = ipv6(src, dst, 44, v6_frag(proto, 800, False) + b"g" * 100)
                    w.write(ether(pkt, ETH_IPV6, vlans=vlans), ts)
                    m.add(proto, src, 0, dst, 0, len(pkt))
                    continue
                if kind < 0.15:
                    # hop-by-hop -> destination options -> the transport header
                    pkt = ipv6(src, dst, 0, v6_ext(60, 0) + v6_ext(proto, 1) + body)
                else:
                    pkt = ipv6(src, dst, proto, body)
                w.write(ether(pkt, ETH_IPV6, vlans=vlans), ts)
                m.add(proto, src, sp, dst, dp, len(pkt))
    return m, other


def check_lines_against(lines, model, what):
    got = sum_lines(lines)
    want = {k: v for k, v in model.flows.items()}
    missing = [k for k in want if k not in got]
    extra = [k for k in got if k not in want]
    wrong = [k for k in want if k in got and got[k][:2] != want[k]]
    check(not missing and not extra and not wrong,
          f"{what}: {len(want)} flows match the model exactly "
          f"(missing {missing[:3]}, extra {extra[:3]}, wrong {[(k, got[k][:2], want[k]) for k in wrong[:3]]})")
    check(sum(v[0] for v in got.values()) == model.packets,
          f"{what}: {model.packets} packets in the log")
    check(sum(v[1] for v in got.values()) == model.bytes, f"{what}: {model.bytes} bytes in the log")


def test_mixed(tmp):
    pcap = os.path.join(tmp, "mixed.pcap")
    model, other = mixed_capture(pcap)
    n = Nacct(nacctd, tmp, "mixed", flush=10, fdelay=5)
    r = n.replay(pcap)
    lines = n.lines()
    check_lines_against(lines, model, "mixed Ethernet/VLAN/IPv4/IPv6 capture")
    times = {int(t[0]) for t in lines}
    check(min(times) > T0 and max(times) <= T0 + 300,
          "line times are the flush times on the capture's clock")
    check(len(times) > 10, f"lines were written at many flushes ({len(times)})")
    check(f"{model.packets} packets, {model.bytes} bytes accounted; {other['ignored']} not IP, "
          f"{other['truncated']} truncated, {other['malformed']} malformed" in r.stderr,
          "the summary counts not-IP, truncated and malformed frames exactly")
    check(not os.path.exists(n.dump), "no dump file is left after a complete replay")
    # SQLite
    tot = n.query("SELECT sum(bytes), sum(packets) FROM totals")[0]
    check(tuple(tot) == (model.bytes, model.packets), f"SQLite totals {tot} match the model")
    for table in ("hosts", "interfaces", "protocols"):
        s = n.query(f"SELECT sum(bytes_in + bytes_out), sum(packets_in + packets_out) FROM {table}")[0]
        factor = 2 if table == "hosts" else 1
        check(tuple(s) == (factor * model.bytes, factor * model.packets),
              f"SQLite {table} add up to the totals")
    per_host = {}
    for (proto, src, sp, dst, dp, dev), (p, b) in model.flows.items():
        per_host.setdefault(src, [0, 0])[1] += b
        per_host.setdefault(dst, [0, 0])[0] += b
    got = {h: [i, o] for h, i, o in n.query("SELECT host, sum(bytes_in), sum(bytes_out) FROM hosts GROUP BY host")}
    check(got == per_host, f"SQLite bytes in/out per host match the model ({len(per_host)} hosts)")
    ports = {}
    for (proto, src, sp, dst, dp, dev), (p, b) in model.flows.items():
        if proto not in (6, 17) or (sp == 0 and dp == 0):
            continue
        if dp <= sp or sp == 0:
            key, d = (proto, dp), 0
        else:
            key, d = (proto, sp), 1
        ports.setdefault(key, [0, 0])[d] += b
    got = {(pr, po): [i, o] for pr, po, i, o in n.query("SELECT proto, port, sum(bytes_in), sum(bytes_out) FROM ports GROUP BY proto, port")}
    check(got == ports, f"SQLite ports (service port, towards/from it) match the model ({len(ports)} ports)")
    bins = [b for (b,) in n.query("SELECT bin FROM totals")]
    check(all(b % 3600 == 0 for b in bins), "bins are aligned to the default 3600 s")
    return model


def test_linktypes(tmp):
    for dlt, name, wrap in ((DLT_LINUX_SLL, "sll", lambda p, et, out: sll(p, et, 4 if out else 0)),
                            (DLT_LINUX_SLL2, "sll2", lambda p, et, out: sll2(p, et, 4 if out else 0)),
                            (DLT_RAW, "raw", lambda p, et, out: p)):
        pcap = os.path.join(tmp, name + ".pcap")
        m = Model()
        with PcapWriter(pcap, dlt) as w:
            for i in range(10):
                out = i % 2 == 0
                pkt = ipv4("192.0.2.1", "198.51.100.2", 17, l4(17, 1000 + i % 2, 53, b"x" * i))
                w.write(wrap(pkt, ETH_IPV4, out), T0 + i)
                m.add(17, "192.0.2.1", 1000 + i % 2, "198.51.100.2", 53, len(pkt), dev="tun0")
                pkt6 = ipv6("2001:db8::1", "2001:db8::2", 58, l4(58, 0, 0, b"", icmp_type=128))
                w.write(wrap(pkt6, ETH_IPV6, out), T0 + i)
                m.add(58, "2001:db8::1", 128, "2001:db8::2", 0, len(pkt6), dev="tun0")
        n = Nacct(nacctd, tmp, "lt-" + name)
        n.replay(pcap, interface="tun0")
        check_lines_against(n.lines(), m, f"{name} capture")
        if dlt != DLT_RAW:
            r = n.query("SELECT sum(packets_in), sum(packets_out) FROM interfaces WHERE interface='tun0'")[0]
            check(tuple(r) == (10, 10), f"{name}: the cooked header's packet type gives in/out ({r})")


def test_disable(tmp):
    pcap = os.path.join(tmp, "disable.pcap")
    with PcapWriter(pcap) as w:
        for i, sport in enumerate((40001, 40002, 40003)):
            for k in range(3):
                w.write(ether(ipv4("10.200.1.2", "10.200.2.2", 6, l4(6, sport, 5002, b"d" * (10 * i + k))), ETH_IPV4), T0 + i)
            w.write(ether(ipv4("10.200.2.2", "10.200.1.2", 6, l4(6, 5002, sport)), ETH_IPV4), T0 + i)
    n = Nacct(nacctd, tmp, "disable", extra="disable 4\ndisable 7\n")
    n.replay(pcap, interface="eth0")
    lines = [t for t in n.lines()]
    check(all(len(t) == 8 for t in lines), "disable 4 and 7 give 8 columns")
    fwd = [t for t in lines if t[2] == "10.200.1.2"]
    want = sum(40 + 10 * i + k for i in range(3) for k in range(3))
    check(len(fwd) == 1 and fwd[0][1:] == ["6", "10.200.1.2", "10.200.2.2", "5002", str(want), "eth0", "unknown"],
          f"connections from three source ports merge into one line ({fwd})")
    back = sorted(t[4] for t in lines if t[2] == "10.200.2.2")
    check(back == ["40001", "40002", "40003"], "the reverse direction keeps its distinct ports")


def test_timeouts(tmp):
    pcap = os.path.join(tmp, "ping.pcap")
    with PcapWriter(pcap) as w:
        for i in range(100):
            w.write(ether(ipv4("10.200.1.2", "10.200.2.2", 1, l4(1, 0, 0, b"\0" * 56)), ETH_IPV4), T0 + i)
        # something else after the ping, so the capture's clock moves past fdelay
        for i in range(100, 130):
            w.write(ether(ipv4("10.9.9.9", "10.9.9.8", 17, l4(17, 1, 2)), ETH_IPV4), T0 + i)
    # The original: a flow that never idles for fdelay is written only when it ends.
    n = Nacct(nacctd, tmp, "noactive", flush=10, fdelay=5, extra="activetimeout 0\n")
    n.replay(pcap, interface="eth0")
    ping = [t for t in n.lines() if t[1] == "1"]
    check(len(ping) == 1 and ping[0][6:8] == ["100", "8400"],
          f"with activetimeout 0 a continuous ping is one line after it ends ({ping})")
    check(int(ping[0][0]) > T0 + 99 + 5, "... written only after fdelay of silence")
    # Ours: written at least every activetimeout seconds while busy.
    n = Nacct(nacctd, tmp, "active", flush=10, fdelay=5, extra="activetimeout 30\n")
    n.replay(pcap, interface="eth0")
    ping = [t for t in n.lines() if t[1] == "1"]
    times = [int(t[0]) - T0 for t in ping]
    check(len(ping) >= 3 and sum(int(t[6]) for t in ping) == 100 and sum(int(t[7]) for t in ping) == 8400,
          f"with activetimeout 30 the ping is written while it runs, nothing lost ({[(x, t[6]) for x, t in zip(times, ping)]})")
    check(times[0] <= 45, f"the first part is written within activetimeout + flush ({times[0]} s)")


def test_dynamicip(tmp):
    dyn = os.path.join(tmp, "dynip")
    os.makedirs(dyn)
    with open(os.path.join(dyn, "10.200.1.2"), "w") as f:
        f.write("alice\n")
    pcap = os.path.join(tmp, "dyn.pcap")
    with PcapWriter(pcap) as w:
        for src, dst in (("10.200.1.2", "10.200.2.2"), ("10.200.2.2", "10.200.1.2"),
                         ("10.200.1.1", "10.200.1.2"), ("10.200.1.2", "10.200.1.1"),
                         ("10.200.2.2", "10.200.2.3")):
            w.write(ether(ipv4(src, dst, 1, l4(1, 0, 0, b"\0" * 56)), ETH_IPV4), T0)
    n = Nacct(nacctd, tmp, "dyn", extra=f"dynamicip {dyn}/\ndynamicnet 10.200.1.0 255.255.255.0\n"
                                         "exclude-name-lookup 10.200.1.1 255.255.255.255\n")
    n.replay(pcap, interface="eth0")
    users = {(t[2], t[4]): t[9] for t in n.lines()}
    check(users == {("10.200.1.2", "10.200.2.2"): "alice", ("10.200.2.2", "10.200.1.2"): "alice",
                    ("10.200.1.1", "10.200.1.2"): "alice", ("10.200.1.2", "10.200.1.1"): "alice",
                    ("10.200.2.2", "10.200.2.3"): "unknown"},
          f"dynamicip associates both directions, skipping the excluded router ({users})")
    u = n.query("SELECT user, sum(bytes_in), sum(bytes_out) FROM users GROUP BY user")
    check(u == [("alice", 168, 168)], f"SQLite users: alice sent and received 2 x 84 bytes ({u})")


def test_check_config(tmp):
    import subprocess
    bad = os.path.join(tmp, "bad.tab")
    with open(bad, "w") as f:
        f.write(f"flush 10\nfile {tmp}/bad.log\nbogus-keyword 3\ndisable 12\nheaders eth 14 12\n")
    r = subprocess.run([nacctd, "--check-config", "-c", bad], capture_output=True, text=True)
    check(r.returncode == 1, "--check-config fails on a broken naccttab")
    check(f"{bad}:3: warning: unknown keyword 'bogus-keyword'" in r.stderr and f"{bad}:4: warning: invalid disable" in r.stderr,
          f"--check-config reports every error as file:line ({r.stderr.strip()})")
    check(f"{bad}:5: notice: 'headers' is ignored" in r.stderr, "... and notices too")
    good = os.path.join(tmp, "good.tab")
    with open(good, "w") as f:
        f.write(f"file {tmp}/good.log\n")
    r = subprocess.run([nacctd, "--check-config", "-c", good], capture_output=True, text=True)
    check(r.returncode == 0 and r.stdout.strip() == f"{good}: OK", "--check-config accepts a good one")
    # The replay refuses a configuration it cannot use (no log file) with file:line.
    with open(bad, "w") as f:
        f.write("flush 10\nfile x\n")
    r = subprocess.run([nacctd, "-c", bad, "-r", "/dev/null", "--db", os.path.join(tmp, "x.db")],
                       capture_output=True, text=True, env=dict(os.environ, TRACKSUITE_LOG_TARGET="console"))
    check(r.returncode == 1 and f"{bad}:2:" in r.stderr and "'file' directive" in r.stderr,
          "nacctd refuses to start without a usable log file")


def test_write_failure_recovery(tmp, model):
    pcap = os.path.join(tmp, "mixed.pcap")
    n = Nacct(nacctd, tmp, "wfail", flush=10, fdelay=5)
    missing = os.path.join(n.dir, "logdir")
    n.write_tab(flush=10, fdelay=5, log=os.path.join(missing, "net-acct.log"))
    r = n.replay(pcap, expect_rc=1)
    check("Failed to append" in r.stderr, "a log that cannot be written is reported")
    check(os.path.exists(n.dump), "the lines that could not be written are in the dump file")
    # Next start: the log can be written again; the dump's lines go into it first.
    os.makedirs(missing)
    empty = os.path.join(tmp, "empty.pcap")
    PcapWriter(empty).close()
    r = n.replay(empty)
    check("Recovered" in r.stderr, "the next start recovers the dump")
    lines = [t for t in (open(os.path.join(missing, "net-acct.log")).read().splitlines())]
    from pcapgen import parse_log
    check_lines_against(parse_log(os.path.join(missing, "net-acct.log")), model,
                        "after a failed write and a restart")
    check(not os.path.exists(n.dump), "the dump is gone once recovered")
    check(len(lines) > 0, "lines were recovered")


def test_truncated_file(tmp):
    pcap = os.path.join(tmp, "cut.pcap")
    with PcapWriter(pcap) as w:
        for i in range(50):
            w.write(ether(ipv4("10.0.0.1", "10.0.0.2", 17, l4(17, 7, 9, b"z" * 100)), ETH_IPV4), T0 + i)
    size = os.path.getsize(pcap)
    with open(pcap, "r+b") as f:
        f.truncate(size - 60)
    n = Nacct(nacctd, tmp, "cut")
    r = n.replay(pcap, interface="eth0", expect_rc=1)
    got = sum_lines(n.lines())
    check(list(got.values())[0][:2] == (49, 49 * 128), "a cut file: every complete record is accounted")
    check("accounting what was read" in r.stderr, "... with an error about the cut, and exit 1")


def pcapng(path, blocks):
    """A little-endian pcapng file: blocks are (type, body) pairs."""
    with open(path, "wb") as f:
        for btype, body in blocks:
            body += b"\0" * (-len(body) % 4)
            n = 12 + len(body)
            f.write(struct.pack("<II", btype, n) + body + struct.pack("<I", n))


def shb():
    return (0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))


def idb(linktype):
    return (1, struct.pack("<HHI", linktype, 0, 65535))


def epb(ifid, frame, ts):
    us = ts * 1_000_000
    return (6, struct.pack("<IIIII", ifid, us >> 32, us & 0xFFFFFFFF, len(frame), len(frame)) + frame)


def test_read_error_mid_file(tmp):
    """A read error in the middle of a file (here a pcapng with a second link type, which
    libpcap cannot deliver) accounts what came before it and exits non-zero."""
    frame = ether(ipv4("10.0.0.1", "10.0.0.2", 17, l4(17, 7, 9, b"z" * 100)), ETH_IPV4)
    raw = ipv4("10.0.0.3", "10.0.0.4", 17, l4(17, 7, 9, b"y" * 10))
    for name, blocks, before in (
            ("frames-then-idb", [shb(), idb(1)] + [epb(0, frame, T0 + i) for i in range(5)]
             + [idb(101)] + [epb(1, raw, T0 + 10 + i) for i in range(5)], 5),
            ("two-idbs-first", [shb(), idb(1), idb(101)] + [epb(0, frame, T0 + i) for i in range(5)]
             + [epb(1, raw, T0 + 10 + i) for i in range(5)], 0)):
        pcap = os.path.join(tmp, name + ".pcapng")
        pcapng(pcap, blocks)
        n = Nacct(nacctd, tmp, "ng-" + name)
        r = n.replay(pcap, expect_rc=1)
        check("read error after" in r.stderr, f"{name}: the read error is reported ({r.stderr.strip()[-200:]})")
        got = sum(v[0] for v in sum_lines(n.lines()).values())
        check(got == before, f"{name}: the {before} frames before the error are accounted ({got})")
        r = n.replay(pcap, expect_rc=1, args=("-q",))
        check("read error after" in r.stderr and "Flush:" not in r.stderr
              and "Replayed" not in r.stderr, f"{name}: -q keeps the error, drops the rest")


def test_quiet(tmp):
    pcap = os.path.join(tmp, "quiet.pcap")
    with PcapWriter(pcap) as w:
        for i in range(30):
            w.write(ether(ipv4("10.0.0.1", "10.0.0.2", 17, l4(17, 7, 9, b"q")), ETH_IPV4), T0 + i)
    n = Nacct(nacctd, tmp, "quiet")
    r = n.replay(pcap)
    check("Flush:" in r.stderr and "Replayed" in r.stderr, "without -q: flushes and a summary")
    for opt in ("-q", "--quiet"):
        r = n.replay(pcap, args=(opt,))
        check(r.stderr == "" and r.stdout == "", f"{opt}: nothing on a clean run ({r.stderr!r})")


def test_crafted_lengths(tmp):
    """Lengths in the capture are claims: a packet counts its IP length, which must lie within
    the frame's wire length; a 0 IP length (offload super-packet) counts the wire length only
    up to 512 KiB; a record with more captured than sent is malformed. No frame of this class
    may count more than that, whatever the link type."""
    normal = ipv4("10.0.0.1", "10.0.0.2", 17, l4(17, 7, 9, b"n" * 22))
    zero4 = ipv4("10.0.0.1", "10.0.0.2", 17, l4(17, 7, 9, b"a" * 12), total_override=0)
    zero6 = ipv6("2001:db8::1", "2001:db8::2", 17, l4(17, 7, 9, b"b" * 12), payload_override=0)
    claim = ipv4("10.0.0.1", "10.0.0.2", 17, l4(17, 7, 9, b"c" * 12), total_override=1500)
    big = 512 * 1024
    for dlt, name, wrap, hl in ((1, "eth", lambda p, et: ether(p, et), 14),
                                (DLT_LINUX_SLL, "sll", lambda p, et: sll(p, et), 16),
                                (DLT_RAW, "raw", lambda p, et: p, 0)):
        pcap = os.path.join(tmp, f"crafted-{name}.pcap")
        with PcapWriter(pcap, dlt) as w:
            w.write(wrap(normal, ETH_IPV4), T0)                                   # 50
            w.write(wrap(zero4, ETH_IPV4), T0, wirelen=0xFFFFFFFF)               # malformed
            w.write(wrap(zero6, ETH_IPV6), T0, wirelen=0xFFFFFFFF)               # malformed
            w.write(wrap(zero4, ETH_IPV4), T0, wirelen=hl + big + 1)             # malformed
            w.write(wrap(zero4, ETH_IPV4), T0, wirelen=hl + big)                 # 512 KiB
            w.write(wrap(zero6, ETH_IPV6), T0, wirelen=hl + 40 + 1000)           # 1040
            w.write(wrap(claim, ETH_IPV4), T0, wirelen=0xFFFFFFFF)               # 1500
            w.write(wrap(claim, ETH_IPV4), T0, wirelen=hl + 1499)                # malformed
            w.write(wrap(normal, ETH_IPV4), T0, wirelen=hl + len(normal) - 1)    # caplen > len
        n = Nacct(nacctd, tmp, "crafted-" + name)
        r = n.replay(pcap)
        got = sum_lines(n.lines())
        total = sum(v[1] for v in got.values())
        packets = sum(v[0] for v in got.values())
        want = len(normal) + big + 1040 + 1500
        check(total == want and packets == 4,
              f"{name}: crafted lengths count only what the capture proves ({packets} packets, {total} bytes, want 4, {want})")
        check("5 malformed" in r.stderr, f"{name}: the others are counted as malformed")
        db = n.query("SELECT sum(bytes_in + bytes_out) FROM interfaces")[0][0]
        check(db == want, f"{name}: the database agrees ({db})")


def test_debugfile(tmp):
    pcap = os.path.join(tmp, "dbg.pcap")
    with PcapWriter(pcap) as w:
        w.write(ether(ipv4("10.0.0.1", "10.0.0.2", 17, l4(17, 1, 2)), ETH_IPV4), T0)
        w.write(ether(b"\0" * 28, ETH_ARP), T0 + 2)
    n = Nacct(nacctd, tmp, "dbg")
    dbg = os.path.join(n.dir, "debug")
    n.write_tab(extra=f"debug 0x1ff\ndebugfile {dbg}\n")
    n.replay(pcap)
    text = open(dbg).read()
    for want in ("[CONF ] config: set flushing to 10", "[STATS] ignored: 1 netignored: 0",
                 "[IGN  ] not-ip packet of 42 bytes on pcap", "[MISC ] Split into"):
        check(want in text, f"debugfile has '{want}'")
    for line in text.splitlines():
        check(len(line) > 15 and line[2] == "/" and line[5] == " " and line[15] == "[",
              f"debug line in the original's format: {line[:40]!r}")
        break


def main(tmp):
    model = test_mixed(tmp)
    test_linktypes(tmp)
    test_disable(tmp)
    test_timeouts(tmp)
    test_dynamicip(tmp)
    test_check_config(tmp)
    test_write_failure_recovery(tmp, model)
    test_truncated_file(tmp)
    test_read_error_mid_file(tmp)
    test_crafted_lengths(tmp)
    test_quiet(tmp)
    test_debugfile(tmp)


run_test(main)
