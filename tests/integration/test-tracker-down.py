#!/usr/bin/env python3
"""The wrapped program runs, promptly, whatever happens to the datagram: collector down, no
route, a dead DNS server. The lookup cases run in a network + mount namespace of our own
whose resolver is a blackhole on its loopback (nothing leaves the machine)."""

import os
import select
import shutil
import socket
import subprocess
import sys
import time

from harness import check, free_port, make_wrapped, run_test, skip

shim = sys.argv[1]
NAME = "collector.tracksuite-test.invalid"


def timed(cmd, env):
    t = time.monotonic()
    r = subprocess.run(cmd, env=env, capture_output=True, timeout=60)
    return r, time.monotonic() - t


def inner(tmp):
    """Runs inside the new namespaces (root there)."""
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    etc = os.path.join(tmp, "etc")
    os.makedirs(etc, exist_ok=True)
    files = {
        "resolv.conf": "nameserver 127.0.0.2\noptions timeout:30 attempts:1\n",
        "hosts": "127.0.0.1 localhost\n127.0.0.1 trackhost\n::1 localhost ip6-localhost\n",
        "nsswitch.conf": "passwd: files\ngroup: files\nhosts: files dns\n",
    }
    for name, text in files.items():
        with open(os.path.join(etc, name), "w") as f:
            f.write(text)
        subprocess.run(["mount", "--bind", os.path.join(etc, name), "/etc/" + name], check=True)

    # The dead DNS server: it receives queries and never answers.
    blackhole = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    blackhole.bind(("127.0.0.2", 53))
    blackhole.setblocking(False)
    collector = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    collector.bind(("127.0.0.1", 0))
    port = collector.getsockname()[1]
    collector.setblocking(False)

    hello = os.path.join(tmp, "bin", "hello")  # made by main()
    base = dict(os.environ, TRACKSUITE_TRACKER_CONFIG="/nonexistent")
    base.pop("TRACKING", None)

    # The environment really is a blackhole: a plain lookup hangs.
    g = subprocess.run(["timeout", "2", "getent", "ahosts", NAME], capture_output=True)
    check(g.returncode == 124, f"a plain lookup of {NAME} hangs on the dead resolver (rc {g.returncode})")
    while True:  # drop getent's queries
        try:
            blackhole.recv(512)
        except BlockingIOError:
            break

    # A lookup budget long enough for the query to leave even on a loaded machine (with the
    # 5 ms default the program may be running before the resolver thread has sent anything),
    # and far below the resolver's own 30 s.
    budget = os.path.join(tmp, "budget.conf")
    with open(budget, "w") as f:
        f.write("[Tracker]\nResolveTimeoutMSec=500ms\n")
    r, took = timed([hello, "dns", "dead"], dict(base, TRACKSUITE_TRACKER_SERVER=f"{NAME}:{port}",
                                                 TRACKSUITE_TRACKER_CONFIG=budget))
    check(r.returncode == 0 and r.stdout == b"dns dead\n", "the program runs with a dead DNS server")
    check(took < 2.0, f"a dead DNS server does not hold the program ({took * 1000:.1f} ms, resolver timeout 30 s)")
    # The query may still be on its way when the shim has gone: poll with a deadline.
    asked = False
    deadline = time.monotonic() + 5
    while not asked and time.monotonic() < deadline:
        if not select.select([blackhole], [], [], max(0.0, deadline - time.monotonic()))[0]:
            break
        try:
            asked = NAME.split(".")[0].encode() in blackhole.recv(512)
        except BlockingIOError:
            pass
    check(asked, "the shim really asked the dead DNS server")

    # A name from /etc/hosts goes through the resolver path and arrives.
    # A generous lookup budget: on a loaded machine (sanitizers, parallel tests) the first
    # NSS lookup in a fresh process can take longer than the 5 ms default.
    patient = os.path.join(tmp, "patient.conf")
    with open(patient, "w") as f:
        f.write("[Tracker]\nResolveTimeoutMSec=2s\n")
    r, took = timed([hello, "hosts"], dict(base, TRACKSUITE_TRACKER_SERVER=f"trackhost:{port}",
                                           TRACKSUITE_TRACKER_CONFIG=patient))
    check(r.returncode == 0, "the program runs with a server from /etc/hosts")
    deadline = time.monotonic() + 5
    data = None
    while data is None and time.monotonic() < deadline:
        try:
            data = collector.recv(1024)
        except BlockingIOError:
            time.sleep(0.01)
    check(data is not None and data[:2] == b"TK" and data.endswith(b"hello"),
          "a datagram to a name from /etc/hosts arrives")

    # tracker --send names the cause: a name that does not resolve is a name resolution
    # failure (not "No route to host"), a dead resolver a lookup that did not finish in time.
    r = subprocess.run([shim, "--send", "probe"], capture_output=True, text=True,
                       env=dict(base, TRACKSUITE_TRACKER_SERVER=f"{NAME}:{port}", TRACKSUITE_TRACKER_CONFIG=budget))
    check(r.returncode == 1 and "name resolution did not finish within ResolveTimeoutMSec=500 ms" in r.stderr,
          f"--send with a dead DNS server says the lookup timed out ({r.stderr.strip()})")
    with open(os.path.join(etc, "nsswitch.conf"), "r+") as f:  # the bind-mounted file, in place
        f.truncate(0)
        f.write("passwd: files\ngroup: files\nhosts: files\n")
    r = subprocess.run([shim, "--send", "probe"], capture_output=True, text=True,
                       env=dict(base, TRACKSUITE_TRACKER_SERVER=f"{NAME}:{port}", TRACKSUITE_TRACKER_CONFIG=patient))
    check(r.returncode == 1 and "name resolution failed" in r.stderr and "No route" not in r.stderr,
          f"--send to a name that does not resolve says so ({r.stderr.strip()})")

    # No route at all (only lo exists here), IPv4 and IPv6.
    for server in ("192.0.2.1:1738", "[2001:db8::1]:1738"):
        r, took = timed([hello, "noroute"], dict(base, TRACKSUITE_TRACKER_SERVER=server))
        check(r.returncode == 0 and r.stdout == b"noroute\n", f"the program runs with no route to {server}")
        check(took < 2.0, f"no route to {server} does not hold the program")


def main(tmp):
    hello = make_wrapped(shim, os.path.join(tmp, "bin"), "hello", "/bin/echo")
    env = dict(os.environ, TRACKSUITE_TRACKER_CONFIG="/nonexistent")
    env.pop("TRACKING", None)

    # Collector down: nothing listens on the port (ICMP port unreachable comes back).
    r, took = timed([hello, "down"], dict(env, TRACKSUITE_TRACKER_SERVER=f"127.0.0.1:{free_port()}"))
    check(r.returncode == 0 and r.stdout == b"down\n", "the program runs with the collector down")
    # A broken configuration: the program still runs.
    conf = os.path.join(tmp, "broken.conf")
    with open(conf, "w") as f:
        f.write("[Tracker]\nServer=\n")
    r = subprocess.run([hello, "broken"], env=dict(env, TRACKSUITE_TRACKER_CONFIG=conf), capture_output=True)
    check(r.returncode == 0 and r.stdout == b"broken\n", "the program runs with a broken tracker.conf")
    c = subprocess.run([shim, "--check-config", conf], capture_output=True, text=True)
    check(c.returncode == 1 and c.stderr.startswith(f"{conf}:2: "),
          f"tracker --check-config reports file:line ({c.stderr.strip()})")
    # An invalid server spec in the environment.
    r = subprocess.run([hello, "bad"], env=dict(env, TRACKSUITE_TRACKER_SERVER="[::1"), capture_output=True)
    check(r.returncode == 0 and r.stdout == b"bad\n", "the program runs with an invalid server spec")

    if os.geteuid() != 0:
        skip("the DNS and routing cases need root for a network + mount namespace")
    if not shutil.which("unshare") or not shutil.which("ip"):
        skip("unshare(1) and ip(8) are needed for the namespace cases")
    probe = subprocess.run(["unshare", "--net", "--mount", "true"], capture_output=True)
    if probe.returncode != 0:
        skip(f"cannot create namespaces here: {probe.stderr.decode().strip()}")
    r = subprocess.run(["unshare", "--net", "--mount", "--propagation", "private",
                        sys.executable, __file__, shim, "--inner", tmp])
    check(r.returncode == 0, "all namespace checks passed")


if len(sys.argv) > 3 and sys.argv[2] == "--inner":
    from harness import Failure
    try:
        inner(sys.argv[3])
    except Failure as e:
        print(f"FAIL: {e}", flush=True)
        sys.exit(1)
    sys.exit(0)
run_test(main)
