#!/usr/bin/env python3
"""Configuration problems as systemd's convention wants them: bad values are warned about with
file:line and ignored while the rest applies; --check-config lists every problem and exits
non-zero (a key the console would refuse included); messages name the file the administrator
edits (--config-name), not the copy under /run/credentials; SIGHUP (systemctl reload) re-reads
the configuration, Lua included, keeps the old one when the new one does not load and says so
in the log and the status; makeKey() works without a key."""

import os
import signal
import sys

from harness import check, run_test, wait_until
from ta_harness import KEY, Trackalert, basic, run_cli

binary = sys.argv[1]

GOOD = """
setWebserverPassword("{pw}")
setNumLuaStates("many")          -- line 3: bad value, ignored
addACL("not-a-netmask")          -- line 4: bad value, ignored
setHistoryRetention("forever")   -- line 5: bad value, ignored
cronScheduleBackgroundFunc("*/5 * * * *", "x")  -- line 6: bad schedule, ignored
setCustomEndpoint("version", function(args) return true, {{v="{v}"}} end)
{extra}
"""


def main(tmp):
    edited = "/etc/tracksuite/trackalert.conf"

    # --check-config: every problem, with file:line, named as given by --config-name
    conf = os.path.join(tmp, "check.conf")
    with open(conf, "w") as f:
        f.write(GOOD.format(pw="super", v="1", extra='controlSocket("127.0.0.1:4999")\nsetKey("c2hvcnQ=")\n'))
    r = run_cli(binary, conf, "--check-config", "--config-name", edited)
    for line in (3, 4, 5, 6, 9):
        check(f"{edited}:{line}:" in r.stderr, f"--check-config reports line {line} ({r.stderr})")
    check("console would refuse" in r.stderr, "a controlSocket() without a valid key is a problem")
    check(r.returncode != 0 and "6 problems" in r.stderr, f"--check-config exits non-zero ({r.returncode})")
    check(conf not in r.stderr, "messages name the edited file, not the copy")
    with open(conf, "w") as f:
        f.write('setWebserverPassword("x")\n\nfunction (\n')
    r = run_cli(binary, conf, "--check-config", "--config-name", edited)
    check(r.returncode != 0 and f"{edited}:3:" in r.stderr, f"a syntax error names the edited file ({r.stderr})")

    # makeKey() needs no key and no server
    nokey = os.path.join(tmp, "nokey.conf")
    with open(nokey, "w") as f:
        f.write("-- nothing\n")
    r = run_cli(binary, nokey, "-e", "makeKey()")
    check(r.returncode == 0 and r.stdout.startswith('setKey("') and len(r.stdout.strip()) == 54,
          f"makeKey() without a key ({r.returncode} {r.stdout!r} {r.stderr})")

    # the daemon starts despite bad values, warns with file:line, applies the rest
    staged = os.path.join(tmp, "staged.conf")
    d = Trackalert(binary, tmp, GOOD.format(pw="super", v="1", extra=""),
                   args=["--config-name", edited, "--reload-config", staged]).start()
    st, j = d.custom("version")
    check(st == 200 and j["r_attrs"]["v"] == "1", f"the rest of the file applies ({st} {j})")
    log = d.logtext()
    check(f"{edited}:3: setNumLuaStates" in log and f"{edited}:6: cronSchedule" in log,
          "bad values are warned about with file:line of the edited file")

    # reload: a new file replaces the Lua code, the password, adds endpoints
    with open(d.config, "w") as f:
        f.write(GOOD.format(pw="new", v="2", extra='setCustomEndpoint("added", function(a) return true, {} end)'))
    d.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: "Reloaded the configuration" in d.logtext(), "the reload")
    st, j = d.custom("version", auth=basic(password="new"))
    check(st == 200 and j["r_attrs"]["v"] == "2", f"the reloaded Lua code and password ({st} {j})")
    check(d.custom("version")[0] == 401, "the old password no longer works")
    check(d.custom("added", auth=basic(password="new"))[0] == 200, "a new endpoint is served")

    # a broken file keeps the configuration in use and says why, naming the edited file
    with open(d.config, "w") as f:
        f.write('setWebserverPassword("broken")\nsetReport(function(lt)\n')
    d.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: "keeping the configuration in use" in d.logtext(), "the failed reload to be logged")
    check(f"{edited}:" in d.logtext().split("keeping the configuration in use")[0].splitlines()[-1],
          "the failed reload names the edited file and line")
    st, j = d.custom("version", auth=basic(password="new"))
    check(st == 200 and j["r_attrs"]["v"] == "2", "the old configuration still serves")

    # --reload-config: a staged copy (what the unit's ExecReload= hands over) wins
    with open(staged, "w") as f:
        f.write(GOOD.format(pw="staged", v="3", extra=""))
    d.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: d.logtext().count("Reloaded the configuration") >= 2, "the staged reload")
    st, j = d.custom("version", auth=basic(password="staged"))
    check(st == 200 and j["r_attrs"]["v"] == "3", f"the staged file is read on reload ({st} {j})")
    # reloads while reports and custom calls flow: no request fails, no memory error (ASan)
    import threading
    stop = threading.Event()
    statuses = []

    def flow():
        conn = d.connection()
        while not stop.is_set():
            statuses.append(d.report({"login": "flow", "remote": "192.0.2.5"}, auth=basic(password="staged"),
                                     conn=conn)[0])
            statuses.append(d.custom("version", auth=basic(password="staged"))[0])
        conn.close()
    threads = [threading.Thread(target=flow) for _ in range(3)]
    for t in threads:
        t.start()
    for i in range(5):
        n = d.logtext().count("Reloaded the configuration")
        d.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: d.logtext().count("Reloaded the configuration") > n, f"reload {i} under load")
    stop.set()
    for t in threads:
        t.join()
    check(statuses and all(st == 200 for st in statuses), f"every request during the reloads is served "
                                                          f"({len(statuses)}, {set(statuses)})")
    check("AddressSanitizer" not in d.logtext() and "runtime error" not in d.logtext(), "no memory error")
    check(d.stop() == 0, "clean stop after reloads")


run_test(main)
