#!/usr/bin/env python3
"""Malicious or broken policies: an endless loop, a memory bomb, deep recursion, a runaway
custom endpoint and background function. Each call is stopped and logged; the daemon lives on."""

import os
import sys
import time

from harness import check, run_test, wait_until
from ta_harness import Trackalert, run_cli

binary = sys.argv[1]

CONFIG = """
setWebserverPassword("super")
setLuaInstructionLimit(2000000)
setLuaMemoryLimit(16)
setReport(function(lt)
  if lt.login == "loop" then while true do end end
  if lt.login == "pcallloop" then while true do pcall(function() while true do end end) end end
  if lt.login == "bomb" then local t = {} local s = "x" while true do s = s .. s t[#t+1] = s end end
  if lt.login == "recurse" then local function f() return 1 + f() end f() end
  if lt.login == "rep" then local s = string.rep("x", 1024 * 1024 * 1024) end
end)
setCustomEndpoint("spin", function(args) while true do end end)
setBackground("bg", function() while true do end end)
intervalScheduleBackgroundFunc("00:00:01", "bg")
"""


def main(tmp):
    # an endless loop in the configuration itself: --check-config says where
    bad = os.path.join(tmp, "loop.conf")
    with open(bad, "w") as f:
        f.write("x = 1\nwhile true do x = x + 1 end\n")
    t0 = time.monotonic()
    r = run_cli(binary, bad, "--check-config", timeout=60)
    check(r.returncode == 1 and f"{bad}:2:" in r.stderr and "instruction budget" in r.stderr,
          f"an endless configuration is stopped with file:line ({r.stderr.strip()})")
    check(time.monotonic() - t0 < 30, "and promptly")

    d = Trackalert(binary, tmp, CONFIG).start()
    for login, what in [("loop", "instruction budget"), ("pcallloop", "instruction budget"),
                        ("bomb", "memory"), ("recurse", "memory"), ("rep", "memory")]:
        t0 = time.monotonic()
        st, _, body = d.report({"login": login})
        check(st == 200 and body == '{"status":"ok"}', f"a runaway '{login}' policy still answers ok")
        check(time.monotonic() - t0 < 10, f"'{login}' is stopped within seconds")
        wait_until(lambda: what in d.logtext(), f"'{login}' to be logged ({what})")
        st, _, _ = d.report({"login": "normal"})
        check(st == 200, f"a normal report works after '{login}'")
    st, j = d.custom("spin")
    check(st == 500 and j["success"] is False and "instruction budget" in j["reason"],
          f"a runaway custom endpoint is 500 ({j})")
    wait_until(lambda: "background function [bg] stopped" in d.logtext(), "the runaway background function to be stopped")
    # all the pool states still work in parallel
    import threading
    results = []

    def worker():
        for i in range(20):
            results.append(d.report({"login": "normal"})[0])
    ts = [threading.Thread(target=worker) for _ in range(8)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    check(results.count(200) == 160, f"160 parallel reports after the attacks ({results.count(200)})")
    check(d.alive(), "the daemon survived every attack")
    check(d.stop() == 0, "clean stop")


run_test(main)
