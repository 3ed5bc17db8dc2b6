#!/usr/bin/env python3
"""The console: an independent PyNaCl client speaking the original's protocol runs every
console command; `trackalert -e` and `-c`; a wrong key is refused; shutdown() stops the server."""

import os
import subprocess
import sys

from harness import check, run_test, wait_until
from ta_harness import KEY, Console, Trackalert, free_tcp_port, run_cli

binary = sys.argv[1]


def main(tmp):
    cport = free_tcp_port()
    config = f"""
setWebserverPassword("super")
controlSocket("127.0.0.1:{cport}")
setKey("{KEY}")
addACL("192.0.2.0/24")
addCustomStat("zeta")
addCustomStat("hits")
addCustomStat("alpha")
addCustomWebHook("hook", {{url="http://127.0.0.1:1/x"}})
counter = 0
setReport(function(lt) counter = counter + 1 incCustomStat("hits") end)
setCustomEndpoint("zz", function(args) return true, {{}} end)
setCustomEndpoint("a_very_long_custom_endpoint_name_over_30", function(args) return true, {{}} end)
setCustomEndpoint("peek", function(args) return true, {{counter=tostring(counter), v=tostring(redefined or "no")}} end)
"""
    d = Trackalert(binary, tmp, config).start()
    for i in range(3):
        d.report({"login": "u", "remote": "192.0.2.1"})
    c = Console(cport)
    out = c.command("makeKey()")
    check(out.startswith('setKey("') and out.endswith('")\n') and len(out) == 55, f"makeKey() ({out!r})")
    check(c.command("stats()") == "3 reports\n", "stats()")
    acl = c.command("showACL()").splitlines()
    check(acl[:9] == ["127.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "169.254.0.0/16", "192.168.0.0/16",
                      "172.16.0.0/12", "::1/128", "fc00::/7", "fe80::/10"] and acl[9] == "192.0.2.0/24",
          f"showACL() lists the private ranges and addACL() ({acl})")
    hooks = c.command("showCustomWebHooks()").splitlines()
    check(hooks[0].split() == ["ID", "Name", "Successes", "Failures", "URL"] and hooks[1].split()[:2] == ["1", "hook"],
          f"showCustomWebHooks() ({hooks})")
    perf = c.command("showPerfStats()")
    check("WTR_0_1=" in perf and "WTW_Slow=0" in perf and len(perf.splitlines()) == 10, "showPerfStats()")
    cmds = c.command("showCommandStats()")
    names = [l.split("=")[0] for l in cmds.splitlines()]
    check("report=3" in cmds and "peek=0" in cmds and names == sorted(names),
          f"showCommandStats() is sorted by name, as the original's ({cmds!r})")
    check(c.command("showCustomStats()") == "alpha=0\nhits=3\nzeta=0\n", "showCustomStats() is sorted")
    check(c.command("showVersion()").startswith("trackalert "), "showVersion()")
    eps = c.command("showCustomEndpoints()")
    check(eps == "".join(f"{n:<30.30} \n" for n in ["Custom Endpoint", "a_very_long_custom_endpoint_name_over_30",
                                                      "peek", "zz"]),
          f"showCustomEndpoints() padded to 30 columns and sorted, as the original ({eps!r})")
    check(c.command('testCrypto("abc")') == "Everything is ok!\n", "testCrypto()")
    check(c.command("reloadGeoIPDBs()") == "reloadGeoIPDBs() successful\n", "reloadGeoIPDBs() with no databases")
    check(c.command("return 6*7") == "42\n", "a returned value is printed")
    check(c.command("return tostring(counter)") == "0\n", "the console sees the global state, as the original")
    err = c.command("error('bad')")
    check(err.startswith("Error: ") and "bad" in err, f"a Lua error ({err!r})")
    check(c.command("return {}").startswith("Command returned an object we can't print"), "unprintable result")
    check(c.command("nosuchfunction()").startswith("Error: "), "an unknown function")
    # a console line runs in every pool state: redefining a global reaches the policies
    c.command('redefined = "yes"')
    st, j = d.custom("peek")
    check(j["r_attrs"]["v"] == "yes", f"a console assignment reaches the pool states ({j})")
    c.command("setReport(function(lt) counter = counter + 100 end)")
    d.report({"login": "u"})
    st, j = d.custom("peek")
    check(j["r_attrs"]["counter"] in ("103", "100"), f"setReport() from the console replaces the policy ({j})")
    c.command('addACL("198.51.100.0/24")')
    check("198.51.100.0/24" in c.command("showACL()"), "addACL() at run time")
    big = c.command('return string.rep("x", 100000)')
    check(len(big) == 65535 - 16, f"a response over 64 KiB is cut to one frame ({len(big)})")
    check(c.command("stats()") == "4 reports\n", "the connection survives a large answer")
    c.close()

    # the same through `trackalert -e` and `-c` with the same config file
    r = run_cli(binary, d.config, "-e", "stats()")
    check(r.returncode == 0 and r.stdout == f"Connecting to 127.0.0.1:{cport}\n4 reports\n\n",
          f"trackalert -e prints the original's banner and answer ({r.returncode} {r.stdout!r} {r.stderr})")
    for failing in ["error('x')", "nosuchfunction()", "return {}", "this is not lua"]:
        r = run_cli(binary, d.config, "-e", failing)
        check(r.returncode != 0 and "Connecting to" in r.stdout,
              f"trackalert -e {failing!r} exits non-zero ({r.returncode} {r.stdout!r})")
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=0", HOME=tmp)
    r = subprocess.run([binary, "-c", d.config], input="showVersion()\n\nstats()\nquit\n", capture_output=True,
                       text=True, timeout=20, env=env)
    check(r.returncode == 0 and "trackalert " in r.stdout and "4 reports" in r.stdout,
          f"trackalert -c reads commands from stdin ({r.stdout!r} {r.stderr})")

    # a wrong key: the server closes the connection
    wrong = Console(cport, key="AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
    try:
        wrong.command("stats()")
        check(False, "a wrong key is refused")
    except ConnectionError:
        check(True, "a wrong key is refused")
    wait_until(lambda: "cannot decrypt" in d.logtext(), "the wrong key to be logged")
    badconf = os.path.join(tmp, "nokey.conf")
    with open(badconf, "w") as f:
        f.write(f'controlSocket("127.0.0.1:{cport}")\n')
    r = run_cli(binary, badconf, "-e", "stats()")
    check(r.returncode == 1 and "setKey" in r.stderr, "the client without a key says so")

    c = Console(cport)
    c.command("shutdown()")
    wait_until(lambda: not d.alive(), "shutdown() to stop the server")
    check(d.proc.returncode == 0, "shutdown() is a clean exit")


run_test(main)
