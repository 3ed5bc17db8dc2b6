#!/usr/bin/env python3
"""Long-term history: reports go to SQLite off the request path, the Lua questions answer from
it, and a restart keeps it."""

import sqlite3
import sys

from harness import check, run_test, wait_until
from ta_harness import Trackalert

binary = sys.argv[1]

CONFIG = """
setWebserverPassword("super")
setHistoryRetention("30d")
setCustomEndpoint("ask", function(args)
  local a = args.attrs
  local ca = newCA(a.ip)
  return true, {
    seen_addr = tostring(historySeenAddress(a.login, ca)),
    seen_net = tostring(historySeenNetwork(a.login, ca, 24)),
    seen_net_mask = tostring(historySeenNetwork(a.login, newNetmask(a.net or "0.0.0.0/32"))),
    seen_device = tostring(historySeenDevice(a.login, a.device or "")),
    seen_country = tostring(historySeenCountry(a.login, "DE")),
    failures = tostring(historyFailures(a.login, "1h")),
    addr_failures = tostring(historyAddressFailures(ca, 3600)),
    addr_reports = tostring(historyAddressReports(ca, "1d")),
    distinct = tostring(historyDistinctLogins(newNetmask(a.net or a.ip .. "/32"), "7d")),
  }
end)
"""


def rows(db):
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        return con.execute("SELECT count(*) FROM reports").fetchone()[0]
    except sqlite3.Error:
        return 0


def main(tmp):
    d = Trackalert(binary, tmp, CONFIG).start()
    for i in range(3):
        d.report({"login": "alice", "remote": "192.0.2.10", "success": False, "device_id": "dev1"})
    d.report({"login": "alice", "remote": "192.0.2.10", "success": True, "device_id": "dev1"})
    d.report({"login": "bob", "remote": "192.0.2.10", "success": False})
    d.report({"login": "carol", "remote": "192.0.2.99", "success": True})
    d.report({"login": "dave", "remote": "2001:db8::1", "success": False})
    wait_until(lambda: rows(d.db) == 7, "7 reports in the history")

    st, j = d.custom("ask", {"login": "alice", "ip": "192.0.2.10", "device": "dev1"})
    r = j["r_attrs"]
    check(r["seen_addr"] == "true" and r["seen_net"] == "true" and r["seen_device"] == "true",
          f"alice's address, network and device are known ({r})")
    check(r["failures"] == "3", f"alice has 3 failures in the last hour ({r['failures']})")
    check(r["addr_failures"] == "4" and r["addr_reports"] == "5", f"per-address counts ({r})")
    check(r["distinct"] == "2", f"two logins from 192.0.2.10 ({r['distinct']})")
    check(r["seen_country"] == "false", "no country without GeoIP")
    st, j = d.custom("ask", {"login": "alice", "ip": "192.0.2.200", "device": "dev2", "net": "192.0.2.0/24"})
    r = j["r_attrs"]
    check(r["seen_addr"] == "false" and r["seen_net"] == "true" and r["seen_device"] == "false",
          f"a new address in a known network, a new device ({r})")
    check(r["seen_net_mask"] == "true" and r["distinct"] == "3", f"netmask arguments ({r})")
    st, j = d.custom("ask", {"login": "dave", "ip": "2001:db8::ffff", "net": "2001:db8::/32"})
    r = j["r_attrs"]
    check(r["seen_addr"] == "false" and r["seen_net"] == "true", f"IPv6 /64 network ({r})")
    check(d.stop() == 0, "clean stop")

    # restart: the history is still there and grows
    d2 = Trackalert(binary, tmp, CONFIG).start()
    st, j = d2.custom("ask", {"login": "alice", "ip": "192.0.2.10"})
    check(j["r_attrs"]["seen_addr"] == "true" and j["r_attrs"]["failures"] == "3",
          f"after a restart the history answers the same ({j['r_attrs']})")
    d2.report({"login": "alice", "remote": "192.0.2.10", "success": False})
    wait_until(lambda: rows(d2.db) == 8, "the new report is added")
    st, j = d2.custom("ask", {"login": "alice", "ip": "192.0.2.10"})
    check(j["r_attrs"]["failures"] == "4", "failures continue across the restart")
    st, _, body = d2.request("GET", "/metrics")
    check('trackalert_history_reports_total{status="written"} 1' in body, "history metrics")
    check(d2.stop() == 0, "clean stop")

    # a burst is stored in full: nothing lost at shutdown
    d3 = Trackalert(binary, tmp, CONFIG).start()
    c = d3.connection()
    for i in range(500):
        d3.request("POST", "/command/report", body='{"login":"burst","remote":"198.51.100.1"}', conn=c)
    c.close()
    check(d3.stop() == 0, "clean stop after a burst")
    check(rows(d3.db) == 508, f"every report of the burst was stored ({rows(d3.db)})")


run_test(main)
