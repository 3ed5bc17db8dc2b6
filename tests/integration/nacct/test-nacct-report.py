#!/usr/bin/env python3
"""nacct-report over a database nacctd -r wrote from a generated week of traffic: top lists,
daily and monthly totals, one host and one user over time, in table, JSON, CSV and SVG, all
checked against an independent model of the generated packets; usage errors."""

import csv
import io
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(__file__))
from harness import Failure, check, run_test  # noqa: E402
from nacct_harness import Nacct  # noqa: E402
from pcapgen import ETH_IPV4, PcapWriter, ether, ipv4, l4  # noqa: E402

nacctd, report = sys.argv[1], sys.argv[2]
os.environ["TZ"] = "UTC"
time.tzset()
T0 = 1_704_067_200  # 2024-01-01 00:00 UTC


def rep(n, *args, rc=0):
    r = subprocess.run([report, "-d", n.db, *args], capture_output=True, text=True,
                       env=dict(os.environ, TZ="UTC", TRACKSUITE_LOG_TARGET="console"))
    if r.returncode != rc:
        raise Failure(f"nacct-report {args} exited {r.returncode}: {r.stderr}")
    return r


def main(tmp):
    rnd = random.Random(7)
    hosts = [f"10.7.0.{i}" for i in range(1, 9)]
    model = {"host": {}, "day": {}, "port": {}, "alice_day": {}}
    pcap = os.path.join(tmp, "week.pcap")
    with PcapWriter(pcap) as w:
        for i in range(30000):
            ts = T0 + i * 20 + rnd.randrange(20)  # 30000 * 20 s ~ 7 days
            s, d = rnd.sample(hosts, 2)
            dport = rnd.choice([53, 123, 443])
            pkt = ipv4(s, d, 17, l4(17, 40000 + rnd.randrange(100), dport, b"r" * rnd.randrange(500)))
            w.write(ether(pkt, ETH_IPV4), ts)
            b = len(pkt)
            model["host"].setdefault(s, [0, 0])[1] += b
            model["host"].setdefault(d, [0, 0])[0] += b
            day = time.strftime("%Y-%m-%d", time.gmtime(ts - ts % 3600))
            model["day"][day] = model["day"].get(day, 0) + b
            model["port"][dport] = model["port"].get(dport, 0) + b
            if "10.7.0.3" in (s, d):
                a = model["alice_day"].setdefault(day, [0, 0])
                a[0 if d == "10.7.0.3" else 1] += b
    dyn = os.path.join(tmp, "dynip")
    os.makedirs(dyn)
    with open(os.path.join(dyn, "10.7.0.3"), "w") as f:
        f.write("alice\n")
    n = Nacct(nacctd, tmp, "rep", flush=300, fdelay=60,
              extra=f"dynamicip {dyn}\ndynamicnet 10.7.0.0/24\n")
    n.replay(pcap, interface="eth0")

    # Top hosts, all of them, as JSON.
    j = json.loads(rep(n, "hosts", "--top", "0", "--json").stdout)
    got = {o["host"]: [o["bytes_in"], o["bytes_out"]] for o in j}
    check(got == model["host"], "hosts --json: bytes in/out per host equal the model")
    check([o["host"] for o in j] == sorted(model["host"], key=lambda h: (-sum(model["host"][h]), h)),
          "... biggest first")
    t = rep(n, "hosts", "-n", "3").stdout.splitlines()
    check(len(t) == 4 and t[0].split()[0] == "HOST", "the table has a header and --top rows")

    # Ports as CSV.
    rows = list(csv.DictReader(io.StringIO(rep(n, "ports", "--csv").stdout)))
    check({int(r["port"]): int(r["bytes_in"]) for r in rows} == model["port"] and
          all(r["protocol"] == "udp" for r in rows), "ports --csv: bytes towards each service port")

    # Daily and monthly totals; a period.
    j = json.loads(rep(n, "daily", "--json").stdout)
    check({o["day"]: o["bytes"] for o in j} == model["day"], "daily totals equal the model")
    j = json.loads(rep(n, "monthly", "--json").stdout)
    check(j[0]["month"] == "2024-01" and j[0]["bytes"] == sum(model["day"].values()),
          "monthly total equals the sum of all traffic")
    j = json.loads(rep(n, "daily", "--json", "--since", "2024-01-03", "--until", "2024-01-04").stdout)
    check([o["day"] for o in j] == ["2024-01-03", "2024-01-04"] and
          all(o["bytes"] == model["day"][o["day"]] for o in j), "--since/--until select whole days")

    # One user over time (dynamicip), and one host by hour.
    j = json.loads(rep(n, "user", "alice", "--json").stdout)
    check({o["time"]: [o["bytes_in"], o["bytes_out"]] for o in j} == model["alice_day"],
          "user alice: in/out per day equal the model")
    j = json.loads(rep(n, "host", "10.7.0.3", "--by", "hour", "--json").stdout)
    check(len(j) > 100 and j[0]["time"].endswith(":00") and
          sum(o["bytes"] for o in j) == sum(model["host"]["10.7.0.3"]),
          "host --by hour: hourly buckets adding up to the host's traffic")

    # SVG charts are well-formed XML with one bar per bucket (two with in/out).
    svg = os.path.join(tmp, "alice.svg")
    rep(n, "user", "alice", "--svg", "-o", svg)
    root = ET.parse(svg).getroot()
    bars = [e for e in root.iter("{http://www.w3.org/2000/svg}rect") if e.get("fill") == "#4e79a7"]
    check(root.tag.endswith("svg") and len(bars) == len(model["alice_day"]) + 1,
          f"user --svg: a chart with one bar per day ({len(bars) - 1} days + legend)")
    root = ET.fromstring(rep(n, "daily", "--svg").stdout)
    check(root.tag.endswith("svg"), "daily --svg to standard output")

    # Usage errors.
    check("Unknown command" in rep(n, "bogus", rc=2).stderr, "an unknown command exits 2")
    check("not an IP address" in rep(n, "host", "nope", rc=2).stderr, "a bad host exits 2")
    check(rep(n, "hosts", "--svg", rc=2).returncode == 2, "--svg on a top list exits 2")
    check(rep(n, "daily", "--since", "2024-02-30", rc=2).returncode == 2, "an invalid date exits 2")
    r = subprocess.run([report, "-d", os.path.join(tmp, "missing.db")], capture_output=True, text=True)
    check(r.returncode == 1 and "does not exist" in r.stderr, "a missing database exits 1")
    test_bad_databases(tmp, n)


def test_bad_databases(tmp, n):
    """Every file that is not a nacct database says so (not "Structure needs cleaning" or
    "Input/output error"); permission denied says so (not "No such file")."""
    d = os.path.join(tmp, "bad")
    os.makedirs(d)
    files = {"text": b"hello\n", "empty": b"", "random": bytes(random.Random(3).randrange(256) for _ in range(8192)),
             "short": b"SQLite", "damaged": b"SQLite format 3\0" + b"\xff" * 2000,
             "a log": open(n.log, "rb").read()}
    for name, data in files.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
    con = sqlite3.connect(os.path.join(d, "other.db"))
    con.execute("CREATE TABLE t (x)")
    con.commit()
    con.close()
    os.mkfifo(os.path.join(d, "fifo"))
    os.mkdir(os.path.join(d, "dir"))
    wrong = ("Structure needs cleaning", "Input/output error", "No such file", "Protocol error")
    for name in list(files) + ["other.db", "fifo", "dir"]:
        r = subprocess.run([report, "-d", os.path.join(d, name), "hosts"], capture_output=True,
                           text=True, timeout=30)
        check(r.returncode == 1 and "is not a nacct database" in r.stderr,
              f"{name}: says it is not a nacct database ({r.stderr.strip()})")
        check(not any(w in r.stderr for w in wrong), f"{name}: no misleading cause")
    # Permission denied, as a user who cannot read the database.
    if os.geteuid() == 0 and shutil.which("setpriv"):
        os.chmod(n.db, 0o600)
        os.chmod(tmp, 0o755)
        os.chmod(n.dir, 0o755)
        r = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                            report, "-d", n.db, "hosts"], capture_output=True, text=True)
        check(r.returncode == 1 and "Permission denied" in r.stderr and
              not any(w in r.stderr for w in wrong),
              f"an unreadable database: permission denied ({r.stderr.strip()})")


run_test(main)
