"""pcapgen.py - build frames (Ethernet, VLAN, SLL, SLL2, raw IP; IPv4 with fragments, IPv6 with
extension headers; TCP, UDP, ICMP, ICMPv6) and write pcap files with struct, plus an independent
model of what nacctd must count. No scapy: every byte is laid out here from the RFCs."""

import ipaddress
import struct

DLT_EN10MB = 1
DLT_RAW = 101  # LINKTYPE_RAW in the file; libpcap maps it to DLT_RAW
DLT_LINUX_SLL = 113
DLT_LINUX_SLL2 = 276
DLT_NULL = 0

ETH_IPV4 = 0x0800
ETH_IPV6 = 0x86DD
ETH_ARP = 0x0806
ETH_VLAN = 0x8100
ETH_QINQ = 0x88A8

MAC_A = bytes.fromhex("020000000001")
MAC_B = bytes.fromhex("020000000002")


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def l4(proto, sport, dport, payload=b"", icmp_type=8, icmp_code=0):
    """A transport header + payload. sport/dport are ignored for ICMP."""
    if proto == 6:
        return struct.pack("!HHIIBBHHH", sport, dport, 1, 0, 5 << 4, 0x18, 65535, 0, 0) + payload
    if proto == 17:
        return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    if proto in (1, 58):
        return struct.pack("!BBHHH", icmp_type, icmp_code, 0, 1, 1) + payload
    return payload


def ipv4(src, dst, proto, body, frag_offset=0, more_frags=False, ident=1, options=b"",
         total_override=None):
    ihl = 5 + len(options) // 4
    total = 4 * ihl + len(body) if total_override is None else total_override
    flags = (0x2000 if more_frags else 0) | (frag_offset // 8)
    hdr = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, total, ident, flags, 64, proto, 0,
                      ipaddress.IPv4Address(src).packed, ipaddress.IPv4Address(dst).packed)
    hdr += options
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    return hdr + body


def ipv6(src, dst, nh, body, payload_override=None):
    plen = len(body) if payload_override is None else payload_override
    return struct.pack("!IHBB16s16s", 6 << 28, plen, nh, 64, ipaddress.IPv6Address(src).packed,
                       ipaddress.IPv6Address(dst).packed) + body


def v6_ext(nh, length_units=0):
    """A generic extension header (hop-by-hop, routing, destination options): 8*(n+1) bytes."""
    body = bytes([nh, length_units]) + b"\x01" + bytes([4 + 8 * length_units]) + b"\0" * (4 + 8 * length_units)
    return body[: 8 * (length_units + 1)]


def v6_frag(nh, offset, more):
    return struct.pack("!BBHI", nh, 0, (offset & 0xFFF8) | (1 if more else 0), 0x1234)


def ether(payload, etype, src=MAC_A, dst=MAC_B, vlans=()):
    hdr = dst + src
    for tpid, vid in vlans:
        hdr += struct.pack("!HH", tpid, vid)
    return hdr + struct.pack("!H", etype) + payload


def sll(payload, proto, pkttype=0):
    return struct.pack("!HHH8sH", pkttype, 1, 6, MAC_A + b"\0\0", proto) + payload


def sll2(payload, proto, pkttype=0, ifindex=2):
    return struct.pack("!HHIHBB8s", proto, 0, ifindex, 1, pkttype, 6, MAC_A + b"\0\0") + payload


class PcapWriter:
    def __init__(self, path, linktype=DLT_EN10MB, snaplen=65535):
        self.f = open(path, "wb")
        self.f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, snaplen, linktype))
        self.snaplen = snaplen

    def write(self, frame, ts, usec=0, wirelen=None, caplen=None):
        wl = len(frame) if wirelen is None else wirelen
        data = frame if caplen is None else frame[:caplen]
        self.f.write(struct.pack("<IIII", int(ts), usec, len(data), wl) + data)

    def close(self):
        self.f.close()

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()


class Model:
    """What nacctd must account: flows keyed like the original (proto, src, sport, dst,
    dport, device) with packets and IP-length bytes."""

    def __init__(self):
        self.flows = {}
        self.packets = 0
        self.bytes = 0

    def add(self, proto, src, sport, dst, dport, nbytes, dev="pcap", count=1):
        k = (proto, src, sport, dst, dport, dev)
        p, b = self.flows.get(k, (0, 0))
        self.flows[k] = (p + count, b + nbytes * count)
        self.packets += count
        self.bytes += nbytes * count


def parse_log(path):
    """The classic 10-field lines as tuples (time, proto, src, sport, dst, dport, count, bytes,
    dev, user); checks the TAB separation."""
    out = []
    with open(path) as f:
        for line in f:
            assert line.endswith("\n"), f"unterminated line {line!r}"
            out.append(line[:-1].split("\t"))
    return out


def sum_lines(lines):
    """Sum 10-field lines by (proto, src, sport, dst, dport, dev) -> (count, bytes, users)."""
    tot = {}
    for t in lines:
        assert len(t) == 10, f"expected 10 fields: {t}"
        k = (int(t[1]), t[2], int(t[3]), t[4], int(t[5]), t[8])
        c, b, u = tot.get(k, (0, 0, set()))
        u.add(t[9])
        tot[k] = (c + int(t[6]), b + int(t[7]), u)
    return tot


def read_pcap(path, dev="pcap"):
    """An independent reader: Ethernet (with VLAN tags) / IPv4 / IPv6 (no extension headers
    beyond what tests send) -> Model keyed like nacctd's lines. Used to compare live
    accounting with what tcpdump saw."""
    m = Model()
    with open(path, "rb") as f:
        hdr = f.read(24)
        if len(hdr) < 24:
            return m
        magic, = struct.unpack("<I", hdr[:4])
        endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
        linktype, = struct.unpack(endian + "I", hdr[20:24])
        while True:
            rh = f.read(16)
            if len(rh) < 16:
                break
            _, _, caplen, wirelen = struct.unpack(endian + "IIII", rh)
            data = f.read(caplen)
            if len(data) < caplen:
                break
            off = 0
            if linktype == DLT_EN10MB:
                etype, = struct.unpack("!H", data[12:14])
                off = 14
                while etype in (ETH_VLAN, ETH_QINQ):
                    etype, = struct.unpack("!H", data[off + 2:off + 4])
                    off += 4
            elif linktype == DLT_LINUX_SLL2:
                etype, = struct.unpack("!H", data[0:2])
                off = 20
            else:
                continue
            ip = data[off:]
            if etype == ETH_IPV4 and len(ip) >= 20:
                ihl = (ip[0] & 15) * 4
                total, = struct.unpack("!H", ip[2:4])
                if total == 0:
                    total = wirelen - off
                proto = ip[9]
                src = str(ipaddress.IPv4Address(ip[12:16]))
                dst = str(ipaddress.IPv4Address(ip[16:20]))
                frag = struct.unpack("!H", ip[6:8])[0] & 0x1FFF
                t = ip[ihl:]
            elif etype == ETH_IPV6 and len(ip) >= 40:
                plen, = struct.unpack("!H", ip[4:6])
                total = 40 + plen
                proto = ip[6]
                src = str(ipaddress.IPv6Address(ip[8:24]))
                dst = str(ipaddress.IPv6Address(ip[24:40]))
                frag = 0
                t = ip[40:]
            else:
                continue
            sp = dp = 0
            if not frag:
                if proto in (6, 17) and len(t) >= 4:
                    sp, dp = struct.unpack("!HH", t[:4])
                elif proto in (1, 58) and len(t) >= 2:
                    sp, dp = t[0], t[1]
            m.add(proto, src, sp, dst, dp, total, dev=dev)
    return m
