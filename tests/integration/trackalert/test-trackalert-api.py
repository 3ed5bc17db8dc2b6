#!/usr/bin/env python3
"""trackalert's REST API with real HTTP clients: every endpoint in both path forms, the error
paths and bodies of the original, Basic auth and ACL, the 1 MiB limit, keep-alive, slow clients,
Prometheus metrics, --check-config with file:line, SIGTERM."""

import json
import os
import socket
import subprocess
import sys
import time

from harness import check, recv_until_closed, run_test, wait_until
from ta_harness import KEY, Console, Trackalert, basic, free_tcp_port, run_cli

binary = sys.argv[1]

CONFIG = """
setWebserverPassword("super")
addCustomStat("reports_seen")
count = 0
setReport(function(lt)
  count = count + 1
  incCustomStat("reports_seen")
  if lt.login == "boom" then error("policy exploded") end
  if lt.login == "check" then
    assert(lt.remote:tostring() == "192.0.2.7", "remote")
    assert(lt.success == true and lt.tls == false and lt.pwhash == "ph", "bools")
    assert(lt.attrs.a == "1" and lt.attrs_mv.m[2] == "y", "attrs")
    assert(lt.device_attrs["os.family"] == "Linux", "device_attrs")
    assert(lt.t == 12.5 and lt.protocol == "imap" and lt.session_id == "s", "t")
    infoLog("checked", {login=lt.login})
  end
end)
setCustomEndpoint("custom", function(args)
  if args.attrs.fail == "lua" then error("custom \\"quoted\\" failure") end
  if args.attrs.fail == "false" then return false, {} end
  return true, {count=tostring(count), echo=args.attrs.x or "", n=#(args.attrs_mv.l or {})}
end)
"""


def main(tmp):
    # --check-config: good file, then syntax and runtime errors with file:line.
    good = os.path.join(tmp, "good.conf")
    with open(good, "w") as f:
        f.write(CONFIG)
    r = run_cli(binary, good, "--check-config")
    check(r.returncode == 0 and "OK" in r.stdout, f"--check-config accepts a good file ({r.stderr})")
    bad = os.path.join(tmp, "bad.conf")
    with open(bad, "w") as f:
        f.write('setWebserverPassword("x")\n\nfunction (\n')
    r = run_cli(binary, bad, "--check-config")
    check(r.returncode == 1 and f"{bad}:3:" in r.stderr, f"a syntax error is file:line ({r.stderr.strip()})")
    with open(bad, "w") as f:
        f.write('-- comment\ncronScheduleBackgroundFunc("*/5 * * * *", "x")\n')
    r = run_cli(binary, bad, "--check-config")
    check(r.returncode == 1 and f"{bad}:2:" in r.stderr and "cronSchedule" in r.stderr,
          f"a bad cron schedule is file:line ({r.stderr.strip()})")
    with open(bad, "w") as f:
        f.write('addListener("localhost:80", false)\n')
    r = run_cli(binary, bad, "--check-config")
    check(r.returncode == 1 and f"{bad}:1:" in r.stderr, f"a host name listener is refused ({r.stderr.strip()})")
    r = subprocess.run([binary, "--help"], capture_output=True, text=True)
    check(r.returncode == 0 and all(o in r.stdout for o in ["-C", "-c", "-e", "-R", "-l", "-f"]),
          "--help lists the options")

    d = Trackalert(binary, tmp, CONFIG).start()

    # report, both path forms
    st, h, body = d.report({"login": "alice", "remote": "192.0.2.1", "success": True})
    check(st == 200 and body == '{"status":"ok"}', f"report answers ok ({st} {body})")
    check(h.get("content-type") == "application/json; charset=utf-8", "report is JSON")
    st, _, body = d.request("POST", "/?command=report", body='{"login":"bob"}')
    check(st == 200 and body == '{"status":"ok"}', "the legacy /?command=report works")
    st, _, body = d.report({"login": "check", "remote": "192.0.2.7", "success": True, "pwhash": "ph",
                            "attrs": {"a": "1", "m": ["x", "y"]}, "device_attrs": {"os.family": "Linux"},
                            "t": 12.5, "protocol": "imap", "session_id": "s"})
    check(st == 200, "a full LoginTuple is accepted")
    wait_until(lambda: 'checked: login="check"' in d.logtext(), "the policy to see every field")

    # the original's edge behaviour
    st, _, body = d.request("POST", "/command/report", body="[1,2]")
    check(st == 200 and body == '{"status":"ok"}', "a JSON array is an empty report, accepted")
    st, _, body = d.request("POST", "/command/report", body='{"login":1,"success":"yes"}')
    check(st == 200, "wrong types are defaults, accepted")
    st, _, body = d.request("POST", "/command/report", body='{bad')
    j = json.loads(body)
    check(st == 500 and j == {"status": "failure", "reason": "expected '\"' in object, got 'b' (98)"},
          f"bad JSON is 500 with json11's reason ({body})")
    st, _, body = d.request("POST", "/command/report", body='')
    check(st == 500 and "unexpected end of input" in body, f"an empty body is 500 ({body})")
    # a remote that is not an address: 200 ok as the original, report() not run, not counted
    # as a report, counted as ignored
    before = json.loads(d.request("GET", "/command/stats")[2])["reports"]
    bad_remotes = ["not-an-ip", "", "999.1.2.3", "1.2.3.4.5", "::g", "host.example", "1.2.3.4\n",
                   "192.0.2.1/24", "\u202e1.2.3.4"]
    for remote in bad_remotes:
        st, _, body = d.request("POST", "/command/report", body=json.dumps({"login": "badremote", "remote": remote}))
        check(st == 200 and body == '{"status":"ok"}', f"a bad remote {remote!r} is 200 ok as the original ({st} {body})")
    after = json.loads(d.request("GET", "/command/stats")[2])["reports"]
    check(after == before, f"reports with a bad remote do not run report() nor count ({before} {after})")
    _, _, metrics = d.request("GET", "/metrics")
    check(f'trackalert_reports_ignored_total{{reason="bad_remote"}} {len(bad_remotes)}' in metrics,
          "they are counted as ignored")
    wait_until(lambda: "Report ignored: remote is not an IP address" in d.logtext(), "they are logged")
    st, _, body = d.report({"login": "boom"})
    check(st == 200 and body == '{"status":"ok"}', "a Lua error still answers ok")
    wait_until(lambda: "policy exploded" in d.logtext(), "the Lua error to be logged")
    deep = "[" * 202 + "]" * 202
    st, _, body = d.request("POST", "/command/report", body=deep)
    check(st == 500 and json.loads(body)["reason"] == "exceeded maximum nesting depth",
          f"JSON nested deeper than json11's limit is refused ({body})")
    st, _, body = d.request("POST", "/command/report", body="[" * 201 + "]" * 201)
    check(st == 200, "JSON nested as deep as json11 allows is accepted")

    # stats
    st, h, body = d.request("GET", "/command/stats")
    j = json.loads(body)
    check(st == 200 and set(j) == {"perfstats", "reports", "sys-msec", "uptime", "user-msec"},
          f"stats has the original's keys ({body[:80]})")
    check(j["reports"] == 7, f"reports counts parsed reports incl. Lua failures ({j['reports']})")
    check(set(j["perfstats"]) == {f"{p}_{b}" for p in ("WTR", "WTW")
                                  for b in ("0_1", "1_10", "10_100", "100_1000", "Slow")},
          "perfstats has the WTR/WTW buckets")
    check(body.startswith('{"perfstats": {"WTR_0_1": '), "stats is json11-styled")
    st, _, body2 = d.request("GET", "/?command=stats")
    check(st == 200 and json.loads(body2)["reports"] == 7, "legacy stats path")

    # readyz / livez
    st, h, body = d.request("GET", "/command/readyz", auth=None)
    check(st == 200 and body == "", "/command/readyz needs no password")
    st, _, _ = d.request("GET", "/?command=readyz", auth=None)
    check(st == 401, "/?command=readyz needs the password")
    st, _, _ = d.request("GET", "/?command=readyz")
    check(st == 200, "/?command=readyz with the password")
    st, h, body = d.request("GET", "/command/livez", auth=None)
    check(st == 200 and body == "" and h["content-type"].startswith("text/html"), "livez")

    # 404s: unknown paths, and unknown commands with credentials
    for m, p in [("GET", "/"), ("GET", "/livez"), ("GET", "/?command=livez"), ("GET", "/readyz"),
                 ("POST", "/command/nosuch"), ("GET", "/?command=nosuch"), ("POST", "/command/")]:
        st, h, body = d.request(m, p)
        check(st == 404 and body == '{"status":"failure", "reason":"Not found"}' and
              h["content-type"].startswith("text/html"), f"{m} {p} is 404 ({st})")
    # unknown commands without (valid) credentials: 401 as the original
    for m, p in [("POST", "/command/nosuch"), ("GET", "/?command=nosuch"), ("GET", "/command/nosuch"),
                 ("POST", "/?command=livez")]:
        for a in (None, basic("admin", "wrong")):
            st, h, body = d.request(m, p, auth=a)
            check(st == 401 and body == '{"status":"failure", "reason":"Unauthorized"}' and
                  "www-authenticate" in h, f"{m} {p} unauthenticated is 401 ({st})")
    # wrong methods on known paths: 405 with Allow, with or without credentials
    for m, p, allow in [("GET", "/command/report", "POST"), ("PUT", "/?command=report", "POST"),
                        ("POST", "/command/stats", "GET"), ("DELETE", "/?command=stats", "GET"),
                        ("POST", "/command/readyz", "GET"), ("POST", "/command/livez", "GET"),
                        ("GET", "/command/custom", "POST"), ("POST", "/metrics", "GET"),
                        ("HEAD", "/command/report", "POST")]:
        for a in (basic(), None):
            st, h, body = d.request(m, p, auth=a)
            check(st == 405 and h.get("allow") == allow and (m == "HEAD" or "Method not allowed" in body),
                  f"{m} {p} is 405 with Allow: {allow} ({st} {h.get('allow')})")

    # auth
    for a in [None, basic("admin", "wrong"), basic("", "super"), "Bearer x", "Basic !!!"]:
        st, h, body = d.request("GET", "/command/stats", auth=a)
        check(st == 401 and body == '{"status":"failure", "reason":"Unauthorized"}' and
              h.get("www-authenticate") == 'basic realm="wforce"', f"401 for Authorization {a!r}")
    check("Web Authentication failed" in d.logtext(), "auth failures are logged")
    st, _, _ = d.request("GET", "/command/stats", auth=basic("anyone", "super"))
    check(st == 200, "any non-empty user name works")

    # custom endpoints
    st, j = d.custom("custom", {"x": "hi", "l": ["a", "b"]})
    check(st == 200 and j["success"] is True and j["r_attrs"]["echo"] == "hi" and
          j["r_attrs"]["n"] == "2", f"custom endpoint ({j})")
    st, j = d.custom("custom", {"fail": "false"})
    check(st == 200 and j == {"r_attrs": {}, "success": False}, f"custom endpoint returning false ({j})")
    st, j = d.custom("custom", {"fail": "lua"})
    check(st == 500 and j["success"] is False and 'custom "quoted" failure' in j["reason"],
          f"a Lua error is 500 with an escaped reason ({j})")
    st, _, body = d.request("POST", "/?command=custom", body="{nope")
    check(st == 500 and json.loads(body)["success"] is False, f"custom parse error is 500 ({body})")
    st, _, body = d.request("POST", "/?command=custom", body='{"attrs":{"x":"y"}}')
    check(st == 200 and json.loads(body)["r_attrs"]["echo"] == "y", "legacy custom path")

    # metrics
    st, h, body = d.request("GET", "/metrics", auth=None)
    check(st == 401, "metrics need the password by default")
    st, h, body = d.request("GET", "/metrics")
    check(st == 200 and h["content-type"].startswith("text/plain"), "metrics")
    for key in ['trackalert_worker_queue_duration_seconds_bucket{le="0.001"}',
                'trackalert_worker_response_duration_seconds_bucket{le="0.001"}',
                'trackalert_worker_response_duration_seconds_bucket{le="+Inf"}',
                'trackalert_active_http_connections', 'trackalert_commands_total{cmd="report"}',
                'trackalert_commands_total{cmd="custom"}', 'trackalert_custom_stats_total{metric="reports_seen"}',
                'trackalert_webhook_queue_size', 'trackalert_web_queue_size']:
        check(key in body, f"metrics has {key}")
    samples = {}
    for line in body.splitlines():
        if line.startswith("#") or not line:
            continue
        name, value = line.rsplit(" ", 1)
        samples[name] = float(value)
        check(name.startswith("trackalert_"), f"metric line parses: {line}")
    n_report = samples['trackalert_commands_total{cmd="report"}']
    check(n_report == 19, f"commands_total counts every routed report ({n_report})")
    check(samples['trackalert_custom_stats_total{metric="reports_seen"}'] == 7, "custom stat counted by Lua")

    # keep-alive: several requests over one connection
    c = d.connection()
    for i in range(5):
        st, h, body = d.request("POST", "/command/report", body='{"login":"ka"}', conn=c)
        check(st == 200, f"keep-alive request {i}")
    c.close()

    # body limit: exactly 1 MiB is fine, more is 413 (announced or chunked)
    big = json.dumps({"login": "big", "pad": "x" * (1024 * 1024 - 30)})
    big = big + " " * (1024 * 1024 - len(big))
    st, _, body = d.request("POST", "/command/report", body=big)
    check(st == 200, f"a 1 MiB body is accepted ({st})")
    st, h, body = d.request("POST", "/command/report", body=big + " ")
    check(st == 413, f"1 MiB + 1 byte is 413 ({st})")
    s = socket.create_connection(("127.0.0.1", d.port), timeout=10)
    s.sendall(b"POST /command/report HTTP/1.1\r\nHost: x\r\nAuthorization: " + basic().encode() +
              b"\r\nTransfer-Encoding: chunked\r\n\r\n")
    chunk = b"x" * 65536
    try:
        for i in range(20):
            s.sendall(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
        s.sendall(b"0\r\n\r\n")
    except OSError:
        pass
    got = recv_until_closed(s)
    s.close()
    check(got.startswith(b"HTTP/1.1 413"), f"a chunked body over 1 MiB is 413 ({got[:40]!r})")

    # slow clients do not hold others up; they are dropped after the timeout
    slow = [socket.create_connection(("127.0.0.1", d.port)) for _ in range(20)]
    for s in slow:
        s.sendall(b"POST /command/report HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
    t0 = time.monotonic()
    st, _, _ = d.report({"login": "fast"})
    check(st == 200 and time.monotonic() - t0 < 2, "a request is served while 20 slow clients hang")
    for s in slow:
        s.close()

    # ACL: a daemon whose ACL excludes loopback closes the connection at accept, before it
    # reads a byte (issue 13 item 5: outsiders cannot hold connections), livez included
    # setACL() in the configuration keeps the original's implied private ranges (issue 13
    # item 11: a wforce on loopback must not get 401); from the console it replaces them.
    cport = free_tcp_port()
    d2 = Trackalert(binary, tmp, f'setWebserverPassword("super")\nsetACL({{"192.0.2.0/24", "10.0.0.0/8"}})\n'
                    f'controlSocket("127.0.0.1:{cport}")\nsetKey("{KEY}")\n', name="acl")
    d2.start()
    st, _, body = d2.report({"login": "wforce", "remote": "192.0.2.1"})
    check(st == 200 and body == '{"status":"ok"}', f"a report from loopback after setACL() ({st} {body})")
    acl = Console(cport).command("showACL()").splitlines()
    check(acl == ["192.0.2.0/24", "10.0.0.0/8", "127.0.0.0/8", "100.64.0.0/10", "169.254.0.0/16",
                  "192.168.0.0/16", "172.16.0.0/12", "::1/128", "fc00::/7", "fe80::/10"],
          f"setACL() plus every private range the original implies ({acl})")
    c = Console(cport)
    c.command('setACL({"10.0.0.0/8"})')
    check(c.command("showACL()") == "10.0.0.0/8\n", "setACL() from the console replaces the ACL")
    c.close()

    def raw_answer(path):
        s = socket.create_connection(("127.0.0.1", d2.port), timeout=10)
        try:
            s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        except OSError:
            pass
        got = recv_until_closed(s)
        s.close()
        return got

    for path in ("/command/stats", "/command/livez", "/?command=stats"):
        got = raw_answer(path)
        check(got == b"", f"outside the ACL {path} is closed without an answer ({got[:40]!r})")
    check(d2.alive(), "the ACL daemon lives on")
    check(d2.stop() == 0, "the ACL daemon stops cleanly")

    check(d.alive(), "trackalert survived everything")
    check(d.stop() == 0, "SIGTERM exits 0")
    check("trackalert stopping after" in d.logtext(), "the stop is logged")


run_test(main)
