#!/usr/bin/env python3
"""The package never serves with a known password: the shipped trackalert.conf has
placeholders that do not start (--check-config rejects them); the Debian postinst replaces them
at the first installation by a random password and a console key that --check-config accepts,
keeps the file's mode, says where they are, and leaves an upgrade alone. The daemon started with
the result answers the console (trackalert -e) and a report with the generated password."""

import os
import re
import shutil
import stat
import subprocess
import sys

from harness import check, run_test, wait_until
from ta_harness import Trackalert, basic, run_cli

binary = sys.argv[1]
src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..")


def postinst(conf, *args):
    env = dict(os.environ, TRACKALERT_CONF=conf, TRACKALERT=binary, ASAN_OPTIONS="detect_leaks=0")
    return subprocess.run(["sh", os.path.join(src, "debian", "tracksuite-trackalert.postinst")] + list(args),
                          capture_output=True, text=True, env=env, timeout=60)


def main(tmp):
    shipped = os.path.join(src, "conf", "trackalert.conf")
    text = open(shipped).read()
    check("change-me" not in text, "the shipped file has no fixed password")
    r = run_cli(binary, shipped, "--check-config")
    check(r.returncode != 0 and "setKey" in r.stderr, f"the placeholders do not pass --check-config ({r.stderr})")

    confs = []
    for i in range(2):
        conf = os.path.join(tmp, f"trackalert{i}.conf")
        shutil.copyfile(shipped, conf)
        os.chmod(conf, 0o640)
        r = postinst(conf, "configure", "")
        check(r.returncode == 0 and conf in r.stdout, f"postinst configure ({r.returncode} {r.stdout} {r.stderr})")
        body = open(conf).read()
        check("@WEBPWD@" not in body and "@SETKEY@" not in body, "the placeholders are replaced")
        check(stat.S_IMODE(os.stat(conf).st_mode) == 0o640, "the mode is kept")
        r = run_cli(binary, conf, "--check-config")
        check(r.returncode == 0, f"the generated key and password pass --check-config ({r.stderr})")
        confs.append(body)
    pw = [re.search(r'setWebserverPassword\("([^"]+)"\)', b).group(1) for b in confs]
    key = [re.search(r'setKey\("([^"]+)"\)', b).group(1) for b in confs]
    check(pw[0] != pw[1] and key[0] != key[1] and len(pw[0]) >= 20, "each installation gets its own secrets")

    # an upgrade (or a second configure) leaves the file alone
    conf = os.path.join(tmp, "trackalert0.conf")
    r = postinst(conf, "configure", "0.1.0")
    check(r.returncode == 0 and open(conf).read() == confs[0], "an upgrade keeps the password and key")

    # the result serves: the console (as the package's controlSocket, moved to a free port) and
    # a report with the generated password
    from ta_harness import free_tcp_port
    cport = free_tcp_port()
    d = Trackalert(binary, tmp, confs[0].replace("127.0.0.1:4005", f"127.0.0.1:{cport}")).start()
    st, _, body = d.report({"login": "u", "remote": "192.0.2.1"}, auth=basic(password=pw[0]))
    check(st == 200, f"a report with the generated password ({st} {body})")
    check(d.report({"login": "u", "remote": "192.0.2.1"}, auth=basic(password="change-me"))[0] == 401,
          "change-me is refused")
    r = run_cli(binary, d.config, "-e", "stats()")
    check(r.returncode == 0 and "1 reports" in r.stdout, f"the console answers ({r.stdout} {r.stderr})")
    check(d.stop() == 0, "clean stop")


run_test(main)
