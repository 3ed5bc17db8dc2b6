#!/usr/bin/env python3
"""The TRACKING recursion guard: a wrapper that runs itself is stopped at depth 10 without
running anything more; a program run again more than a second later is not."""

import os
import subprocess
import sys
import time

from harness import Trackerd, check, make_wrapped, run_test, write_script

shim, trackerd_bin = sys.argv[1], sys.argv[2]


def main(tmp):
    d = Trackerd(trackerd_bin, tmp).start()
    bindir = os.path.join(tmp, "bin")
    counter = os.path.join(tmp, "runs")
    # A real program that runs itself through its wrapper: the loop tracker must break.
    real = write_script(os.path.join(tmp, "loop-real"),
                        f'#!/bin/sh\necho run >> "{counter}"\nexec "{bindir}/loop" "$@"\n')
    loop = make_wrapped(shim, bindir, "loop", real)
    env = dict(os.environ, TRACKSUITE_TRACKER_SERVER=d.server,
               TRACKSUITE_TRACKER_CONFIG="/nonexistent")
    env.pop("TRACKING", None)

    r = subprocess.run([loop], env=env, capture_output=True, text=True, timeout=30)
    runs = open(counter).read().count("run")
    check(r.returncode == 126, f"the loop ends with status 126 (got {r.returncode})")
    check("started itself 10 times within a second" in r.stderr,
          f"the guard says why: {r.stderr.strip()}")
    check(runs == 9, f"the real program ran 9 times before depth 10 was refused (ran {runs})")
    d.wait_uses(9, "program = 'loop'")

    # An inherited depth of 9 from this very second: refused before anything runs or is sent.
    os.unlink(counter)
    now = int(time.time())
    r = subprocess.run([loop], env=dict(env, TRACKING=f"loop:9:{now}"), capture_output=True)
    check(r.returncode == 126 and not os.path.exists(counter),
          "depth 10 aborts without executing the program")
    # The same depth from long ago is a new run (a program run again later, like xterm).
    once = make_wrapped(shim, bindir, "once", "/bin/true")
    r = subprocess.run([once], env=dict(env, TRACKING=f"once:9:{now - 5}"))
    check(r.returncode == 0, "an old TRACKING value does not count")
    # Another program's depth does not count either, and a malformed value is ignored.
    r = subprocess.run([once], env=dict(env, TRACKING=f"loop:9:{now}"))
    check(r.returncode == 0, "another program's TRACKING does not count")
    r = subprocess.run([once], env=dict(env, TRACKING="garbage:::\x01"))
    check(r.returncode == 0, "a malformed TRACKING is ignored")
    d.wait_uses(3, "program = 'once'")
    d.wait_uses(9, "program = 'loop'")

    # A missing real binary is reported, not looped on.
    os.unlink(os.path.join(bindir, "once.t%"))
    r = subprocess.run([once], env=env, capture_output=True, text=True)
    check(r.returncode == 127 and "cannot find the real program" in r.stderr,
          f"a missing PROGRAM.t% exits 127 with a message ({r.stderr.strip()})")
    check(d.stop() == 0, "trackerd exits cleanly")


run_test(main)
