#!/usr/bin/env python3
"""-R FILE: device_id parsed with uap-core's regexes.yaml (and wforce's IMAP ID and mobile app
formats) into device_attrs, seen by the Lua report function and stored in the history's
device_family column; client-sent device_attrs win; reload on SIGHUP; broken files."""

import json
import os
import shutil
import signal
import sqlite3
import sys

from harness import check, run_test, skip, wait_until
from ta_harness import Trackalert, run_cli

binary = sys.argv[1]
REGEXES = "/usr/share/uap-core/regexes.yaml"

CONFIG = """
setWebserverPassword("super")
setReport(function(lt)
  local t = {}
  for k, v in pairs(lt.device_attrs) do t[#t + 1] = k .. "=" .. v end
  table.sort(t)
  infoLog("device", {login=lt.login, attrs=table.concat(t, ";")})
end)
"""

IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 16_5 like Mac OS X) AppleWebKit/605.1.15 "
          "(KHTML, like Gecko) Version/16.5 Mobile/15E148 Safari/604.1")


def attrs_logged(d, login):
    """The device_attrs the policy logged for login, as a dict, or None."""
    for line in d.logtext().splitlines():
        if f'login="{login}"' in line and line.startswith("device:"):
            a = line.split('attrs="', 1)[1].split('"', 1)[0]
            return dict(kv.split("=", 1) for kv in a.split(";") if kv)
    return None


def families(db):
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        return dict(con.execute("SELECT login, device_family FROM reports").fetchall())
    except sqlite3.Error:
        return {}


def main(tmp):
    if not os.path.exists(REGEXES):
        skip(f"{REGEXES} is not installed (Debian package uap-core)")
    regexes = os.path.join(tmp, "regexes.yaml")
    shutil.copy(REGEXES, regexes)

    # a broken file is refused with its line, at start and by --check-config
    bad = os.path.join(tmp, "bad.yaml")
    with open(bad, "w") as f:
        f.write("user_agent_parsers:\n  - regex: 'ok'\n  - regex: '(unclosed'\n")
    conf = os.path.join(tmp, "c.conf")
    with open(conf, "w") as f:
        f.write(CONFIG)
    r = run_cli(binary, conf, "-R", bad, "--check-config")
    check(r.returncode == 1 and f"{bad}: line 3: bad regex '(unclosed'" in r.stderr,
          f"--check-config -R names the line of a bad regex ({r.stderr.strip()})")
    r = run_cli(binary, conf, "-R", os.path.join(tmp, "missing.yaml"), "--check-config")
    check(r.returncode == 1 and "cannot open" in r.stderr, "a missing -R file is an error")
    r = run_cli(binary, conf, "-R", regexes, "--check-config")
    check(r.returncode == 0, f"--check-config -R with uap-core's file ({r.stderr.strip()})")

    d = Trackalert(binary, tmp, CONFIG, args=["-R", regexes]).start()
    check("device regexes" in d.logtext(), "the rules are loaded at start and logged")

    st, _, _ = d.report({"login": "web", "remote": "192.0.2.1", "protocol": "https",
                         "device_id": IPHONE})
    check(st == 200, "a web report with a user agent")
    a = wait_until(lambda: attrs_logged(d, "web"), "the policy to log the device_attrs")
    check(a == {"browser.family": "Mobile Safari", "browser.major": "16", "browser.minor": "5",
                "device.brand": "Apple", "device.family": "iPhone", "device.model": "iPhone",
                "os.family": "iOS", "os.major": "16", "os.minor": "5"},
          f"device_attrs parsed from the user agent ({a})")

    d.report({"login": "mail", "protocol": "imaps",
              "device_id": '"name" "Thunderbird" "version" "115.3.1" "os" "Linux"'})
    a = wait_until(lambda: attrs_logged(d, "mail"), "the IMAP report")
    check(a.get("imapc.family") == "Thunderbird" and a.get("imapc.major") == "115" and
          a.get("os.family") == "Linux", f"an IMAP ID string ({a})")

    d.report({"login": "app", "protocol": "mobileapi",
              "device_id": "OpenXchange.iOS.Mail/1.0.3 (OS: 10.0.3; device: iPhone 7 Plus)"})
    a = wait_until(lambda: attrs_logged(d, "app"), "the mobile app report")
    check(a.get("app.name") == "Mail" and a.get("os.family") == "iOS" and
          a.get("device.family") == "iPhone 7 Plus", f"a mobile app id ({a})")

    d.report({"login": "given", "protocol": "http", "device_id": IPHONE,
              "device_attrs": {"os.family": "Mine"}})
    a = wait_until(lambda: attrs_logged(d, "given"), "the report with device_attrs")
    check(a == {"os.family": "Mine"}, f"device_attrs sent by the client are kept as they are ({a})")

    d.report({"login": "pop", "protocol": "pop3", "device_id": IPHONE})
    wait_until(lambda: attrs_logged(d, "pop") is not None, "the pop3 report")
    check(attrs_logged(d, "pop") == {}, "other protocols are not parsed")

    # pop was reported last: once it is in the history, all of them are.
    fam = wait_until(lambda: (lambda f: f if "pop" in f else None)(families(d.db)),
                     "the reports in the history")
    check(fam["web"] == "iPhone" and fam["app"] == "iPhone 7 Plus" and fam["pop"] is None,
          f"the history's device_family column ({fam})")

    # reload: a broken file keeps the rules in use, a changed one is used
    shutil.copy(bad, regexes)
    d.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: "keeping the device rules in use" in d.logtext(), "the failed reload")
    d.report({"login": "web2", "protocol": "https", "device_id": IPHONE})
    a = wait_until(lambda: attrs_logged(d, "web2"), "a report after the failed reload")
    check(a.get("os.family") == "iOS", "the old rules still work after a failed reload")
    with open(regexes, "w") as f:
        f.write("user_agent_parsers:\n  - regex: '(iPhone)'\n    family_replacement: 'Phone'\n"
                "os_parsers: []\ndevice_parsers: []\n")
    d.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: "Reloaded device rules" in d.logtext(), "the reload")
    d.report({"login": "web3", "protocol": "https", "device_id": "iPhone " + IPHONE[:10]})
    a = wait_until(lambda: attrs_logged(d, "web3"), "a report after the reload")
    check(a.get("browser.family") == "Phone" and a.get("os.family") == "Other",
          f"the reloaded rules are used ({a})")
    check(d.alive(), "trackalert lives through the reloads")
    check(d.stop() == 0, "clean stop")


run_test(main)
