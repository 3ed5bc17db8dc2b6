#!/usr/bin/env python3
"""Background functions on cron schedules in a live daemon (local time, the original's five
fields of '*' or one number): "* * * * *" and a schedule naming the coming minute, day, month
and weekday fire at the start of that minute, in a pool state that can ask the history; one
naming another weekday does not. Takes up to about 70 seconds: cron runs on whole minutes."""

import sys
import time

from harness import check, run_test, wait_until
from ta_harness import Trackalert

binary = sys.argv[1]


def cron_fields(t):
    """min hour dom mon dow of a local time; cron counts weekdays from Sunday = 0."""
    lt = time.localtime(t)
    return lt.tm_min, lt.tm_hour, lt.tm_mday, lt.tm_mon, (lt.tm_wday + 1) % 7


def fired(d, name):
    """The unix times logged by the background function name."""
    out = []
    for line in d.logtext().splitlines():
        if line.startswith("cron fired:") and f'name="{name}"' in line:
            out.append(float(line.split('at="', 1)[1].split('"', 1)[0]))
    return out


def main(tmp):
    # the coming minute, at least 5 s away so that the daemon is up before it starts
    now = time.time()
    target = now - now % 60 + 60
    if target - now < 5:
        target += 60
    mi, h, dom, mon, dow = cron_fields(target)
    exact = f"{mi} {h} {dom} {mon} {dow}"
    wrong = f"{mi} {h} * * {(dow + 1) % 7}"
    config = f"""
setWebserverPassword("super")
addCustomStat("cron_runs")
local function fire(name)
  return function()
    incCustomStat("cron_runs")
    infoLog("cron fired", {{name=name, at=tostring(os.time()),
                           known=tostring(historySeenAddress("nobody", newCA("192.0.2.1")))}})
  end
end
setBackground("every", fire("every"))
setBackground("exact", fire("exact"))
setBackground("wrong", fire("wrong"))
cronScheduleBackgroundFunc("* * * * *", "every")
cronScheduleBackgroundFunc("{exact}", "exact")
cronScheduleBackgroundFunc("{wrong}", "wrong")
"""
    d = Trackalert(binary, tmp, config).start()
    check(time.time() < target, "the daemon is up before the target minute")
    got = wait_until(lambda: fired(d, "exact"), f"'{exact}' to fire", timeout=target - time.time() + 20,
                     interval=0.2)
    # os.time() is time(), a coarse clock that may still say the previous second
    check(len(got) == 1 and int(target) - 1 <= got[0] < target + 10,
          f"'{exact}' fired once at the start of its minute ({got} vs {target})")
    every = wait_until(lambda: fired(d, "every"), "'* * * * *' to fire", timeout=10)
    check(all(t >= int(target) - 61 for t in every) and len(every) <= 2,
          f"'* * * * *' fires on whole minutes ({every})")
    check(fired(d, "wrong") == [], f"'{wrong}' (another weekday) does not fire")
    check("known=\"false\"" in d.logtext(), "a background function can ask the history")
    st, _, body = d.request("GET", "/metrics")
    check('trackalert_custom_stats_total{metric="cron_runs"}' in body, "and count a custom stat")
    check(d.stop() == 0, "clean stop")


run_test(main)
