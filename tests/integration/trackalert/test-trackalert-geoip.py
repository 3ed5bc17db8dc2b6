#!/usr/bin/env python3
"""GeoIP2 with a MaxMind DB written by the test (mmdb_writer.py): every Lua lookup, misses,
the history's country column and historySeenCountry(), the documented example policy alerting
through a webhook on a success from a new country after many failures, and reloadGeoIPDBs()
over the console (a broken file keeps the database in use)."""

import json
import os
import sqlite3
import sys

from harness import check, run_test, wait_until
from mmdb_writer import Float32, Uint16, Uint64, write_mmdb
from ta_harness import KEY, Console, Sink, Trackalert, free_tcp_port, run_cli

binary = sys.argv[1]

BERLIN = {"country": {"iso_code": "DE", "names": {"en": "Germany"}},
          "continent": {"code": "EU"}, "subdivisions": [{"iso_code": "BE"}],
          "city": {"names": {"en": "Berlin"}}, "postal": {"code": "10115"},
          "location": {"latitude": Float32(52.52), "longitude": 13.405},
          "isp": "Example Carrier", "asn": 64500, "small": Uint16(7), "big": Uint64(1 << 40),
          "anycast": True}
NETWORKS = [("192.0.2.0/24", BERLIN),
            ("198.51.100.0/24", {"country": {"iso_code": "FR", "names": {"en": "France"}}}),
            ("2001:db8::/32", {"country": {"iso_code": "NL"}})]


def config(mmdb, sink_port, cport):
    return f"""
setWebserverPassword("super")
controlSocket("127.0.0.1:{cport}")
setKey("{KEY}")
newGeoIP2DB("country", "{mmdb}")
setHistoryGeoIPDB("country")
addCustomWebHook("alert", {{url="http://127.0.0.1:{sink_port}/alert", secret="s3cret"}})

-- the example policy of trackalert.conf(5), with a threshold the test can reach
setReport(function(lt)
  if not lt.success then return end
  local cc = getGeoIP2DB("country"):lookupCountry(lt.remote)
  if cc == "" or historySeenCountry(lt.login, cc) then return end
  local failures = historyFailures(lt.login, "24h")
  if failures >= 5 then
    runCustomWebHook("alert", string.format(
      '{{"login":"%s","remote":"%s","country":"%s","failures":%d}}',
      lt.login, lt.remote:tostring(), cc, failures))
    warnLog("new country after failures", {{login=lt.login, country=cc}})
  end
end)

setCustomEndpoint("geo", function(args)
  local db = getGeoIP2DB("country")
  local ca = newCA(args.attrs.ip)
  local c = db:lookupCity(ca)
  return true, {{
    country = db:lookupCountry(ca), isp = db:lookupISP(ca),
    cc = c.country_code, cn = c.country_name, region = c.region, city = c.city,
    postal = c.postal_code, continent = c.continent_code,
    lat = string.format("%.6f", c.latitude), lon = string.format("%.6f", c.longitude),
    s = db:lookupStringValue(ca, {{"country", "names", "en"}}),
    asn = tostring(db:lookupUIntValue(ca, {{"asn"}})),
    small = tostring(db:lookupUIntValue(ca, {{"small"}})),
    big = tostring(db:lookupUIntValue(ca, {{"big"}})),
    anycast = tostring(db:lookupBoolValue(ca, {{"anycast"}})),
    lon2 = string.format("%.3f", db:lookupDoubleValue(ca, {{"location", "longitude"}})),
    sub = db:lookupStringValue(ca, {{"subdivisions", "0", "iso_code"}}),
    seen_de = tostring(historySeenCountry(args.attrs.login or "", "DE")),
    seen_fr = tostring(historySeenCountry(args.attrs.login or "", "FR")),
  }}
end)
"""


def countries(db):
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        return con.execute("SELECT login, country FROM reports ORDER BY rowid").fetchall()
    except sqlite3.Error:
        return []


def main(tmp):
    mmdb = os.path.join(tmp, "test-country.mmdb")
    write_mmdb(mmdb, NETWORKS)
    sink = Sink()
    cport = free_tcp_port()
    d = Trackalert(binary, tmp, config(mmdb, sink.port, cport)).start()

    st, j = d.custom("geo", {"ip": "192.0.2.44"})
    r = j["r_attrs"]
    check(st == 200 and r["country"] == "DE" and r["cc"] == "DE" and r["cn"] == "Germany",
          f"lookupCountry() and lookupCity() country ({r})")
    check(r["city"] == "Berlin" and r["region"] == "BE" and r["postal"] == "10115" and
          r["continent"] == "EU", f"lookupCity() city, region, postal code, continent ({r})")
    # the original keeps coordinates as float: 52.52 comes back as 52.520000762939
    check(r["lat"] == "52.520000" and r["lon"] == "13.405000", f"coordinates ({r})")
    check(r["isp"] == "Example Carrier" and r["s"] == "Germany" and r["sub"] == "BE",
          f"lookupISP() and lookupStringValue() with a path ({r})")
    check(r["asn"] == "64500" and r["small"] == "7" and r["big"] == str(1 << 40),
          f"lookupUIntValue() of uint32, uint16 and uint64 ({r})")
    check(r["anycast"] == "true" and r["lon2"] == "13.405", f"lookupBoolValue(), lookupDoubleValue() ({r})")

    st, j = d.custom("geo", {"ip": "2001:db8::7"})
    check(j["r_attrs"]["country"] == "NL", f"an IPv6 address ({j['r_attrs']})")
    st, j = d.custom("geo", {"ip": "::ffff:198.51.100.9"})
    check(j["r_attrs"]["country"] == "FR", "an IPv4-mapped address is looked up as IPv4")
    st, j = d.custom("geo", {"ip": "203.0.113.1"})
    r = j["r_attrs"]
    check(r["country"] == "" and r["isp"] == "" and r["asn"] == "0" and r["anycast"] == "false" and
          r["lat"] == "0.000000", f"a miss gives '', 0 and false like the original ({r})")
    st, j = d.custom("geo", {"ip": "198.51.100.9"})
    r = j["r_attrs"]
    check(r["country"] == "FR" and r["city"] == "" and r["asn"] == "0",
          f"a record without the field ({r})")

    # history: the country column, historySeenCountry(), and the example policy
    for i in range(6):
        d.report({"login": "eve", "remote": "198.51.100.7", "success": False})
    d.report({"login": "eve", "remote": "198.51.100.7", "success": True})
    d.report({"login": "bob", "remote": "203.0.113.5", "success": True})
    d.report({"login": "dan", "remote": "2001:db8::2", "success": True})
    rows = wait_until(lambda: (lambda r: r if len(r) == 9 else None)(countries(d.db)),
                      "9 reports in the history")
    check([c for _, c in rows] == ["FR"] * 7 + [None, "NL"],
          f"the country column from the GeoIP2 database ({rows})")
    # eve's success from France came after failures from France: not a new country
    st, j = d.custom("geo", {"ip": "192.0.2.1", "login": "eve"})
    check(j["r_attrs"]["seen_fr"] == "true" and j["r_attrs"]["seen_de"] == "false",
          f"historySeenCountry() ({j['r_attrs']})")
    n_alerts = len(sink.requests)

    # now a success from Germany, new for eve, after 6 failures: the webhook fires
    st, _, _ = d.report({"login": "eve", "remote": "192.0.2.9", "success": True})
    check(st == 200, "a success from a new country")
    wait_until(lambda: len(sink.requests) > n_alerts, "the alert webhook")
    path, headers, body = sink.requests[-1]
    j = json.loads(body)
    check(path == "/alert" and j == {"login": "eve", "remote": "192.0.2.9", "country": "DE",
                                     "failures": 6}, f"the alert ({path} {body})")
    check("x-wforce-signature" in headers, "the alert is signed")
    wait_until(lambda: 'new country after failures: ' in d.logtext(), "the warning in the log")
    wait_until(lambda: len(countries(d.db)) == 10, "the report in the history")
    # a second success from Germany is not new any more
    d.report({"login": "eve", "remote": "192.0.2.10", "success": True})
    wait_until(lambda: len(countries(d.db)) == 11, "the next report in the history")
    check(len(sink.requests) == n_alerts + 1, "no alert for a country seen before")

    # reloadGeoIPDBs() over the console: a new file is used, a broken one keeps the old
    c = Console(cport)
    write_mmdb(mmdb, [("192.0.2.0/24", {"country": {"iso_code": "AT"}})])
    out = c.command("reloadGeoIPDBs()")
    check(out == "reloadGeoIPDBs() successful\n", f"reloadGeoIPDBs() ({out!r})")
    st, j = d.custom("geo", {"ip": "192.0.2.44"})
    check(j["r_attrs"]["country"] == "AT", f"the reloaded database answers ({j['r_attrs']})")
    st, j = d.custom("geo", {"ip": "198.51.100.9"})
    check(j["r_attrs"]["country"] == "", "networks gone from the new file are gone")
    d.report({"login": "zed", "remote": "192.0.2.3", "success": True})
    wait_until(lambda: (countries(d.db) or [(0, 0)])[-1] == ("zed", "AT"),
               "the history uses the reloaded database")
    # replaced atomically, as geoipupdate does (the database in use is mapped from the old file)
    with open(mmdb + ".new", "wb") as f:
        f.write(b"not a maxmind database")
    os.replace(mmdb + ".new", mmdb)
    out = c.command("reloadGeoIPDBs()")
    check("reloadGeoIPDBs() failed" in out and "country" in out, f"a broken file fails ({out!r})")
    st, j = d.custom("geo", {"ip": "192.0.2.44"})
    check(j["r_attrs"]["country"] == "AT", "and the database in use stays")
    c.close()
    check(d.alive(), "trackalert lives on")
    check(d.stop() == 0, "clean stop")

    # a missing database at start is a configuration error with file:line
    d2 = Trackalert(binary, tmp, f'setWebserverPassword("x")\nnewGeoIP2DB("x", "{tmp}/none.mmdb")\n',
                    name="missing")
    r = run_cli(binary, d2.config, "--check-config")
    check(r.returncode == 1 and f"{d2.config}:2:" in r.stderr and "none.mmdb" in r.stderr,
          f"a missing database is reported with file:line ({r.stderr.strip()})")
    sink.close()


run_test(main)
