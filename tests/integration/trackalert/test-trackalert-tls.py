#!/usr/bin/env python3
"""TLS listeners from addListener(addr, true, cert, key, opts) when trackalert is not
socket-activated: a self-signed certificate made with openssl, curl --cacert for every kind
of request, the protocol floor, plain HTTP beside it, and the errors for missing files."""

import os
import shutil
import subprocess
import sys

from harness import check, run_test, self_signed_cert, skip, wait_until
from harness import _started
from ta_harness import free_tcp_port, run_cli

binary = sys.argv[1]


def curl(*args, timeout=20):
    return subprocess.run(["curl", "-sS", "--max-time", "10"] + list(args), capture_output=True,
                          text=True, timeout=timeout)


def main(tmp):
    for tool in ("openssl", "curl"):
        if not shutil.which(tool):
            skip(f"{tool} is not installed")
    cert, key = self_signed_cert(tmp)

    tls, tls13, plain = free_tcp_port(), free_tcp_port(), free_tcp_port()
    conf = os.path.join(tmp, "trackalert.conf")
    with open(conf, "w") as f:
        # relative paths: trackalert changes to the configuration's directory
        f.write(f"""setWebserverPassword("super")
addListener("127.0.0.1:{tls}", true, "cert.pem", "key.pem", {{min_protocol="TLSv1.2"}})
addListener("127.0.0.1:{tls13}", true, "{cert}", "{key}", {{min_protocol="TLSv1.3"}})
addListener("127.0.0.1:{plain}", false)
n = 0
setReport(function(lt) n = n + 1 infoLog("tls report", {{login=lt.login}}) end)
setCustomEndpoint("count", function(args) return true, {{n=tostring(n)}} end)
""")
    log_path = os.path.join(tmp, "trackalert.log")
    log = open(log_path, "wb")
    env = dict(os.environ, STATE_DIRECTORY=tmp, TRACKSUITE_LOG_TARGET="console",
               ASAN_OPTIONS="detect_leaks=0")
    proc = subprocess.Popen([binary, "-s", "-C", conf], stdout=log, stderr=subprocess.STDOUT,
                            env=env)
    _started.append(proc)

    def logtext():
        with open(log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    try:
        wait_until(lambda: "serving on 3 sockets" in logtext() or proc.poll() is not None,
                   "trackalert to listen on its three addListener() sockets", timeout=20)
        check(proc.poll() is None, f"trackalert runs ({logtext()[-500:]})")
        base = f"https://127.0.0.1:{tls}"

        r = curl("--cacert", cert, "-u", "admin:super", "-w", " %{http_code}",
                 f"{base}/command/stats")
        check(r.returncode == 0 and r.stdout.endswith(" 200") and '"reports": 0' in r.stdout,
              f"GET stats over TLS verified with --cacert ({r.stdout[:60]} {r.stderr})")
        r = curl("--cacert", cert, "-u", "admin:super", "-H", "Content-Type: application/json",
                 "-d", '{"login":"alice","remote":"192.0.2.1"}', "-w", " %{http_code}",
                 f"{base}/command/report", f"{base}/?command=report")
        check(r.returncode == 0 and r.stdout == '{"status":"ok"} 200{"status":"ok"} 200',
              f"two reports over one TLS connection ({r.stdout} {r.stderr})")
        wait_until(lambda: logtext().count('tls report: login="alice"') == 2,
                   "the policy to see both reports")
        r = curl("--cacert", cert, "-u", "admin:super", "-d", "{}", f"{base}/command/count")
        check(r.returncode == 0 and '"success": true' in r.stdout, f"custom endpoint ({r.stdout})")
        r = curl("--cacert", cert, "-u", "admin:wrong", "-w", " %{http_code}",
                 f"{base}/command/stats")
        check(r.stdout.endswith(" 401") and "Unauthorized" in r.stdout, "auth over TLS")
        r = curl("--cacert", cert, "-w", "%{http_code}", "-o", "/dev/null",
                 f"{base}/command/livez")
        check(r.stdout == "200", "livez over TLS")
        r = curl("--cacert", cert, "-u", "admin:super", f"{base}/metrics")
        check("trackalert_commands_total" in r.stdout, "metrics over TLS")

        r = curl(f"{base}/command/livez")
        check(r.returncode == 60, f"without --cacert curl refuses the self-signed certificate "
                                  f"(exit {r.returncode})")
        r = curl(f"http://127.0.0.1:{tls}/command/livez")
        check(r.returncode != 0 or not r.stdout.startswith("HTTP"),
              "plain HTTP to the TLS port does not work")
        r = curl("-w", "%{http_code}", "-o", "/dev/null", f"http://127.0.0.1:{plain}/command/livez")
        check(r.stdout == "200", "the plain listener beside it")

        r = curl("--cacert", cert, "--tlsv1.2", "--tls-max", "1.2", "-w", "%{http_code}",
                 "-o", "/dev/null", f"https://127.0.0.1:{tls13}/command/livez")
        check(r.returncode != 0, f"min_protocol TLSv1.3 refuses TLS 1.2 (exit {r.returncode})")
        r = curl("--cacert", cert, "--tlsv1.3", "-w", "%{http_code}", "-o", "/dev/null",
                 f"https://127.0.0.1:{tls13}/command/livez")
        check(r.returncode == 0 and r.stdout == "200", "and accepts TLS 1.3")
        r = curl("--cacert", cert, "--tlsv1.2", "--tls-max", "1.2", "-w", "%{http_code}",
                 "-o", "/dev/null", f"{base}/command/livez")
        check(r.returncode == 0 and r.stdout == "200", "min_protocol TLSv1.2 accepts TLS 1.2")
    finally:
        proc.terminate()
        rc = proc.wait(15)
    check(rc == 0, "clean stop")

    # a missing certificate: the start fails with file:line
    bad = os.path.join(tmp, "bad.conf")
    with open(bad, "w") as f:
        f.write(f'setWebserverPassword("x")\naddListener("127.0.0.1:{free_tcp_port()}", true, '
                f'"nope.pem", "key.pem")\n')
    r = subprocess.run([binary, "-s", "-C", bad], capture_output=True, text=True, timeout=20,
                       env=env)
    check(r.returncode != 0 and f"{bad}:2:" in r.stderr and "nope.pem" in r.stderr,
          f"a missing certificate is reported with file:line ({r.stderr.strip()[-200:]})")
    r = run_cli(binary, bad, "--check-config")
    check(r.returncode == 0, "--check-config does not open the listeners")


run_test(main)
