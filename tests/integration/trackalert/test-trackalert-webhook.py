#!/usr/bin/env python3
"""Custom webhooks to a local sink with the original's headers and HMAC signature, failures
counted, and background functions on interval schedules."""

import base64
import hashlib
import hmac
import sys

from harness import check, run_test, wait_until
from ta_harness import Sink, Trackalert

binary = sys.argv[1]


def metric(d, name):
    st, _, body = d.request("GET", "/metrics")
    for line in body.splitlines():
        if line.startswith(name + " "):
            return float(line.rsplit(" ", 1)[1])
    return None


def main(tmp):
    sink = Sink()
    bad = Sink()
    bad.status = 500
    config = f"""
setWebserverPassword("super")
addCustomStat("ticks")
addCustomWebHook("alert", {{url="http://127.0.0.1:{sink.port}/hook/%{{YYYY}}", secret="s3cret",
                            ["basic-auth"]="user:pw", ["api-key"]="k123", ["content-type"]="text/plain"}})
addCustomWebHook("broken", {{url="http://127.0.0.1:{bad.port}/x"}})
setReport(function(lt)
  if not lt.success then runCustomWebHook("alert", '{{"login":"' .. lt.login .. '"}}') end
  if lt.login == "broken" then runCustomWebHook("broken", "x") end
  if lt.login == "unknown" then runCustomWebHook("nosuch", "x") end
end)
setBackground("tick", function() incCustomStat("ticks") end)
intervalScheduleBackgroundFunc("00:00:01", "tick")
intervalScheduleBackgroundFunc("00:00:01", "not-registered")
"""
    d = Trackalert(binary, tmp, config).start()
    d.report({"login": "mallory", "success": False})
    wait_until(lambda: len(sink.requests) == 1, "the webhook to arrive")
    path, h, body = sink.requests[0]
    import time
    check(path == f"/hook/{time.gmtime().tm_year}", f"%{{YYYY}} expanded ({path})")
    check(body == b'{"login":"mallory"}', "the body is the string passed to runCustomWebHook")
    check(h["x-wforce-event"] == "alert" and h["x-wforce-hookid"] == "1", "event and hook id headers")
    expect = base64.b64encode(hmac.new(b"s3cret", body, hashlib.sha256).digest()).decode()
    check(h["x-wforce-signature"] == expect, "X-Wforce-Signature is base64(HMAC-SHA256(secret, body))")
    check(len(base64.b64decode(h["x-wforce-delivery"])) == 32, "X-Wforce-Delivery is a base64 SHA-256")
    check(h["authorization"] == "Basic " + base64.b64encode(b"user:pw").decode(), "basic-auth")
    check(h["x-api-key"] == "k123" and h["content-type"] == "text/plain", "api-key and content-type")
    d.report({"login": "ok", "success": True})
    d.report({"login": "broken", "success": True})
    d.report({"login": "unknown", "success": True})
    wait_until(lambda: len(bad.requests) == 1, "the failing hook to be tried")
    wait_until(lambda: "Webhook id=2 failed" in d.logtext(), "the failure to be logged")
    wait_until(lambda: "no custom webhook named 'nosuch'" in d.logtext(), "an unknown hook to be logged")
    check(len(sink.requests) == 1, "only failed logins were sent")
    m = metric(d, 'trackalert_custom_webhook_events_total{id="2",url="http://127.0.0.1:%d/x",status="error"}' % bad.port)
    check(m == 1, f"the failure is in the metrics ({m})")
    m = metric(d, 'trackalert_custom_webhook_events_total{id="1",url="http://127.0.0.1:%d/hook/%%{YYYY}",status="ok"}' % sink.port)
    check(m == 1, f"the success is in the metrics ({m})")
    # the request path never waits for a webhook: a burst is answered at once
    t0 = time.monotonic()
    for i in range(50):
        d.report({"login": f"f{i}", "success": False})
    check(time.monotonic() - t0 < 5, "50 reports with webhooks are answered promptly")
    wait_until(lambda: len(sink.requests) == 51, "all 50 webhooks to arrive", timeout=30)

    # background functions: "00:00:01" runs every second
    wait_until(lambda: (metric(d, 'trackalert_custom_stats_total{metric="ticks"}') or 0) >= 3,
               "the background function to run three times", timeout=15)
    check(d.alive(), "an unregistered background name is skipped")
    check(d.stop() == 0, "clean stop with webhooks and the scheduler")
    sink.close()
    bad.close()


run_test(main)
