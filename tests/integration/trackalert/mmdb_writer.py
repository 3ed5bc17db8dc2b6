"""mmdb_writer.py - a small MaxMind DB (format 2.0) writer for tests, from the public spec
(https://maxmind.github.io/MaxMind-DB/): an IPv6 binary search tree with 24-bit records, the
16-byte separator, the data section in MaxMind's type encoding, and the metadata map after
b"\\xab\\xcd\\xefMaxMind.com". IPv4 networks live under ::/96, where libmaxminddb looks them up.

    write_mmdb(path, [("192.0.2.0/24", {"country": {"iso_code": "DE"}}), ...])

Python values map to types: str -> UTF-8 string, bool -> boolean, int -> uint32 (Uint16(n),
Uint64(n) for the others), float -> double, Float32(x) -> float, dict -> map, list -> array.
"""

import ipaddress
import struct
import time


class Uint16(int):
    pass


class Uint64(int):
    pass


class Float32(float):
    pass


def _ctrl(type_, size):
    """Control byte(s) for a type (1-15) and a payload size."""
    if size < 29:
        sbits, extra = size, b""
    elif size < 29 + 256:
        sbits, extra = 29, bytes([size - 29])
    elif size < 285 + 65536:
        sbits, extra = 30, struct.pack(">H", size - 285)
    else:
        sbits, extra = 31, struct.pack(">I", size - 65821)[1:]
    if type_ <= 7:
        return bytes([(type_ << 5) | sbits]) + extra
    return bytes([sbits, type_ - 7]) + extra


def _uint(type_, n, width):
    b = n.to_bytes(width, "big").lstrip(b"\0")
    return _ctrl(type_, len(b)) + b


def encode(v):
    if isinstance(v, bool):
        return _ctrl(14, 1 if v else 0)
    if isinstance(v, str):
        b = v.encode()
        return _ctrl(2, len(b)) + b
    if isinstance(v, Uint16):
        return _uint(5, int(v), 2)
    if isinstance(v, Uint64):
        return _uint(9, int(v), 8)
    if isinstance(v, int):
        return _uint(6, v, 4)
    if isinstance(v, Float32):
        return _ctrl(15, 4) + struct.pack(">f", v)
    if isinstance(v, float):
        return _ctrl(3, 8) + struct.pack(">d", v)
    if isinstance(v, dict):
        out = _ctrl(7, len(v))
        for k, x in v.items():
            out += encode(str(k)) + encode(x)
        return out
    if isinstance(v, list):
        return _ctrl(11, len(v)) + b"".join(encode(x) for x in v)
    raise TypeError(f"cannot encode {type(v)}")


class _Node:
    def __init__(self):
        self.children = [None, None]  # _Node, ("data", offset) or None


def _bits(net):
    if net.version == 4:
        net = ipaddress.ip_network(f"::{net.network_address}/{96 + net.prefixlen}")
    value = int(net.network_address)
    return [(value >> (127 - i)) & 1 for i in range(net.prefixlen)]


def write_mmdb(path, networks, database_type="Test-Country", description="tracksuite test"):
    data = b""
    offsets = {}
    root = _Node()
    for cidr, record in networks:
        net = ipaddress.ip_network(cidr)
        key = repr(record)
        if key not in offsets:
            offsets[key] = len(data)
            data += encode(record)
        bits = _bits(net)
        if not bits:
            raise ValueError("a network needs a prefix")
        node = root
        for b in bits[:-1]:
            if not isinstance(node.children[b], _Node):
                node.children[b] = _Node()
            node = node.children[b]
        node.children[bits[-1]] = ("data", offsets[key])

    # number the nodes breadth first
    order, ids = [root], {id(root): 0}
    for node in order:
        for c in node.children:
            if isinstance(c, _Node):
                ids[id(c)] = len(order)
                order.append(c)
    n = len(order)

    def record(c):
        if c is None:
            return n
        if isinstance(c, _Node):
            return ids[id(c)]
        return n + 16 + c[1]

    tree = b""
    for node in order:
        for c in node.children:
            v = record(c)
            if v >= 1 << 24:
                raise ValueError("too large for 24-bit records")
            tree += v.to_bytes(3, "big")
    meta = {
        "node_count": n,
        "record_size": Uint16(24),
        "ip_version": Uint16(6),
        "database_type": database_type,
        "languages": ["en"],
        "binary_format_major_version": Uint16(2),
        "binary_format_minor_version": Uint16(0),
        "build_epoch": Uint64(int(time.time())),
        "description": {"en": description},
    }
    with open(path + ".tmp", "wb") as f:
        f.write(tree + b"\0" * 16 + data + b"\xab\xcd\xefMaxMind.com" + encode(meta))
    import os
    os.replace(path + ".tmp", path)
