#!/usr/bin/env python3
"""Whatever a report contains, other reports and livez keep being answered and SIGTERM stops
the daemon at once: a plausible policy's pattern searches (find, match, gmatch, gsub, as
functions and as methods, on the login and on attributes) against 80 kB and 1 MB values, and a
policy that loops through C functions. Linear pattern uses of long strings keep working."""

import json
import signal
import sys
import threading
import time

from harness import check, run_test, wait_until
from ta_harness import Trackalert

binary = sys.argv[1]

CONFIG = r"""
setWebserverPassword("super")
setNumLuaStates(6)
addCustomStat("ok")
addCustomStat("linear")
setReport(function(lt)
  local kind = lt.attrs.kind or ""
  if kind == "find" then lt.login:find("[%w%.]+@[%w%.]+")
  elseif kind == "match" then string.match(lt.login, "(%w+)%s*=%s*(%w+)")
  elseif kind == "gmatch" then for a, b in lt.login:gmatch("(%w+)@(%w+)") do end
  elseif kind == "gsub" then lt.login:gsub("(%w+)%s+$", "")
  elseif kind == "attr" then (lt.attrs.v or ""):find(".-.-x")
  elseif kind == "pcall" then pcall(string.find, lt.login, "[%w%.]+@[%w%.]+") lt.login:find("[%w%.]+@[%w%.]+")
  elseif kind == "crep" then local s = "" while true do s = string.rep("y", 1000) .. s:sub(1, 100000) end
  elseif kind == "linear" then
    local n = #lt.login:gsub("%s+", "")
    local a = lt.login:find("@", 1, true)
    local b = lt.login:match("^(%w+)")
    if n > 0 and a and b then incCustomStat("linear") end
  else incCustomStat("ok") end
end)
"""


def main(tmp):
    d = Trackalert(binary, tmp, CONFIG).start()
    big = "a" * (1 << 20) + "@b"
    mid = "a." * 40000
    hostile = []
    for size, login in (("80k", mid), ("1M", big[:1000000])):
        for kind in ("find", "match", "gmatch", "gsub", "pcall"):
            hostile.append({"login": login + " " * 1000 + "=", "remote": "192.0.2.1", "attrs": {"kind": kind}})
        hostile.append({"login": "x", "remote": "192.0.2.1", "attrs": {"kind": "attr", "v": login}})
    hostile.append({"login": "x", "remote": "192.0.2.1", "attrs": {"kind": "crep"}})

    results = []

    def send(doc):
        results.append(d.report(doc, conn=d.connection(timeout=120))[0])

    threads = [threading.Thread(target=send, args=(doc,)) for doc in hostile]
    for t in threads:
        t.start()
    # while they are in, normal reports and livez are answered
    for i in range(5):
        st, _, body = d.report({"login": f"user{i}", "remote": "192.0.2.2"}, conn=d.connection(timeout=15))
        check(st == 200, f"a normal report is answered during the hostile ones ({st})")
        st, _, _ = d.request("GET", "/command/livez", auth=None, conn=d.connection(timeout=15))
        check(st == 200, "livez is answered during the hostile ones")
    for t in threads:
        t.join(60)
    check(not any(t.is_alive() for t in threads), "every hostile report is answered")
    check(all(st == 200 for st in results), f"hostile reports still answer ok ({results})")
    wait_until(lambda: "could take" in d.logtext() and "time limit of 1000 ms exceeded" in d.logtext(),
               "the refused pattern and the time limit to be logged")

    # long strings with linear patterns still work
    st, _, _ = d.report({"login": "user " * 200000 + "@x", "remote": "192.0.2.3", "attrs": {"kind": "linear"}})
    check(st == 200, "a report with a long login")
    wait_until(lambda: 'trackalert_custom_stats_total{metric="linear"} 1' in d.request("GET", "/metrics")[2],
               "linear pattern functions on a 1 MB string to succeed")

    # SIGTERM while hostile reports run: the daemon stops at once
    threads = [threading.Thread(target=send, args=(doc,)) for doc in hostile]
    for t in threads:
        t.start()
    wait_until(lambda: len(d.logtext()) > 0, "the reports to be sent")
    rc = d.stop(signal.SIGTERM, timeout=10)
    check(rc == 0, f"SIGTERM during hostile reports is a clean, prompt exit ({rc})")
    for t in threads:
        t.join(30)


run_test(main)
