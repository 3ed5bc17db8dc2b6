#!/usr/bin/env python3
"""nacctd and a mistyped naccttab: a file named twice, a directory, a FIFO or a device where a
regular file is meant, a foreign file as the dump are refused with file:line by --check-config
and by the daemon, which touches nothing (no file removed, renamed or rewritten) and never hangs
on a FIFO. Unknown keywords and bad values are warned about with file:line and ignored: the
daemon accounts, --check-config reports every problem and fails."""

import os
import stat
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import check, run_test  # noqa: E402
from pcapgen import ETH_IPV4, PcapWriter, ether, ipv4, l4, parse_log  # noqa: E402

nacctd = sys.argv[1]
T0 = 1_700_000_000
ENV = dict(os.environ, TRACKSUITE_LOG_TARGET="console")


def run(args, timeout=30):
    try:
        return subprocess.run([nacctd, *args], capture_output=True, text=True, env=ENV,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        check(False, f"nacctd {' '.join(args)} returned within {timeout}s (it hung)")


def snapshot(d):
    """Every name under d with its type and, for regular files, its content."""
    out = {}
    for root, dirs, files in os.walk(d):
        for name in dirs + files:
            p = os.path.join(root, name)
            st = os.lstat(p)
            content = None
            if stat.S_ISREG(st.st_mode):
                with open(p, "rb") as f:
                    content = f.read()
            out[os.path.relpath(p, d)] = (stat.S_IFMT(st.st_mode), content)
    return out


def capture(path):
    with PcapWriter(path) as w:
        for i in range(5):
            w.write(ether(ipv4("10.0.0.1", "10.0.0.2", 17, l4(17, 7, 9, b"z" * 10)), ETH_IPV4),
                    T0 + i)


def test_mistyped_files(tmp):
    pcap = os.path.join(tmp, "c.pcap")
    capture(pcap)
    cases = [
        # (name, lines of the naccttab with {d} for the directory, bad line)
        ("dumpfile equal to file", ["file {d}/log", "dumpfile {d}/log"], 2),
        ("dumpfile a symlink to file", ["file {d}/log", "dumpfile {d}/link"], 2),
        ("dumpfile a hard link to file", ["file {d}/log", "dumpfile {d}/hard"], 2),
        ("dumpfile naming the log through ..", ["file {d}/log", "dumpfile {d}/sub/../log"], 2),
        ("dumpfile a directory", ["file {d}/log", "dumpfile {d}/sub"], 2),
        ("file a directory", ["file {d}/sub", "dumpfile {d}/dump"], 1),
        ("dumpfile a FIFO", ["file {d}/log", "dumpfile {d}/fifo"], 2),
        ("file a FIFO", ["dumpfile {d}/dump", "file {d}/fifo"], 2),
        ("debugfile a FIFO", ["file {d}/log", "dumpfile {d}/dump", "debugfile {d}/fifo"], 3),
        ("file a device", ["file /dev/zero", "dumpfile {d}/dump"], 1),
        ("dumpfile a device", ["file {d}/log", "dumpfile /dev/null"], 2),
        ("dumpfile an existing file nacctd did not write",
         ["file {d}/log", "dumpfile {d}/other"], 2),
        ("debugfile equal to file", ["file {d}/log", "debugfile {d}/log"], 2),
    ]
    for i, (what, lines, bad) in enumerate(cases):
        d = os.path.join(tmp, f"m{i}")
        os.makedirs(os.path.join(d, "sub"))
        with open(os.path.join(d, "sub", "keep"), "w") as f:
            f.write("a file in the directory\n")
        with open(os.path.join(d, "log"), "w") as f:
            f.write("1700000000\t17\t10.0.0.1\t7\t10.0.0.2\t9\t1\t38\teth0\tunknown\n")
        with open(os.path.join(d, "other"), "w") as f:
            f.write("somebody's data\n")
        os.symlink(os.path.join(d, "log"), os.path.join(d, "link"))
        os.link(os.path.join(d, "log"), os.path.join(d, "hard"))
        os.mkfifo(os.path.join(d, "fifo"))
        tab = os.path.join(tmp, f"m{i}.tab")
        with open(tab, "w") as f:
            f.write("".join(line.format(d=d) + "\n" for line in lines))
        before = snapshot(d)
        r = run(["--check-config", "-c", tab])
        check(r.returncode == 1 and f"{tab}:{bad}:" in r.stderr,
              f"{what}: --check-config fails with {tab}:{bad}: ({r.stderr.strip()})")
        r = run(["-c", tab, "--db", os.path.join(tmp, f"m{i}.db"), "-r", pcap])
        check(r.returncode == 1 and f"{tab}:{bad}:" in r.stderr,
              f"{what}: the daemon refuses it with file:line ({r.stderr.strip()[-300:]})")
        check(snapshot(d) == before, f"{what}: nothing was removed, renamed or written")


def test_dump_of_ours_is_recovered(tmp):
    """The other side: a dump nacctd wrote is still recovered and removed."""
    d = os.path.join(tmp, "own")
    os.makedirs(d)
    tab = os.path.join(d, "tab")
    with open(tab, "w") as f:
        f.write(f"file {d}/log\ndumpfile {d}/dump\nflush 10\nfdelay 5\n")
    pcap = os.path.join(tmp, "c.pcap")
    # Written by nacctd: a replay that cannot write the log leaves its lines in the dump.
    os.chmod(d, 0o755)
    with open(f"{d}/log", "w") as f:
        pass
    os.chmod(f"{d}/log", 0o444)
    if os.geteuid() == 0:
        # root writes read-only files: make the log a directory-less path instead.
        os.unlink(f"{d}/log")
        with open(tab, "w") as f:
            f.write(f"file {d}/nodir/log\ndumpfile {d}/dump\nflush 10\nfdelay 5\n")
    r = run(["-c", tab, "--db", f"{d}/db", "-r", pcap])
    check(r.returncode == 1 and os.path.exists(f"{d}/dump"), "a failed write leaves a dump")
    with open(tab, "w") as f:
        f.write(f"file {d}/log2\ndumpfile {d}/dump\nflush 10\nfdelay 5\n")
    r = run(["--check-config", "-c", tab])
    check(r.returncode == 0, f"a dump nacctd wrote passes --check-config ({r.stderr.strip()})")
    empty = os.path.join(tmp, "empty.pcap")
    PcapWriter(empty).close()
    r = run(["-c", tab, "--db", f"{d}/db", "-r", empty])
    check(r.returncode == 0 and "Recovered 1 lines" in r.stderr,
          f"... and is recovered ({r.stderr.strip()[-300:]})")
    check(not os.path.exists(f"{d}/dump"), "... and removed")
    got = parse_log(f"{d}/log2")
    check(len(got) == 1 and got[0][7] == str(5 * 38), f"... into the log ({got})")


def test_warnings(tmp):
    pcap = os.path.join(tmp, "c.pcap")
    d = os.path.join(tmp, "warn")
    os.makedirs(d)
    tab = os.path.join(d, "naccttab")
    with open(tab, "w") as f:
        f.write(f"file {d}/log\n"
                "flsuh 10\n"          # 2: unknown keyword
                "fdelay soon\n"       # 3: bad value
                "disable 12\n"        # 4: bad value
                "disable 7\n"         # 5: good
                "iflimit a/b\n"       # 6: bad value
                "headers eth 14 12\n"  # 7: notice
                "snaplen 20\n")       # 8: bad value
    r = run(["--check-config", "-c", tab])
    check(r.returncode == 1, "--check-config fails on unknown keywords and bad values")
    for line, text in ((2, "unknown keyword 'flsuh'"), (3, "invalid fdelay"),
                       (4, "invalid disable"), (6, "invalid character"), (8, "invalid snaplen")):
        check(f"{tab}:{line}: warning: {text}" in r.stderr,
              f"--check-config reports line {line} ({text}) as file:line")
    check(f"{tab}:7: notice:" in r.stderr, "... notices too")
    r = run(["-c", tab, "--db", f"{d}/db", "-r", pcap])
    check(r.returncode == 0, f"the daemon runs with them ({r.stderr.strip()[-400:]})")
    for line in (2, 3, 4, 6, 8):
        check(f"{tab}:{line}:" in r.stderr and "ignoring the line" in r.stderr,
              f"... and warns about line {line} with file:line")
    lines = open(f"{d}/log").read().splitlines()
    check(len(lines) == 1 and len(lines[0].split("\t")) == 9,
          f"... accounts, with the good lines applied (disable 7: 9 fields) ({lines})")


def main(tmp):
    test_mistyped_files(tmp)
    test_dump_of_ours_is_recovered(tmp)
    test_warnings(tmp)


run_test(main)
