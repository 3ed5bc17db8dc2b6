#!/usr/bin/env python3
"""What trackalert.conf(5) tells policies to do works: its json_string() (taken from the man
page) turns any login (quotes, backslashes, control characters, separators, bytes that are not
UTF-8) into JSON a webhook receiver parses back to the login; durationToSeconds() reads the
original's format and units, and fails loudly instead of returning 0."""

import json
import os
import sys

from harness import check, run_test, wait_until
from ta_harness import Sink, Trackalert, basic

binary = sys.argv[1]
src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..")


def json_string_from_man():
    lines = open(os.path.join(src, "man", "trackalert.conf.5.scd")).read().splitlines()
    start = next(i for i, l in enumerate(lines) if l.startswith("function json_string("))
    end = next(i for i in range(start, len(lines)) if lines[i] == "end")
    return "\n".join(lines[start:end + 1]).replace("\\\\", "\\")  # scdoc escapes backslashes


def main(tmp):
    sink = Sink()
    config = f"""
setWebserverPassword("super")
addCustomWebHook("alert", {{url="http://127.0.0.1:{sink.port}/hook"}})
{json_string_from_man()}
setReport(function(lt)
  runCustomWebHook("alert", string.format('{{"login":%s,"failures":%d}}', json_string(lt.login), 3))
end)
setCustomEndpoint("dur", function(args)
  local ok, v = pcall(durationToSeconds, args.attrs.s)
  return true, {{v=ok and tostring(v) or "error: " .. tostring(v)}}
end)
"""
    d = Trackalert(binary, tmp, config).start()
    logins = ['quote"in', 'back\\slash', 'new\nline', "\x01\x1f\x7fctl", "tab\there", "é ünïcode ✓",
              "rtl\u202eoverride", "sep\u2028line", '"}],"x":1,"y":["', "\\u0022"]
    for login in logins:
        st, _, _ = d.report({"login": login, "remote": "192.0.2.1", "success": True})
        check(st == 200, f"report {login!r}")
    raw = b'{"login":"bad\xff\xfeutf8","remote":"192.0.2.1"}'
    check(d.request("POST", "/command/report", body=raw)[0] == 200, "a report with invalid UTF-8")
    wait_until(lambda: len(sink.requests) >= len(logins) + 1, "the webhooks")
    got = []
    for _, _, body in sink.requests:
        try:
            got.append(json.loads(body.decode("utf-8"))["login"])
        except (ValueError, UnicodeDecodeError) as e:
            check(False, f"the webhook body is valid JSON in UTF-8 ({body!r}: {e})")
    for login in logins:
        check(login in got, f"{login!r} arrives intact through json_string()")
    check("bad\u00ff\u00feutf8" in got, f"invalid UTF-8 is escaped, not broken ({got})")

    for spec, want in [("10", "36000"), ("00:00:30", "30"), ("01:30", "5400"), ("1h", "3600"),
                       ("30min", "1800"), ("7d", "604800"), ("90s", "90"), ("1h 30min", "5400")]:
        st, j = d.custom("dur", {"s": spec})
        check(st == 200 and j["r_attrs"]["v"] == want, f"durationToSeconds({spec!r}) = {want} ({j})")
    for spec in ["", "bogus", "1 fortnight", "-5", "h1"]:
        st, j = d.custom("dur", {"s": spec})
        check(st == 200 and j["r_attrs"]["v"].startswith("error: ") and "not a duration" in j["r_attrs"]["v"],
              f"durationToSeconds({spec!r}) is an error, not 0 ({j})")
    sink.close()
    check(d.stop() == 0, "clean stop")


run_test(main)
