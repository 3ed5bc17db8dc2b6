#!/usr/bin/env python3
"""Logins from the network cannot split or forge a log line or a journal field (issue 13 item 9):
under -v the report line, infoLog() values and keys, Lua error messages and the path of a
refused request escape newlines, carriage returns, escape sequences, C1 controls, bidi,
invisible and separator characters and bytes that are not UTF-8 as \\xNN (and quotes inside
quoted values), in the message and in the TRACKALERT_* fields alike."""

import json
import socket
import sys

from harness import check, run_test, wait_until
from ta_harness import Trackalert, basic

binary = sys.argv[1]

CONFIG = """
setWebserverPassword("super")
setReport(function(lt)
  infoLog("seen " .. lt.login, {login=lt.login, [lt.login]="key"})
  if lt.attrs.fail == "1" then error("bad login " .. lt.login) end
end)
"""

NASTY = ["evil\nFORGED line=1", "cr\rFORGED", "esc\x1b[31mred", "nel\u0085FORGED", "ls\u2028FORGED",
         "ps\u2029FORGED", "rlo\u202eFORGED", "zw\u200bspace", "bom\ufeffx", 'quote" admin="yes',
         "back\\slash\nFORGED", "tab\tx", "del\x7fx"]
RAW_BAD = [b"\xff\xfeFORGED", b"\xc0\xafx", b"\xed\xa0\x80x"]
FORBIDDEN = ["\r", "\x1b", "\u0085", "\u2028", "\u2029", "\u202e", "\u200b", "\ufeff", "\x7f", "\t"]


def main(tmp):
    d = Trackalert(binary, tmp, CONFIG, args=["-v"]).start()
    for i, login in enumerate(NASTY):
        st, _, _ = d.report({"login": login, "remote": "192.0.2.1", "protocol": "im\nap",
                             "device_id": "dev\u2028ice", "attrs": {"fail": "1" if i % 2 else "0"}})
        check(st == 200, f"report {login!r}")
    for raw in RAW_BAD:
        body = b'{"login":"' + raw + b'","remote":"192.0.2.1"}'
        check(d.request("POST", "/command/report", body=body)[0] == 200, f"report with {raw!r}")
    # a refused request whose path holds a newline (percent-encoded and raw)
    s = socket.create_connection(("127.0.0.1", d.port), timeout=10)
    s.sendall(b"GET /command/x%0aFORGED HTTP/1.1\r\nHost: x\r\nAuthorization: Basic eDp5\r\n\r\n")
    s.recv(4096)
    s.close()
    wait_until(lambda: d.logtext().count("report: login=") >= len(NASTY) + len(RAW_BAD),
               "the report lines")
    wait_until(lambda: "Web Authentication failed" in d.logtext(), "the refused request")
    raw = open(d.log_path, "rb").read()
    text = raw.decode("utf-8", "replace")
    check(not any(l.lstrip().startswith("FORGED") for l in text.splitlines()), "no line starts with the payload")
    for ch in FORBIDDEN:
        check(ch not in text, f"{ch!r} never reaches the log as is")
    check(b"\xff\xfe" not in raw and b"\xc0\xaf" not in raw and b"\xed\xa0\x80" not in raw,
          "bytes that are not UTF-8 never reach the log as is")
    check('login="evil\\x0aFORGED line=1"' in text, "the report line shows the escaped login")
    check('login="quote\\x22 admin=\\x22yes"' in text, "a quote cannot forge another key in the line")
    check("TRACKALERT_LOGIN=evil\\x0aFORGED line=1" in text, "the journal field is escaped the same way")
    check("protocol=\"im\\x0aap\"" in text, "the protocol too")
    check("bad login ps\\xe2\\x80\\xa9FORGED" in text, "Lua error messages are escaped")
    check("\\xff\\xfeFORGED" in text, "invalid UTF-8 is written as \\xNN")
    check("/command/x\\x0aFORGED" in text or "/command/x%0aFORGED" in text, "the refused path is escaped")
    check(d.stop() == 0, "clean stop")


run_test(main)
