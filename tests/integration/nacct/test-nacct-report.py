#!/usr/bin/env python3
"""nacct-report over a database nacctd -r wrote from a generated week of traffic: top lists,
daily and monthly totals, one host and one user over time, in table, JSON, CSV and SVG, all
checked against an independent model of the generated packets; usage errors."""

import csv
import io
import json
import math
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
            # The user of a flow is the source's, else the destination's (10.7.0.3 is alice;
            # 10.7.0.4 and 10.7.0.5 have users too).
            if s == "10.7.0.3" or (d == "10.7.0.3" and s not in ("10.7.0.4", "10.7.0.5")):
                a = model["alice_day"].setdefault(day, [0, 0])
                a[0 if d == "10.7.0.3" else 1] += b
    dyn = os.path.join(tmp, "dynip")
    os.makedirs(dyn)
    with open(os.path.join(dyn, "10.7.0.3"), "w") as f:
        f.write("alice\n")
    # A user name that a spreadsheet would run as a formula.
    with open(os.path.join(dyn, "10.7.0.4"), "w") as f:
        f.write("=HYPERLINK(\"http://x/\";\"y\")\n")
    with open(os.path.join(dyn, "10.7.0.5"), "w") as f:
        f.write("@SUM(A1)\n")
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

    # --csv never hands a spreadsheet a formula: a leading ' on =, +, -, @ cells.
    text = rep(n, "users", "--csv", "--top", "0").stdout
    rows = list(csv.reader(io.StringIO(text)))
    names = [r[0] for r in rows[1:]]
    check("'=HYPERLINK(\"http://x/\";\"y\")" in names and "'@SUM(A1)" in names and "alice" in names,
          f"users --csv: formula-like user names are neutralised ({names})")
    check(all(not n_[:1] in ("=", "+", "-", "@", "\t", "\r") for n_ in names),
          "users --csv: no cell starts like a formula")
    j = json.loads(rep(n, "users", "--json", "--top", "0").stdout)
    check("=HYPERLINK(\"http://x/\";\"y\")" in [o["user"] for o in j], "... JSON keeps the name as it is")

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
    test_charts(tmp, n)

    # Usage errors.
    check("Unknown command" in rep(n, "bogus", rc=2).stderr, "an unknown command exits 2")
    check("not an IP address" in rep(n, "host", "nope", rc=2).stderr, "a bad host exits 2")
    check(rep(n, "hosts", "--svg", rc=2).returncode == 2, "--svg on a top list exits 2")
    check(rep(n, "daily", "--since", "2024-02-30", rc=2).returncode == 2, "an invalid date exits 2")
    r = subprocess.run([report, "-d", os.path.join(tmp, "missing.db")], capture_output=True, text=True)
    check(r.returncode == 1 and "does not exist" in r.stderr, "a missing database exits 1")
    test_bad_databases(tmp, n)


SVG = "{http://www.w3.org/2000/svg}"
ARTIFACTS = os.environ.get("NACCT_ARTIFACTS") or None


def check_chart(path, what, unit_words):
    """What a reader needs: round y ticks (0, s, 2s, ... with s = 1, 2 or 5 times a power of
    ten), time labels that neither repeat nor overlap nor leave the image, axis titles."""
    root = ET.parse(path).getroot()
    width = float(root.get("width"))
    texts = [(float(e.get("x", 0)), float(e.get("y", 0)), "".join(e.itertext()), e)
             for e in root.iter(SVG + "text")]
    ticks = [t for x, y, t, e in texts if e.get("text-anchor") == "end"]
    vals = [float(t) for t in ticks]
    step = vals[1] - vals[0] if len(vals) > 1 else 0
    mant = step / 10 ** math.floor(math.log10(step)) if step > 0 else 0
    check(len(vals) >= 2 and vals[0] == 0 and any(abs(mant - m) < 1e-6 for m in (1, 2, 5)) and
          all(abs(vals[i] - i * step) < step * 1e-6 for i in range(len(vals))),
          f"{what}: round y ticks {ticks}")
    base_y = max(y for x, y, t, e in texts if e.get("text-anchor") == "middle" and
                 e.get("font-weight") is None and "one bar per" not in t and t != "no traffic in this period"
                 ) if len(texts) else 0
    line1 = sorted((x, t) for x, y, t, e in texts if e.get("text-anchor") == "middle" and y == base_y)
    line2 = [(x, t) for x, y, t, e in texts if e.get("font-weight") == "bold" and e.get("text-anchor") == "middle"]
    check(len(line1) >= 2, f"{what}: time labels ({len(line1)})")
    gaps = [b[0] - a[0] for a, b in zip(line1, line1[1:])]
    widest = max(len(t) for x, t in line1) * 7.2
    check(min(gaps) >= widest, f"{what}: time labels do not overlap (closest {min(gaps):.1f} px, widest {widest:.1f} px)")
    check(all(a[1] != b[1] for a, b in zip(line1, line1[1:])), f"{what}: no label repeats its neighbour")
    check(len({t for x, t in line2}) == len(line2), f"{what}: the date/year line names each period once {line2}")
    for x, t in line1 + line2:
        half = len(t) * 7.2 / 2
        check(x - half >= 0 and x + half <= width, f"{what}: label {t!r} fits in the image")
    titles = [t for x, y, t, e in texts if "transform" in e.attrib and "rotate(-90)" in e.get("transform")]
    check(titles and any(u in titles[0] for u in unit_words), f"{what}: a y axis title with the unit ({titles})")
    check(any("one bar per" in t for x, y, t, e in texts), f"{what}: an x axis title")
    if ARTIFACTS:
        png = os.path.join(ARTIFACTS, os.path.basename(path)[:-4] + ".png")
        r = subprocess.run(["rsvg-convert", "-o", png, path], capture_output=True, text=True)
        check(r.returncode == 0 and os.path.getsize(png) > 1000, f"{what}: rendered to {png} ({r.stderr.strip()})")


def test_charts(tmp, n):
    charts = [("chart-user-daily", ["user", "alice"], ("KiB", "MiB", "B per")),
              ("chart-host-hourly", ["host", "10.7.0.3", "--by", "hour"], ("KiB", "MiB", "B per")),
              ("chart-timeline-hourly-bits", ["timeline", "--by", "hour", "--bits"], ("bit/s",)),
              ("chart-daily", ["daily"], ("KiB", "MiB", "B per")),
              ("chart-user-bits", ["user", "alice", "--bits"], ("bit/s",))]
    # A year and a half, a few packets a day: daily and monthly charts over long periods.
    pcap = os.path.join(tmp, "long.pcap")
    with PcapWriter(pcap) as w:
        for d in range(540):
            for k in range(1 + d % 5):
                w.write(ether(ipv4("10.8.0.1", "10.8.0.2", 17, l4(17, 5000, 53, b"l" * (100 * k + d))),
                              ETH_IPV4), T0 - 200 * 86400 + d * 86400 + k * 60)
    long = Nacct(nacctd, tmp, "long", flush=3600, fdelay=60)
    long.replay(pcap)
    charts_long = [("chart-long-daily", ["daily", "--since", "2023-06-01", "--until", "2024-12-31"], ("B per", "KiB")),
                   ("chart-long-monthly", ["monthly", "--since", "2023-06-01", "--until", "2024-12-31"], ("B per", "KiB")),
                   ("chart-long-monthly-bits", ["monthly", "--since", "2023-06-01", "--until", "2024-12-31", "--bits"], ("bit/s",))]
    for name, args, units in [(c, a, u) for c, a, u in charts] + [(c, a, u) for c, a, u in charts_long]:
        path = os.path.join(tmp, name + ".svg")
        rep(long if name.startswith("chart-long") else n, *args, "--svg", "-o", path)
        check_chart(path, name, units)
    check(rep(n, "daily", "--bits", rc=2).returncode == 2, "--bits without --svg is a usage error")


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
